"""Property tests on the ledger through the real core: it never pays twice and never drifts.

Hypothesis drives random sequences of check-ins, admin awards and deductions (some larger than
the balance), clock moves and redeliveries of events already handled, through the `chat`
harness on a real database (SQLite, and PostgreSQL where TEST_DATABASE_URL is set). After every
step the database must agree with an independent model kept here, every balance must equal the
sum of its ledger entries, and no balance may be negative.

The `chat`/`store` fixtures are function-scoped, so every example of one test shares one
database. Examples are isolated by giving each its own member names (a chat always joins the
default community, so fresh chat ids would not separate them); `boss` (an admin by the test
community's list) is shared, which is harmless because boss only moves other members' points.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import event as note_case
from hypothesis import strategies as st
from sqlalchemy import Connection, func, select

from community.communities import community_by_slug
from loyalty import ledger
from loyalty.rules import TierRules
from storage.schema import accounts, balances
from storage.store import Store
from tests.conftest import T0
from tests.harness import Chat, Clock, Said

TZ = ZoneInfo("Asia/Shanghai")  # the test community's timezone
BASE_POINTS, BONUS_EVERY, BONUS_POINTS = 10, 7, 20  # the test community's check-in rules
MAX_AWARD = 1000  # the test community's [points] max_award
TIERS = TierRules().levels  # the test community's tiers: the defaults (Silver x1.1 from 500)
MEMBERS = ("alice", "bob", "carol")
_examples = itertools.count(1)

member = st.sampled_from(MEMBERS)
amount = st.one_of(st.integers(1, 150), st.sampled_from([MAX_AWARD, MAX_AWARD + 1]))
note = st.sampled_from(["", "great photo", "活动奖励 🎉", "<b>bold</b> *md*"])
operation = st.one_of(
    st.tuples(st.just("checkin"), member, st.sampled_from(["/checkin", "签到", "打卡 ！"])),
    st.tuples(st.just("checkin"), member, st.just("/checkin")),
    st.tuples(st.just("advance"), st.sampled_from([1, 5, 20, 24, 24, 30, 48, 72])),
    # Check in on `days` days in a row, a day apart (reaches the 7th-day streak bonus).
    st.tuples(st.just("daily"), member, st.integers(2, 8)),
    st.tuples(st.just("award"), member, amount, note),
    st.tuples(st.just("deduct"), member, amount, note),
    # Deduct the member's whole balance, one less, or one more (which must be refused).
    st.tuples(st.just("deduct_near_balance"), member, st.integers(-1, 1)),
    st.tuples(st.just("replay"), st.integers(0, 10_000)),
    # The platform delivers the same new update twice at once (a retry racing the original).
    st.tuples(st.just("race"), member, st.sampled_from(["checkin", "award"]), amount),
    st.tuples(st.just("points"), member),
)

PROPERTY_SETTINGS = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@dataclass
class Model:
    """What every member's balance must be, computed without the product's code."""

    prefix: str
    known: set[str] = field(default_factory=set)
    balance: dict[str, int] = field(default_factory=dict)
    # Points earned (growth value): it lifts a member's tier, whose multiplier pays later
    # check-ins more. Nothing here runs a review, so no tier comes down.
    growth: dict[str, int] = field(default_factory=dict)
    checkin_days: dict[str, list[tuple[date, int]]] = field(default_factory=dict)

    def name(self, who: str) -> str:
        return f"{self.prefix}{who}"

    def seen(self, who: str) -> None:
        self.known.add(who)
        self.balance.setdefault(who, 0)

    def check_in(self, who: str, at: datetime) -> tuple[str, int, int] | None:
        """Apply a check-in; None when today's is already done, else (word, points, streak)."""
        self.seen(who)
        day = at.astimezone(TZ).date()
        days = self.checkin_days.setdefault(who, [])
        if days and days[-1][0] == day:
            return None
        streak = days[-1][1] + 1 if days and days[-1][0] == day - timedelta(days=1) else 1
        points = self.earn(who, BASE_POINTS, multiplied=True)
        if streak % BONUS_EVERY == 0:
            points += self.earn(who, BONUS_POINTS, multiplied=True)
        days.append((day, streak))
        return ("checkin", points, streak)

    def earn(self, who: str, base: int, *, multiplied: bool) -> int:
        """Pay a credit: check-ins times the tier's multiplier (rounded down), awards as given."""
        factor = Decimal(1)
        if multiplied:
            for tier in TIERS:
                if self.growth.get(who, 0) >= tier.threshold:
                    factor = Decimal(str(tier.multiplier))
        if factor > 1:
            note_case("check-in paid at a tier's multiplier")
        paid = int((base * factor).to_integral_value(rounding=ROUND_FLOOR))
        self.balance[who] += paid
        self.growth[who] = self.growth.get(who, 0) + paid
        return paid


