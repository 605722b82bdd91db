"""The alarm clock: APScheduler on the bot's one event loop, waking the firings' sweep.

APScheduler 3.x only decides *when* to look. Each job of the database (a topic, a member day's
phases, a reminder, a poll's end) gets an alarm, a DateTrigger at its next firing (worked out by
community/schedules.py: APScheduler's own CronTrigger skips a day across a spring-forward
change); when one goes off, a sweep runs what is due (handlers/firings.py claims each firing
once in the database, so a second process or a restart never repeats one) and the alarms are
set again from the database. A periodic full sweep runs
whatever is due (what another process or the CLI added, a wake-up a DST change made APScheduler
miss) and then sets the alarms again from the database.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from handlers.firings import Firings

log = logging.getLogger(__name__)

_SYNC = "sync"  # the periodic full sweep's own job id


class Scheduler:
    """Wakes the sweep when a job is due, and every `sync_seconds` in any case."""

    def __init__(self, firings: Firings, *, sync_seconds: float) -> None:
        self._firings = firings
        self._sync_seconds = sync_seconds
        self._aps = AsyncIOScheduler(timezone=UTC)
        # One sweep at a time: two wake-ups at one minute must not claim in parallel (the
        # claims would hold, but the second would only wait on the first's transactions).
        self._lock = asyncio.Lock()
        self._wanted = False  # a wake-up came: sweep (again)
        # One re-read of the alarms at a time, each reading the jobs inside it: a re-read that
        # read them before a change committed cannot finish after the one that saw it.
        self._reloading = asyncio.Lock()
        self._resync: asyncio.Task[None] | None = None
        # Set by changed(): the alarms must be set again from the database, even if a re-read
        # is under way (it may have read the jobs before the change committed).
        self._dirty = False

    async def start(self) -> None:
        """Catch up on what fell due while the bot was down, then keep the alarms set."""
        await self.sweep()
        self._aps.add_job(
            self._sync,
            IntervalTrigger(seconds=self._sync_seconds, timezone=UTC),
            id=_SYNC,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )
        self._aps.start()
        await self.reload()

    async def stop(self) -> None:
        """Stop waking. A sweep under way is cancelled between writes: what it handed to the
        store commits; its later firings are found by the next start."""
        if self._resync is not None:
            self._resync.cancel()
        if self._aps.running:
            self._aps.shutdown(wait=False)
        async with self._lock:
            pass

    def changed(self) -> None:
        """A command changed what is scheduled: set the alarms again, soon, off this call."""
        self._dirty = True
        if self._resync is None or self._resync.done():
            self._resync = asyncio.get_running_loop().create_task(self._reload_until_clean())

    async def _reload_until_clean(self) -> None:
        while self._dirty:
            self._dirty = False
            await self.reload()

    async def _sync(self) -> None:
        """The periodic full sweep (it sets the alarms again from the database, other
        processes' changes included)."""
        await self.sweep()

    async def reload(self) -> None:
        """Set one alarm per job of the database (adding, moving and dropping alarms)."""
        async with self._reloading:
            await self._reload()

    async def _reload(self) -> None:
        try:
            jobs = await self._firings.jobs()
            due_polls = await self._firings.poll_ends()
        except Exception:
            log.exception("scheduler could not read its jobs; the periodic sweep goes on")
            return
        wanted: set[str] = set()
        now = datetime.now(UTC)
        for job in jobs:
            try:
                upcoming = job.next_firing(now)
            except (OverflowError, ValueError):
                # One job's schedule that cannot be followed must not leave the others unset;
                # the periodic sweep still runs it, if it ever comes due.
                log.exception("scheduler cannot set an alarm", extra={"job": job.key})
                continue
            if upcoming is None:
                continue  # a one-off that has fired
            wanted.add(job.key)
            self._set_alarm(job.key, DateTrigger(run_date=upcoming, timezone=UTC))
        for poll_id, closes_at in due_polls:
            key = f"poll:{poll_id}"
            wanted.add(key)
            # A poll past its end closes in the sweep under way (or the next); no alarm.
            if closes_at > now:
                self._set_alarm(key, DateTrigger(run_date=closes_at, timezone=UTC))
            else:
                wanted.discard(key)
        for alarm in self._aps.get_jobs():
            if alarm.id != _SYNC and alarm.id not in wanted:
                alarm.remove()
        log.info("scheduler alarms set", extra={"jobs": len(wanted)})

    async def sweep(self, alarm: str | None = None) -> None:
        """Run what is due now. Alarms that go off while a sweep runs ask for one more sweep
        after it, not one each: a thousand topics at one minute cost two sweeps, not a
        thousand (`alarm` names the one that went off, for the log)."""
        self._wanted = True
        if self._lock.locked():
            return  # the sweep under way runs once more when it is done
        async with self._lock:
            while self._wanted:
                while self._wanted:
                    self._wanted = False
                    await self._sweep_once()
                if self._aps.running:
                    # The alarms that went off, set to their next firings; an alarm that goes
                    # off meanwhile asks for one more round.
                    await self.reload()

    async def _sweep_once(self) -> None:
        try:
            swept = await self._firings.sweep()
        except Exception:
            log.exception("scheduled sweep failed; the next one tries again")
            return
        if swept.ran or swept.missed or swept.polls_closed:
            log.info(
                "scheduled firings run",
                extra={"ran": swept.ran, "missed": swept.missed, "polls": swept.polls_closed},
            )

    def _set_alarm(self, key: str, trigger: object) -> None:
        existing = self._aps.get_job(key)
        if existing is not None and str(existing.trigger) == str(trigger):
            return  # unchanged: keep its next run time
        self._aps.add_job(
            self.sweep,
            trigger,
            args=(key,),
            id=key,
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            # A late wake-up still sweeps: the grace period is the firings' own rule.
            misfire_grace_time=None,
        )

    @property
    def alarms(self) -> dict[str, datetime | None]:
        """Each alarm's next time (for tests and logs)."""
        return {job.id: job.next_run_time for job in self._aps.get_jobs()}
