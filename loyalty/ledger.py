"""The ledger: append-only points entries, each paid once per cause, balances kept beside."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, insert, select, update

from loyalty import lots
from loyalty.errors import UserError
from storage.schema import balances, ledger
from storage.sql import fit_text, insert_id_if_absent

EXPIRED = "expired"  # the reason of an entry that takes expired points


@dataclass(frozen=True, slots=True)
class Posting:
    """The outcome of a ledger post: the balance after it, and whether this call paid it."""

    balance: int
    applied: bool
    # The entry this call wrote (None when the key was already posted).
    entry_id: int | None = None
    # The member's growth value upper bound and tier after it (loyalty/tiers.py).
    growth: int = 0
    tier: int = 0


@dataclass(frozen=True, slots=True)
class Lot:
    """What a credit's lot is: when it expires (None: never) and whether it is growth value."""

    expires_at: datetime | None
    growth: bool


@dataclass(frozen=True, slots=True)
class Why:
    """Why a credit paid what it did: its base points and multipliers, under which rules."""

    base: int
    multipliers: list[dict[str, str]]
    rule_version: str


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
    .values(
        points=balances.c.points + bindparam("b_delta"),
        growth=balances.c.growth + bindparam("b_growth"),
        updated_at=bindparam("b_at"),
    )
    .returning(balances.c.points, balances.c.growth, balances.c.tier)
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
    lot: Lot = Lot(None, False),
    why: Why | None = None,
    restores: int | None = None,
    from_lots: Sequence[int] = (),
) -> Posting:
    """Add `delta` points for the cause `key`; a key already posted changes nothing.

    A credit becomes a lot (`lot`), or, given `restores` (a debit's entry id), goes back into
    the lots that debit took from. A debit takes from the lots that expire first (or only from
    `from_lots`). Raises UserError("points/insufficient") if a deduction would take the
    balance below zero; like any exception in a unit of work, that rolls back this call.
    """
    if delta == 0:
        raise ValueError("a ledger entry must move points")
    if delta < 0 and not from_lots:
        # Points whose expiry has come are gone, whether or not the daily run has posted them.
        _expire_due(conn, community_id, member_id, at)
    entry_id = insert_id_if_absent(
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
            "base": None if why is None else why.base,
            "multipliers": None if why is None or not why.multipliers else why.multipliers,
            "rule_version": None if why is None else why.rule_version,
        },
    )
    if entry_id is None:
        return Posting(balance=balance(conn, member_id), applied=False)
    growth = delta if delta > 0 and lot.growth and restores is None else 0
    after = conn.execute(
        _CREDIT, {"b_member": member_id, "b_delta": delta, "b_growth": growth, "b_at": at}
    ).one()
    new_balance = int(after.points)
    if new_balance < 0:
        raise UserError("points/insufficient", balance=new_balance - delta, amount=-delta)
    if delta < 0:
        taken = lots.take(
            conn, member_id=member_id, ledger_id=entry_id, amount=-delta, only=from_lots
        )
        if taken != -delta:
            raise LotsOutOfStep(f"member {member_id}: lots held {taken} of {-delta}")
    elif restores is not None:
        back = lots.give_back(conn, debit_id=restores, amount=delta, at=at)
        if back < delta:  # more than the debit took: the rest is a lot of its own
            _add_lot(conn, community_id, member_id, entry_id, delta - back, at, lot)
    else:
        _add_lot(conn, community_id, member_id, entry_id, delta, at, lot)
    return Posting(new_balance, True, entry_id, int(after.growth), int(after.tier))


def _expire_due(conn: Connection, community_id: int, member_id: int, at: datetime) -> None:
    """Post the member's lots whose expiry has come by `at` (the daily run's work, done now
    because the member is about to spend)."""
    due = lots.expired_of_member(conn, member_id, at)
    if due:
        post(
            conn,
            community_id=community_id,
            member_id=member_id,
            delta=-sum(points for _, points in due),
            reason=EXPIRED,
            key=f"expire:{member_id}:{at.isoformat()}",
            at=at,
            from_lots=[lot for lot, _ in due],
        )


class LotsOutOfStep(RuntimeError):
    """A member's lots do not hold their balance: a bug, never a user's doing."""


def _add_lot(
    conn: Connection,
    community_id: int,
    member_id: int,
    entry_id: int,
    amount: int,
    at: datetime,
    lot: Lot,
) -> None:
    lots.add(
        conn,
        community_id=community_id,
        member_id=member_id,
        ledger_id=entry_id,
        amount=amount,
        at=at,
        expires_at=lot.expires_at,
        growth=lot.growth,
    )


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
