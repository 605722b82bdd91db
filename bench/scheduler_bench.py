"""The scheduler under its issue's load: 1,000 calendar entries due at the same minute across
500 groups, fired by the real sweep (handlers/firings.py) on a real SQLite file (or PostgreSQL),
then delivered by the real senders (bot/delivery/sender.py) within the platforms' limits.

What "1,000 entries across 500 groups" became: 100 communities of 5 groups each (500 groups:
250 Telegram groups and 250 Discord servers posting in a channel; a community's groups alternate
between the platforms, so 50 communities have 3 Telegram + 2 Discord, 50 the other way round),
each with 10 calendar entries at "daily 21:00" (Asia/Shanghai, 13:00 UTC): 1,000 entries, all
due at the same minute. Of a community's 10 entries, 8 post to all 5 groups, 1 to its 2 groups
tagged #vip, and 1 carries a poll (the topic, then the poll opened in each group: 2 posts a
group). That is 52 posts a community, 5,200 posts, ~10 per group, 500 polls opened. Not every
entry to every one of 500 groups: that would be 500,000 posts, 4.6 hours at Telegram's 30/s,
which no one community of 500 groups would plan for one minute; a host of many communities
with a handful of groups each, all posting "tonight's topic" at 21:00, is the realistic peak.

  a  sweep: one `Firings.sweep` at the minute (the periodic sync, or the console's clock):
     seconds until all 1,000 firings are claimed and all 5,200 posts are in the outbox
     (goal <= 10 s), firings/s and posts/s, peak RSS (before and after the sweep)
  b  exactly once: job_runs holds 1,000 topic claims (all "ran"); each group has each of its
     posts once; a second sweep a minute later (the alarm clock's periodic sync, idle over the
     1,100 jobs: 1,000 topics + 100 streak reminders) adds nothing, nor does a restarted
     process's first sweep; both timed (goal <= 1 s: it runs every minute)
  c  the alarm path: bot/scheduler.py's Scheduler.sweep called by every job's alarm when it goes
     off: 1,000 alarms at the minute coalesce into a few full sweeps (the --alarms run, on a second
     fresh database: seconds until all are claimed; goal <= 60 s, before the next minute)
  d  delivery: one real Sender per platform, with the real limits (bot/app.platform_limits:
     Telegram 30/s overall, 20/min and a burst of 5 per group; Discord 45/s, 5 per 5 s per
     channel), against an in-process messenger that accepts at once and records when; per
     platform: seconds until all delivered, the achieved rate as % of the limit (goal >= 90 %),
     the most any group got in one of its windows (must not exceed its limit), sent twice
     (must be 0). By default delivery runs for --slice seconds (60) and extrapolates the rest
     at the achieved rate, saying so (optimistic: the tail, a few groups each waiting on its
     own window, is slower; measured --full on SQLite: Telegram 111.5 s, 77 %, against ~94 s
     extrapolated); --full delivers everything (Telegram's 2,600 posts: 87 s at 30/s at best).
     Delivery starts after the sweep here; the running bot wakes the senders at each firing's
     commit, so "all delivered" from the minute is at most sweep + delivery.

Exits 1 when a check of correctness fails (claims, posts lost or twice, a limit overrun); a
goal missed is printed as MISSED. Run from the repo root:

    python bench/scheduler_bench.py [--full] [--slice S] [--alarms] [--communities N]
                                    [--postgresql URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import resource
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_databases import fresh_database
from sqlalchemy import Connection, func, select

from bot.app import platform_limits, sender_settings
from bot.delivery.messenger import Limits
from bot.delivery.sender import Sender
from bot.scheduler import Scheduler
from bot.settings import Settings
from community import audit
from community.calendar import add_entry
from community.communities import (
    apply_config,
    community_by_slug,
    community_for_chat,
    move_chat,
    set_posting_channel,
    set_tags,
)
from community.config import parse_config
from community.outbox import Outgoing
from handlers.firings import Firings, Swept
from handlers.ports import Deliveries
from storage.schema import job_runs, outbox
from storage.store import Store

CONFIG = """
admins = ["console:admin"]
[community]
slug = "c000"
name = "Bench Community"
timezone = "Asia/Shanghai"
locale = "en"
[reminders]
streak_at = "21:30"  # not this minute: the minute is the calendar's
"""
# The minute everything is due: Monday 21:00 in Shanghai. In the past, so that the senders'
# clock (the minute plus real seconds) never runs into the future of the real one.
MINUTE = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)
WHEN = "daily 21:00"
GROUPS_PER_COMMUNITY = 5
ENTRIES_PER_COMMUNITY = 10
TAGGED = 2  # groups of a community tagged #vip
BENCH = audit.Actor(None, "console:admin")
FIRST_TELEGRAM, FIRST_GUILD, FIRST_CHANNEL = -1_000_000_000, 900_000_000_000, 910_000_000_000


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# Databases -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Group:
    """One of the 500 groups: where its posts land (a Discord server posts in a channel)."""

    platform: str
    chat_id: str  # the group (a Discord server)
    target: str  # the chat its posts are sent to
    community: int
    vip: bool


@dataclass
class Plan:
    """What the setup wrote, and so what the sweep must queue."""

    groups: list[Group] = field(default_factory=list)
    topics: dict[int, list[str]] = field(default_factory=dict)  # community -> texts to all
    vip: dict[int, str] = field(default_factory=dict)  # community -> text to its #vip groups
    polls: dict[int, str] = field(default_factory=dict)  # community -> poll entry's text

    def expected(self) -> Counter[tuple[str, str, str]]:
        """(platform, target chat, words) of every post the minute must queue, once each."""
        found: Counter[tuple[str, str, str]] = Counter()
        for group in self.groups:
            c = group.community
            words = [*self.topics[c], self.polls[c], f"poll:{self.polls[c]}"]
            if group.vip:
                words.append(self.vip[c])
            for said in words:
                found[(group.platform, group.target, said)] += 1
        return found


def setup(conn: Connection, communities: int) -> Plan:
    """The communities, their groups (half Telegram, half Discord) and their entries."""
    config, digest = parse_config(CONFIG)
    since = MINUTE - timedelta(hours=1)  # everything made an hour before: only this minute fires
    first = apply_config(
        conn, config, digest, default_timezone="UTC", default_locale="en", at=since
    )
    plan = Plan()
    for c in range(communities):
        slug = f"c{c:03d}"
        for g in range(GROUPS_PER_COMMUNITY):
            n = c * GROUPS_PER_COMMUNITY + g
            telegram = n % 2 == 0
            platform = "telegram" if telegram else "discord"
            chat_id = str(FIRST_TELEGRAM - n if telegram else FIRST_GUILD + n)
            target = chat_id if telegram else str(FIRST_CHANNEL + n)
            community_for_chat(
                conn,
                platform=platform,
                chat_id=chat_id,
                title=f"Group {n}",
                default_slug="c000",
                at=since,
                needs_channel=not telegram,
            )
            if not telegram:
                set_posting_channel(conn, platform, chat_id, target)
            if c:
                move_chat(
                    conn,
                    platform=platform,
                    chat_id=chat_id,
                    title=f"Group {n}",
                    slug=slug,
                    current=first,
                    at=since,
                )
            vip = g < TAGGED
            if vip:
                set_tags(conn, platform, chat_id, ("vip",))
            plan.groups.append(Group(platform, chat_id, target, c, vip))
        community = community_by_slug(conn, slug)
        assert community is not None
        plan.topics[c] = [f"Topic {e} of {slug}" for e in range(ENTRIES_PER_COMMUNITY - 2)]
        plan.vip[c] = f"VIP topic of {slug}"
        plan.polls[c] = f"Poll of {slug}"
        lines = [f"{WHEN} {words}" for words in plan.topics[c]]
        lines.append(f"{WHEN} #vip {plan.vip[c]}")
        lines.append(f"{WHEN} {plan.polls[c]} | Yes | No | Maybe")
        for line in lines:
            add_entry(conn, community, line, actor=BENCH, at=since)
    return plan


# The sweep -----------------------------------------------------------------------------------


@dataclass
class Moving:
    """The minute, then on by real seconds from `start()` (the firings' and senders' clock)."""

    base: datetime = MINUTE
    began: float | None = None

    def start(self, at: datetime) -> None:
        self.base, self.began = at, time.monotonic()

    def __call__(self) -> datetime:
        if self.began is None:
            return self.base
        return self.base + timedelta(seconds=time.monotonic() - self.began)


@dataclass
class Checks:
    failed: list[str] = field(default_factory=list)

    def expect(self, ok: bool, what: str) -> str:
        if not ok:
            self.failed.append(what)
        return "ok" if ok else "FAILED"

    @staticmethod
    def goal(ok: bool) -> str:
        """A goal: reported, not a failure (the machine's load moves timings)."""
        return "ok" if ok else "MISSED"


def queued_posts(conn: Connection) -> Counter[tuple[str, str, str]]:
    """(platform, chat, words) of every queued post, counted."""
    found: Counter[tuple[str, str, str]] = Counter()
    for platform, chat, payload in conn.execute(
        select(outbox.c.platform, outbox.c.chat_id, outbox.c.payload)
    ):
        found[(platform, chat, words_of(payload))] += 1
    return found


def words_of(payload: Any) -> str:
    if isinstance(payload, str):  # JSON text on some drivers
        payload = json.loads(payload)
    if payload.get("poll"):
        return f"poll:{payload['poll']['question']}"
    return str(payload["context"].get("text"))


def topic_claims(conn: Connection) -> Counter[str]:
    rows = conn.execute(
        select(job_runs.c.outcome, func.count())
        .where(job_runs.c.job.like("topic:%"))
        .group_by(job_runs.c.outcome)
    )
    return Counter({outcome: count for outcome, count in rows})


async def timed_sweep(firings: Firings, now: datetime) -> tuple[float, int, int]:
    began = time.perf_counter()
    swept = await firings.sweep(now)
    return time.perf_counter() - began, swept.ran, swept.missed


async def sweep_and_verify(
    store: Store, plan: Plan, clock: Moving, checks: Checks
) -> tuple[float, Counter[tuple[str, str, str]]]:
    """a and b. Returns the sweep's seconds and the posts it queued."""
    woken: Counter[str] = Counter()
    firings = Firings(store, queued=lambda platform: woken.update([platform]), clock=clock)
    jobs = await firings.jobs()
    # The process has been running: its last periodic sweep was half a minute before.
    warm, ran, _ = await timed_sweep(firings, MINUTE - timedelta(seconds=30))
    print(
        f"   jobs: {len(jobs):,} ({sum(j.key.startswith('topic:') for j in jobs):,} topics); "
        f"a sweep with nothing due (the process's first): {warm:.2f} s, ran {ran}"
    )
    before = rss_mib()
    clock.start(MINUTE)
    seconds, ran, missed = await timed_sweep(firings, MINUTE)
    after = rss_mib()
    queued = await store.read(queued_posts)
    posts = sum(queued.values())
    goal = checks.goal(seconds <= 10)
    print(
        f"a  sweep at the minute: {ran:,} firings ran, {posts:,} posts queued in "
        f"{seconds:.2f} s (goal <= 10 s: {goal}): {ran / seconds:,.0f} firings/s, "
        f"{posts / seconds:,.0f} posts/s; peak RSS {before:.0f} MiB before, {after:.0f} MiB "
        f"after; senders woken {dict(woken)}"
    )
    claims = await store.read(topic_claims)
    expected = plan.expected()
    print("b  exactly once:")
    ok = claims == Counter({"ran": len(plan.topics) * ENTRIES_PER_COMMUNITY})
    print(f"     job_runs topic claims {dict(claims)}: {checks.expect(ok, 'b: claims')}")
    lost = sum((expected - queued).values())
    extra = sum((queued - expected).values())
    ok = lost == 0 and extra == 0 and missed == 0
    print(
        f"     {sum(expected.values()):,} posts expected, {posts:,} queued: lost {lost}, "
        f"twice or unexpected {extra}, missed firings {missed}: {checks.expect(ok, 'b: posts')}"
    )
    later = MINUTE + timedelta(seconds=60)
    idle, ran, _ = await timed_sweep(firings, later)
    restarted = Firings(store, clock=lambda: later)
    fresh, ran_again, missed_again = await timed_sweep(restarted, later)
    again = await store.read(queued_posts)
    ok = ran == ran_again == missed_again == 0 and again == queued
    goal = checks.goal(max(idle, fresh) <= 1)
    print(
        f"     the periodic sweep a minute later: {idle:.2f} s, ran {ran}; a restarted "
        f"process's first sweep: {fresh:.2f} s, ran {ran_again}, missed {missed_again} "
        f"(goal <= 1 s: {goal}); outbox unchanged: {checks.expect(ok, 'b: a rerun queued')}"
    )
    return seconds, queued


async def alarm_path(store: Store, checks: Checks) -> None:
    """c. Every job's alarm going off at the minute, as APScheduler calls bot/scheduler.py's
    Scheduler.sweep: the alarms that come while a sweep runs ask for one more sweep, not one
    each."""
    firings = CountingFirings(store, clock=lambda: MINUTE)
    keys = sorted(job.key for job in await firings.jobs())
    await firings.sweep(MINUTE - timedelta(seconds=30))
    firings.sweeps = 0
    scheduler = Scheduler(firings, sync_seconds=3600)
    began = time.perf_counter()
    await asyncio.gather(*(scheduler.sweep(key) for key in keys))
    seconds = time.perf_counter() - began
    goal = checks.goal(seconds <= 60)
    print(
        f"c  the alarm path: {len(keys):,} alarms at one minute made {firings.sweeps} full "
        f"sweeps, {firings.ran:,} firings ran in {seconds:.1f} s (goal <= 60 s: {goal})"
    )


class CountingFirings(Firings):
    """Firings that count their sweeps and what ran."""

    sweeps = 0
    ran = 0

    async def sweep(self, now: datetime | None = None) -> Swept:
        swept = await super().sweep(now)
        self.sweeps += 1
        self.ran += swept.ran
        return swept


# Delivery ------------------------------------------------------------------------------------


@dataclass
class Accepting:
    """A platform that accepts every message at once and records when it came."""

    platform: str
    limits: Limits
    sent: list[tuple[float, Outgoing]] = field(default_factory=list)

    async def send(self, message: Outgoing) -> tuple[str, ...]:
        self.sent.append((time.monotonic(), message))
        return (f"m{len(self.sent)}",)


def most_in_window(times: list[float], seconds: float) -> int:
    """The most of `times` within any `seconds`."""
    ordered = sorted(times)
    most = start = 0
    for end, at in enumerate(ordered):
        while at - ordered[start] >= seconds:
            start += 1
        most = max(most, end - start + 1)
    return most


def busy_rate(times: list[float]) -> float:
    """Messages a second from the first to the last (the last second counted whole)."""
    if len(times) < 2:
        return float(len(times))
    return len(times) / (max(times) - min(times) + 1)


async def pending(store: Store) -> dict[str, int]:
    def count(conn: Connection) -> dict[str, int]:
        rows = conn.execute(
            select(outbox.c.platform, func.count())
            .where(outbox.c.state == "pending")
            .group_by(outbox.c.platform)
        )
        return {platform: n for platform, n in rows}

    return await store.read(count)


async def deliver(
    store: Store,
    queued: Counter[tuple[str, str, str]],
    clock: Moving,
    sweep_seconds: float,
    *,
    full: bool,
    slice_seconds: float,
    checks: Checks,
) -> None:
    """d."""
    settings = Settings()
    limits = platform_limits(settings)
    messengers = {p: Accepting(p, limits[p]) for p in ("telegram", "discord")}
    deliveries = Deliveries(store, clock)
    senders = [
        Sender(m, deliveries, sender_settings(settings), holder="bench")
        for m in messengers.values()
    ]
    began = time.monotonic()
    for sender in senders:
        sender.start()
    deadline = math.inf if full else began + slice_seconds
    while time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        if not await pending(store):
            break
    for sender in senders:
        await sender.stop()
    stopped = time.monotonic() - began
    left = await pending(store)
    print(
        f"d  delivery, {'in full' if full else f'a {slice_seconds:g} s slice'} "
        f"(the real senders and limits, a platform that accepts at once):"
    )
    print(
        f"     {'platform':9} {'posts':>6} {'sent':>6} {'twice':>6} {'msg/s':>6} {'limit':>6} "
        f"{'share':>6} {'all sent':>9} {'from :00':>9}  most in a window (limit)"
    )
    for platform, messenger in messengers.items():
        mine = sum(n for (p, _, _), n in queued.items() if p == platform)
        times = [at for at, _ in messenger.sent]
        ids = Counter(message.id for _, message in messenger.sent)
        twice = sum(n - 1 for n in ids.values())
        rate = busy_rate(times)
        limit = messenger.limits.overall.count
        remaining = left.get(platform, 0)
        if remaining == 0:
            done = max(times) - began if times else 0.0
            until, total = f"{done:.1f} s", f"{sweep_seconds + done:.1f} s"
        else:  # extrapolated at the achieved rate
            done = stopped + remaining / max(rate, 0.001)
            until, total = f"~{done:.0f} s", f"~{sweep_seconds + done:.0f} s"
        per_chat: dict[str, list[float]] = defaultdict(list)
        for at, message in messenger.sent:
            per_chat[message.chat_id].append(at)
        group = messenger.limits.group
        # The budget's windows carry 50 ms of slack: count in the platform's own window.
        fullest = max((most_in_window(t, group.seconds) for t in per_chat.values()), default=0)
        overall = most_in_window(times, messenger.limits.overall.seconds)
        share = 100 * rate / limit
        within = fullest <= group.count and overall <= limit
        checks.expect(within, f"d: {platform} over its limits")
        checks.expect(twice == 0, f"d: {platform} sent a post twice")
        if full or remaining == 0:
            checks.expect(remaining == 0 and len(ids) == mine, f"d: {platform} not all sent")
        print(
            f"     {platform:9} {mine:6,d} {len(ids):6,d} {twice:6d} {rate:6.1f} {limit:6d} "
            f"{share:5.1f}%{'' if share >= 90 else '!'} {until:>9} {total:>9}  "
            f"{fullest} per {group.seconds:g} s in a "
            f"group ({group.count}), {overall} per {messenger.limits.overall.seconds:g} s "
            f"overall ({limit}): {'ok' if within else 'OVER'}"
        )
    if any(left.values()):
        print(
            f"     ~: not all sent within the slice: the rest extrapolated at the achieved rate "
            f"(--full delivers everything); left {left}"
        )
    print(
        "     all sent: seconds from the senders' start; from :00: plus the sweep's seconds; "
        "share: the rate over the whole run against the limit (!: below the 90 % goal)"
    )


# Running -------------------------------------------------------------------------------------


async def run(args: argparse.Namespace, folder: Path, checks: Checks) -> None:
    with fresh_database(folder, args.postgresql) as url:
        store = Store(url)
        try:
            began = time.perf_counter()
            plan = store.write_now(setup, args.communities)
            print(
                f"   setup: {args.communities} communities, {len(plan.groups)} groups, "
                f"{args.communities * ENTRIES_PER_COMMUNITY:,} entries in "
                f"{time.perf_counter() - began:.1f} s",
                flush=True,
            )
            clock = Moving()
            seconds, queued = await sweep_and_verify(store, plan, clock, checks)
            await deliver(
                store,
                queued,
                clock,
                seconds,
                full=args.full,
                slice_seconds=args.slice,
                checks=checks,
            )
        finally:
            store.close()
    if not args.alarms:
        print("c  the alarm path: not run (--alarms)")
        return
    with fresh_database(folder, args.postgresql) as url:
        store = Store(url)
        try:
            store.write_now(setup, args.communities)
            await alarm_path(store, checks)
        finally:
            store.close()


def main() -> int:
    intro, _, scenarios = __doc__.partition("\n\n")
    parser = argparse.ArgumentParser(
        description=" ".join(intro.split()),
        epilog=scenarios,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--communities", type=int, default=100, help="of 5 groups (100)")
    parser.add_argument("--full", action="store_true", help="deliver everything (~90 s)")
    parser.add_argument("--slice", type=float, default=60.0, help="seconds delivered (60)")
    parser.add_argument("--alarms", action="store_true", help="also run c, the alarm path")
    parser.add_argument("--postgresql", metavar="URL", help="run on PostgreSQL (fresh schemas)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    database = "PostgreSQL" if args.postgresql else "SQLite file (WAL)"
    print(f"== scheduler: 1,000 entries due at one minute across 500 groups; {database}")
    checks = Checks()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(args, Path(folder), checks))
    for failure in checks.failed:
        print(f"   FAILED {failure}")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
