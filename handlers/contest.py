"""/contest: admins start and cancel contests; everyone reads them; members vote on the entries
after the close (the buttons under each entry's post send /contest vote N ENTRY)."""

from __future__ import annotations

from typing import Any

from community import contest_runs, contest_voting, contests
from community.contest_ranking import standing
from community.contest_terms import read_terms
from community.contests import VOTING, Contest, Entry
from community.jobs import SCHEDULE_CHANGED
from handlers.actions import ACTION_WORDS, read_action
from handlers.parsing import parse_numbered
from handlers.routes import Context, Param, ParamKind, Router, admins_only
from handlers.types import Choice, Reply, Visibility
from loyalty.errors import UserError
from storage.sql import savepoint

router = Router()

ADMIN_ACTIONS = ("start", "cancel")
ACTIONS = ("list", "vote", *ADMIN_ACTIONS)
# The contest's own words for its actions, besides those every command takes.
_WORDS = {**ACTION_WORDS, "发起": "start", "取消": "cancel", "投票": "vote", "查看": "show"}
CONTEST_PARAMS = (
    Param("action", ParamKind.CHOICE, required=False, choices=ACTIONS),
    Param("details", ParamKind.TEXT, required=False),
)


@router.command("contest", shows_admin=True, personal=False, params=CONTEST_PARAMS)
def contest(ctx: Context) -> Reply:
    """/contest [N] — the contests, or one with its entries; /contest vote N ENTRY; admins:
    /contest start <title> --until DATE ..., /contest cancel N."""
    typed = ctx.event.arg_text.strip()
    if not typed:
        return _list(ctx)
    number = parse_numbered(typed)
    if number is not None:
        return _one(ctx, number)
    action, rest = read_action(typed, _WORDS)
    if action in ADMIN_ACTIONS and not ctx.is_admin:
        return admins_only(ctx, f"contest {action}")
    if action == "list" and not rest:
        return _list(ctx)
    if action == "show" and (number := parse_numbered(rest)) is not None:
        return _one(ctx, number)
    if action == "start":
        return _start(ctx, rest)
    if action == "cancel" and (number := parse_numbered(rest)) is not None:
        return _cancel(ctx, number)
    if action == "vote":
        return _vote(ctx, rest)
    return _usage(ctx)


def _usage(ctx: Context) -> Reply:
    return Reply("contest/usage", {"is_admin": ctx.is_admin})


def _start(ctx: Context, rest: str) -> Reply:
    community = ctx.community
    terms = read_terms(
        rest,
        community.rules.contests,
        community.rules.submissions.categories,
        community.timezone,
        ctx.now,
    )
    started = contest_runs.start(ctx.conn, community, terms, actor=ctx.actor, at=ctx.now)
    ctx.outbox_platforms.update(started.posted.platforms)
    ctx.outbox_platforms.add(SCHEDULE_CHANGED)  # an alarm for its close
    posted = started.posted
    return Reply(
        "contest/started",
        {
            **contest_runs.shown(community, started.contest),
            "groups": posted.queued,
            "inactive": posted.inactive,
            "no_channel": posted.no_channel,
        },
    )


def _cancel(ctx: Context, number: int) -> Reply:
    cancelled = contest_runs.cancel(ctx.conn, ctx.community, number, actor=ctx.actor, at=ctx.now)
    ctx.outbox_platforms.update(cancelled.posted.platforms)
    ctx.outbox_platforms.add(SCHEDULE_CHANGED)  # its alarm goes
    return Reply("contest/cancelled", {"number": number, "title": cancelled.contest.title})


def _vote(ctx: Context, rest: str) -> Reply:
    # A button's answer, refusals too, is the presser's alone (a second press names the entry
    # they voted for); typed in a group, the group reads it.
    where = Visibility.PRIVATE if ctx.event.private_reply else Visibility.CHAT
    words = rest.split()
    numbers = [parse_numbered(word) for word in words]
    if len(numbers) != 2 or None in numbers:
        return Reply("contest/vote_usage", visibility=where)
    if ctx.acting_member is None:
        # A vote belongs to a person: an anonymous admin or a channel has none to give.
        return Reply("common/post_as_yourself", {"command": "contest vote"}, visibility=where)
    number, entry = (n for n in numbers if n is not None)
    try:
        with savepoint(ctx.conn):
            voted = contest_voting.vote(
                ctx.conn, ctx.community, number, entry, member_id=ctx.member.id, at=ctx.now
            )
    except UserError as refusal:
        return Reply(refusal.key, refusal.context, visibility=where)
    return Reply(
        "contest/voted",
        {
            "number": voted.contest.id,
            "title": voted.contest.title,
            "entry": voted.entry,
            "author": voted.author,
        },
        visibility=where,
    )


def _list(ctx: Context) -> Reply:
    community = ctx.community
    found = contests.listing(ctx.conn, community.id, community.rules.contests.list_contests)
    return Reply(
        "contest/list",
        {
            "contests": [contest_runs.shown(community, c) for c in found],
            "is_admin": ctx.is_admin,
        },
    )


def _one(ctx: Context, number: int) -> Reply:
    """One contest: its terms and its entries (approved so far; in the vote, the most voted
    first with a button each; after the end, by place)."""
    community = ctx.community
    found = contests.contest_by_id(ctx.conn, community.id, number)
    if found is None:
        return Reply("contest/unknown", {"number": number})
    limit = community.rules.contests.max_entries_shown
    if found.state == contests.OPEN:
        entries = contests.approved_entries(ctx.conn, found.id)
    else:
        # Without those an admin withdrew (reversed their approval) during the vote.
        entries = standing(contests.voted_entries(ctx.conn, found.id, approved=True))
    shown_entries = entries[:limit]
    voting = (
        found.state == VOTING and found.vote_ends_at is not None and ctx.now < found.vote_ends_at
    )
    # Asked privately, the answer is the asker's: the entry they voted for, no buttons for
    # their own entries. Asked in a group, everyone reads it (and presses its buttons, each
    # vote their own): whom the asker voted for is no part of it.
    me = ctx.acting_member if ctx.event.private_reply else None
    mine = None
    if voting and me is not None:
        mine = contests.vote_of(ctx.conn, found.id, me.id)
    choices: tuple[Choice, ...] = ()
    if voting and mine is None:
        choices = tuple(
            contest_voting.vote_button(found, e)
            for e in shown_entries
            if me is None or e.member_id != me.id
        )
    return Reply(
        "contest/contest",
        {
            **contest_runs.shown(community, found),
            "entries": [_entry(e, found) for e in shown_entries],
            "total": len(entries),
            "voting": voting,
            "my_vote": mine,
        },
        choices=choices,
        visibility=Visibility.PRIVATE if me is not None else Visibility.CHAT,
    )


def _entry(entry: Entry, contest: Contest) -> dict[str, Any]:
    return {
        "number": entry.number,
        "author": entry.author,
        # One line each: an entry's own line breaks must not make lines that pass for others.
        "text": " ".join(entry.text.split()),
        "votes": entry.votes if contest.state != contests.OPEN else None,
        "place": entry.place,
        "photo": entry.media_id is not None,
    }
