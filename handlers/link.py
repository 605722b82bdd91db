"""/link: one member on every platform. Show a code here, enter it on the other platform."""

from __future__ import annotations

from community import linking
from handlers.router import Context, Router
from handlers.types import Reply

router = Router()


@router.command("link", private=True)
def link(ctx: Context) -> Reply:
    """/link shows a one-time code; /link CODE on the other platform joins the two accounts."""
    code = ctx.event.arg_text.strip()
    platform = ctx.event.actor.platform
    if not code:
        issued = linking.issue_code(
            ctx.conn, ctx.community, member_id=ctx.member.id, platform=platform, at=ctx.now
        )
        minutes = int(linking.CODE_LIFETIME.total_seconds() // 60)
        return Reply("link/code", {"code": issued.code, "minutes": minutes, "platform": platform})
    linked = linking.redeem_code(
        ctx.conn, ctx.community, member_id=ctx.member.id, platform=platform, code=code, at=ctx.now
    )
    return Reply("link/done", {"balance": linked.balance, "platforms": list(linked.platforms)})
