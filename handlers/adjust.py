"""/award and /deduct: admins move points by hand, with a reason, audited."""

from __future__ import annotations

from dataclasses import dataclass

from community import adjustments, members
from community.members import Member
from handlers.aiming import (
    handle_of,
    leading_mention,
    member_by_handle,
    not_a_person,
    vouched_member,
)
from handlers.arguments import BadArgument, read_arguments
from handlers.parsing import parse_amount
from handlers.routes import Context, Param, ParamKind, Router
from handlers.types import AccountRef, Event, Reply

router = Router()


# /award @member AMOUNT [reason]: the same three for /deduct. The amount's limit is the
# community's max_award.
ADJUST_PARAMS = (
    Param("member", ParamKind.MEMBER),
    Param("amount", ParamKind.INTEGER, minimum=1, maximum=lambda rules: rules.points.max_award),
    Param("reason", ParamKind.TEXT, required=False),
)


@router.command("award", admin=True, params=ADJUST_PARAMS)
def award(ctx: Context) -> Reply:
    """/award @member N reason (or N reason, replying to the member) — add points."""
    return _adjust(ctx, sign=1)


@router.command("deduct", admin=True, params=ADJUST_PARAMS)
def deduct(ctx: Context) -> Reply:
    """/deduct @member N reason (or N reason, replying to the member) — take points away."""
    return _adjust(ctx, sign=-1)


@dataclass(frozen=True, slots=True)
class _Aim:
    """Whom a command names, and the words after it."""

    handle: str | None  # typed: "@bob"
    account: AccountRef | None  # given by the platform: a reply's author, a text mention
    rest: str


def _aim(event: Event) -> _Aim | None:
    """Who the command is about. Whatever is typed first wins: a mention's words or a handle;
    a reply's author only when the command starts with an amount ("/award 50 thanks")."""
    text = event.arg_text
    mentioned = leading_mention(event, text)
    if mentioned is not None:
        return _Aim(None, *mentioned)
    parts = text.split(None, 1)
    if not parts:
        return None
    if event.target is not None and parse_amount(parts[0]) is not None:
        return _Aim(None, event.target, text)
    return _Aim(parts[0], None, parts[1] if len(parts) > 1 else "")


def _member(ctx: Context, aim: _Aim) -> tuple[Member, str] | Reply:
    """The member aimed at and how the answer names them beyond doubt; else the refusal."""
    account = aim.account
    if account is None:
        return member_by_handle(ctx, aim.handle or "")
    refused = not_a_person(account)  # nobody to pay
    if refused is not None:
        return refused
    found = members.find_by_account(
        ctx.conn, community_id=ctx.community.id, platform=account.platform, user_id=account.user_id
    )
    if found is None:
        # The platform vouches for this account, and a group's quiet members are exactly who a
        # reply reaches (Telegram shows the bot only commands): they become members now rather
        # than being refused.
        vouched = vouched_member(ctx, account)
        if isinstance(vouched, Reply):
            return vouched
        found = vouched
    return found, handle_of(account)


def _adjust(ctx: Context, sign: int) -> Reply:
    command = "award" if sign > 0 else "deduct"
    usage = Reply(
        "points/adjust_usage", {"command": command, "limit": ctx.community.rules.points.max_award}
    )
    aim = _aim(ctx.event)
    if aim is None:
        return usage
    # The member is whom _aim found (a platform's pick, a handle, a reply); the amount and the
    # reason are read by their declaration. max_award is adjustments.adjust's to check (after
    # the member is known, so an unknown member is said first), as for every other caller.
    try:
        given = read_arguments(ADJUST_PARAMS[1:], aim.rest, rules=None)
    except BadArgument:
        return usage
    amount = given.numbers["amount"]
    found = _member(ctx, aim)
    if isinstance(found, Reply):
        return found
    target, handle = found
    note = adjustments.clean_note(given.get("reason") or "")
    posting = adjustments.adjust(
        ctx.conn,
        ctx.community,
        actor=ctx.actor,
        target=target,
        delta=sign * amount,
        note=note,
        key=f"event:{ctx.event.event_id}",
        at=ctx.now,
    )
    return Reply(
        "points/awarded" if sign > 0 else "points/deducted",
        {
            "target": target.display_name,
            # The handle as this platform knows it: whom it paid, beyond doubt.
            "handle": handle,
            "platform": ctx.event.chat.platform,
            "amount": amount,
            "note": note,
            "balance": posting.balance,
        },
    )
