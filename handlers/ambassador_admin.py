"""/ambassador: admins appoint, remove and move brand ambassadors, and confirm the month-end's
proposals to move one up (its button sends /ambassador promote N). Every change is audited and
the ambassador is told privately. The roster, /mytasks and the board: handlers/ambassador.py."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from community import ambassadors, private_notices
from community.ambassador_notices import level_context, notice
from community.ambassador_rules import AmbassadorLevel, AmbassadorRules
from community.jobs import SCHEDULE_CHANGED
from community.members import Member
from handlers.actions import ACTION_WORDS, read_action
from handlers.aiming import (
    handle_of,
    leading_mention,
    member_by_handle,
    typed_handle,
    vouched_member,
)
from handlers.parsing import parse_numbered
from handlers.routes import Context, Param, ParamKind, Router
from handlers.types import AccountRef, Reply
from loyalty.errors import UserError
from storage.sql import savepoint

router = Router()

ADD, REMOVE, LEVEL, PROMOTE = "add", "remove", "level", "promote"
ACTIONS = (ADD, REMOVE, LEVEL, PROMOTE)
# /ambassador's actions in the shared table of action words, with the words Chinese-speaking
# admins type for its own.
_WORDS = {
    **ACTION_WORDS,
    "任命": ADD,
    "等级": LEVEL,
    "调整": LEVEL,
    "晋升": PROMOTE,
    "升级": PROMOTE,
}
AMBASSADOR_PARAMS = (
    Param("action", ParamKind.CHOICE, choices=ACTIONS),
    Param("member", ParamKind.MEMBER, required=False),
    # A level's key or name (add, level), or a proposal's number (promote).
    Param("level", ParamKind.TEXT, required=False),
)


@router.command("ambassador", admin=True, params=AMBASSADOR_PARAMS)
def ambassador(ctx: Context) -> Reply:
    """/ambassador add @member [level] | remove @member | level @member LEVEL | promote N."""
    action, rest = read_action(ctx.event.arg_text, _WORDS)
    if action == PROMOTE:
        number = parse_numbered(rest)
        return _usage(ctx) if number is None else _promote(ctx, number)
    if action not in (ADD, REMOVE, LEVEL):
        return _usage(ctx)
    aimed = _aim(ctx, rest)
    if aimed is None:
        return _usage(ctx)
    if isinstance(aimed, Reply):
        return aimed
    target, handle, words = aimed
    rules = ctx.community.rules.ambassadors
    level: AmbassadorLevel | None = rules.levels[0]
    if action == LEVEL and not words:
        return _usage(ctx)
    if action in (ADD, LEVEL) and words:
        level = ambassadors.find_level(rules, words)
        if level is None:
            return Reply("ambassador/unknown_level", {"word": words, "levels": _levels(rules)})
    if action == REMOVE and words:
        return _usage(ctx)
    who = {"name": target.display_name, "handle": handle}
    try:
        with savepoint(ctx.conn):
            if action == ADD:
                assert level is not None
                return _add(ctx, target, level, who)
            if action == REMOVE:
                return _remove(ctx, target, who)
            assert level is not None
            return _set_level(ctx, target, level, who)
    except UserError as refusal:
        return Reply(refusal.key, {**refusal.context, **who})


def _add(ctx: Context, target: Member, level: AmbassadorLevel, who: Mapping[str, str]) -> Reply:
    community = ctx.community
    ambassadors.appoint(
        ctx.conn, community, actor=ctx.actor, member_id=target.id, level=level, at=ctx.now
    )
    rules = community.rules.ambassadors
    shown = level_context(rules, level.key)
    told = _tell(ctx, target, "ambassador/appointed", {"level": shown}, "appointed")
    # The month-end evaluation is listed once a community has a roster.
    ctx.outbox_platforms.add(SCHEDULE_CHANGED)
    return Reply("ambassador/added", {**who, "level": shown, "told": told})


def _remove(ctx: Context, target: Member, who: Mapping[str, str]) -> Reply:
    community = ctx.community
    was = ambassadors.remove(ctx.conn, community, actor=ctx.actor, member_id=target.id, at=ctx.now)
    shown = level_context(community.rules.ambassadors, was.level)
    told = _tell(ctx, target, "ambassador/removed_notice", {"level": shown}, "removed")
    return Reply("ambassador/removed", {**who, "level": shown, "told": told})


def _set_level(
    ctx: Context, target: Member, level: AmbassadorLevel, who: Mapping[str, str]
) -> Reply:
    community = ctx.community
    rules = community.rules.ambassadors
    old = ambassadors.set_level(
        ctx.conn, community, actor=ctx.actor, member_id=target.id, level=level, at=ctx.now
    )
    context = {
        "old": level_context(rules, old),
        "level": level_context(rules, level.key),
        "up": _position(rules, level.key) > _position(rules, old),
    }
    told = _tell(ctx, target, "ambassador/level_notice", context, "level")
    return Reply("ambassador/level_set", {**who, **context, "told": told})


def _promote(ctx: Context, number: int) -> Reply:
    community = ctx.community
    rules = community.rules.ambassadors
    try:
        with savepoint(ctx.conn):
            done = ambassadors.promote(
                ctx.conn, community, actor=ctx.actor, number=number, at=ctx.now
            )
    except UserError as refusal:
        return Reply(refusal.key, refusal.context)
    name = private_notices.names_of(ctx.conn, [done.member_id]).get(done.member_id, "")
    context = {
        "old": level_context(rules, done.old),
        "level": level_context(rules, done.new),
        "up": True,
    }
    key = f"{community.id}:{done.member_id}:promoted:{number}"
    ctx.outbox_platforms.update(
        private_notices.tell(
            ctx.conn,
            community,
            [notice("ambassador/level_notice", {"name": name, **context}, done.member_id, key)],
            ctx.now,
        )
    )
    return Reply("ambassador/promoted", {"number": number, "name": name, **context})


def _tell(
    ctx: Context, target: Member, template: str, context: Mapping[str, Any], cause: str
) -> bool:
    """Tell the member privately; whether there was an account to write to."""
    key = f"{ctx.community.id}:{target.id}:{cause}:{ctx.event.event_id}"
    told = notice(template, {"name": target.display_name, **context}, target.id, key)
    platforms = private_notices.tell(ctx.conn, ctx.community, [told], ctx.now)
    ctx.outbox_platforms.update(platforms)
    return bool(platforms)


def _usage(ctx: Context) -> Reply:
    rules = ctx.community.rules.ambassadors
    return Reply("ambassador/usage", {"levels": _levels(rules), "limit": rules.max_ambassadors})


def _levels(rules: AmbassadorRules) -> list[dict[str, Any]]:
    return [level_context(rules, level.key) for level in rules.levels]


def _position(rules: AmbassadorRules, key: str) -> int:
    found = rules.level(key)
    return -1 if found is None else rules.levels.index(found)


def _aim(ctx: Context, text: str) -> tuple[Member, str, str] | Reply | None:
    """The member the action names (a platform's mention, an @handle, or the author of the
    message the command replies to), how to call them beyond doubt, and the words after;
    None when it names nobody."""
    mentioned = leading_mention(ctx.event, text)
    if mentioned is not None:
        return _account_member(ctx, *mentioned)
    typed = typed_handle(text)
    if typed is not None and len(typed[0]) > 1:
        found = member_by_handle(ctx, typed[0])
        return found if isinstance(found, Reply) else (*found, typed[1])
    if ctx.event.target is not None:
        return _account_member(ctx, ctx.event.target, text.strip())
    return None


def _account_member(
    ctx: Context, account: AccountRef, rest: str
) -> tuple[Member, str, str] | Reply:
    found = vouched_member(ctx, account)
    return found if isinstance(found, Reply) else (found, handle_of(account), rest)
