"""/history's reads: a member's newest entries first, with the base points and the multipliers
that made each credit what it is."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Connection, update

from community import earning
from community.communities import Community
from community.config import MemberDayRules
from loyalty import history, ledger
from loyalty.history import Factor
from storage.schema import balances
from tests.domain.conftest import Join, local

FRIDAY = 5  # day 5 is Friday 2026-11-27


def post(
    conn: Connection,
    member_id: int,
    community_id: int,
    delta: int,
    key: str,
    day: int,
    *,
    reason: str = "",
    note: str = "",
    why: ledger.Why | None = None,
) -> None:
    ledger.post(
        conn,
        community_id=community_id,
        member_id=member_id,
        delta=delta,
        reason=reason or ("award" if delta > 0 else "deduct"),
        key=key,
        at=local(day),
        note=note,
        why=why,
    )


def test_history_lists_the_newest_entries_first_and_only_as_many_as_asked(
    conn: Connection, community: Community, join: Join
) -> None:
    alice, bob = join("alice"), join("bob")
    for day in range(1, 6):
        post(conn, alice.id, community.id, day * 10, f"a{day}", day)
    post(conn, bob.id, community.id, 99, "b1", 3)
    shown = history.latest(conn, alice.id, 3)
    assert [e.delta for e in shown] == [50, 40, 30]
    assert [e.created_at for e in shown] == [local(5), local(4), local(3)]
    assert all(e.base is None and e.multipliers == () for e in shown)


def test_a_credit_shows_its_base_and_multipliers_and_a_deduction_none(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    why = ledger.Why(
        10,
        [
            {"kind": "member_day", "factor": "2", "ref": ""},
            {"kind": "tier", "factor": "1.1", "ref": "1"},
        ],
        "abc",
    )
    post(conn, alice.id, community.id, 22, "c1", 1, reason="checkin", why=why, note="day 1")
    post(conn, alice.id, community.id, -5, "d1", 2, note="spam")
    deducted, credited = history.latest(conn, alice.id, 20)
    assert (credited.delta, credited.reason, credited.base, credited.note) == (
        22,
        "checkin",
        10,
        "day 1",
    )
    assert credited.multipliers == (Factor("member_day", "2"), Factor("tier", "1.1", "1"))
    assert (deducted.delta, deducted.reason, deducted.base, deducted.multipliers) == (
        -5,
        "deduct",
        None,
        (),
    )


def test_a_check_in_on_a_member_day_by_a_silver_member_records_why_it_paid_22(
    conn: Connection, community: Community, join: Join
) -> None:
    rules = MemberDayRules.model_validate({"enabled": True, "when": "fri 00:00"})
    friday = replace(community, rules=community.rules.model_copy(update={"member_day": rules}))
    alice = join("alice")
    conn.execute(update(balances).where(balances.c.member_id == alice.id).values(tier=1))
    paid = earning.credit(
        conn, friday, member_id=alice.id, action="checkin", key="ci:5", at=local(FRIDAY)
    )
    assert paid.paid == 22
    (entry,) = history.latest(conn, alice.id, 20)
    assert (entry.delta, entry.base) == (22, 10)
    assert entry.multipliers == (Factor("member_day", "2"), Factor("tier", "1.1", "1"))
