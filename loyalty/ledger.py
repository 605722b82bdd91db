"""The ledger: append-only points entries, each paid once per cause, balances kept beside."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, insert, select, update

from loyalty.errors import UserError
from storage.schema import balances, ledger
from storage.sql import fit_text, insert_if_absent


@dataclass(frozen=True, slots=True)
class Posting:
    """The outcome of a ledger post: the balance after it, and whether this call paid it."""

    balance: int
    applied: bool


@dataclass(frozen=True, slots=True)
class Entry:
    """One ledger line as a member sees it."""

    delta: int
    reason: str
    note: str
    created_at: datetime


_OPEN = insert(balances)
_CREDIT = (
    update(balances)
    .where(balances.c.member_id == bindparam("b_member"))
    .values(points=balances.c.points + bindparam("b_delta"), updated_at=bindparam("b_at"))
    .returning(balances.c.points)
)
_BALANCE = select(balances.c.points).where(balances.c.member_id == bindparam("member"))
_RECENT = (
    select(ledger.c.delta, ledger.c.reason, ledger.c.note, ledger.c.created_at)
    .where(ledger.c.member_id == bindparam("member"))
    .order_by(ledger.c.id.desc())
    .limit(bindparam("limit"))
)
_SUM = select(func.coalesce(func.sum(ledger.c.delta), 0)).where(
    ledger.c.member_id == bindparam("member")
)


def open_account(conn: Connection, *, community_id: int, member_id: int, at: datetime) -> None:
    """Give a new member a zero balance, so every later post is a plain UPDATE."""
    conn.execute(
        _OPEN, {"member_id": member_id, "community_id": community_id, "points": 0, "updated_at": at}
    )


def post(
    conn: Connection,
    *,
    community_id: int,
    member_id: int,
    delta: int,
    reason: str,
    key: str,
    at: datetime,
    note: str = "",
    actor_member_id: int | None = None,
) -> Posting:
    """Add `delta` points for the cause `key`; a key already posted changes nothing.

    Raises UserError("points/insufficient") if a deduction would take the balance below zero;
    like any exception in a unit of work, that rolls back what this call wrote.
    """
    if delta == 0:
        raise ValueError("a ledger entry must move points")
    inserted = insert_if_absent(
        conn,
        ledger,
        {
            "community_id": community_id,
            "member_id": member_id,
            "delta": delta,
            "reason": reason,
            "note": note[:500],
            "idempotency_key": fit_text(key, 200),
            "actor_member_id": actor_member_id,
            "created_at": at,
        },
    )
    if not inserted:
        return Posting(balance=balance(conn, member_id), applied=False)
    new_balance = conn.execute(
        _CREDIT, {"b_member": member_id, "b_delta": delta, "b_at": at}
    ).scalar_one()
    if new_balance < 0:
        raise UserError("points/insufficient", balance=new_balance - delta, amount=-delta)
    return Posting(balance=new_balance, applied=True)


def balance(conn: Connection, member_id: int) -> int:
    """The member's current points (0 for a member the ledger has not seen)."""
    points = conn.execute(_BALANCE, {"member": member_id}).scalar_one_or_none()
    return int(points or 0)


def recent_entries(conn: Connection, member_id: int, limit: int = 5) -> list[Entry]:
    """The member's newest entries, newest first."""
    rows = conn.execute(_RECENT, {"member": member_id, "limit": limit})
    return [Entry(r.delta, r.reason, r.note, r.created_at) for r in rows]


def ledger_sum(conn: Connection, member_id: int) -> int:
    """The sum of every entry of a member: what the balance must always equal."""
    total = conn.execute(_SUM, {"member": member_id}).scalar_one()
    return int(total)
