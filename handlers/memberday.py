"""/memberday (会员日): members see when the next member day is; admins set, skip and cancel it.

/memberday                                  the next (or running) member day
/memberday show                             (admin) every setting and the next three
/memberday set monthly 18 00:00 x2 24h      (admin) when, then any of x2 / 24h / announce=12
/memberday set 每月18日 0点 2倍 24小时 预告=12
/memberday skip next                        (admin) skip the next one not skipped yet
/memberday unskip                           (admin) every skipped one happens again
/memberday cancel | on                      (admin) turn it off / back on
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from typing import Any

from community import member_day_posts, member_days
from community.communities import Community
from community.jobs import SCHEDULE_CHANGED
from community.schedules import parse_when
from handlers.routes import Context, Param, ParamKind, Router
from handlers.types import Reply
from loyalty.errors import UserError

router = Router()

NEXT_SHOWN = 3  # starts echoed after a change

# The action words, longest first so "取消跳过" is not read as "取消". Chinese needs no space
# after them ("跳过下次"); English does.
_ACTIONS = {
    "show": "show",
    "查看": "show",
    "详情": "show",
    "set": "set",
    "设置": "set",
    "设定": "set",
    "unskip": "unskip",
    "取消跳过": "unskip",
    "恢复": "unskip",
    "skip": "skip",
    "跳过": "skip",
    "cancel": "cancel",
    "off": "cancel",
    "取消": "cancel",
    "关闭": "cancel",
    "停用": "cancel",
    "on": "on",
    "开启": "on",
    "启用": "on",
    "打开": "on",
}
_ACTION = re.compile(
    "|".join(
        re.escape(word) + (r"(?![a-z])" if word.isascii() else "")
        for word in sorted(_ACTIONS, key=len, reverse=True)
    ),
    re.IGNORECASE,
)
_NEXT = ("", "next", "下次", "下一次", "下一个", "下个")

MEMBERDAY_PARAMS = (Param("what", ParamKind.TEXT, required=False),)


@router.command(
    "memberday", words=("会员日",), shows_admin=True, personal=False, params=MEMBERDAY_PARAMS
)
def memberday(ctx: Context) -> Reply:
    """/memberday for everyone; show, set, skip next, unskip, cancel, on for admins."""
    text = unicodedata.normalize("NFKC", ctx.event.arg_text).strip()
    if not text:
        return _shown(ctx)
    found = _ACTION.match(text)
    if found is None:
        return Reply("memberday/usage")
    action, rest = _ACTIONS[found[0].casefold()], text[found.end() :].strip()
    if not ctx.is_admin:
        if action == "show":
            return _shown(ctx)
        if ctx.admin_unknown:
            return Reply("common/admin_check_failed", {"command": "memberday"})
        return Reply("memberday/admins_only")
    if action == "show" and not rest:
        return _details(ctx, ctx.community)
    if action == "set" and rest:
        changes = read_settings(rest)
        community = member_days.set_schedule(
            ctx.conn, ctx.community, changes, actor=ctx.actor, at=ctx.now
        )
        return _changed(ctx, community, "memberday/saved")
    if action == "skip" and rest.casefold() in _NEXT:
        community, day = member_days.skip_next(ctx.conn, ctx.community, actor=ctx.actor, at=ctx.now)
        return _changed(ctx, community, "memberday/skipped", day=day.isoformat())
    if action == "unskip" and not rest:
        community, days = member_days.unskip(ctx.conn, ctx.community, actor=ctx.actor, at=ctx.now)
        return _changed(
            ctx, community, "memberday/unskipped", days=[day.isoformat() for day in days]
        )
    if action in ("cancel", "on") and not rest:
        enabled = action == "on"
        rules, tz = ctx.community.rules.member_day, ctx.community.timezone
        running = None if enabled else member_days.occurrence_at(rules, tz, ctx.now)
        community = member_days.save(
            ctx.conn,
            ctx.community,
            {"enabled": enabled},
            actor=ctx.actor,
            at=ctx.now,
            change=action,
        )
        if running is not None:
            # Members earned its multiple until now: they get its recap now, not never.
            until = ctx.now + timedelta(microseconds=1)  # what was earned up to this moment
            ctx.outbox_platforms.update(
                member_day_posts.post_recap(ctx.conn, community, running, until, ctx.now)
            )
        return _changed(ctx, community, "memberday/saved" if enabled else "memberday/cancelled")
    return Reply("memberday/usage")


def _shown(ctx: Context) -> Reply:
    """What members see: the running or next member day, in the community's time."""
    community = ctx.community
    rules, tz = community.rules.member_day, community.timezone
    found = member_days.current_or_next(rules, tz, ctx.now)
    if found is None:
        return Reply("memberday/show", {"scheduled": False})
    start, running = found
    return Reply(
        "memberday/show",
        {"scheduled": True, "running": running, **_window(community, start)},
    )


