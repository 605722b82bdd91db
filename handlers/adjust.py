"""/award and /deduct: admins move points by hand, with a reason, audited."""

from __future__ import annotations

from community import adjustments, members
from handlers.parsing import parse_amount
from handlers.routes import Context, Router
from handlers.types import Reply

router = Router()


@router.command("award", admin=True)
def award(ctx: Context) -> Reply:
    """/award @member N reason — add points."""
    return _adjust(ctx, sign=1)


@router.command("deduct", admin=True)
def deduct(ctx: Context) -> Reply:
    """/deduct @member N reason — take points away."""
    return _adjust(ctx, sign=-1)


def _adjust(ctx: Context, sign: int) -> Reply:
    command = "award" if sign > 0 else "deduct"
    parts = ctx.event.arg_text.split(None, 2)
    usage = Reply(
        "points/adjust_usage", {"command": command, "limit": ctx.community.rules.points.max_award}
    )
    if len(parts) < 2:
        return usage
    handle, amount_text = parts[0], parts[1]
    amount = parse_amount(amount_text)
    if amount is None:
        return usage
    target = members.find_by_handle(
        ctx.conn, community_id=ctx.community.id, handle=handle, platform=ctx.event.chat.platform
    )
    if target is None:
        return Reply("points/unknown_member", {"handle": handle})
    note = adjustments.clean_note(parts[2] if len(parts) > 2 else "")
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
            "handle": f"@{members.username_key(handle)}",
            "platform": ctx.event.chat.platform,
            "amount": amount,
            "note": note,
            "balance": posting.balance,
        },
    )
