"""The daily expiry run (积分过期): points whose lots have expired leave the balance, one
ledger debit per member and local date, taking exactly those lots.

Done in batches of statements rather than member by member (ledger.post costs five statements
a member: 100,000 members took 29 s on the writer): per batch of members, their balances are
locked (PostgreSQL; the order every debit takes: balance, then lots), their expired lots read,
and the debits, balances, lots and lot uses written with one executemany each."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import Connection, Insert, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from loyalty import ledger
from loyalty.rules import Program
from storage.schema import balances, lot_uses, lots
from storage.schema import ledger as ledger_table

EXPIRED = ledger.EXPIRED  # the ledger reason of an expiry debit
BATCH = 1000  # members per batch of statements (SQLite's parameter limit allows it)


@dataclass(frozen=True, slots=True)
class ExpiryOutcome:
    """What one run took: from how many members, how many points in all."""

    members: int = 0
    points: int = 0


def expiry_key(member_id: int, day: str) -> str:
    """The idempotency key of a member's expiry debit on a local date ("2026-12-01")."""
    return f"expire:{member_id}:{day}"


_DUE = (
    select(lots.c.member_id)
    .where(
        lots.c.community_id == bindparam("community"),
        lots.c.expires_at.is_not(None),
        lots.c.expires_at <= bindparam("at"),
        lots.c.remaining > 0,
    )
    .distinct()
)
_LOCK = (
    select(balances.c.member_id)
    .where(balances.c.member_id.in_(bindparam("members", expanding=True)))
    .order_by(balances.c.member_id)
    .with_for_update()
)
_EXPIRED_OF = (
    select(lots.c.member_id, lots.c.id, lots.c.remaining)
    .where(
        lots.c.member_id.in_(bindparam("members", expanding=True)),
        lots.c.expires_at.is_not(None),
        lots.c.expires_at <= bindparam("at"),
        lots.c.remaining > 0,
    )
    .order_by(lots.c.member_id, lots.c.id)
)
_DEBIT_BALANCE = (
    update(balances)
    .where(balances.c.member_id == bindparam("b_member"))
    .values(points=balances.c.points - bindparam("b_amount"), updated_at=bindparam("b_at"))
)
_EMPTY_LOTS = (
    update(lots).where(lots.c.id.in_(bindparam("lots", expanding=True))).values(remaining=0)
)
_USE = insert(lot_uses)


@cache
def _debits(dialect_name: str) -> Insert:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    # A key posted before (a rerun the same day) inserts nothing and returns no row.
    statement: Insert = (
        dialect.insert(ledger_table)
        .on_conflict_do_nothing()
        .returning(ledger_table.c.id, ledger_table.c.member_id)
    )
    return statement


def expire_due(conn: Connection, program: Program, at: datetime) -> ExpiryOutcome:
    """Debit every lot of the community whose expiry has come by `at`: one entry per member,
    keyed by the local date, so a rerun that day posts nothing twice. Returns what was taken."""
    day = at.astimezone(program.timezone).date().isoformat()
    due = sorted(conn.execute(_DUE, {"community": program.community_id, "at": at}).scalars())
    members = points = 0
    for start in range(0, len(due), BATCH):
        taken = _expire_batch(conn, program, due[start : start + BATCH], at, day)
        members += len(taken)
        points += sum(taken.values())
    return ExpiryOutcome(members, points)


def _expire_batch(
    conn: Connection, program: Program, chunk: Sequence[int], at: datetime, day: str
) -> dict[int, int]:
    """Expire the lots of these members; returns the points taken from each."""
    conn.execute(_LOCK, {"members": list(chunk)})  # FOR UPDATE on PostgreSQL only
    expiring: dict[int, list[tuple[int, int]]] = {}
    for row in conn.execute(_EXPIRED_OF, {"members": list(chunk), "at": at}):
        expiring.setdefault(row.member_id, []).append((row.id, int(row.remaining)))
    if not expiring:
        return {}
    amounts = {member: sum(part for _, part in found) for member, found in expiring.items()}
    posted = conn.execute(
        _debits(conn.dialect.name),
        [
            {
                "community_id": program.community_id,
                "member_id": member,
                "delta": -amount,
                "reason": EXPIRED,
                "note": "",
                "idempotency_key": expiry_key(member, day),
                "actor_member_id": None,
                "created_at": at,
                "base": None,
                "multipliers": None,
                "rule_version": None,
            }
            for member, amount in amounts.items()
        ],
    ).all()
    entries = {int(row.member_id): int(row.id) for row in posted}
    if not entries:
        return {}
    conn.execute(
        _DEBIT_BALANCE,
        [{"b_member": m, "b_amount": amounts[m], "b_at": at} for m in entries],
    )
    # Every listed lot is taken whole (they cannot have changed: their members' balances are
    # locked), so one statement empties them all.
    emptied = [lot for m in entries for lot, _ in expiring[m]]
    conn.execute(_EMPTY_LOTS, {"lots": emptied})
    conn.execute(
        _USE,
        [
            {"ledger_id": entry, "lot_id": lot, "amount": part}
            for m, entry in entries.items()
            for lot, part in expiring[m]
        ],
    )
    return {m: amounts[m] for m in entries}
