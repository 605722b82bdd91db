"""Personal invitations (/invite): a member's code, the platform's link made for it, who joined
through it, and the inviter's reward at the invitee's first check-in.

A newcomer is credited to the first invitation they came through; one the community knew
before (an account older than the join, a check-in, any ledger entry), or the inviter
themself, is recorded as `known` and never pays.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, bindparam, exists, or_, select, update

from community import earning
from community.communities import Community
from community.messages import Reply, Visibility
from community.outbox import Kind, enqueue
from community.reminders import recipients
from storage.schema import checkins, invitations, invited, ledger, members
from storage.sql import fit_text, insert_if_absent

# Codes: short, unambiguous when read aloud or typed (no 0/o, 1/l/i).
CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
CODE_LENGTH = 8
# One join is told twice on Telegram (the "joined" message and the chat_member update, seconds
# apart), and the first registers the newcomer: an account this young is still new.
JOIN_GRACE = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Invitation:
    """A member's invitation into one group."""

    id: int
    community_id: int
    member_id: int
    code: str
    platform: str
    chat_id: str
    link: str | None


def new_code() -> str:
    """A fresh random code."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


_COLUMNS = (
    invitations.c.id,
    invitations.c.community_id,
    invitations.c.member_id,
    invitations.c.code,
    invitations.c.platform,
    invitations.c.chat_id,
    invitations.c.link,
)
_MINE = (
    select(*_COLUMNS)
    .where(
        invitations.c.member_id == bindparam("member"),
        invitations.c.platform == bindparam("platform"),
        invitations.c.chat_id == bindparam("chat"),
    )
    .order_by(invitations.c.id.desc())
    .limit(1)
)
_BY_CODE = select(*_COLUMNS).where(invitations.c.code == bindparam("code"))


def invitation_for(
    conn: Connection,
    community_id: int,
    member_id: int,
    platform: str,
    chat_id: str,
    at: datetime,
) -> Invitation:
    """The member's invitation into this group: the one made before, else a new one."""
    params = {"member": member_id, "platform": platform, "chat": fit_text(chat_id, 64)}
    row = conn.execute(_MINE, params).first()
    if row is not None:
        return Invitation(*row)
    for _ in range(20):
        code = new_code()
        values = {
            "community_id": community_id,
            "member_id": member_id,
            "code": code,
            "platform": platform,
            "chat_id": fit_text(chat_id, 64),
            "link": None,
            "created_at": at,
        }
        if insert_if_absent(conn, invitations, values):
            found = conn.execute(_BY_CODE, {"code": code}).one()
            return Invitation(*found)
    raise RuntimeError("no free invitation code after 20 tries")  # 31^8: never in practice


def set_link(conn: Connection, code: str, link: str) -> None:
    """The platform made the invitation's link (the messenger reports it as it sends)."""
    conn.execute(
        update(invitations).where(invitations.c.code == code).values(link=fit_text(link, 300))
    )


def find(conn: Connection, community_id: int, platform: str, invite: str) -> Invitation | None:
    """The invitation a platform's invite names: its code (a Telegram link's name, the
    console) or its link (a Discord invite's URL)."""
    if not invite:
        return None
    row = conn.execute(
        select(*_COLUMNS).where(
            invitations.c.community_id == community_id,
            invitations.c.platform == platform,
            or_(invitations.c.code == fit_text(invite, 32), invitations.c.link == invite),
        )
    ).first()
    return None if row is None else Invitation(*row)


def record_join(
    conn: Connection, community_id: int, platform: str, member_id: int, invite: str, at: datetime
) -> bool:
    """The member joined through `invite`: credited to its inviter, unless an earlier
    invitation was (the first wins). True when recorded now."""
    invitation = find(conn, community_id, platform, invite)
    if invitation is None:
        return False
    known = invitation.member_id == member_id or _known(conn, member_id, at)
    values = {
        "member_id": member_id,
        "invitation_id": invitation.id,
        "joined_at": at,
        "known": known,
        "rewarded_at": None,
    }
    return insert_if_absent(conn, invited, values)


def _known(conn: Connection, member_id: int, at: datetime) -> bool:
    """Whether the community knew the member before this join: an account older than it, a
    check-in, a ledger entry."""
    older = select(members.c.id).where(
        members.c.id == member_id, members.c.created_at < at - JOIN_GRACE
    )
    checked_in = select(checkins.c.id).where(checkins.c.member_id == member_id)
    booked = select(ledger.c.id).where(ledger.c.member_id == member_id)
    found = conn.execute(select(or_(exists(older), exists(checked_in), exists(booked)))).scalar()
    return bool(found)


_UNPAID = (
    select(invitations.c.member_id.label("inviter"), invitations.c.community_id)
    .join(invited, invited.c.invitation_id == invitations.c.id)
    .where(
        invited.c.member_id == bindparam("member"),
        invited.c.known.is_(False),
        invited.c.rewarded_at.is_(None),
    )
)
_PAID = (
    update(invited)
    .where(and_(invited.c.member_id == bindparam("member"), invited.c.rewarded_at.is_(None)))
    .values(rewarded_at=bindparam("at"))
)


def reward_inviter(
    conn: Connection, community: Community, member_id: int, at: datetime
) -> str | None:
    """Call at a member's first check-in: pay whoever invited them (once, never for a known
    invitee; the month's cap is the earning path's) and tell them privately. Returns the
    platform a note was queued for (its sender may be woken), else None."""
    row = conn.execute(_UNPAID, {"member": member_id}).first()
    if row is None or row.community_id != community.id:
        return None
    if conn.execute(_PAID, {"member": member_id, "at": at}).rowcount == 0:
        return None  # paid by a concurrent check-in
    earned = earning.credit(
        conn,
        community,
        member_id=row.inviter,
        action="invitation",
        key=f"invitation:{member_id}",
        at=at,
    )
    if not earned.applied:
        return None
    invitee = conn.execute(
        select(members.c.display_name).where(members.c.id == member_id)
    ).scalar_one()
    target = recipients(conn, community.id, [row.inviter]).get(row.inviter)
    if target is None:
        return None
    context = {
        "name": invitee,
        "points": earned.paid,
        "balance": earned.balance,
        "limited": earned.limited_by is not None,
    }
    reply = Reply("invite/rewarded", context, community.locale, visibility=Visibility.PRIVATE)
    enqueue(
        conn,
        community_id=community.id,
        platform=target.platform,
        chat_id=target.user_id,
        kind=Kind.DIRECT,
        reply=reply,
        at=at,
    )
    return target.platform
