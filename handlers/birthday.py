"""/birthday (生日): a member gives their birthday once and sees it; admins correct anyone's
with /birthday @member MM-DD."""

from __future__ import annotations

from community import birthdays, members
from community.members import Member
from handlers.routes import Context, Param, ParamKind, Router
from handlers.text import strip_invisible
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
    event = ctx.event
    for mention in event.mentions:
        words = strip_invisible(mention.shown).strip()
        after = text[len(words) :]
        if words and text.startswith(words) and (not after or after[0].isspace()):
            if not ctx.is_admin:
                return Reply("birthday/admins_only")
            account = mention.account
            if account.anonymous or account.is_bot:
                return Reply(
                    "points/not_a_person", {"name": account.display_name, "bot": account.is_bot}
                )
            found = members.identify(
                ctx.conn,
                community_id=ctx.community.id,
                platform=account.platform,
                user_id=account.user_id,
                display_name=account.display_name,
                username=account.username,
                at=ctx.now,
            )
            return found, account.display_name, after.strip()
    first, _, rest = text.partition(" ")
    first = "@" + first[1:] if first.startswith("＠") else first
    if not first.startswith("@"):
        return None
    if not ctx.is_admin:
        return Reply("birthday/admins_only")
    target = members.find_by_handle(
        ctx.conn, community_id=ctx.community.id, handle=first, platform=ctx.event.chat.platform
    )
    if target is None:
        return Reply("points/unknown_member", {"handle": first})
    return target, f"@{members.username_key(first)}", rest.strip()


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
