"""Lots: every credit is a lot with an expiry; every debit takes from the lots that expire
first and remembers what it took, so a refund can put it back. The remaining amounts of a
member's lots always sum to their balance (tests/domain/test_ledger_model.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Connection,
    Dialect,
    bindparam,
    func,
    insert,
    nulls_last,
    select,
    update,
)

from storage.schema import lot_uses, lots

_NEW_LOT = insert(lots).values(
    {
        name: bindparam(name)
        for name in (
            "community_id",
            "member_id",
            "ledger_id",
            "amount",
            "remaining",
            "earned_at",
            "expires_at",
            "growth",
        )
    }
)
_OPEN_LOTS = (
    select(lots.c.id, lots.c.remaining)
    .where(lots.c.member_id == bindparam("member"), lots.c.remaining > 0)
    # Those that expire first go first; among equals (and lots that never expire, last),
    # the oldest.
    .order_by(nulls_last(lots.c.expires_at.asc()), lots.c.id)
)
_TAKE = (
    update(lots)
    .where(lots.c.id == bindparam("lot"))
    .values(remaining=lots.c.remaining - bindparam("take"))
)
_USE = insert(lot_uses)
_USES_OF = (
    select(lot_uses.c.lot_id, lot_uses.c.amount, lots.c.expires_at)
    .join(lots, lots.c.id == lot_uses.c.lot_id)
    .where(lot_uses.c.ledger_id == bindparam("debit"))
)
_GIVE_BACK = (
    update(lots)
    .where(lots.c.id == bindparam("lot"))
    .values(remaining=lots.c.remaining + bindparam("give"))
)
_REMAINING = select(func.coalesce(func.sum(lots.c.remaining), 0)).where(
    lots.c.member_id == bindparam("member")
)


@dataclass(frozen=True, slots=True)
class Expiring:
    """Points of a member that expire together."""

    points: int
    expires_at: datetime


def expiry_of(earned_at: datetime, timezone: ZoneInfo, months: int) -> datetime | None:
    """When points earned at `earned_at` expire: the end of the `months`-th month after the
    month they were earned in, at midnight in the community's clock (None: never)."""
    if months <= 0:
        return None
    local = earned_at.astimezone(timezone)
    # The first moment after that month: the 1st of the month `months + 1` months on.
    month_index = local.year * 12 + (local.month - 1) + months + 1
    first = date(month_index // 12, month_index % 12 + 1, 1)
    return datetime.combine(first, time(0), timezone)


def add(
    conn: Connection,
    *,
    community_id: int,
    member_id: int,
    ledger_id: int,
    amount: int,
    at: datetime,
    expires_at: datetime | None,
    growth: bool,
) -> None:
    """A credit's lot. Every credit makes one, so it is written on the driver directly: the
    Core statement's bookkeeping cost a tenth of a check-in (bench/core_bench.py)."""
    sql, order, moment, flag = _raw_insert(conn.dialect)
    values: dict[str, Any] = {
        "community_id": community_id,
        "member_id": member_id,
        "ledger_id": ledger_id,
        "amount": amount,
        "remaining": amount,
        "earned_at": moment(at),
        "expires_at": None if expires_at is None else moment(expires_at),
        "growth": flag(growth),
    }
    conn.exec_driver_sql(sql, tuple(values[name] for name in order) if order else values)


@cache
def _raw_insert(
    dialect: Dialect,
) -> tuple[str, tuple[str, ...], Callable[[datetime], Any], Callable[[bool], Any]]:
    """The lot insert compiled once to the driver's own SQL (with the order of its positional
    parameters, if the driver takes them so), and how its moments and flag are bound, as the
    columns' types would: UtcDateTime, then the dialect's datetime and boolean."""
    compiled = _NEW_LOT.compile(dialect=dialect)
    order = tuple(compiled.positiontup or ()) if dialect.positional else ()
    moment = lots.c.earned_at.type.bind_processor(dialect) or (lambda value: value)
    flag = lots.c.growth.type.bind_processor(dialect) or (lambda value: value)
    return compiled.string, order, moment, flag


def take(
    conn: Connection, *, member_id: int, ledger_id: int, amount: int, only: Sequence[int] = ()
) -> int:
    """Take `amount` points from the member's lots for the debit `ledger_id`, those that expire
    first first (or only from the lots `only`); returns what could be taken."""
    wanted = amount
    rows = conn.execute(_OPEN_LOTS, {"member": member_id}).all()
    chosen = set(only)
    taken: list[dict[str, int]] = []
    for row in rows:
        if wanted == 0:
            break
        if chosen and row.id not in chosen:
            continue
        part = min(wanted, int(row.remaining))
        taken.append({"lot": row.id, "take": part})
        wanted -= part
    if taken:
        conn.execute(_TAKE, taken)
        uses = [{"ledger_id": ledger_id, "lot_id": t["lot"], "amount": t["take"]} for t in taken]
        conn.execute(_USE, uses)
    return amount - wanted


def give_back(conn: Connection, *, debit_id: int, amount: int, at: datetime) -> int:
    """Put up to `amount` of what the debit `debit_id` took back into the lots it came from,
    those that expire last first; returns what was put back. A lot whose expiry has come
    meanwhile takes nothing back (its points stay expired, whether or not the daily run has
    posted them yet): the caller makes the rest a new lot, expiring as a credit made now."""
    uses = conn.execute(_USES_OF, {"debit": debit_id}).all()
    left = amount
    for use in sorted(uses, key=lambda u: (u.expires_at is None, u.expires_at), reverse=True):
        if left == 0:
            break
        if use.expires_at is not None and use.expires_at <= at:
            continue
        part = min(left, int(use.amount))
        conn.execute(_GIVE_BACK, {"lot": use.lot_id, "give": part})
        left -= part
    return amount - left


def remaining(conn: Connection, member_id: int) -> int:
    """The sum of the member's lots: what their balance must equal."""
    return int(conn.execute(_REMAINING, {"member": member_id}).scalar_one())


_NEXT_EXPIRING = (
    select(lots.c.expires_at, func.sum(lots.c.remaining).label("points"))
    .where(
        lots.c.member_id == bindparam("member"),
        lots.c.remaining > 0,
        lots.c.expires_at.is_not(None),
        lots.c.expires_at > bindparam("at"),
    )
    .group_by(lots.c.expires_at)
    .order_by(lots.c.expires_at)
    .limit(1)
)


def next_expiring(conn: Connection, member_id: int, at: datetime) -> Expiring | None:
    """The member's points that expire next, and when (None: nothing will)."""
    row = conn.execute(_NEXT_EXPIRING, {"member": member_id, "at": at}).first()
    return None if row is None else Expiring(int(row.points), row.expires_at)


_EXPIRED_OF_MEMBER = select(lots.c.id, lots.c.remaining).where(
    lots.c.member_id == bindparam("member"),
    lots.c.expires_at.is_not(None),
    lots.c.expires_at <= bindparam("at"),
    lots.c.remaining > 0,
)


def expired_of_member(conn: Connection, member_id: int, at: datetime) -> list[tuple[int, int]]:
    """The member's lots whose expiry has come by `at` and still hold points: (lot, points)."""
    rows = conn.execute(_EXPIRED_OF_MEMBER, {"member": member_id, "at": at})
    return [(row.id, int(row.remaining)) for row in rows]
