"""The alarm clock in the bot's own process: the real APScheduler on the test's event loop, the
real store, the real clock. Starting catches up and sets one alarm per job of the database; a
command that changes the schedule moves the alarms without a restart; an alarm going off closes
a timed poll once; stopping leaves nothing running.

Real time is only waited on where an alarm must really go off (a poll ending 0.3 s ahead), and
then on a condition read every 50 ms, never a fixed sleep.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Collection
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection

from bot.scheduler import Scheduler
from community import calendar, polls
from community.audit import Actor
from community.communities import Community, apply_config, community_by_slug, community_for_chat
from community.config import parse_config
from community.jobs import SCHEDULE_CHANGED
from community.outbox import decode_reply
from handlers.firings import Firings, Swept
from handlers.router import Dispatcher
from storage.schema import audit_log, job_runs, outbox
from storage.schema import polls as poll_table
from storage.store import Store
from tests.conftest import TEST_COMMUNITY, make_dispatcher
from tests.harness import RENDERER, Chat, Clock, rows

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the test community's timezone (no DST)
ADMIN = Actor(None, "console:boss")
GROUP = "-7001"
# A member day every Friday, announced a day before, recapped a day after.
MEMBER_DAY = """
[member_day]
enabled = true
when = "fri 00:00"
hours = 24
announce_hours_before = 24
"""
NEVER = 3600.0  # the periodic full sweep's interval: it never comes within a test


# Helpers ---------------------------------------------------------------------------------------


def acme(conn: Connection) -> Community:
    found = community_by_slug(conn, "acme")
    assert found is not None
    return found


def add_group(store: Store, chat_id: str = GROUP) -> None:
    store.write_now(
        lambda conn: community_for_chat(
            conn,
            platform="telegram",
            chat_id=chat_id,
            title="Acme",
            default_slug="acme",
            at=datetime.now(UTC),
        )
    )


def add_entry(store: Store, line: str, at: datetime) -> int:
    """A calendar entry added as /topic add would at `at`; its number."""
    return store.write_now(
        lambda conn: calendar.add_entry(conn, acme(conn), line, actor=ADMIN, at=at).id
    )


def hh_mm(moment: datetime) -> str:
    return f"{moment.astimezone(SHANGHAI):%H:%M}"


def next_local(after: datetime, hour: int, minute: int, weekdays: Collection[int] = ()) -> datetime:
    """The first local hour:minute in Shanghai after `after` (on one of `weekdays`, 0 = Monday,
    if given), in UTC: worked out here, not by the code under test."""
    day = after.astimezone(SHANGHAI).date()
    for ahead in range(15):
        date = day + timedelta(days=ahead)
        at = datetime.combine(date, time(hour, minute), SHANGHAI)
        if at > after and (not weekdays or date.weekday() in weekdays):
            return at.astimezone(UTC)
    raise AssertionError("no such time within two weeks")


def next_monthly(after: datetime, before: timedelta) -> datetime:
    """The first "1st of a month at 00:30 in Shanghai, less `before`" after `after`, in UTC."""
    day = after.astimezone(SHANGHAI).date().replace(day=1)
    for _ in range(3):
        at = datetime.combine(day, time(0, 30), SHANGHAI) - before
        if at > after:
            return at.astimezone(UTC)
        day = (day + timedelta(days=32)).replace(day=1)
    raise AssertionError("no such time within three months")


def posts(store: Store) -> list[tuple[str, str]]:
    """(chat, words) of every post of the bot's own in the outbox, in order."""
    return [
        (row.chat_id, RENDERER.render(decode_reply(row.payload, "en")))
        for row in rows(store, outbox)
        if row.kind == "post"
    ]


def alarm_times(scheduler: Scheduler) -> dict[str, datetime]:
    """The alarms but the periodic sweep's, each at its next time in UTC."""
    found = {}
    for key, at in scheduler.alarms.items():
        if key != "sync":
            assert at is not None, key
            found[key] = at.astimezone(UTC)
    return found


async def until(predicate: Callable[[], bool], timeout: float = 5) -> None:  # noqa: ASYNC109
    """Wait for what another task (an alarm, a reload) does, looking every 50 ms."""
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.05)


