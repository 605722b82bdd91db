"""/invite: a member's personal invitation into the group (邀请). The platform's invite is made
by the messenger as the answer is sent; a newcomer who joins through it pays its inviter at
their first check-in (community/invitations.py)."""

from __future__ import annotations

from sqlalchemy import select

from community import invitations
from community.messages import InviteSpec
from handlers.routes import Context, Router
from handlers.types import Reply
from storage.schema import groups
from storage.store import Store

router = Router()


@router.command("invite", words=("邀请", "邀请码"))
def invite(ctx: Context) -> Reply:
    """The member's invitation link into this group (in a private chat: the community's first
    group on this platform)."""
    platform = ctx.event.chat.platform
    chat_id = _group(ctx)
    if chat_id is None:
        return Reply("invite/no_group")
    made = invitations.invitation_for(
        ctx.conn, ctx.community.id, ctx.member.id, platform, chat_id, ctx.now
    )
    context = {
        "community": ctx.community.name,
        "code": made.code,
        "points": ctx.community.rules.earning.invitation.points,
        # Filled in by the messenger as it makes the platform's invite.
        "invite_link": made.link or "",
    }
    if made.link:
        return Reply("invite/link", context)
    return Reply("invite/link", context, invite=InviteSpec(made.code, chat_id))


def _group(ctx: Context) -> str | None:
    chat = ctx.event.chat
    if not chat.private:
        return chat.chat_id
    return ctx.conn.execute(
        select(groups.c.chat_id)
        .where(
            groups.c.community_id == ctx.community.id,
            groups.c.platform == chat.platform,
            groups.c.private.is_(False),
        )
        .order_by(groups.c.id)
        .limit(1)
    ).scalar()


def record_invite(ctx: Context) -> bool:
    """For the JOINED handler: credit the newcomer to the invitation they came through, if the
    platform said (Event.invite). True when recorded now."""
    event = ctx.event
    if not event.invite or ctx.acting_member is None:
        return False
    return invitations.record_join(
        ctx.conn, ctx.community.id, event.chat.platform, ctx.member.id, event.invite, ctx.now
    )


class Invitations:
    """The port the messengers report the platform's invite links through."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def made(self, code: str, link: str) -> None:
        """The platform made the invitation `code`'s link."""
        await self._store.write(invitations.set_link, code, link)
