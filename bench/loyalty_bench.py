"""The loyalty engine's daily jobs over 100,000 members: the expiry run (积分过期) and the tier
review, on the real code (loyalty/expiry.py, loyalty/tier_reviews.py), each one unit of work
on a real SQLite file (or PostgreSQL), and the private reminders those jobs send, fired by the
real sweep (handlers/firings.py).

The community (Asia/Shanghai; expiry after 12 months, reminders 30 days before; tiers Member /
Silver 500 / Gold 2000 / Diamond 6000, monthly reviews, one grace period, reminders 7 days
before) has --members members, written with bulk inserts. Each has an account, a balance, and
three ledger credits with their lots: two earned in November 2025 (expiring together at
2026-12-01 00:00) and one earned in October 2026 (expiring 2027-11-01: the growth value). Of
every ten members, four are at the first tier and six are reviewed: one above Silver, one
short of Silver for the first time, one Gold and one Diamond short since the last review
(moved down), one Gold back above its threshold, one Diamond above.

  c  the reminders, 2026-11-24: the expiry job at 00:10 (every member hears that two lots
     expire on 12-01: 100,000 private messages) and the tier keep-reminder at 00:30 (the
     20,000 the review would move down); seconds each; a second sweep queues nothing, nor does
     the next day's expiry job (each member hears of an expiry once)
  a  expire_due at 2026-12-01 00:10: seconds (goal <= 60 s); after: sum(lots.remaining) ==
     sum(balances.points) == sum(ledger.delta), one 'expired' entry per member, two lot uses
     each; a rerun posts nothing
  b  review at 2026-12-01 00:30: seconds (goal <= 60 s); the counts it returns (reviewed,
     fell short, moved down to which tier, recovered) against what was built; a rerun
     changes nothing. Then the downgrade notices the review job queues (seconds, messages).

Each job is one unit of work in the store's single writer: while it runs, no chat event is
answered, so its seconds are also how long the bot is silent then. Peak RSS is printed after
each part. Exits 1 when a check of correctness fails; a goal missed is printed as MISSED. Run
from the repo root:

    python bench/loyalty_bench.py [--members N] [--postgresql URL]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import resource
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_databases import fresh_database
from sqlalchemy import Connection, func, insert, select

from community import tier_notices
from community.communities import Community, apply_config, community_by_id
from community.config import parse_config
from community.outbox import Kind
from handlers.firings import Firings
from loyalty import expiry, tier_reviews
from loyalty.lots import expiry_of
from loyalty.tiers import tier_for
from storage.schema import accounts, balances, job_runs, ledger, lot_uses, lots, members, outbox
from storage.store import Store

SHANGHAI = ZoneInfo("Asia/Shanghai")
CONFIG = """
admins = ["console:admin"]
[community]
slug = "loyalty-bench"
name = "Loyalty Bench"
timezone = "Asia/Shanghai"
locale = "en"

[tiers]
window_days = 365
review_months = 1
review_at = "00:30"
grace_periods = 1
remind_days_before = 7

[[tiers.levels]]
names = { en = "Member", zh_CN = "普通会员" }
threshold = 0

[[tiers.levels]]
names = { en = "Silver", zh_CN = "银卡会员" }
threshold = 500

[[tiers.levels]]
names = { en = "Gold", zh_CN = "金卡会员" }
threshold = 2000

[[tiers.levels]]
names = { en = "Diamond", zh_CN = "钻石会员" }
threshold = 6000

