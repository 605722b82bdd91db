"""Throughput and latency of the core: Event in, Reply out, on a real SQLite file.  Synthetic
members of one community send a mix of /checkin (and the word 签到), /points, /me, /top, an
admin's /award and (the loyalty mix, the default) the confirmation of a /redeem over several
simulated days: every credit runs the earning path (caps, multipliers, the tier's multiplier and
the upgrade check as growth value crosses 500) and becomes a lot; every redemption locks the
balance, takes stock and consumes lots. `--mix core` runs the mix of before the loyalty engine
(no redemptions), to compare with older figures; `--mix chat` a group's ordinary day, mostly
plain messages read by Q&A, surveys and the FAQ (20 entries). Many asyncio tasks keep events in
flight, so the store's writer thread can commit them in groups. The same workload then runs on a
fresh database with `Store(url, max_batch=1)` (one transaction per event) as the baseline.
Measured: events/s, p50/p99 of `Dispatcher.handle` per event, and each run's peak RSS (every run
is a forked child). Rendering replies is left out unless --render is given. Run from the repo
root (`make bench`), optionally on PostgreSQL:
    python bench/core_bench.py [--members N] [--events N] [--concurrency N] [--render]
                               [--skip-baseline] [--postgresql URL]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import multiprocessing
import random
import resource
import sys
import tempfile
import time
import tomllib
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, func, select, text

from bot.app import build_dispatcher
from bot.rendering import Renderer, plain_text
from community import shop
from community.communities import apply_config
from community.config import parse_config
from handlers.parsing import event_from_text
from handlers.router import Dispatcher
from handlers.types import AccountRef, ChatRef, Event
from storage import migrate
from storage.engine import normalize_url
from storage.schema import balances, checkins, ledger, lots, redemptions
from storage.store import Store

COMMUNITY = """
admins = ["console:admin"]
[community]
slug = "bench"
name = "Bench Community"
timezone = "Asia/Shanghai"
locale = "en"
[checkin]
streak_bonus_every = 7
[earning]
checkin = { points = 10 }
streak_bonus = { points = 20 }
[points]
max_award = 1000
[[rewards]]
name = "Lucky draw ticket"
cost = 20
kind = "entry"
"""
# 09:00 in Shanghai; each simulated day's events fall between 09:00 and 21:00 local time.
T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
DAY_SPAN = timedelta(hours=12)
CHAT = ChatRef("console", "group-1", title="Bench group")
ADMIN = AccountRef("console", "admin", "Admin", username="admin")
# Shares of the events after registration; /award is the admin's.
MIXES = {
    "loyalty": {
        "checkin": 0.47,
        "me": 0.15,
        "points": 0.13,
        "top": 0.12,
        "award": 0.08,
        "redeem": 0.05,
    },
    "core": {"checkin": 0.50, "me": 0.15, "points": 0.15, "top": 0.12, "award": 0.08},
    # A group as it is most of the day: plain messages (chatter, and questions the FAQ knows
    # or does not), read by the Q&A, survey and FAQ readers; the FAQ holds the 20 entries of
    # tests/data/faq_matching.toml and the messages are that set's.
    "chat": {"chat": 0.60, "checkin": 0.25, "me": 0.05, "points": 0.05, "top": 0.05},
}
FAQ_SET = Path(__file__).resolve().parent.parent / "tests" / "data" / "faq_matching.toml"
REDEEM = "(redeem)"  # made into the confirmation button's command at its moment
WORD_SHARE = 0.3  # of check-ins typed as the plain word 签到 instead of /checkin
MAX_DAY_FILL = 0.8  # at most this share of members checks in on one simulated day


@dataclass(frozen=True, slots=True)
class Workload:
    """The events of each simulated day (a day's events run concurrently, days one by one)."""

    days: list[list[Event]]
    checkins: int
    awards: int
    award_points: int
    chats: int = 0  # plain messages, which need no answer

    @property
    def size(self) -> int:
        return sum(len(day) for day in self.days)


@dataclass(slots=True)
class RunResult:
    """What one run of the workload measured and found."""

    label: str
    seconds: float
    latencies: list[float]
    replies: Counter[str]
    peak_rss_mib: float
    totals: dict[str, int]


def member(i: int) -> AccountRef:
    return AccountRef("console", f"m{i}", f"Member {i}", username=f"m{i}")


def build_workload(members: int, events: int, mix: dict[str, float], seed: int = 42) -> Workload:
    """Day 0: every member checks in (registering them) and the admin says /start; then a mix."""
    rng = random.Random(seed)
    ids = iter(range(1, 10**9))

    def make(who: AccountRef, text: str, day: int, slot: float) -> Event:
        number = next(ids)
        at = T0 + timedelta(days=day) + DAY_SPAN * slot
        if text == REDEEM:
            # The confirmation button's command, pressed within its minutes: redeems reward 1
            # (a 20-point ticket), or is refused for want of points.
            text = f"/redeem 1 confirm {int(at.timestamp()) - number % 240}"
        return event_from_text(
            event_id=f"bench:{number}", chat=CHAT, actor=who, text=text, occurred_at=at
        )

    def checkin_text() -> str:
        return "签到" if rng.random() < WORD_SHARE else "/checkin"

    first = [(ADMIN, "/start")] + [(member(i), checkin_text()) for i in range(members)]
    rest = events - len(first)
    checkin_total = round(rest * mix["checkin"])
    n_days = max(1, math.ceil(checkin_total / (members * MAX_DAY_FILL)))
    per_day = [rest // n_days + (1 if d < rest % n_days else 0) for d in range(n_days)]
    checkins_per_day = [
        checkin_total // n_days + (1 if d < checkin_total % n_days else 0) for d in range(n_days)
    ]
    others = [kind for kind in mix if kind != "checkin"]
    weights = [mix[k] for k in others]

    awards = award_points = chats = 0
    days: list[list[tuple[AccountRef, str]]] = [first]
    for day_size, day_checkins in zip(per_day, checkins_per_day, strict=True):
        day = [(member(i), checkin_text()) for i in rng.sample(range(members), day_checkins)]
        for kind in rng.choices(others, weights, k=day_size - day_checkins):
            if kind == "award":
                amount = rng.randint(1, 100)
                awards += 1
                award_points += amount
                target = rng.randrange(members)
                day.append((ADMIN, f"/award @m{target} {amount} bench prize"))
            elif kind == "redeem":
                day.append((member(rng.randrange(members)), REDEEM))
            elif kind == "chat":
                chats += 1
                day.append((member(rng.randrange(members)), rng.choice(CHAT_LINES)))
            else:
                day.append((member(rng.randrange(members)), f"/{kind}"))
        rng.shuffle(day)
        days.append(day)

    built = [
        [make(who, text, d, i / len(day)) for i, (who, text) in enumerate(day)]
        for d, day in enumerate(days)
    ]
    return Workload(built, members + sum(checkins_per_day), awards, award_points, chats)


def fresh_store(url: str, max_batch: int | None) -> tuple[Store, Dispatcher]:
    """A migrated database with the bench community loaded, and the dispatcher over it."""
    migrate.upgrade(url)
    store = Store(url) if max_batch is None else Store(url, max_batch=max_batch)
    config, digest = parse_config(COMMUNITY)
    community = store.write_now(
        apply_config, config, digest, default_timezone="UTC", default_locale="en", at=T0
    )
    store.write_now(shop.sync_file_rewards, community, config.rewards, T0)
    _load_faq(store, community)
    dispatcher = build_dispatcher(
        store, access=config.access, default_community="bench", default_locale="en"
    )
    return store, dispatcher


def _load_faq(store: Store, community: Any) -> None:
    """The matching set's 20 entries as the community's FAQ (where the code has an FAQ: the
    same bench also runs against older commits, to compare)."""
    try:
        from community import faq
        from community.faq_rules import FaqEntryConfig
    except ImportError:
        return
    entries = [FaqEntryConfig(**entry) for entry in _faq_set()["entries"]]
    store.write_now(faq.sync_file_entries, community, entries, T0)


def _faq_set() -> dict[str, Any]:
    return tomllib.loads(FAQ_SET.read_text(encoding="utf-8"))


# What the chat mix's members say: the matching set's messages, questions and chatter alike.
CHAT_LINES = [message["text"] for message in _faq_set()["messages"]]


async def drive(
    dispatcher: Dispatcher, workload: Workload, concurrency: int, renderer: Renderer | None
) -> tuple[float, list[float], Counter[str]]:
    """Run each day with `concurrency` events in flight; wall seconds, latencies, replies."""
    latencies: list[float] = []
    replies: Counter[str] = Counter()

    async def worker(events: Iterator[Event]) -> None:
        # Workers share one iterator: each takes the next event when its last one is answered.
        for event in events:
            started = time.perf_counter()
            outcome = await dispatcher.handle(event)
            if renderer is not None and outcome.reply is not None:
                renderer.render(outcome.reply)
            latencies.append(time.perf_counter() - started)
            replies[outcome.reply.template if outcome.reply else "(no reply)"] += 1

    started = time.perf_counter()
    for day in workload.days:
        shared = iter(day)
        await asyncio.gather(*(worker(shared) for _ in range(min(concurrency, len(day)))))
    return time.perf_counter() - started, latencies, replies


def totals(conn: Connection) -> dict[str, int]:
    """Sums to check the books with: balances, ledger, check-in points, members off their ledger."""
    per_member = (
        select(ledger.c.member_id, func.sum(ledger.c.delta).label("total"))
        .group_by(ledger.c.member_id)
        .subquery()
    )
    off = conn.execute(
        select(func.count())
        .select_from(balances.outerjoin(per_member, per_member.c.member_id == balances.c.member_id))
        .where(balances.c.points != func.coalesce(per_member.c.total, 0))
    ).scalar_one()
    return {
        "balances": int(
            conn.execute(select(func.coalesce(func.sum(balances.c.points), 0))).scalar_one()
        ),
        "ledger": int(
            conn.execute(select(func.coalesce(func.sum(ledger.c.delta), 0))).scalar_one()
        ),
        "checkin_points": int(
            conn.execute(select(func.coalesce(func.sum(checkins.c.points), 0))).scalar_one()
        ),
        "members_off_ledger": int(off),
        "lots": int(
            conn.execute(select(func.coalesce(func.sum(lots.c.remaining), 0))).scalar_one()
        ),
        "redeemed": int(
            conn.execute(
                select(func.coalesce(func.sum(ledger.c.delta), 0)).where(
                    ledger.c.reason == "redeem"
                )
            ).scalar_one()
        ),
        "redemptions": int(
            conn.execute(select(func.count()).select_from(redemptions)).scalar_one()
        ),
    }


@contextmanager
def fresh_database(postgresql_url: str | None) -> Iterator[str]:
    """A new SQLite file in a temporary folder, or a new schema in the given PostgreSQL."""
    if postgresql_url is None:
        with tempfile.TemporaryDirectory(prefix="core-bench-") as directory:
            yield f"sqlite:///{Path(directory) / 'bench.sqlite3'}"
        return
    base = normalize_url(postgresql_url)
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def run_apart(*args: Any) -> RunResult:
    """`run` in a forked child, so each run's peak RSS is its own, not the bench's so far."""
    with multiprocessing.get_context("fork").Pool(1) as pool:
        return pool.apply(run, args)


def run(
    label: str,
    workload: Workload,
    max_batch: int | None,
    concurrency: int,
    render: bool,
    postgresql_url: str | None,
) -> RunResult:
    with fresh_database(postgresql_url) as url:
        store, dispatcher = fresh_store(url, max_batch)
        renderer = Renderer(plain_text) if render else None
        try:
            seconds, latencies, replies = asyncio.run(
                drive(dispatcher, workload, concurrency, renderer)
            )
            found = store.read_now(totals)
        finally:
            store.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return RunResult(label, seconds, latencies, replies, peak, found)


def percentile(sorted_values: list[float], share: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, math.ceil(share * len(sorted_values)) - 1)]


def report(result: RunResult, workload: Workload) -> bool:
    """Print one run's numbers and checks; True when the books balance and nothing failed."""
    ordered = sorted(result.latencies)
    rate = len(ordered) / result.seconds
    t = result.totals
    print(f"== {result.label}")
    print(f"   events/s        {rate:10,.0f}   ({len(ordered):,} events in {result.seconds:.2f} s)")
    print(f"   latency p50     {percentile(ordered, 0.50) * 1000:10.2f} ms")
    print(f"   latency p99     {percentile(ordered, 0.99) * 1000:10.2f} ms")
    print(f"   peak RSS        {result.peak_rss_mib:10.1f} MiB (this run's own process)")
    print(
        "   replies         " + ", ".join(f"{k} {v:,}" for k, v in sorted(result.replies.items()))
    )
    expected_ledger = t["checkin_points"] + workload.award_points + t["redeemed"]
    checks = {
        "sum(balances) == sum(ledger)": t["balances"] == t["ledger"],
        "sum(lots remaining) == sum(balances)": t["lots"] == t["balances"],
        "every balance == its ledger sum": t["members_off_ledger"] == 0,
        "sum(ledger) == check-in points + awards - redemptions": t["ledger"] == expected_ledger,
        "one redemption per redeem entry": t["redemptions"] * 20 == -t["redeemed"],
        "check-ins done as planned": result.replies["checkin/done"] == workload.checkins,
        "awards done as planned": result.replies["points/awarded"] == workload.awards,
        # Chatter gets no answer (only questions the FAQ knows do): no reply is no failure.
        "every event answered": result.replies["common/internal_error"] == 0
        and result.replies["(no reply)"] <= workload.chats,
    }
    print(
        f"   books           balances {t['balances']:,} / ledger {t['ledger']:,} "
        f"(check-ins {t['checkin_points']:,} + awards {workload.award_points:,}"
        f" - {t['redemptions']:,} redemptions {-t['redeemed']:,})"
    )
    for name, ok in checks.items():
        print(f"   check           {'ok  ' if ok else 'FAIL'} {name}")
    return all(checks.values())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--concurrency", type=int, default=200, help="events in flight")
    parser.add_argument("--render", action="store_true", help="render replies, timed per event")
    parser.add_argument(
        "--mix", choices=sorted(MIXES), default="loyalty", help="core: no redemptions (older)"
    )
    parser.add_argument("--skip-baseline", action="store_true", help="only the grouped run")
    parser.add_argument(
        "--postgresql", metavar="URL", help="run on this PostgreSQL (a fresh schema per run)"
    )
    args = parser.parse_args()
    if args.members < 1 or args.events <= args.members:
        parser.error("need --members >= 1 and --events > --members")
    logging.basicConfig(level=logging.WARNING)

    mix = MIXES[args.mix]
    workload = build_workload(args.members, args.events, mix)
    database = "PostgreSQL (psycopg 3)" if args.postgresql else "SQLite file, WAL, synchronous=FULL"
    print(
        f"members {args.members:,}, events {workload.size:,} over {len(workload.days)} days "
        f"(day 0: every member's first check-in), concurrency {args.concurrency}, "
        f"rendering {'on (in latency)' if args.render else 'off'}"
    )
    print(
        f"mix after day 0 ({args.mix}): {', '.join(f'{k} {v:.0%}' for k, v in mix.items())}; "
        f"{WORD_SHARE:.0%} of check-ins as 签到; {database}; "
        f"python {sys.version.split()[0]}"
    )
    grouped = run_apart(
        "group commit: Store(url), default max_batch",
        workload,
        None,
        args.concurrency,
        args.render,
        args.postgresql,
    )
    ok = report(grouped, workload)
    if not args.skip_baseline:
        baseline = run_apart(
            "baseline: Store(url, max_batch=1), one transaction per event",
            workload,
            1,
            args.concurrency,
            args.render,
            args.postgresql,
        )
        ok = report(baseline, workload) and ok
        same = grouped.totals == baseline.totals
        ok = ok and same
        speedup = (len(grouped.latencies) / grouped.seconds) / (
            len(baseline.latencies) / baseline.seconds
        )
        print(f"== speed-up (events/s, group commit / baseline): {speedup:.2f}x")
        print(f"   check           {'ok  ' if same else 'FAIL'} both runs end with the same books")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