def dispatcher_waking(store: Store, clock: Clock, scheduler: Scheduler) -> Dispatcher:
    """The dispatcher as bot/app.build_app wires it: a unit of work that changed the schedule
    tells the running scheduler (SCHEDULE_CHANGED), which re-reads its jobs."""

    def wake(platform: str) -> None:
        if platform == SCHEDULE_CHANGED:
            scheduler.changed()

    return make_dispatcher(store, clock, wake)


@pytest.fixture
async def scheduler(store: Store) -> AsyncIterator[Scheduler]:
    """The alarm clock over the test store, on the real clock; stopped after the test."""
    running = Scheduler(Firings(store), sync_seconds=NEVER)
    yield running
    await running.stop()


# Starting --------------------------------------------------------------------------------------


async def test_start_catches_up_and_sets_one_alarm_per_job_at_its_next_time_in_utc(
    store: Store, scheduler: Scheduler
) -> None:
    now = datetime.now(UTC)
    add_group(store)
    config, digest = parse_config(TEST_COMMUNITY + MEMBER_DAY)
    store.write_now(
        apply_config, config, digest, default_timezone="UTC", default_locale="en", at=now
    )
    reading = add_entry(store, "mon,wed 20:00 What are you reading this week?", now)
    # Added half an hour ago, due five minutes ago: within the grace, so the start posts it.
    due = now - timedelta(minutes=5)
    morning = add_entry(
        store, f"daily {hh_mm(due)} Good morning, Acme!", now - timedelta(minutes=30)
    )
    poll = store.write_now(
        lambda conn: polls.open_poll(
            conn,
            acme(conn),
            platform="telegram",
            chat_id=GROUP,
            text="--for 2h Best flavour? | Mango | Lychee",
            actor=ADMIN,
            at=now,
        )
    )
    community_id = poll.community_id
    assert poll.closes_at is not None

    await scheduler.start()

    # The catch-up sweep ran before start() returned: the morning topic is in the outbox.
    assert [(chat, "Good morning, Acme!" in words) for chat, words in posts(store)] == [
        (GROUP, True)
    ]
    runs = {(row.job, row.outcome) for row in rows(store, job_runs)}
    assert (f"topic:{morning}", "ran") in runs

    friday = 4
    assert alarm_times(scheduler) == {
        f"topic:{reading}": next_local(now, 20, 0, weekdays=(0, 2)),
        f"topic:{morning}": next_local(now, int(hh_mm(due)[:2]), int(hh_mm(due)[3:])),
        f"memberday:{community_id}:announce": (
            next_local(now + timedelta(hours=24), 0, 0, weekdays=(friday,)) - timedelta(hours=24)
        ),
        f"memberday:{community_id}:open": next_local(now, 0, 0, weekdays=(friday,)),
        f"memberday:{community_id}:recap": (
            next_local(now - timedelta(hours=24), 0, 0, weekdays=(friday,)) + timedelta(hours=24)
        ),
        f"remind:{community_id}": next_local(now, 20, 0),  # reminders.streak_at
        f"poll:{poll.id}": poll.closes_at,
        f"expiry:{community_id}": next_local(now, 0, 10),  # expiry.run_at
        f"birthday:{community_id}": next_local(now, 9, 0),  # birthdays.at
        # The tier review on the 1st of each month at 00:30, its reminder 7 days before.
        f"tiers:{community_id}:review": next_monthly(now, timedelta(0)),
        f"tiers:{community_id}:remind": next_monthly(now, timedelta(days=7)),
    }
    assert set(scheduler.alarms) - set(alarm_times(scheduler)) == {"sync"}