[expiry]
months = 12
remind_days_before = 30
run_at = "00:10"
"""


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)


CREATED = local(2025, 11, 1)
EARNED = (local(2025, 11, 10, 10), local(2025, 11, 20, 10), local(2026, 10, 15, 10))
LAST_REVIEW = date(2026, 11, 1)
REMINDERS_DAY = date(2026, 11, 24)  # 7 days before the review, 7 before the expiry
EXPIRY_RUN = local(2026, 12, 1, 0, 10)
REVIEW = local(2026, 12, 1, 0, 30)
# Per member index % 10: (tier, growth value, short since the last review).
KINDS: tuple[tuple[int, int, bool], ...] = (
    *((0, 100, False),) * 4,
    (1, 800, False),  # keeps Silver
    (1, 200, False),  # short of Silver for the first time: keeps it for a grace period
    (2, 1200, True),  # Gold, short since November: down to Silver (and reminded before)
    (3, 300, True),  # Diamond, short since November: down to Member (and reminded before)
    (2, 2500, True),  # Gold, short in November, back above: recovered
    (3, 7000, False),  # keeps Diamond
)
BATCH = 10_000  # rows per executemany of the setup


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


@dataclass
class Plan:
    """What the setup wrote, and so what each job must find."""

    members: int = 0
    expiring: int = 0  # points in the lots expiring at 2026-12-01
    kept: int = 0  # points in the lots that do not
    reviewed: int = 0
    fell_short: int = 0
    recovered: int = 0
    downgraded: Counter[tuple[int, int]] = field(default_factory=Counter)  # (old, new) -> n
    at_risk: int = 0


@dataclass
class Checks:
    failed: list[str] = field(default_factory=list)

    def expect(self, ok: bool, what: str) -> str:
        if not ok:
            self.failed.append(what)
        return "ok" if ok else "FAILED"

    @staticmethod
    def goal(ok: bool) -> str:
        return "ok" if ok else "MISSED"


# Setup ---------------------------------------------------------------------------------------


def setup(conn: Connection, count: int) -> tuple[Community, Plan]:
    """The community, then its members, accounts, credits, lots and balances in bulk."""
    config, digest = parse_config(CONFIG)
    made = apply_config(
        conn, config, digest, default_timezone="UTC", default_locale="en", at=CREATED
    )
    community = community_by_id(conn, made.id)
    assert community is not None
    cid, version = community.id, community.program.version
    expires = [expiry_of(at, SHANGHAI, community.rules.expiry.months) for at in EARNED]
    _bulk(
        conn,
        members,
        (
            {
                "community_id": cid,
                "display_name": f"Member {i}",
                "created_at": CREATED,
                "last_seen_at": CREATED,
            }
            for i in range(count)
        ),
    )
    ids = list(conn.execute(select(members.c.id).order_by(members.c.id)).scalars())
    _bulk(
        conn,
        accounts,
        (
            {
                "community_id": cid,
                "member_id": member,
                "platform": "discord",
                "platform_user_id": str(800_000_000_000 + i),
                "username_key": f"member{i}",
                "display_name": f"Member {i}",
                "created_at": CREATED,
            }
            for i, member in enumerate(ids)
        ),
    )
    plan = Plan(members=count)
    amounts = []
    for i in range(count):
        tier, growth, short = KINDS[i % len(KINDS)]
        amounts.append((10 + i % 7, 20 + i % 5, growth))
        plan.expiring += 30 + i % 7 + i % 5
        plan.kept += growth
        if tier == 0:
            continue
        plan.reviewed += 1
        threshold = community.rules.tiers.levels[tier].threshold
        if growth >= threshold:
            plan.recovered += short
        elif not short:
            plan.fell_short += 1
        else:
            plan.downgraded[(tier, tier_for(community.rules.tiers, growth))] += 1
            plan.at_risk += 1
    _bulk(
        conn,
        ledger,
        (
            {
                "community_id": cid,
                "member_id": member,
                "delta": amounts[i][k],
                "reason": "checkin",
                "note": "",
                "idempotency_key": f"bench:{member}:{k}",
                "created_at": EARNED[k],
                "base": amounts[i][k],
                "rule_version": version,
            }
            for i, member in enumerate(ids)
            for k in range(3)
        ),
    )
    entries = list(conn.execute(select(ledger.c.id).order_by(ledger.c.id)).scalars())
    _bulk(
        conn,
        lots,
        (
            {
                "community_id": cid,
                "member_id": member,
                "ledger_id": entries[3 * i + k],
                "amount": amounts[i][k],
                "remaining": amounts[i][k],
                "earned_at": EARNED[k],
                "expires_at": expires[k],
                "growth": True,
            }
            for i, member in enumerate(ids)
            for k in range(3)
        ),
    )
    _bulk(
        conn,
        balances,
        (
            {
                "member_id": member,
                "community_id": cid,
                "points": sum(amounts[i]),
                "updated_at": EARNED[2],
                "growth": amounts[i][2],
                "tier": KINDS[i % len(KINDS)][0],
                "tier_since": CREATED,
                "short_since": LAST_REVIEW if KINDS[i % len(KINDS)][2] else None,
            }
            for i, member in enumerate(ids)
        ),
    )
    return community, plan


def _bulk(conn: Connection, table: Any, rows: Any) -> None:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            conn.execute(insert(table), batch)
            batch = []
    if batch:
        conn.execute(insert(table), batch)


# Reading -------------------------------------------------------------------------------------


def sums(conn: Connection) -> tuple[int, int, int]:
    """sum(lots.remaining), sum(balances.points), sum(ledger.delta)."""

    def total(column: Any) -> int:
        return int(conn.execute(select(func.coalesce(func.sum(column), 0))).scalar_one())

    return total(lots.c.remaining), total(balances.c.points), total(ledger.c.delta)


def expired_entries(conn: Connection) -> tuple[int, int, int]:
    """'expired' entries, members they are of, lot uses."""
    where = ledger.c.reason == expiry.EXPIRED
    entries, people = conn.execute(
        select(func.count(), func.count(func.distinct(ledger.c.member_id))).where(where)
    ).one()
    uses = conn.execute(select(func.count()).select_from(lot_uses)).scalar_one()
    return int(entries), int(people), int(uses)


def tier_state(conn: Connection) -> list[tuple[Any, ...]]:
    rows = conn.execute(
        select(
            balances.c.member_id, balances.c.tier, balances.c.short_since, balances.c.tier_since
        ).order_by(balances.c.member_id)
    )
    return [tuple(row) for row in rows]


def direct_messages(conn: Connection) -> Counter[str]:
    """Private messages queued, by template."""
    rows = conn.execute(select(outbox.c.payload).where(outbox.c.kind == Kind.DIRECT.value))
    found: Counter[str] = Counter()
    for (payload,) in rows:
        found[payload["template"] if isinstance(payload, dict) else str(payload)] += 1
    return found


def failed_firings(conn: Connection) -> int:
    query = select(func.count()).where(job_runs.c.outcome == "failed")
    return int(conn.execute(query).scalar_one())


# The parts -----------------------------------------------------------------------------------


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


async def timed_sweep(firings: Firings, clock: Clock, at: datetime) -> tuple[float, int]:
    clock.now = at
    began = time.perf_counter()
    swept = await firings.sweep(at)
    return time.perf_counter() - began, swept.ran


async def reminders(store: Store, plan: Plan, checks: Checks) -> None:
    """c."""
    day = REMINDERS_DAY
    clock = Clock(local(day.year, day.month, day.day))
    firings = Firings(store, clock=clock)
    # The bot was up before: the firings of the days before are behind it.
    await timed_sweep(firings, clock, clock.now)
    moment = local(day.year, day.month, day.day, 0, 10) + timedelta(seconds=30)
    seconds, ran = await timed_sweep(firings, clock, moment)
    queued = await store.read(direct_messages)
    ok = ran == 1 and queued == Counter({"expiry/reminder": plan.members})
    print(
        f"c  the expiry job at 00:10 ({ran} firing: expire_due, nothing due, then reminders): "
        f"{queued['expiry/reminder']:,} private messages queued in {seconds:.2f} s "
        f"({queued['expiry/reminder'] / seconds:,.0f}/s): "
        f"{checks.expect(ok, 'c: expiry reminders')}; peak RSS {rss_mib():.0f} MiB"
    )
    moment = local(day.year, day.month, day.day, 0, 30) + timedelta(seconds=30)
    seconds, ran = await timed_sweep(firings, clock, moment)
    queued = await store.read(direct_messages)
    keep = queued["tiers/keep_reminder"]
    ok = ran == 1 and keep == plan.at_risk
    print(
        f"   the tier keep-reminder at 00:30 ({ran} firing: at_risk, then the notices): "
        f"{keep:,} private messages queued in {seconds:.2f} s ({keep / seconds:,.0f}/s; "
        f"{plan.at_risk:,} expected): {checks.expect(ok, 'c: keep reminders')}"
    )
    again, ran = await timed_sweep(Firings(store, clock=clock), clock, moment)
    same = await store.read(direct_messages) == queued
    print(
        f"   a restarted process's sweep at the same minute: {again:.2f} s, ran {ran}; "
        f"outbox unchanged: {checks.expect(ran == 0 and same, 'c: a rerun queued')}"
    )
    moment = local(day.year, day.month, day.day + 1, 0, 10) + timedelta(seconds=30)
    seconds, ran = await timed_sweep(firings, clock, moment)
    same = await store.read(direct_messages) == queued
    failed = await store.read(failed_firings)
    ok = ran == 1 and same and failed == 0
    print(
        f"   the next day's expiry job (everyone heard of 12-01 already): {seconds:.2f} s, "
        f"ran {ran}, nothing queued, no firing failed: {checks.expect(ok, 'c: next day')}"
    )


async def expire(store: Store, community: Community, plan: Plan, checks: Checks) -> None:
    """a."""
    program = community.program
    before = await store.read(sums)
    began = time.perf_counter()
    outcome = await store.write(expiry.expire_due, program, EXPIRY_RUN)
    seconds = time.perf_counter() - began
    goal = checks.goal(seconds <= 60)
    print(
        f"a  expire_due at 2026-12-01 00:10: {outcome.members:,} members, "
        f"{outcome.points:,} points in {seconds:.2f} s (goal <= 60 s: {goal}): "
        f"{outcome.members / seconds:,.0f} members/s; peak RSS {rss_mib():.0f} MiB"
    )
    ok = outcome == expiry.ExpiryOutcome(plan.members, plan.expiring)
    print(f"     what it took is what was built: {checks.expect(ok, 'a: outcome')}")
    total = plan.expiring + plan.kept
    after = await store.read(sums)
    ok = before == (total,) * 3 and after == (plan.kept,) * 3
    print(
        f"     sum(lots.remaining), sum(balances.points), sum(ledger.delta): {before} before, "
        f"{after} after: {checks.expect(ok, 'a: sums')}"
    )
    entries, people, uses = await store.read(expired_entries)
    ok = entries == people == plan.members and uses == 2 * plan.members
    print(
        f"     'expired' entries {entries:,} of {people:,} members, {uses:,} lot uses: "
        f"{checks.expect(ok, 'a: one entry per member')}"
    )
    began = time.perf_counter()
    rerun = await store.write(expiry.expire_due, program, EXPIRY_RUN + timedelta(minutes=5))
    seconds = time.perf_counter() - began
    ok = rerun == expiry.ExpiryOutcome() and await store.read(expired_entries) == (
        entries,
        people,
        uses,
    )
    print(
        f"     a rerun the same day: {seconds:.2f} s, posted {rerun.members}: "
        f"{checks.expect(ok, 'a: rerun')}"
    )


async def review(store: Store, community: Community, plan: Plan, checks: Checks) -> None:
    """b."""
    program = community.program
    began = time.perf_counter()
    outcome = await store.write(tier_reviews.review, program, REVIEW)
    seconds = time.perf_counter() - began
    goal = checks.goal(seconds <= 60)
    moved = Counter((change.old, change.new) for change in outcome.downgraded)
    print(
        f"b  review at 2026-12-01 00:30: {outcome.reviewed:,} reviewed in {seconds:.2f} s "
        f"(goal <= 60 s: {goal}): {outcome.reviewed / seconds:,.0f} members/s; "
        f"peak RSS {rss_mib():.0f} MiB"
    )
    found = (outcome.reviewed, outcome.fell_short, outcome.recovered, moved)
    wanted = (plan.reviewed, plan.fell_short, plan.recovered, plan.downgraded)
    print(
        f"     fell short {outcome.fell_short:,}, recovered {outcome.recovered:,}, moved down "
        f"{dict(moved)} (old, new tier): {checks.expect(found == wanted, 'b: outcome')}"
    )
    state = await store.read(tier_state)
    began = time.perf_counter()
    rerun = await store.write(tier_reviews.review, program, REVIEW)
    seconds = time.perf_counter() - began
    nothing = (rerun.fell_short, rerun.recovered, rerun.downgraded) == (0, 0, ())
    ok = nothing and await store.read(tier_state) == state
    print(
        f"     a rerun at the same moment: {seconds:.2f} s, {rerun.reviewed:,} reviewed, "
        f"nothing changed: {checks.expect(ok, 'b: rerun')}"
    )
    before = sum((await store.read(direct_messages)).values())
    began = time.perf_counter()
    await store.write(_notify, community, outcome.downgraded)
    seconds = time.perf_counter() - began
    queued = sum((await store.read(direct_messages)).values()) - before
    ok = queued == sum(plan.downgraded.values())
    print(
        f"     the review job's downgrade notices (community/tier_notices.downgraded): "
        f"{queued:,} private messages in {seconds:.2f} s: {checks.expect(ok, 'b: notices')}"
    )


def _notify(conn: Connection, community: Community, changes: Any) -> None:
    tier_notices.downgraded(conn, community, changes, REVIEW)


# Running -------------------------------------------------------------------------------------


async def run(args: argparse.Namespace, folder: Path, checks: Checks) -> None:
    with fresh_database(folder, args.postgresql) as url:
        store = Store(url)
        try:
            began = time.perf_counter()
            community, plan = store.write_now(setup, args.members)
            print(
                f"   setup: {plan.members:,} members, {3 * plan.members:,} credits and lots in "
                f"{time.perf_counter() - began:.1f} s; peak RSS {rss_mib():.0f} MiB",
                flush=True,
            )
            await reminders(store, plan, checks)
            await expire(store, community, plan, checks)
            await review(store, community, plan, checks)
        finally:
            store.close()


def main() -> int:
    intro, _, scenarios = __doc__.partition("\n\n")
    parser = argparse.ArgumentParser(
        description=" ".join(intro.split()),
        epilog=scenarios,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--members", type=int, default=100_000, help="(100,000)")
    parser.add_argument("--postgresql", metavar="URL", help="run on PostgreSQL (a fresh schema)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    database = "PostgreSQL" if args.postgresql else "SQLite file (WAL)"
    print(f"== loyalty: the daily expiry and tier review over {args.members:,} members; {database}")
    checks = Checks()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(args, Path(folder), checks))
    for failure in checks.failed:
        print(f"   FAILED {failure}")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
