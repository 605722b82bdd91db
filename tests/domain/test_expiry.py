"""Points expiry (积分过期): earned points expire by lot at the end of the 12th month after the
month they were earned in; the daily run takes them in one debit per member and date."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, select

from community import earning
from community.communities import Community
from community.members import Member
from loyalty import earning as loyalty_earning
from loyalty import ledger, lots
from loyalty.errors import UserError
from loyalty.expiry import ExpiryOutcome, expire_due
from loyalty.rules import ExpiryRules
from storage.schema import ledger as ledger_table
from tests.domain.conftest import Join, local

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 10) -> datetime:
    """A moment on a date in the community's clock (the run's default 00:10)."""
    return datetime.combine(datetime(year, month, day).date(), time(hour, minute), SHANGHAI)


def earn(
    conn: Connection, community: Community, member: Member, points: int, when: datetime, key: str
) -> None:
    earned = earning.credit(
        conn, community, member_id=member.id, action="award", key=key, at=when, base=points
    )
    assert earned.applied


def spend(conn: Connection, member: Member, points: int, when: datetime, key: str) -> int:
    posting = ledger.post(
        conn,
        community_id=member.community_id,
        member_id=member.id,
        delta=-points,
        reason="redeem",
        key=key,
        at=when,
    )
    assert posting.entry_id is not None
    return posting.entry_id


def entries(conn: Connection, member: Member) -> list[tuple[int, str]]:
    rows = conn.execute(
        select(ledger_table.c.delta, ledger_table.c.reason)
        .where(ledger_table.c.member_id == member.id)
        .order_by(ledger_table.c.id)
    )
    return [(row.delta, row.reason) for row in rows]


def consistent(conn: Connection, member: Member) -> int:
    """The member's balance, checked against their lots and their ledger."""
    balance = ledger.balance(conn, member.id)
    assert balance == lots.remaining(conn, member.id) == ledger.ledger_sum(conn, member.id)
    assert balance >= 0
    return balance


def test_points_expire_at_the_end_of_the_twelfth_month_after_they_were_earned(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    earn(conn, community, alice, 100, local(1), "a")  # 2026-11-23
    assert expire_due(conn, community.program, at(2027, 11, 30, 23, 59)) == ExpiryOutcome(0, 0)
    assert consistent(conn, alice) == 100
    outcome = expire_due(conn, community.program, at(2027, 12, 1))
    assert outcome == ExpiryOutcome(members=1, points=100)
    assert consistent(conn, alice) == 0
    assert entries(conn, alice) == [(100, "award"), (-100, "expired")]


def test_spending_takes_the_oldest_points_first_so_fewer_expire(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    earn(conn, community, alice, 100, local(1), "nov")  # expires 2027-12-01
    earn(conn, community, alice, 50, at(2027, 1, 5, 9), "jan")  # expires 2028-02-01
    spend(conn, alice, 120, at(2027, 2, 1, 9), "shop")
    assert expire_due(conn, community.program, at(2027, 12, 1)) == ExpiryOutcome(0, 0)
    assert lots.next_expiring(conn, alice.id, at(2027, 12, 1)) == lots.Expiring(
        30, at(2028, 2, 1, 0, 0)
    )
    assert expire_due(conn, community.program, at(2028, 2, 1)) == ExpiryOutcome(1, 30)
    assert consistent(conn, alice) == 0


def test_one_debit_per_member_takes_every_expired_lot_and_nothing_else(
    conn: Connection, community: Community, join: Join
) -> None:
    alice, bob = join("alice"), join("bob")
    earn(conn, community, alice, 10, local(1), "a1")
    earn(conn, community, alice, 20, local(3), "a2")
    earn(conn, community, alice, 40, at(2027, 1, 2, 9), "a3")  # expires a month later
    earn(conn, community, bob, 5, local(2), "b1")
    outcome = expire_due(conn, community.program, at(2027, 12, 2))  # a day late: still taken
    assert outcome == ExpiryOutcome(members=2, points=35)
    assert entries(conn, alice)[-1] == (-30, "expired")
    assert consistent(conn, alice) == 40
    assert consistent(conn, bob) == 0


def test_running_again_the_same_day_takes_nothing_twice(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    earn(conn, community, alice, 100, local(1), "a")
    first = expire_due(conn, community.program, at(2027, 12, 1))
    again = expire_due(conn, community.program, at(2027, 12, 1, 0, 20))
    assert (first.points, again) == (100, ExpiryOutcome(0, 0))
    assert entries(conn, alice) == [(100, "award"), (-100, "expired")]
    assert consistent(conn, alice) == 0


def test_expiry_never_takes_a_balance_below_zero_after_deductions(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    earn(conn, community, alice, 100, local(1), "a")
    spend(conn, alice, 100, local(2), "all")
    assert expire_due(conn, community.program, at(2027, 12, 1)) == ExpiryOutcome(0, 0)
    assert consistent(conn, alice) == 0


def test_points_that_never_expire_stay(conn: Connection, community: Community, join: Join) -> None:
    alice = join("alice")
    # Earned under rules where points never expire (expiry months = 0).
    forever = replace(community.program, expiry=ExpiryRules(months=0))
    loyalty_earning.earn(
        conn, forever, member_id=alice.id, action="award", key="kept", at=local(1), base=70
    )
    earn(conn, community, alice, 30, local(1), "expires")
    assert expire_due(conn, community.program, at(2040, 1, 1)) == ExpiryOutcome(1, 30)
    assert consistent(conn, alice) == 70
    assert lots.next_expiring(conn, alice.id, at(2040, 1, 1)) is None


def test_a_refund_after_expiry_gives_points_the_expiry_of_a_new_credit(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    earn(conn, community, alice, 100, local(1), "a")  # expires 2027-12-01
    debit = spend(conn, alice, 60, local(2), "shop")
    expire_due(conn, community.program, at(2027, 12, 1))
    assert consistent(conn, alice) == 0
    refunded_at = at(2028, 3, 10, 12)
    ledger.post(
        conn,
        community_id=community.id,
        member_id=alice.id,
        delta=60,
        reason="refund",
        key="refund",
        at=refunded_at,
        restores=debit,
        lot=ledger.Lot(lots.expiry_of(refunded_at, SHANGHAI, 12), False),
    )
    assert consistent(conn, alice) == 60
    assert lots.next_expiring(conn, alice.id, refunded_at) == lots.Expiring(
        60, at(2029, 4, 1, 0, 0)
    )


def test_a_deduction_larger_than_what_is_left_after_expiry_is_refused(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    earn(conn, community, alice, 100, local(1), "a")
    expire_due(conn, community.program, at(2027, 12, 1))
    try:
        with conn.begin_nested():
            spend(conn, alice, 1, at(2027, 12, 2), "late")
    except UserError as refusal:
        assert refusal.key == "points/insufficient"
    else:
        raise AssertionError("a deduction from an empty balance was paid")
    assert consistent(conn, alice) == 0


def test_the_date_of_the_key_is_the_communitys(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    earn(conn, community, alice, 5, local(1), "a")
    # 2027-11-30 16:10 UTC is 2027-12-01 00:10 in Shanghai.
    expire_due(conn, community.program, datetime(2027, 11, 30, 16, 10, tzinfo=UTC))
    keys = conn.execute(
        select(ledger_table.c.idempotency_key).where(ledger_table.c.reason == "expired")
    ).scalars()
    assert list(keys) == [f"expire:{alice.id}:2027-12-01"]
