"""/draw: admins start lucky draws (抽奖) and cancel them; members enter with a button (or
/draw enter N), read the open and recent draws, one draw, and its entrants' list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from community import draw_admin, draw_entering, draws
from community.draw_options import read_start, usage
from community.jobs import SCHEDULE_CHANGED
from handlers.actions import ACTION_WORDS, read_action
from handlers.parsing import parse_numbered
from handlers.routes import Context, Param, ParamKind, Router, admins_only
from handlers.types import Reply, Visibility
from loyalty.errors import UserError
from storage.sql import savepoint

router = Router()

ACTIONS = ("list", "show", "enter", "entrants", "start", "cancel")
DRAW_PARAMS = (
    Param("action", ParamKind.CHOICE, required=False, choices=ACTIONS),
    Param("details", ParamKind.TEXT, required=False),
)
# The draw's own words for its actions, besides those every command takes.
_WORDS = {
    **ACTION_WORDS,
    "参加": "enter",
    "参与": "enter",
    "报名": "enter",
    "join": "enter",
    "取消": "cancel",
    "名单": "entrants",
    "参与者": "entrants",
    "查看": "show",
    "详情": "show",
}


@router.command("draw", personal=False, shows_admin=True, params=DRAW_PARAMS)
def draw(ctx: Context) -> Reply:
    """/draw [list] · /draw N · /draw enter N · /draw entrants N; admins: /draw start <prize>
    --winners N --until TIME [--entry ...] [--points N] · /draw cancel N."""
    text = ctx.event.arg_text
    number = parse_numbered(text)
    if number is not None:
        return _show(ctx, str(number))
    action, details = read_action(text, _WORDS)
    if action in ("", "list") and not details:
        return _list(ctx)
    handler = _ACTIONS.get(action)
    return _usage(ctx) if handler is None else handler(ctx, details)


def _usage(ctx: Context) -> Reply:
    rules = ctx.community.rules.draws
    return Reply("draw/usage", {"is_admin": ctx.is_admin, **usage(rules)})


def _mine(ctx: Context, found: draws.Draw) -> int | None:
    member = ctx.acting_member
    return None if member is None else draws.entry_of(ctx.conn, found.id, member.id)


def _list(ctx: Context) -> Reply:
    community = ctx.community
    found = draws.listed(ctx.conn, community.id, community.rules.draws.list_entries)
    listed: list[dict[str, Any]] = []
    buttons = []
    for each in found:
        mine = _mine(ctx, each) if each.state == draws.OPEN else None
        listed.append(draws.describe(each, community) | {"mine": mine})
        if each.open_at(ctx.now) and mine is None:
            buttons.append(draws.enter_button(each))
    return Reply("draw/list", {"draws": listed, "is_admin": ctx.is_admin}, choices=tuple(buttons))


def _found(ctx: Context, details: str) -> draws.Draw | Reply:
    """The draw `details` names, or the answer saying it names none."""
    number = parse_numbered(details)
    if number is None:
        return _usage(ctx)
    found = draws.draw_by_id(ctx.conn, ctx.community.id, number)
    return Reply("draw/unknown", {"number": number}) if found is None else found


def _show(ctx: Context, details: str) -> Reply:
    found = _found(ctx, details)
    if isinstance(found, Reply):
        return found
    community = ctx.community
    mine = _mine(ctx, found)
    context = draws.describe(found, community) | {"mine": mine}
    if found.state == draws.DRAWN:
        winners = draws.winners_of(ctx.conn, found.id)
        context |= draws.winner_lines(winners, community.rules.draws.winners_shown)
    can_enter = found.open_at(ctx.now) and mine is None
    buttons = (draws.enter_button(found),) if can_enter else ()
    return Reply("draw/shown", context, choices=buttons)


def _enter(ctx: Context, details: str) -> Reply:
    # Pressed on a post in a group: only the presser reads the answer (an alert, an ephemeral
    # reply); typed in a group, the group reads it.
    where = Visibility.PRIVATE if ctx.event.private_reply else Visibility.CHAT
    number = parse_numbered(details)
    if number is None:
        return Reply("draw/enter_usage", visibility=where)
    member = ctx.acting_member
    if member is None:
        # Entries belong to people: an anonymous admin or a channel is nobody to draw.
        return Reply("draw/post_as_yourself", visibility=where)
    try:
        with savepoint(ctx.conn):
            entered = draw_entering.enter(
                ctx.conn, ctx.community, number, member=member, at=ctx.now
            )
    except UserError as refusal:
        return Reply(refusal.key, refusal.context, visibility=where)
    context = draws.describe(entered.draw, ctx.community) | {
        "entry": entered.entry,
        "fee": entered.fee,
        "balance": entered.balance,
        "name": member.display_name,
    }
    return Reply("draw/entered", context, visibility=where)


def _entrants(ctx: Context, details: str) -> Reply:
    found = _found(ctx, details)
    if isinstance(found, Reply):
        return found
    document, held = draws.entrants_csv(ctx.conn, found, ctx.community)
    # A file holds 8 MB: a list cut to fit says so, or a check run on it finds other winners.
    total = draws.entries_made(ctx.conn, found.id)
    context = draws.describe(found, ctx.community) | {
        "lines": held,
        "total": total,
        "file": document.name,
    }
    return Reply("draw/entrants", context, document=document)


def _start(ctx: Context, details: str) -> Reply:
    if not ctx.is_admin:
        return admins_only(ctx, "draw")
    community = ctx.community
    spec = read_start(details, community, ctx.now)
    started = draw_admin.start(ctx.conn, community, spec, actor=ctx.actor, at=ctx.now)
    ctx.outbox_platforms.update(started.sent.platforms)
    ctx.outbox_platforms.add(SCHEDULE_CHANGED)  # an alarm for its close
    context = draws.describe(started.draw, community) | {
        "groups": started.sent.queued,
        "inactive": started.sent.inactive,
        "no_channel": started.sent.no_channel,
    }
    return Reply("draw/started", context)


def _cancel(ctx: Context, details: str) -> Reply:
    if not ctx.is_admin:
        return admins_only(ctx, "draw")
    number = parse_numbered(details)
    if number is None:
        return _usage(ctx)
    done = draw_admin.cancel(ctx.conn, ctx.community, number, actor=ctx.actor, at=ctx.now)
    ctx.outbox_platforms.update(done.platforms)
    ctx.outbox_platforms.add(SCHEDULE_CHANGED)  # its close's alarm goes
    context = draws.describe(done.draw, ctx.community) | {
        "refunds": done.refunds,
        "refunded": done.refunded,
    }
    return Reply("draw/cancelled", context)


_ACTIONS: dict[str, Callable[[Context, str], Reply]] = {
    "show": _show,
    "enter": _enter,
    "entrants": _entrants,
    "start": _start,
    "cancel": _cancel,
}
