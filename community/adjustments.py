"""Points moved by an admin's hand (/award, /deduct): bounded, idempotent and audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from community import audit, earning
from community.communities import Community
from community.members import Member
from loyalty import ledger
from loyalty.errors import UserError
from storage.sql import fit_text

NOTE_LIMIT = 200


def clean_note(note: str) -> str:
    """The reason as it is stored and shown: trimmed, and no longer than NOTE_LIMIT."""
    return fit_text(" ".join(note.split()), NOTE_LIMIT)


def adjust(
    conn: Connection,
    community: Community,
    *,
    actor: audit.Actor,
    target: Member,
    delta: int,
    note: str,
    key: str,
    at: datetime,
) -> ledger.Posting:
    """Award (delta > 0) or deduct (delta < 0) points; the audit line is written with the entry."""
    limit = community.rules.points.max_award
    if delta == 0 or abs(delta) > limit:
        raise UserError("points/amount_out_of_range", limit=limit)
    note = clean_note(note)
    action = "award" if delta > 0 else "deduct"
    if delta > 0:  # an award is earned (a lot that expires, growth value) on the one path
        earned = earning.credit(
            conn,
            community,
            member_id=target.id,
            action="award",
            key=key,
            at=at,
            base=delta,
            note=note,
            actor_member_id=actor.member_id,
        )
        posting = ledger.Posting(earned.balance, earned.applied)
    else:
        posting = ledger.post(
            conn,
            community_id=community.id,
            member_id=target.id,
            delta=delta,
            reason=action,
            key=key,
            at=at,
            note=note,
            actor_member_id=actor.member_id,
        )
    if posting.applied:
        audit.record(
            conn,
            community_id=community.id,
            actor=actor,
            action=action,
            at=at,
            target_member_id=target.id,
            amount=abs(delta),
            note=note,
            balance=posting.balance,
        )
    return posting
