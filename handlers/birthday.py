"""/birthday (生日): a member gives their birthday once and sees it; admins correct anyone's
with /birthday @member MM-DD."""

from __future__ import annotations

from community import birthdays
from community.members import Member
from handlers.aiming import leading_mention, member_by_handle, typed_handle, vouched_member
from handlers.routes import Context, Param, ParamKind, Router
from handlers.types import Reply
from loyalty import tiers

router = Router()

# /birthday [@member] [MM-DD]: the member is for admins; the date alone is the member's own.
BIRTHDAY_PARAMS = (
    Param("member", ParamKind.MEMBER, required=False),
    Param("date", ParamKind.TEXT, required=False),
)


@router.command("birthday", words=("生日",), params=BIRTHDAY_PARAMS, shows_admin=True)
def birthday(ctx: Context) -> Reply:
    """/birthday shows the member's birthday; /birthday MM-DD gives it (once); admins:
    /birthday @member MM-DD sets anyone's."""
    text = ctx.event.arg_text.strip() if ctx.event.command else ""
    aimed = _aim(ctx, text)
    if aimed is not None:
        return aimed if isinstance(aimed, Reply) else _correct(ctx, *aimed)
    if not text:
        given = birthdays.birthday_of(ctx.conn, ctx.member.id)
        if given is None:
            return Reply("birthday/unset")
        return Reply("birthday/show", birthdays.shown(given))
    saved = birthdays.set_own(ctx.conn, ctx.member, text)
    return Reply("birthday/saved", {**birthdays.shown(saved), "bonus": _bonus(ctx)})


def _aim(ctx: Context, text: str) -> tuple[Member, str, str] | Reply | None:
    """The member an admin names first (a platform's mention, or an @handle), with how to
    call them and the words after; None when the command names nobody."""
    mentioned = leading_mention(ctx.event, text)
    if mentioned is not None:
        if not ctx.is_admin:
            return Reply("birthday/admins_only")
        account, rest = mentioned
        found = vouched_member(ctx, account)
        return found if isinstance(found, Reply) else (found, account.display_name, rest)
    typed = typed_handle(text)
    if typed is None:
        return None
    if not ctx.is_admin:
        return Reply("birthday/admins_only")
    target = member_by_handle(ctx, typed[0])
    return target if isinstance(target, Reply) else (*target, typed[1])


def _correct(ctx: Context, target: Member, handle: str, text: str) -> Reply:
    if not text:
        given = birthdays.birthday_of(ctx.conn, target.id)
        shown = birthdays.shown(given) if given else {"month": 0, "day": 0}
        return Reply(
            "birthday/show_other", {"name": target.display_name, "handle": handle, **shown}
        )
    before, after = birthdays.correct(
        ctx.conn, ctx.community, actor=ctx.actor, target=target, text=text, at=ctx.now
    )
    was = birthdays.shown(before) if before else {"month": 0, "day": 0}
    return Reply(
        "birthday/corrected",
        {
            "name": target.display_name,
            "handle": handle,
            **birthdays.shown(after),
            "was_month": was["month"],
            "was_day": was["day"],
        },
    )


def _bonus(ctx: Context) -> int:
    """The birthday bonus of the member's tier today."""
    tier = tiers.tier_of(ctx.conn, ctx.member.id, ctx.member.tier)
    return ctx.community.rules.tiers.level(tier).birthday_bonus