def _details(ctx: Context, community: Community) -> Reply:
    """Everything about the member day, for admins."""
    rules, tz = community.rules.member_day, community.timezone
    today = community.local_day(ctx.now).isoformat()
    return Reply(
        "memberday/details",
        {
            "enabled": rules.enabled,
            "schedule": member_days.schedule_of(rules).to_json(),
            "hours": rules.hours,
            "multiplier": member_days.shown(rules.multiplier),
            "announce_hours": rules.announce_hours_before,
            "perks": list(rules.perks),
            "poll": rules.poll,
            "top_members": rules.top_members,
            "skipped": [day for day in rules.skipped if day >= today],
            "next": community.local_times(member_days.upcoming(rules, tz, ctx.now, NEXT_SHOWN)),
            "timezone": tz.key,
        },
    )


def _changed(ctx: Context, community: Community, template: str, **extra: Any) -> Reply:
    """The answer to a change: what it is now and its next starts. The scheduler re-reads."""
    ctx.outbox_platforms.add(SCHEDULE_CHANGED)
    rules, tz = community.rules.member_day, community.timezone
    return Reply(
        template,
        {
            "schedule": member_days.schedule_of(rules).to_json(),
            "hours": rules.hours,
            "multiplier": member_days.shown(rules.multiplier),
            "announce_hours": rules.announce_hours_before,
            "next": community.local_times(member_days.upcoming(rules, tz, ctx.now, NEXT_SHOWN)),
            "timezone": tz.key,
            **extra,
        },
    )


def _window(community: Community, start: datetime) -> dict[str, Any]:
    rules, tz = community.rules.member_day, community.timezone
    end = start + timedelta(hours=rules.hours)
    return {
        "start": start.astimezone(tz),
        "end": end.astimezone(tz),
        "hours": rules.hours,
        "multiplier": member_days.shown(rules.multiplier),
        "perks": list(rules.perks),
        "timezone": tz.key,
    }


# ---- reading `set` -----------------------------------------------------------------------------

_NUMBER = r"(\d+(?:\.\d+)?)"
_END = r"(?=[\s,，、;；]|$)"
_KEYED = re.compile(
    r"(?P<key>hours|时长|時長|multiplier|倍数|倍數|announce|预告|預告)\s*[=:：]?\s*"
    rf"{_NUMBER}\s*(?:h|hours?|小时|小時|x|倍)?{_END}",
    re.IGNORECASE,
)
_MULTIPLIER = re.compile(rf"(?:[x×*]\s*{_NUMBER}|{_NUMBER}\s*(?:x|×|倍)){_END}", re.IGNORECASE)
_HOURS = re.compile(rf"{_NUMBER}\s*(?:h|hrs?|hours?|个?小时|個?小時){_END}", re.IGNORECASE)
_DOUBLE = re.compile(rf"(?:双倍|雙倍|double){_END}", re.IGNORECASE)
_KEYS = {"时长": "hours", "時長": "hours", "倍数": "multiplier", "倍數": "multiplier"}
_KEYS |= {"预告": "announce", "預告": "announce"}
_FIELDS = {"announce": "announce_hours_before"}
_GAP = re.compile(r"[\s,，、;；]*")


def read_settings(text: str) -> dict[str, Any]:
    """The member day's fields in `/memberday set`'s words: a <when>, then any of `x2`, `24h`,
    `announce=12` (`2倍`, `双倍`, `24小时`, `预告=12`, `hours=24`), in any order.

    Raises UserError("memberday/bad_when") or ("memberday/bad_option", option=...).
    """
    try:
        when, rest = parse_when(text, time_required=False)
    except UserError:
        raise UserError("memberday/bad_when") from None
    found: dict[str, Any] = {"when": when.canonical()}
    pos = 0
    while pos < len(rest):
        key, value, pos = _option(rest, pos)
        found[_FIELDS.get(key, key)] = value
    return found


def _option(rest: str, pos: int) -> tuple[str, int | float, int]:
    """One option at `pos`: its name, its value and where the next one starts."""
    if m := _KEYED.match(rest, pos):
        key = m["key"].casefold()
        key = _KEYS.get(key, key)
    elif m := _MULTIPLIER.match(rest, pos):
        key = "multiplier"
    elif m := _HOURS.match(rest, pos):
        key = "hours"
    elif m := _DOUBLE.match(rest, pos):
        return "multiplier", 2, _GAP.match(rest, m.end()).end()  # type: ignore[union-attr]
    else:
        word = rest[pos:].split()[0][:40]
        raise UserError("memberday/bad_option", option=word)
    number = float(next(group for group in m.groups() if group and group[0].isdigit()))
    value = int(number) if number.is_integer() else number
    return key, value, _GAP.match(rest, m.end()).end()  # type: ignore[union-attr]