def member_points(conn: Connection, community_id: int, user_ids: list[str]) -> dict[str, tuple]:
    """For each platform user id: (balance, sum of ledger entries) as the ledger reports them."""
    rows = conn.execute(
        select(accounts.c.platform_user_id, accounts.c.member_id).where(
            accounts.c.community_id == community_id,
            accounts.c.platform == "console",
            accounts.c.platform_user_id.in_(user_ids),
        )
    ).all()
    return {
        r.platform_user_id: (
            ledger.balance(conn, r.member_id),
            ledger.ledger_sum(conn, r.member_id),
        )
        for r in rows
    }


def lowest_balance(conn: Connection) -> int:
    return int(conn.execute(select(func.coalesce(func.min(balances.c.points), 0))).scalar_one())


def check_database(store: Store, model: Model) -> None:
    """The database agrees with the model; balances equal their ledgers; none is negative."""

    def read(conn: Connection) -> tuple[dict[str, tuple], int]:
        acme = community_by_slug(conn, "acme")
        assert acme is not None
        ids = [model.name(who).casefold() for who in model.known]
        return member_points(conn, acme.id, ids), lowest_balance(conn)

    found, lowest = store.read_now(read)
    assert lowest >= 0, f"a balance went negative: {lowest}"
    for who in model.known:
        balance, total = found[model.name(who).casefold()]
        assert balance == total, f"{who}: balance {balance} != sum of ledger entries {total}"
        assert balance == model.balance[who], (
            f"{who}: balance {balance}, expected {model.balance[who]}"
        )


async def run_admin(chat: Chat, model: Model, command: str, who: str, amt: int, text: str) -> Said:
    """boss sends /award or /deduct; the reply and the model's change are checked here."""
    target = model.name(who)
    message = f"/{command} @{target} {amt} {text}".rstrip()
    said = await chat.say("boss", message)
    assert said.text is not None and not said.outcome.duplicate, message
    expect_adjust(said.text, model, command, who, amt, text)
    return said


def expect_adjust(reply: str, model: Model, command: str, who: str, amt: int, text: str) -> None:
    """Check an /award or /deduct reply against the model, and update the model."""
    target = model.name(who)
    if who not in model.known:
        assert reply.startswith(f"I can't find @{target} in this community"), reply
    elif amt > MAX_AWARD:
        assert reply == (
            f"The amount must be a whole number from 1 to {MAX_AWARD:,}. Nothing was changed."
        ), reply
    elif command == "deduct" and amt > model.balance[who]:
        note_case("deduction larger than the balance refused")
        assert reply == (
            f"That would take the balance below zero: it is {points(model.balance[who])}, "
            f"and {amt:,} {'was' if amt == 1 else 'were'} asked. Nothing was changed."
        ), reply
    else:
        if command == "award":
            model.earn(who, amt, multiplied=False)
        else:
            model.balance[who] -= amt
        deducted = f"{points(amt)} {'was' if amt == 1 else 'were'} deducted"
        verb = f"received {points(amt)}" if command == "award" else deducted
        assert verb in reply, reply
        assert reply.endswith(f"New balance: {model.balance[who]:,}."), reply


def points(amount: int) -> str:
    """How the English replies count points: "1 point", "1,000 points"."""
    return f"{amount:,} point" if amount == 1 else f"{amount:,} points"