async def test_a_paused_or_removed_entry_loses_its_alarm_on_reload_and_a_resumed_one_regains_it(
    store: Store, scheduler: Scheduler
) -> None:
    now = datetime.now(UTC)
    first = add_entry(store, "mon,wed 20:00 Reading", now)
    second = add_entry(store, "fri 21:00 Movie night", now)
    await scheduler.start()
    before = alarm_times(scheduler)
    assert {f"topic:{first}", f"topic:{second}"} <= before.keys()

    store.write_now(lambda conn: calendar.pause_entry(conn, acme(conn), first, actor=ADMIN, at=now))
    store.write_now(
        lambda conn: calendar.remove_entry(conn, acme(conn), second, actor=ADMIN, at=now)
    )
    assert alarm_times(scheduler) == before  # nothing moves until the scheduler re-reads
    await scheduler.reload()
    after = alarm_times(scheduler)
    assert f"topic:{first}" not in after and f"topic:{second}" not in after
    assert after == {
        k: v for k, v in before.items() if k not in (f"topic:{first}", f"topic:{second}")
    }

    store.write_now(
        lambda conn: calendar.resume_entry(conn, acme(conn), first, actor=ADMIN, at=now)
    )
    await scheduler.reload()
    assert alarm_times(scheduler)[f"topic:{first}"] == next_local(now, 20, 0, weekdays=(0, 2))


async def test_a_topic_added_by_command_gets_its_alarm_without_a_restart(
    store: Store, scheduler: Scheduler
) -> None:
    await scheduler.start()
    now = datetime.now(UTC)
    chat = Chat(dispatcher_waking(store, Clock(now), scheduler), Clock(now))
    said = await chat.say("boss", "/topic add fri 21:00 Movie night")
    assert said.text is not None and said.text.startswith("🗓 Topic #1 saved: Fri 21:00.")

    await until(lambda: "topic:1" in scheduler.alarms)
    assert alarm_times(scheduler)["topic:1"] == next_local(now, 21, 0, weekdays=(4,))

    await chat.say("boss", "/topic pause 1")
    await until(lambda: "topic:1" not in scheduler.alarms)
    await chat.say("boss", "/topic resume 1")
    await until(lambda: "topic:1" in scheduler.alarms)
    await chat.say("boss", "/topic remove 1")
    await until(lambda: "topic:1" not in scheduler.alarms)


# An alarm going off ----------------------------------------------------------------------------


async def test_a_timed_polls_alarm_closes_it_at_its_end_and_posts_its_results_once(
    store: Store, scheduler: Scheduler
) -> None:
    await scheduler.start()
    ahead = timedelta(seconds=0.3)
    # /poll --for 1m said 59.7 s ago (the event's own time): it ends 0.3 s from now.
    clock = Clock(datetime.now(UTC) - timedelta(minutes=1) + ahead)
    chat = Chat(dispatcher_waking(store, clock, scheduler), clock)
    said = await chat.say("boss", "/poll --for 1m Best flavour? | Mango | Lychee")
    assert said.text is not None and "⏰ Closes" in said.text
    (poll,) = rows(store, poll_table)
    assert poll.closes_at == clock.now + timedelta(minutes=1)

    await until(lambda: f"poll:{poll.id}" in scheduler.alarms, timeout=1)
    assert alarm_times(scheduler)[f"poll:{poll.id}"] == poll.closes_at
    # Nothing but the alarm sweeps here (the periodic sweep is an hour away).
    await until(lambda: rows(store, poll_table)[0].closed_at is not None, timeout=1.5)
    woke = datetime.now(UTC)

    closing = [row for row in rows(store, audit_log) if row.action == "poll_close"]
    assert len(closing) == 1
    assert poll.closes_at <= closing[0].created_at <= woke  # at its end, not before
    results = [words for chat_id, words in posts(store) if words.startswith("📊 Results")]
    assert len(results) == 1, posts(store)
    assert "Best flavour?" in results[0]
    assert f"poll:{poll.id}" not in scheduler.alarms  # a one-off alarm is spent

    await scheduler.sweep()  # a later sweep (or a second alarm) posts nothing more
    await scheduler.reload()
    assert f"poll:{poll.id}" not in scheduler.alarms
    assert len([w for _, w in posts(store) if w.startswith("📊 Results")]) == 1


# Stopping --------------------------------------------------------------------------------------


