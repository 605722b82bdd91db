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
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, exists, or_, select, update

from community import earning
from community.communities import Community
from community.messages import Reply, Visibility
from community.outbox import Kind, enqueue
from community.reminders import recipients
from loyalty import ledger as points
from storage.schema import balances, checkins, invitations, invited, ledger, members
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


@dataclass(frozen=True, slots=True)
class Reversal:
    """An invitation payment taken back at a /link: what was paid, what could be taken."""

    inviter: int
    invitee: int  # the account whose join was paid for
    paid: int
    taken: int

    @property
    def shortfall(self) -> int:
        """What the inviter had spent already and so keeps (never below zero)."""
        return self.paid - self.taken


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


_BOTH = (
    select(
        invited.c.member_id,
        invited.c.joined_at,
        invited.c.known,
        invited.c.rewarded_at,
        invitations.c.member_id.label("inviter"),
    )
    .join(invitations, invitations.c.id == invited.c.invitation_id)
    .where(invited.c.member_id.in_([bindparam("keep"), bindparam("absorb")]))
)
_PAYMENT = select(ledger.c.member_id, ledger.c.delta).where(
    ledger.c.idempotency_key == bindparam("key"), ledger.c.reason == "invitation"
)
_LOCKED_BALANCE = (
    select(balances.c.points).where(balances.c.member_id == bindparam("member")).with_for_update()
)


def merge_invited(
    conn: Connection, community: Community, *, keep: int, absorb: int, at: datetime
) -> list[Reversal]:
    """/link learns two accounts are one person: one invitation brought them in, and pays once.

    Call after the loyalty merge (invitations, ledger and balances are `keep`'s) and before
    `absorb` is deleted. Of both accounts' invitations the one paid (else the first) stays; an
    invitation of the person by themself, or after the other account was known, pays nothing.
    Every other payment is taken back (as much as the inviter still has)."""
    rows = conn.execute(_BOTH, {"keep": keep, "absorb": absorb}).all()
    if not rows:
        return []
    created = dict(
        conn.execute(
            select(members.c.id, members.c.created_at).where(members.c.id.in_((keep, absorb)))
        ).all()
    )

    def earns(row: Any) -> bool:
        other = absorb if row.member_id == keep else keep
        known_before = created[other] < row.joined_at - JOIN_GRACE
        return not row.known and row.inviter not in (keep, absorb) and not known_before

    # Paid first (a payment stands rather than one to come), then the first join, then keep's.
    def rank(row: Any) -> tuple[bool, datetime, bool]:
        return (row.rewarded_at is None, row.joined_at, row.member_id != keep)

    earning_rows = [row for row in rows if earns(row)]
    survivor = min(earning_rows or rows, key=rank)
    reversals = []
    for row in rows:
        if row.rewarded_at is not None and not row.known and not (row is survivor and earns(row)):
            reversal = _take_back(conn, community, invitee=row.member_id, at=at)
            if reversal is not None:
                reversals.append(reversal)
    conn.execute(
        delete(invited).where(
            invited.c.member_id.in_((keep, absorb)), invited.c.member_id != survivor.member_id
        )
    )
    conn.execute(
        update(invited)
        .where(invited.c.member_id == survivor.member_id)
        .values(member_id=keep, known=not earns(survivor))
    )
    return reversals


def _take_back(
    conn: Connection, community: Community, *, invitee: int, at: datetime
) -> Reversal | None:
    """Debit the payment for `invitee`'s join from its inviter, never below zero."""
    paid = conn.execute(_PAYMENT, {"key": f"invitation:{invitee}"}).first()
    if paid is None or paid.delta <= 0:
        return None  # the month's cap paid nothing
    # Locked: a concurrent spend cannot take the balance below what is taken here.
    held = conn.execute(_LOCKED_BALANCE, {"member": paid.member_id}).scalar_one_or_none() or 0
    taken = max(0, min(int(paid.delta), int(held)))
    if taken > 0:
        points.post(
            conn,
            community_id=community.id,
            member_id=paid.member_id,
            delta=-taken,
            reason="invitation_reversed",
            key=f"invitation_reversed:{invitee}",
            at=at,
        )
    return Reversal(paid.member_id, invitee, int(paid.delta), taken)
