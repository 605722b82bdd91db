"""Property tests on the ledger with lots (积分过期): random credits, deductions (refused when
too large), expiry runs at random moments and refunds, against an independent model.

After every step, for every member: the remaining amounts of their lots sum to their balance
and to their ledger; no balance is negative; the points expiring at each moment are what the
model says. The rules the model follows, written here without the product's code:
- a credit is a lot expiring at the end of the 12th month after the month it was earned in
  (in the community's clock), or never;
- a deduction takes from the lots that expire first (never-expiring last);
- the daily run takes every lot whose expiry has come, once per member and local date;
- a refund puts points back into the lots the deduction took them from, with their original
  expiry; points whose original expiry has passed meanwhile get the expiry a credit at the
  refund moment would get (loyalty/lots.give_back). What the refund returns beyond what the
  deduction took is a lot of its own.

The `conn` fixture is function-scoped, so all examples of a test share one database; each
example gets members of its own.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as note_case
from hypothesis import strategies as st
from sqlalchemy import Connection, select

from community import earning
from community.communities import Community
from community.members import Member
from loyalty import ledger
from loyalty import lots as lots_module
from loyalty.errors import UserError
from loyalty.expiry import expire_due
from storage.schema import lots
from tests.domain.conftest import Join, local

SHANGHAI = ZoneInfo("Asia/Shanghai")
MEMBERS = (0, 1)
_examples = itertools.count(1)

who = st.sampled_from(MEMBERS)
earn = st.tuples(st.just("earn"), who, st.integers(1, 300))
spend = st.tuples(st.just("spend"), who, st.integers(1, 400))
to_next_expiry = st.tuples(st.just("to_next_expiry"), st.sampled_from([-1, 0, 5, 11]))
expire = st.tuples(st.just("expire"))
refund = st.tuples(
    st.just("refund"), st.integers(0, 1000), st.sampled_from(["all", "part", "more"])
)
# Weighted towards what makes stories about expiry: credits, spending, the clock reaching an
# expiry (just before it, on it, or minutes after, before or after the 00:10 run) and refunds.
operation = st.one_of(
    earn,
    earn,
    st.tuples(st.just("vote"), who),  # the earning path's own amount (tier multipliers)
    st.tuples(st.just("forever"), who, st.integers(1, 100)),  # a lot that never expires
    spend,
    spend,
    st.tuples(st.just("spend_all"), who, st.integers(-1, 1)),  # the balance, ±1
    st.tuples(st.just("advance"), st.sampled_from([1, 6, 24, 24 * 10, 24 * 40, 24 * 200])),
    to_next_expiry,
    to_next_expiry,
    expire,
    expire,
    refund,
    refund,
)

PROPERTY_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def credit_expiry(at: datetime) -> datetime:
    """Midnight starting the 13th month after the month of `at`, in the community's clock."""
    wall = at.astimezone(SHANGHAI)
    months = wall.year * 12 + wall.month - 1 + 13
    return datetime(months // 12, months % 12 + 1, 1, tzinfo=SHANGHAI)


@dataclass
class ModelLot:
    remaining: int
    expires_at: datetime | None


@dataclass
class Debit:
    member: int
    entry_id: int
    amount: int
    uses: list[tuple[int, int]]  # (lot index in the member's list, points taken)
    refunded: bool = False


@dataclass
class Model:
    lots: dict[int, list[ModelLot]] = field(default_factory=lambda: {m: [] for m in MEMBERS})
    debits: list[Debit] = field(default_factory=list)
    expired_on: set[tuple[int, str]] = field(default_factory=set)

    def balance(self, member: int) -> int:
        return sum(lot.remaining for lot in self.lots[member])

    def take(
        self, member: int, amount: int, only: list[int] | None = None
    ) -> list[tuple[int, int]]:
        order = sorted(
            (i for i, lot in enumerate(self.lots[member]) if lot.remaining > 0),
            key=lambda i: (self.lots[member][i].expires_at is None, _when(self.lots[member][i]), i),
        )
        uses = []
        for index in order:
            if amount == 0:
                break
            if only is not None and index not in only:
                continue
            part = min(amount, self.lots[member][index].remaining)
            self.lots[member][index].remaining -= part
            uses.append((index, part))
            amount -= part
        assert amount == 0
        return uses

    def give_back(self, debit: Debit, amount: int, at: datetime) -> None:
        mine = self.lots[debit.member]
        left = amount
        by_expiry = sorted(
            debit.uses,
            key=lambda u: (mine[u[0]].expires_at is None, _when(mine[u[0]])),
            reverse=True,
        )
        for index, taken in by_expiry:
            if left == 0:
                break
            part = min(left, taken)
            lot = mine[index]
            if lot.expires_at is not None and lot.expires_at <= at:
                # The refunded part lives on with a new credit's expiry; what the lot still
                # held had expired and stays expired.
                mine.append(ModelLot(part, credit_expiry(at)))
            else:
                lot.remaining += part
            left -= part
        if left:
            mine.append(ModelLot(left, credit_expiry(at)))

    def expiring(self, member: int) -> dict[datetime | None, int]:
        found: dict[datetime | None, int] = {}
        for lot in self.lots[member]:
            if lot.remaining:
                found[lot.expires_at] = found.get(lot.expires_at, 0) + lot.remaining
        return found


def _when(lot: ModelLot) -> datetime:
    return lot.expires_at or datetime.max.replace(tzinfo=SHANGHAI)


def db_expiring(conn: Connection, member_id: int) -> dict[datetime | None, int]:
    found: dict[datetime | None, int] = {}
    rows = conn.execute(
        select(lots.c.expires_at, lots.c.remaining).where(
            lots.c.member_id == member_id, lots.c.remaining > 0
        )
    )
    for row in rows:
        found[row.expires_at] = found.get(row.expires_at, 0) + int(row.remaining)
    return found


def check(conn: Connection, model: Model, people: dict[int, Member]) -> None:
    for member, person in people.items():
        balance = ledger.balance(conn, person.id)
        assert balance >= 0, f"member {member}: a negative balance {balance}"
        assert balance == lots_module.remaining(conn, person.id), (
            f"member {member}: lots != balance"
        )
        assert balance == ledger.ledger_sum(conn, person.id), f"member {member}: ledger != balance"
        assert balance == model.balance(member), f"member {member}: {balance}, model says otherwise"
        assert db_expiring(conn, person.id) == model.expiring(member), f"member {member}"


@PROPERTY_SETTINGS
@given(operations=st.lists(operation, min_size=1, max_size=40))
def test_lots_always_hold_the_balance_through_credits_debits_expiry_and_refunds(
    conn: Connection, community: Community, join: Join, operations: list[tuple[Any, ...]]
) -> None:
    example = next(_examples)
    people = {m: join(f"m{example}x{m}") for m in MEMBERS}
    model = Model()
    now = local(1, 12)
    keys = itertools.count(1)
    for op in operations:
        kind = op[0]
        if kind in ("earn", "vote"):
            member = op[1]
            earned = earning.credit(
                conn,
                community,
                member_id=people[member].id,
                action="award" if kind == "earn" else "vote",
                key=f"m{example}:{next(keys)}",
                at=now,
                base=op[2] if kind == "earn" else None,
            )
            if earned.applied:
                model.lots[member].append(ModelLot(earned.paid, credit_expiry(now)))
        elif kind == "forever":
            _, member, amount = op
            ledger.post(
                conn,
                community_id=community.id,
                member_id=people[member].id,
                delta=amount,
                reason="legacy",
                key=f"m{example}:{next(keys)}",
                at=now,
            )
            model.lots[member].append(ModelLot(amount, None))
        elif kind in ("spend", "spend_all"):
            member = op[1]
            amount = op[2] if kind == "spend" else model.balance(member) + op[2]
            if amount <= 0:
                continue
            # Points whose expiry has come are gone before anything is spent, whether or not
            # the daily run has posted them (a refused debit undoes that with itself).
            mine = model.lots[member]
            due = [
                i
                for i, lot in enumerate(mine)
                if lot.remaining and lot.expires_at is not None and lot.expires_at <= now
            ]
            expiring = sum(mine[i].remaining for i in due)
            spendable = model.balance(member) - expiring
            try:
                with conn.begin_nested():
                    posting = ledger.post(
                        conn,
                        community_id=community.id,
                        member_id=people[member].id,
                        delta=-amount,
                        reason="redeem",
                        key=f"m{example}:{next(keys)}",
                        at=now,
                    )
            except UserError as refusal:
                assert refusal.key == "points/insufficient"
                assert amount > spendable, "a deduction that fits was refused"
                note_case("deduction refused")
            else:
                assert amount <= spendable, "a deduction below zero, or of expired points, was paid"
                assert posting.entry_id is not None
                if due:
                    expired = Debit(member, -1, 0, model.take(member, expiring, due))
                    expired.refunded = True  # expiry debits are not refunded here
                    model.debits.append(expired)
                    note_case("expired points taken before spending")
                uses = model.take(member, amount)
                model.debits.append(Debit(member, posting.entry_id, amount, uses))
        elif kind == "advance":
            now += timedelta(hours=op[1])
        elif kind == "to_next_expiry":
            coming = [
                lot.expires_at
                for member in MEMBERS
                for lot in model.lots[member]
                if lot.remaining and lot.expires_at is not None and lot.expires_at > now
            ]
            if coming:
                now = max(now, min(coming) + timedelta(minutes=op[1]))
        elif kind == "expire":
            day = now.astimezone(SHANGHAI).date().isoformat()
            expected = 0
            for member in MEMBERS:
                mine = model.lots[member]
                due = [
                    i
                    for i, lot in enumerate(mine)
                    if lot.remaining and lot.expires_at is not None and lot.expires_at <= now
                ]
                if not due or (member, day) in model.expired_on:
                    continue
                model.expired_on.add((member, day))
                expected += sum(mine[i].remaining for i in due)
                model.debits.append(
                    Debit(
                        member, -1, 0, model.take(member, sum(mine[i].remaining for i in due), due)
                    )
                )
                model.debits[-1].refunded = True  # expiry debits are not refunded here
            outcome = expire_due(conn, community.program, now)
            if expected:
                note_case("points expired")
            # Other examples' members share the community: count only this example's.
            assert outcome.points >= expected
        elif kind == "refund":
            _, pick, how = op
            open_debits = [d for d in model.debits if not d.refunded]
            if not open_debits:
                continue
            debit = open_debits[pick % len(open_debits)]
            amount = {
                "all": debit.amount,
                "part": max(1, debit.amount // 2),
                "more": debit.amount + 7,
            }[how]
            if any(
                model.lots[debit.member][i].expires_at is not None
                and model.lots[debit.member][i].expires_at <= now
                for i, _ in debit.uses
            ):
                note_case("refund into lots whose expiry has passed")
            ledger.post(
                conn,
                community_id=community.id,
                member_id=people[debit.member].id,
                delta=amount,
                reason="refund",
                key=f"m{example}:{next(keys)}",
                at=now,
                restores=debit.entry_id,
                lot=ledger.Lot(lots_module.expiry_of(now, SHANGHAI, 12), False),
            )
            debit.refunded = True
            model.give_back(debit, amount, now)
        check(conn, model, people)


@pytest.mark.parametrize("refund_late", [False, True])
def test_a_refund_restores_the_original_expiry_or_a_new_credits(
    conn: Connection, community: Community, join: Join, refund_late: bool
) -> None:
    alice = join("alice")
    earned_at = local(1, 12)  # 2026-11-23: expires 2027-12-01 00:00
    earning.credit(
        conn, community, member_id=alice.id, action="award", key="a", at=earned_at, base=100
    )
    spent = ledger.post(
        conn,
        community_id=community.id,
        member_id=alice.id,
        delta=-40,
        reason="redeem",
        key="shop",
        at=local(2),
    )
    refund_at = local(2) + (timedelta(days=500) if refund_late else timedelta(days=1))
    if refund_late:
        expire_due(conn, community.program, refund_at)
    ledger.post(
        conn,
        community_id=community.id,
        member_id=alice.id,
        delta=40,
        reason="refund",
        key="refund",
        at=refund_at,
        restores=spent.entry_id,
        lot=ledger.Lot(lots_module.expiry_of(refund_at, SHANGHAI, 12), False),
    )
    if refund_late:
        assert db_expiring(conn, alice.id) == {credit_expiry(refund_at): 40}
    else:
        assert db_expiring(conn, alice.id) == {credit_expiry(earned_at): 100}
    assert ledger.balance(conn, alice.id) == lots_module.remaining(conn, alice.id)


def test_a_refund_after_the_expiry_moment_but_before_the_run_does_not_revive_expired_points(
    conn: Connection, community: Community, join: Join
) -> None:
    # 100 earned on 2026-11-23 expire at 2027-12-01 00:00; the daily run is at 00:10. 40 were
    # spent; the refund comes at 00:05, when the other 60 have expired but are not taken yet.
    alice = join("alice")
    earning.credit(
        conn, community, member_id=alice.id, action="award", key="a", at=local(1, 12), base=100
    )
    spent = ledger.post(
        conn,
        community_id=community.id,
        member_id=alice.id,
        delta=-40,
        reason="redeem",
        key="shop",
        at=local(2),
    )
    expiry = credit_expiry(local(1))
    refund_at = expiry + timedelta(minutes=5)
    ledger.post(
        conn,
        community_id=community.id,
        member_id=alice.id,
        delta=40,
        reason="refund",
        key="refund",
        at=refund_at,
        restores=spent.entry_id,
        lot=ledger.Lot(lots_module.expiry_of(refund_at, SHANGHAI, 12), False),
    )
    expire_due(conn, community.program, expiry + timedelta(minutes=10))
    # The 60 that had expired are gone; the 40 refunded live on with a new credit's expiry.
    assert db_expiring(conn, alice.id) == {credit_expiry(refund_at): 40}
    assert ledger.balance(conn, alice.id) == 40
