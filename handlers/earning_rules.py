"""/rules (the earning table, for everyone) and /campaign (admins: time-boxed multipliers).

/rules
/campaign add x2 checkin,vote 2026-12-12 00:00..23:59     also ×1.5, 2x, 3倍; actions or "all"
/campaign add x2 all 12-12 20:00..12-14 22:00             the end minute is included
/campaign add 3倍 签到,投票 12-12..12-13                    actions also in Chinese (签到, 投票)
/campaign list
/campaign cancel 3
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from community import audit, member_days
from community.communities import Community
from handlers.routes import Context, Param, ParamKind, Router
from handlers.types import Reply
from loyalty import campaigns
from loyalty.campaigns import Campaign
from loyalty.errors import UserError
from loyalty.rules import ACTIONS, GIVEN_ACTIONS

router = Router()

RULES_CAMPAIGNS = 5  # campaigns /rules lists (soonest first); /campaign list shows them all
CAMPAIGN_PARAMS = (Param("what", ParamKind.TEXT, required=False),)

_VERBS = {
    "add": "add",
    "new": "add",
    "添加": "add",
    "新增": "add",
    "list": "list",
    "列表": "list",
    "查看": "list",
    "cancel": "cancel",
    "remove": "cancel",
    "取消": "cancel",
    "删除": "cancel",
}
_ALL = ("all", "全部", "所有")
# Actions as a Chinese admin names them: the names /rules shows (templates/zh_CN/earning/
# _actions.j2, kept in step by tests/test_loyalty_attack_fixes.py) and the short words members
# use (签到 is what checks in).
ACTION_WORDS = {
    "每日签到": "checkin",
    "签到": "checkin",
    "连续签到奖励": "streak_bonus",
    "连续签到": "streak_bonus",
    "参与投票": "vote",
    "投票": "vote",
    "回答被采纳": "accepted_answer",
    "采纳": "accepted_answer",
    "答对竞猜题": "quiz_answer",
    "答题": "quiz_answer",
    "竞猜": "quiz_answer",
    "采纳回答的感谢": "question_thanks",
    "采纳感谢": "question_thanks",
    "第一个答对竞猜题": "quiz_first",
    "首个答对": "quiz_first",
    "完成问卷": "survey",
    "问卷": "survey",
    "投稿通过审核": "submission",
    "投稿": "submission",
    "品牌大使月度奖励": "ambassador_reward",
    "大使奖励": "ambassador_reward",
    "征集活动奖品": "contest_prize",
    "征集奖品": "contest_prize",
    "抽奖奖品": "draw_prize",
    "邀请好友": "invitation",
    "邀请": "invitation",
    "购物": "purchase",
    "生日礼": "birthday",
    "管理员奖励": "award",
}
_NUMBER = r"\d+(?:\.\d+)?"
_FACTOR = re.compile(rf"(?:[x×*]\s*(?P<a>{_NUMBER})|(?P<b>{_NUMBER})\s*(?:x|×|倍))", re.IGNORECASE)
_DAY = r"(?:(?P<{0}y>\d{{4}})-)?(?P<{0}m>\d{{1,2}})-(?P<{0}d>\d{{1,2}})"
_CLOCK = r"(?P<{0}h>\d{{1,2}}):(?P<{0}n>\d{{2}})"
_RANGE = re.compile(
    rf"(?:{_DAY.format('s')})\s*(?:{_CLOCK.format('s')})?"
    r"\s*(?:\.\.|~|～|至|到|—|–)\s*"
    rf"(?:{_DAY.format('e')})?\s*(?:{_CLOCK.format('e')})?"
)
_SEPARATORS = re.compile(r"[,，、]")


@router.command("rules", words=("积分规则",), personal=False)
def rules(ctx: Context) -> Reply:
    """The earning table: what each action earns and how often, every multiplier, the version."""
    community = ctx.community
    earning, member_day = community.rules.earning, community.rules.member_day
    actions = []
    for action in ACTIONS:
        rule = earning.rule(action)
        actions.append(
            {
                "action": action,
                "points": rule.points,
                "per_day": rule.per_day,
                "per_week": rule.per_week,
                "per_month": rule.per_month,
                "cooldown": rule.cooldown_minutes,
                "given": action in GIVEN_ACTIONS,
            }
        )
    running = campaigns.planned(ctx.conn, community.program, ctx.now, limit=RULES_CAMPAIGNS + 1)
    return Reply(
        "earning/rules",
        {
            "actions": actions,
            "streak_every": community.rules.checkin.streak_bonus_every,
            "member_day": {
                "enabled": member_day.enabled,
                "multiplier": member_days.shown(member_day.multiplier),
                "actions": list(member_day.actions),
            },
            "tiers": [
                {
                    "en": tier.names.en,
                    "zh_CN": tier.names.zh_CN,
                    "threshold": tier.threshold,
                    "multiplier": member_days.shown(tier.multiplier),
                }
                for tier in community.rules.tiers.levels
            ],
            "expiry_months": community.rules.expiry.months,
            "campaigns": [_shown(community, c, ctx.now) for c in running[:RULES_CAMPAIGNS]],
            "more_campaigns": len(running) > RULES_CAMPAIGNS,
            "timezone": community.timezone.key,
            "version": community.program.version,
        },
    )


@router.command("campaign", admin=True, params=CAMPAIGN_PARAMS)
def campaign(ctx: Context) -> Reply:
    """add, list, cancel N."""
    text = unicodedata.normalize("NFKC", ctx.event.arg_text).strip()
    verb, _, rest = text.partition(" ")
    action = _VERBS.get(verb.casefold(), "list" if not text else "")
    rest = rest.strip()
    community, program = ctx.community, ctx.community.program
    if action == "list" and not rest:
        planned = campaigns.planned(ctx.conn, program, ctx.now)
        return Reply(
            "earning/campaign_list",
            {
                "campaigns": [_shown(community, c, ctx.now) for c in planned],
                "timezone": community.timezone.key,
            },
        )
    if action == "add" and rest:
        factor, names, starts_at, ends_at = read_campaign(rest, community, ctx.now)
        added = campaigns.add(
            ctx.conn,
            program,
            factor=factor,
            actions=names,
            starts_at=starts_at,
            ends_at=ends_at,
            created_by=ctx.actor.member_id,
            at=ctx.now,
        )
        _audit(ctx, "add", added)
        return Reply(
            "earning/campaign_added",
            {"campaign": _shown(community, added, ctx.now), "timezone": community.timezone.key},
        )
    if action == "cancel" and rest.lstrip("#").isdecimal() and len(rest) < 12:
        cancelled = campaigns.cancel(ctx.conn, program, int(rest.lstrip("#")), ctx.now)
        _audit(ctx, "cancel", cancelled)
        return Reply(
            "earning/campaign_cancelled",
            {"campaign": _shown(community, cancelled, ctx.now), "timezone": community.timezone.key},
        )
    return Reply("earning/campaign_usage", {"actions": list(campaigns.MULTIPLIABLE)})


def read_campaign(
    text: str, community: Community, now: datetime
) -> tuple[Decimal, tuple[str, ...], datetime, datetime]:
    """`/campaign add`'s words: the factor, the actions, and [start, end) as moments (the end
    minute written is included). Raises UserError("earning/...")."""
    factor_words, _, rest = text.partition(" ")
    found = _FACTOR.fullmatch(factor_words)
    factor = Decimal(found["a"] or found["b"]) if found else Decimal(0)
    try:
        campaigns.check_factor(factor)
    except UserError:
        # Named as the admin wrote it.
        most = int(campaigns.MAX_FACTOR)
        raise UserError("earning/bad_factor", factor=factor_words[:20], most=most) from None
    action_words, _, when = rest.strip().partition(" ")
    names = [word.strip().casefold() for word in _SEPARATORS.split(action_words) if word.strip()]
    names = ["all" if name in _ALL else ACTION_WORDS.get(name, name) for name in names]
    checked = campaigns.check_actions(names)
    starts_at, ends_at = read_range(when.strip(), community, now)
    return factor, checked, starts_at, ends_at


def read_range(text: str, community: Community, now: datetime) -> tuple[datetime, datetime]:
    """`2026-12-12 00:00..23:59`, `12-12 20:00..12-14 22:00`, `12-12..12-13` (whole days) in the
    community's time, as [start, end): the end's minute (or day) is included."""
    found = _RANGE.fullmatch(text)
    if found is None:
        raise UserError("earning/bad_when", text=text[:60])
    today = community.local_day(now)
    try:
        first = _day(found, "s", today)
        last = _day(found, "e", today) if found["em"] else first
        start = time(int(found["sh"]), int(found["sn"])) if found["sh"] else time()
        if found["eh"]:
            end = datetime.combine(last, time(int(found["eh"]), int(found["en"])))
            end += timedelta(minutes=1)
        elif found["em"]:
            end = datetime.combine(last + timedelta(days=1), time())
        else:
            raise ValueError("no end")
        tz = community.timezone
        # In UTC (as stored) here: a moment off the calendar's edge (9999-12-31 23:59 and a
        # minute) is refused now, not when the database is asked to store it.
        return (
            datetime.combine(first, start, tz).astimezone(UTC).astimezone(tz),
            end.replace(tzinfo=tz).astimezone(UTC).astimezone(tz),
        )
    except (ValueError, OverflowError):
        raise UserError("earning/bad_when", text=text[:60]) from None


def _day(found: re.Match[str], side: str, today: date) -> date:
    month, day = int(found[f"{side}m"]), int(found[f"{side}d"])
    if found[f"{side}y"]:
        return date(int(found[f"{side}y"]), month, day)
    named = date(today.year, month, day)
    # A campaign is planned ahead: a month-day already gone this year is next year's.
    return named if named >= today - timedelta(days=1) else date(today.year + 1, month, day)


def _shown(community: Community, campaign: Campaign, now: datetime) -> dict[str, Any]:
    tz = community.timezone
    return {
        "number": campaign.number,
        "factor": member_days.shown(float(campaign.factor)),
        "actions": list(campaign.actions),
        "start": campaign.starts_at.astimezone(tz),
        "end": (campaign.ends_at - timedelta(minutes=1)).astimezone(tz),
        "running": campaign.running(now),
    }


def _audit(ctx: Context, change: str, campaign: Campaign) -> None:
    audit.record(
        ctx.conn,
        community_id=ctx.community.id,
        actor=ctx.actor,
        action="campaign",
        at=ctx.now,
        change=change,
        number=campaign.number,
        percent=campaign.percent,
        actions=list(campaign.actions),
        starts_at=campaign.starts_at.isoformat(),
        ends_at=campaign.ends_at.isoformat(),
    )