async def test_stop_leaves_nothing_running_and_is_safe_twice(
    store: Store, scheduler: Scheduler
) -> None:
    add_entry(store, "mon,wed 20:00 Reading", datetime.now(UTC))
    await scheduler.start()
    assert alarm_times(scheduler)
    scheduler.changed()  # a re-read asked for just before stopping
    await scheduler.stop()
    await scheduler.stop()
    others = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
    await asyncio.gather(*others, return_exceptions=True)  # a cancelled re-read winds down
    assert scheduler.alarms == {}  # no alarm can go off any more
    assert not [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]


async def test_stop_before_start_is_safe(store: Store) -> None:
    never_started = Scheduler(Firings(store), sync_seconds=NEVER)
    await never_started.stop()
    await never_started.stop()


class HeldFirings(Firings):
    """Firings whose re-read of the jobs is held after the jobs were read (before the polls'
    ends are), so a test can change the schedule while a re-read is under way."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.read = asyncio.Event()
        self.go_on = asyncio.Event()
        self.go_on.set()

    async def poll_ends(self) -> list[tuple[int, datetime]]:
        self.read.set()
        await self.go_on.wait()
        return await super().poll_ends()


async def test_a_change_made_while_the_alarms_are_being_re_read_still_gets_its_alarm(
    store: Store,
) -> None:
    firings = HeldFirings(store)
    scheduler = Scheduler(firings, sync_seconds=NEVER)
    try:
        await scheduler.start()
        now = datetime.now(UTC)
        first = add_entry(store, "mon 20:00 First", now)
        firings.read.clear()
        firings.go_on.clear()
        scheduler.changed()  # the first command's re-read reads the jobs ...
        await asyncio.wait_for(firings.read.wait(), 5)
        second = add_entry(store, "tue 20:00 Second", now)  # ... a second command commits
        scheduler.changed()  # and tells the scheduler, while the first re-read is not done
        firings.go_on.set()
        await until(lambda: f"topic:{first}" in scheduler.alarms)
        await asyncio.sleep(0)
        await until(lambda: f"topic:{second}" in scheduler.alarms, timeout=0.3)
    finally:
        await scheduler.stop()


async def test_a_one_off_topic_that_has_fired_sets_no_alarm_again(
    store: Store, scheduler: Scheduler
) -> None:
    now = datetime.now(UTC)
    due = now - timedelta(minutes=5)
    once = add_entry(
        store, f"{due.astimezone(SHANGHAI):%Y-%m-%d %H:%M} Launch day!", due - timedelta(minutes=30)
    )
    await scheduler.start()  # the catch-up posts it
    assert [row.outcome for row in rows(store, job_runs) if row.job == f"topic:{once}"] == ["ran"]
    await scheduler.reload()  # as after any /topic, /poll --for or /memberday command
    # Each re-read arms it again: its alarm goes off at once and sweeps for nothing.
    assert f"topic:{once}" not in scheduler.alarms


async def test_a_clock_moved_a_year_by_hand_posts_every_day_once_in_order(store: Store) -> None:
    # The console's :time a year ahead: more firings than one look lists, walked in stretches.
    start = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    add_entry(store, "daily 20:00 Tea time", start)
    firings = Firings(store, clock=lambda: start, replay=True)
    await firings.sweep(start)
    swept = await firings.sweep(start + timedelta(days=365))
    claims = [row for row in rows(store, job_runs) if row.job.startswith("topic:")]
    assert [row.outcome for row in claims] == ["ran"] * 365
    assert swept.ran >= 365 and swept.missed == 0


async def test_a_firing_whose_work_fails_is_claimed_failed_audited_and_the_rest_runs(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A job whose work raises (a bug in a future feature): the sweep goes on, the firing is
    # not retried at every sweep, and the community's audit log says so.
    from community.jobs import Job
    from community.schedules import parse_when
    from handlers import firings as firings_module

    def broken_jobs(conn: Connection, community: Community) -> list[Job]:
        def work(ctx: object) -> None:
            raise RuntimeError("a bug")

        when = parse_when("daily 20:00")[0]
        start = datetime(2026, 11, 20, tzinfo=UTC)
        return [Job("broken:1", community.id, when, SHANGHAI, work, start)]

    monkeypatch.setattr(firings_module, "JOB_SOURCES", (*firings_module.JOB_SOURCES, broken_jobs))
    start = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    add_entry(store, "daily 20:00 Tea time", start)
    firings = Firings(store, clock=lambda: start, replay=True)
    await firings.sweep(start)
    swept = await firings.sweep(datetime(2026, 11, 23, 12, 1, tzinfo=UTC))
    again = await firings.sweep(datetime(2026, 11, 23, 12, 2, tzinfo=UTC))
    claims = {row.job: row.outcome for row in rows(store, job_runs)}
    assert claims["broken:1"] == "failed" and claims["topic:1"] == "ran"
    assert swept.ran >= 1 and again.ran == 0
    audited = [row.details for row in rows(store, audit_log) if row.action == "firing_failed"]
    assert audited == [
        {
            "by": "scheduler",
            "job": "broken:1",
            "scheduled_at": "2026-11-23T12:00:00+00:00",
            "problem": "RuntimeError",
        }
    ]


class CountedHeldFirings(HeldFirings):
    """Held re-reads, and a count of the sweeps."""

    sweeps = 0

    async def sweep(self, now: datetime | None = None) -> Swept:
        self.sweeps += 1
        return await super().sweep(now)


async def test_an_alarm_that_goes_off_while_the_alarms_are_re_read_still_sweeps(
    store: Store,
) -> None:
    firings = CountedHeldFirings(store)
    scheduler = Scheduler(firings, sync_seconds=NEVER)
    try:
        await scheduler.start()
        before = firings.sweeps
        firings.read.clear()
        firings.go_on.clear()
        first = asyncio.ensure_future(scheduler.sweep("topic:1"))  # sweeps, then re-reads
        await asyncio.wait_for(firings.read.wait(), 5)
        await scheduler.sweep("topic:2")  # goes off during that re-read
        firings.go_on.set()
        await asyncio.wait_for(first, 5)
        assert firings.sweeps - before == 2
    finally:
        await scheduler.stop()


class HeldOnce(Firings):
    """Firings whose next re-read of the jobs alone is held, after it read them."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.hold = False
        self.read = asyncio.Event()
        self.go_on = asyncio.Event()

    async def poll_ends(self) -> list[tuple[int, datetime]]:
        if self.hold:
            self.hold = False
            self.read.set()
            await self.go_on.wait()
        return await super().poll_ends()


