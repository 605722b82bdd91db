"""Ledger rules: a cause pays once, balances are the sum of entries and never go below zero."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Connection, func, select

from community.members import Member
from loyalty import ledger
from loyalty.errors import UserError
from storage.schema import ledger as ledger_table
from storage.sql import savepoint
from tests.domain.conftest import Join, local


def pay(
    conn: Connection, member: Member, delta: int, key: str, at: datetime | None = None
) -> ledger.Posting:
    return ledger.post(
        conn,
        community_id=member.community_id,
        member_id=member.id,
        delta=delta,
        reason="award" if delta > 0 else "deduct",
        key=key,
        at=at or local(1),
    )


def outcome(posting: ledger.Posting) -> tuple[int, bool]:
    """What a member notices of a post: the balance after it, and whether it paid."""
    return posting.balance, posting.applied


def pay_as_a_unit_of_work(conn: Connection, member: Member, delta: int, key: str) -> None:
    """A post in its own unit of work: if it raises, nothing it wrote is kept."""
    with savepoint(conn):
        pay(conn, member, delta, key)


def entries_with_key(conn: Connection, key: str) -> int:
    query = select(func.count()).where(ledger_table.c.idempotency_key == key)
    return int(conn.execute(query).scalar_one())


def test_a_new_member_starts_with_zero_points_and_no_entries(join: Join, conn: Connection) -> None:
    alice = join("alice")
    assert ledger.balance(conn, alice.id) == 0
    assert ledger.ledger_sum(conn, alice.id) == 0
    assert ledger.recent_entries(conn, alice.id) == []
    assert ledger.balance(conn, alice.id + 1000) == 0  # nor has anyone the ledger never saw


def test_a_post_pays_and_returns_the_new_balance(join: Join, conn: Connection) -> None:
    alice = join("alice")
    assert outcome(pay(conn, alice, 15, "event:1")) == (15, True)
    assert outcome(pay(conn, alice, 5, "event:2")) == (20, True)


def test_the_same_key_pays_once_whatever_the_retry_says(join: Join, conn: Connection) -> None:
    alice = join("alice")
    pay(conn, alice, 15, "event:1")
    again = pay(conn, alice, 500, "event:1", at=local(2))
    assert outcome(again) == (15, False)
    assert entries_with_key(conn, "event:1") == 1


def test_a_key_paid_to_one_member_pays_no_other(join: Join, conn: Connection) -> None:
    alice, bob = join("alice"), join("bob")
    pay(conn, alice, 15, "event:1")
    assert outcome(pay(conn, bob, 15, "event:1")) == (0, False)


def test_the_balance_always_equals_the_sum_of_the_entries(join: Join, conn: Connection) -> None:
    alice = join("alice")
    for number, delta in enumerate([10, 25, -5, 100, -130, 7, 7], start=1):
        posting = pay(conn, alice, delta, f"event:{number % 6}")  # the last one is a retry
        assert posting.balance == ledger.balance(conn, alice.id)
        assert ledger.balance(conn, alice.id) == ledger.ledger_sum(conn, alice.id)
    assert ledger.balance(conn, alice.id) == 7


def test_a_deduction_may_take_the_balance_to_exactly_zero(join: Join, conn: Connection) -> None:
    alice = join("alice")
    pay(conn, alice, 30, "event:1")
    assert outcome(pay(conn, alice, -30, "event:2")) == (0, True)


def test_a_deduction_never_takes_a_balance_below_zero(join: Join, conn: Connection) -> None:
    alice = join("alice")
    pay(conn, alice, 30, "event:1")
    with pytest.raises(UserError) as refused:
        pay_as_a_unit_of_work(conn, alice, -31, "event:2")
    assert refused.value.key == "points/insufficient"
    assert refused.value.context == {"balance": 30, "amount": 31}
    assert ledger.balance(conn, alice.id) == 30 == ledger.ledger_sum(conn, alice.id)
    assert entries_with_key(conn, "event:2") == 0


def test_a_refused_deduction_leaves_its_key_free_for_a_later_try(
    join: Join, conn: Connection
) -> None:
    alice = join("alice")
    with pytest.raises(UserError):
        pay_as_a_unit_of_work(conn, alice, -10, "event:2")
    pay(conn, alice, 50, "event:1")
    assert outcome(pay(conn, alice, -10, "event:2")) == (40, True)


def test_an_entry_must_move_points(join: Join, conn: Connection) -> None:
    alice = join("alice")
    with pytest.raises(ValueError, match="must move points"):
        pay(conn, alice, 0, "event:1")


def test_recent_entries_are_the_members_own_newest_first_up_to_the_limit(
    join: Join, conn: Connection
) -> None:
    alice, bob = join("alice"), join("bob")
    for day, delta in enumerate([1, 2, 3, 4, 5, 6], start=1):
        pay(conn, alice, delta, f"alice:{day}", at=local(day))
    pay(conn, bob, 99, "bob:1", at=local(7))
    recent = ledger.recent_entries(conn, alice.id)
    assert [entry.delta for entry in recent] == [6, 5, 4, 3, 2]
    assert recent[0].created_at == local(6)
    assert [entry.delta for entry in ledger.recent_entries(conn, alice.id, limit=2)] == [6, 5]


def test_an_entry_keeps_its_reason_and_note(join: Join, conn: Connection) -> None:
    alice = join("alice")
    ledger.post(
        conn,
        community_id=alice.community_id,
        member_id=alice.id,
        delta=12,
        reason="award",
        key="event:1",
        at=local(1),
        note="best photo 🎉",
    )
    (entry,) = ledger.recent_entries(conn, alice.id)
    assert entry == ledger.Entry(12, "award", "best photo 🎉", local(1))
