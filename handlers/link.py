"""/link: one member on every platform. Show a code here, enter it on the other platform."""

from __future__ import annotations

from community import linking
from handlers.routes import Context, Param, ParamKind, Router
from handlers.types import Choice, EventKind, Reply

router = Router()


@router.command("link", private=True, params=(Param("code", ParamKind.TEXT, required=False),))
def link(ctx: Context) -> Reply:
    """/link shows a one-time code; /link CODE on the other platform joins the two accounts.
    Both only where the asker alone reads the answer (a code shown in public is spent by the
    dispatcher before any route runs)."""
    words = ctx.event.args
    platform = ctx.event.actor.platform
    if not words:
        issued = linking.issue_code(
            ctx.conn, ctx.community, member_id=ctx.member.id, platform=platform, at=ctx.now
        )
        minutes = int(linking.CODE_LIFETIME.total_seconds() // 60)
        return Reply("link/code", {"code": issued.code, "minutes": minutes, "platform": platform})
    says_confirm = len(words) > 1 and words[-1].casefold() == "confirm"
    code = "".join(words[:-1] if says_confirm else words)  # "ABCD EFGH" is typed too
    # Only the button under the question confirms: a scammer can tell someone to type
    # "/link CODE confirm", but not make them press a button they have not seen.
    if not (says_confirm and ctx.event.kind is EventKind.BUTTON):
        # Say whom the code joins them to, and let them confirm with a button: someone who
        # was talked into entering another person's code must see it before it happens.
        pending = linking.check_code(
            ctx.conn,
            ctx.community,
            member_id=ctx.member.id,
            platform=platform,
            code=code,
            at=ctx.now,
        )
        return Reply(
            "link/confirm",
            {"name": pending.display_name, "platform": pending.platform, "code": pending.code},
            choices=(Choice("link/confirm_button", f"/link {pending.code} confirm"),),
        )
    linked = linking.redeem_code(
        ctx.conn,
        ctx.community,
        member_id=ctx.member.id,
        platform=platform,
        code=code,
        at=ctx.now,
        account=ctx.actor.account,
    )
    return Reply("link/done", {"balance": linked.balance, "platforms": list(linked.platforms)})
