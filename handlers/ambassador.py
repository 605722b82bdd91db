"""/ambassadors, /mytasks and /top ambassadors: the roster with this month's output, an
ambassador's own progress, and the month's board. Appointing and moving ambassadors:
handlers/ambassador_admin.py.

The roster is public, to members as to admins: a KOC programme shows its ambassadors (members
know whom to ask, ambassadors see where they stand among peers), and what it shows is output
members see anyway (approved and featured posts, answers in the groups)."""

from __future__ import annotations

from typing import Any

from community import ambassadors
from community.ambassador_counts import Counted, month_output
from community.ambassador_months import Month, Outcome, judge
from community.ambassador_notices import level_context, progress
from community.ambassador_rules import AmbassadorRules
from handlers.ambassador_admin import router
from handlers.paging import page_of
from handlers.parsing import parse_numbered
from handlers.routes import Context, Param, ParamKind
from handlers.types import Reply, Visibility

__all__ = ["router", "top_ambassadors"]

# What /top takes to show the ambassadors' board instead of the points board.
BOARD_WORDS = frozenset({"ambassadors", "ambassador", "大使", "品牌大使", "koc"})
ROSTER_PARAMS = (Param("page", ParamKind.INTEGER, required=False, minimum=1),)


@router.command("ambassadors", params=ROSTER_PARAMS, personal=False)
def roster(ctx: Context) -> Reply:
    """/ambassadors [page] — the roster: each ambassador's level and this month's output."""
    typed = ctx.event.arg_text.strip()
    asked = parse_numbered(typed) if typed else None
    if typed and asked is None:
        return Reply("ambassador/roster_usage")
    community = ctx.community
    rules = community.rules.ambassadors
    month = Month.of(ctx.now, community.timezone)
    counted = sorted(
        month_output(ctx.conn, community, month),
        key=lambda c: (-_position(rules, c.level), -_score(c), c.name.casefold()),
    )
    page = page_of(counted, asked, rules.roster_page)
    return Reply(
        "ambassador/roster",
        {
            "month": month.key,
            "days_left": _days_left(ctx, month),
            "entries": [_entry(rules, c) for c in page.items],
            "total": len(counted),
            "page": page.number,
            "pages": page.pages,
            "more": page.more,
        },
    )


@router.command("mytasks", words=("我的任务",))
def my_tasks(ctx: Context) -> Reply:
    """/mytasks — an ambassador's progress on this month's tasks, days left, the reward."""
    community = ctx.community
    rules = community.rules.ambassadors
    # Progress is the ambassador's own business: privately where the platform can.
    where = Visibility.PRIVATE if ctx.event.private_reply else Visibility.CHAT
    found = ambassadors.active_ambassador(ctx.conn, community.id, ctx.member.id)
    if found is None:
        levels = [level_context(rules, level.key) for level in rules.levels]
        return Reply("ambassador/not_in_programme", {"levels": levels}, visibility=where)
    level = rules.level(found.level)
    if level is None:
        # A level taken out of the settings asks nothing and pays nothing: say so, rather
        # than show tasks of 0 and a reward of 0.
        return Reply(
            "ambassador/level_gone",
            {
                "name": ctx.member.display_name,
                "level": level_context(rules, found.level),
                "levels": [level_context(rules, each.key) for each in rules.levels],
            },
            visibility=where,
        )
    month = Month.of(ctx.now, community.timezone)
    [mine] = month_output(ctx.conn, community, month, member_id=ctx.member.id)
    outcome = judge(mine.output, level.tasks, rules.exceed_percent)
    return Reply(
        "ambassador/mytasks",
        {
            "name": ctx.member.display_name,
            "month": month.key,
            "days_left": _days_left(ctx, month),
            "level": level_context(rules, found.level),
            "progress": progress(level, mine.output, rules.exceed_percent),
            "met": outcome is not Outcome.MISSED,
            "exceeded": outcome is Outcome.EXCEEDED,
            "exceed_percent": rules.exceed_percent,
        },
        visibility=where,
    )


def top_ambassadors(ctx: Context) -> Reply:
    """/top ambassadors (/top 大使): this month's board by approved submissions, a featured
    one counting twice; ties share a rank. Ambassadors with nothing approved yet are left off."""
    community = ctx.community
    rules = community.rules.ambassadors
    month = Month.of(ctx.now, community.timezone)
    scored = sorted(
        (c for c in month_output(ctx.conn, community, month) if _score(c) > 0),
        key=lambda c: (-_score(c), c.name.casefold()),
    )
    me = None if ctx.acting_member is None else ctx.acting_member.id
    leaders: list[dict[str, Any]] = []
    rank = 0
    for position, c in enumerate(scored[: rules.leaderboard], start=1):
        if not leaders or _score(c) != leaders[-1]["score"]:
            rank = position
        leaders.append(
            {
                "rank": rank,
                "name": c.name,
                "level": level_context(rules, c.level),
                "submissions": c.output.submissions,
                "featured": c.output.featured,
                "score": _score(c),
                "me": c.member_id == me,
            }
        )
    return Reply(
        "ambassador/top",
        {"community": community.name, "month": month.key, "leaders": leaders},
    )


def _entry(rules: AmbassadorRules, counted: Counted) -> dict[str, Any]:
    level = rules.level(counted.level)
    met = level is not None and judge(counted.output, level.tasks, rules.exceed_percent) in (
        Outcome.MET,
        Outcome.EXCEEDED,
    )
    return {
        "name": counted.name,
        "level": level_context(rules, counted.level),
        "progress": progress(level, counted.output, rules.exceed_percent),
        "met": met,
    }


def _score(counted: Counted) -> int:
    """The board's measure: approved submissions, a featured one counting twice."""
    return counted.output.submissions + counted.output.featured


def _position(rules: AmbassadorRules, key: str) -> int:
    found = rules.level(key)
    return -1 if found is None else rules.levels.index(found)


def _days_left(ctx: Context, month: Month) -> int:
    """Days of the month still ahead, today included."""
    return (month.last_day() - ctx.community.local_day(ctx.now)).days + 1