async def test_a_re_read_that_read_the_jobs_before_a_change_cannot_undo_its_alarm(
    store: Store,
) -> None:
    firings = HeldOnce(store)
    scheduler = Scheduler(firings, sync_seconds=NEVER)
    try:
        await scheduler.start()
        now = datetime.now(UTC)
        firings.hold = True
        sweeping = asyncio.ensure_future(scheduler.sweep("sync"))  # its re-read is held ...
        await asyncio.wait_for(firings.read.wait(), 5)
        added = add_entry(store, "tue 20:00 Added meanwhile", now)
        scheduler.changed()  # ... while a command's re-read runs
        await asyncio.sleep(0.2)  # the command's re-read, unless it waits its turn, is done
        firings.go_on.set()  # the stale re-read finishes last
        await asyncio.wait_for(sweeping, 5)
        await until(lambda: f"topic:{added}" in scheduler.alarms)
        await asyncio.sleep(0.05)
        assert f"topic:{added}" in scheduler.alarms
    finally:
        await scheduler.stop()


async def test_a_clock_moved_back_by_hand_runs_what_it_then_passes_again(
    store: Store,
) -> None:
    # The console's :time a month ahead, then back, then a topic added in the past stretch:
    # moving forward again posts it on each day passed.
    start = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    firings = Firings(store, clock=lambda: start, replay=True)
    await firings.sweep(start + timedelta(days=30))
    await firings.sweep(start)  # :time back to the start
    add_entry(store, "daily 20:00 Tea time", start)
    swept = await firings.sweep(start + timedelta(days=5))
    claims = [row for row in rows(store, job_runs) if row.job.startswith("topic:")]
    assert swept.ran >= 5 and len(claims) == 5 and {row.outcome for row in claims} == {"ran"}