def expect_checkin(said: Said, result: tuple[str, int, int] | None, model: Model, who: str) -> None:
    assert said.text is not None and not said.outcome.duplicate
    if result is None:
        assert "already checked in today" in said.text, said.text
        return
    _, earned, streak = result
    if earned > BASE_POINTS:
        note_case("streak bonus paid")
    assert f"+{points(earned)}" in said.text, said.text
    assert f"Streak: {streak} day" in said.text, said.text
    assert f"Balance: {points(model.balance[who])}" in said.text, said.text


@PROPERTY_SETTINGS
@given(operations=st.lists(operation, min_size=1, max_size=30))
async def test_ledger_balances_match_an_independent_model_and_never_pay_twice(
    chat: Chat, store: Store, operations: list[tuple]
) -> None:
    model = Model(prefix=f"p{next(_examples)}")
    here = Chat(chat.dispatcher, Clock(T0))
    delivered: list[Said] = []
    for op in operations:
        kind = op[0]
        if kind == "advance":
            here.now += timedelta(hours=op[1])
        elif kind == "checkin":
            _, who, word = op
            said = await here.say(model.name(who), word)
            expect_checkin(said, model.check_in(who, here.now), model, who)
            delivered.append(said)
        elif kind == "daily":
            _, who, days = op
            for day in range(days):
                if day:
                    here.now += timedelta(days=1)
                said = await here.say(model.name(who), "签到")
                expect_checkin(said, model.check_in(who, here.now), model, who)
                delivered.append(said)
        elif kind in ("award", "deduct"):
            _, who, amt, text = op
            delivered.append(await run_admin(here, model, kind, who, amt, text))
        elif kind == "deduct_near_balance":
            _, who, offset = op
            amt = max(1, model.balance.get(who, 0) + offset)
            delivered.append(await run_admin(here, model, "deduct", who, amt, "near"))
        elif kind == "replay":
            if not delivered:
                continue
            original = delivered[op[1] % len(delivered)]
            note_case(f"replayed {original.event.command or 'word'}")
            again = await here.deliver(original.event)
            assert again.outcome.duplicate, f"replayed {original.event.text!r} was handled again"
            assert again.outcome.reply is None and again.text is None
        elif kind == "race":
            _, who, what, amt = op
            if what == "checkin":
                event = here.event(model.name(who), "/checkin")
            else:
                event = here.event("boss", f"/award @{model.name(who)} {amt} race")
            first, second = await asyncio.gather(here.deliver(event), here.deliver(event))
            assert sorted([first.outcome.duplicate, second.outcome.duplicate]) == [False, True]
            handled, dropped = (second, first) if first.outcome.duplicate else (first, second)
            assert dropped.outcome.reply is None
            assert handled.text is not None
            if what == "checkin":
                expect_checkin(handled, model.check_in(who, here.now), model, who)
            else:
                expect_adjust(handled.text, model, "award", who, amt, "race")
            delivered.append(handled)
        elif kind == "points":
            _, who = op
            said = await here.say(model.name(who), "/points")
            model.seen(who)
            assert said.text is not None
            first_line = said.text.splitlines()[0]
            assert first_line == f"💰 {model.name(who)}, you have {points(model.balance[who])}."
            delivered.append(said)
        check_database(store, model)


async def test_refused_deduction_replayed_later_stays_refused_even_when_it_would_fit(
    chat: Chat, store: Store
) -> None:
    # A redelivered deduction that was refused must not be paid once the balance has grown:
    # the event was handled (refused) once, and that answer stands.
    model = Model(prefix="late")
    await chat.say(model.name("alice"), "/checkin")
    model.check_in("alice", chat.now)
    refused = await chat.say("boss", f"/deduct @{model.name('alice')} 15 too much")
    assert refused.text is not None and "below zero" in refused.text
    await chat.say("boss", f"/award @{model.name('alice')} 100 bonus")
    model.balance["alice"] += 100
    again = await chat.deliver(refused.event)
    assert again.outcome.duplicate and again.text is None
    check_database(store, model)
