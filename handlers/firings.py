"""The scheduler's entrance: what is due, and each firing run once as its own unit of work.

The scheduler (bot/scheduler.py, or the console's moved clock, or a test's) only says "look
now". A sweep lists every community's jobs (topic calendar, member day, reminders), finds the
firings due since it last looked, and runs each, oldest first, in its own transaction that
first claims it (community/jobs.py). Polls that were opened with an end close here too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from community import (
    ambassador_jobs,
    audit,
    birthday_jobs,
    contest_jobs,
    draw_jobs,
    expiry_jobs,
    member_day_posts,
    poll_closing,
    question_jobs,
    reminders,
    submission_jobs,
    tier_jobs,
    topic_posts,
)
from community.communities import Community, all_communities, community_by_id
from community.jobs import Due, Firing, FiringContext, Job, claim, due_firings, poll_ends
from community.messages import Reply, renders_anywhere
from storage.sql import savepoint
from storage.store import Store

log = logging.getLogger(__name__)

# Who the audit log names for what the scheduler did on its own.
SCHEDULER = audit.Actor(None, "scheduler")

# Firings handed to the store's writer at once (it commits them together, in order).
RUN_BATCH = 64

# Every feature's jobs, per community.
JOB_SOURCES: tuple[Callable[[Connection, Community], list[Job]], ...] = (
    topic_posts.jobs,
    member_day_posts.jobs,
    reminders.jobs,
    tier_jobs.jobs,
    expiry_jobs.jobs,
    birthday_jobs.jobs,
    question_jobs.jobs,
    submission_jobs.jobs,
    ambassador_jobs.jobs,
    contest_jobs.jobs,
    draw_jobs.jobs,
)


@dataclass(frozen=True, slots=True)
class Swept:
    """What one sweep did."""

    ran: int = 0
    missed: int = 0
    polls_closed: int = 0


def all_jobs(conn: Connection, found: Sequence[Community] | None = None) -> list[Job]:
    """The jobs of every community (of `found`, when the caller has read them already)."""
    every = all_communities(conn) if found is None else found
    return [job for community in every for source in JOB_SOURCES for job in source(conn, community)]


class Firings:
    """Runs what the schedule says is due, each firing once."""

    def __init__(
        self,
        store: Store,
        *,
        queued: Callable[[str], None] = lambda platform: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        check: Callable[[Reply], None] = renders_anywhere,
        replay: bool = False,
        admins: tuple[str, ...] = (),
    ) -> None:
        self._store = store
        self._queued = queued
        self._clock = clock
        self._check = check
        # community.toml's admins, for work that tells them something (FiringContext.admins).
        self._admins = admins
        # A clock moved by hand (the console's :time, tests): what fell due since the last
        # sweep all runs, in order. Otherwise a firing older than the grace is missed,
        # whether the bot was down or its process frozen.
        self.replay = replay
        # When this process last swept: where the next sweep starts looking.
        self.swept_to: datetime | None = None

    async def jobs(self) -> list[Job]:
        """Every community's jobs as the database says now (for the alarm clock)."""
        return await self._store.read(all_jobs)

    async def poll_ends(self) -> list[tuple[int, datetime]]:
        """The open polls that close by themselves, with when."""
        return await self._store.read(poll_ends)

    async def sweep(self, now: datetime | None = None) -> Swept:
        """Run every firing due up to `now` (default: the clock), oldest first."""
        now = now or self._clock()
        ran = missed = 0
        while True:
            due: Due = await self._store.read(self._due, now, self.swept_to)
            if due.missed:
                await self._record_missed(due.missed)
            missed += len(due.missed)
            # Each firing is a unit of work of its own, handed to the writer a batch at a time
            # and in order: the writer commits a batch together (one fsync, not one per
            # firing), and a firing that fails is re-run alone, not taking its batch down.
            for start in range(0, len(due.run), RUN_BATCH):
                batch = due.run[start : start + RUN_BATCH]
                ran += sum(await asyncio.gather(*(self._run(firing) for firing in batch)))
            if due.through is None or self.swept_to is None:
                break
            self.swept_to = due.through  # a long way to walk: the next stretch
        closed = 0
        for poll_id in await self._store.read(poll_closing.closing_due, now):
            try:
                closed += await self._close_poll(poll_id)
            except Exception:
                # One poll that cannot be closed must not keep the others open.
                log.exception("timed poll not closed", extra={"poll": poll_id})
        # A clock moved by hand may go back: the next sweep looks from there again (claims
        # keep what ran from running twice).
        if self.replay or self.swept_to is None or now > self.swept_to:
            self.swept_to = now
        return Swept(ran, missed, closed)

    def _due(self, conn: Connection, now: datetime, swept_to: datetime | None) -> Due:
        every = all_communities(conn)
        graces = {c.id: timedelta(minutes=c.rules.schedule.grace_minutes) for c in every}
        return due_firings(
            conn,
            all_jobs(conn, every),
            now=now,
            swept_to=swept_to,
            grace=graces.__getitem__,
            replay=self.replay,
        )

    async def _record_missed(self, missed: Sequence[Firing]) -> None:
        """Log what downtime cost, one line per job, and claim each job's newest missed firing
        as missed, so the next start looks back no further than that."""
        newest: dict[str, Firing] = {}
        counts: dict[str, int] = {}
        for firing in missed:  # oldest first
            newest[firing.key] = firing
            counts[firing.key] = counts.get(firing.key, 0) + 1
        for key, firing in newest.items():
            log.warning(
                "scheduled firings skipped: older than the grace period",
                extra={"job": key, "skipped": counts[key], "newest": firing.at.isoformat()},
            )
        await self._store.write(self._claim_missed, list(newest.values()))

    def _claim_missed(self, conn: Connection, missed: Sequence[Firing]) -> None:
        for firing in missed:
            claim(conn, firing, now=self._clock(), outcome="missed")

    async def _run(self, firing: Firing) -> bool:
        platforms: set[str] = set()
        try:
            ran = await self._store.write(
                self._unit_of_work, firing, self._clock(), platforms, self._check, self._admins
            )
        except Exception as error:
            # A firing whose work fails is claimed as failed, so it is not retried every
            # minute; the log has the trace, the community's audit log the fact.
            log.exception("scheduled firing failed", extra={"job": firing.key})
            await self._store.write(self._record_failed, firing, type(error).__name__)
            return False
        for platform in platforms:
            self._queued(platform)
        return ran

    @staticmethod
    def _unit_of_work(
        conn: Connection,
        firing: Firing,
        now: datetime,
        platforms: set[str],
        check: Callable[[Reply], None],
        admins: tuple[str, ...],
    ) -> bool:
        if not claim(conn, firing, now=now):
            return False  # another process (or an earlier run) has done it
        community = community_by_id(conn, firing.job.community_id)
        if community is None:
            return False
        context = FiringContext(conn, community, firing.at, now, platforms, check, admins)
        with savepoint(conn):
            firing.job.work(context)
        return True

    def _record_failed(self, conn: Connection, firing: Firing, problem: str) -> None:
        if claim(conn, firing, now=self._clock(), outcome="failed"):
            audit.record(
                conn,
                community_id=firing.job.community_id,
                actor=SCHEDULER,
                action="firing_failed",
                at=self._clock(),
                job=firing.key,
                scheduled_at=firing.at.isoformat(),
                problem=problem,
            )

    async def _close_poll(self, poll_id: int) -> bool:
        platforms: set[str] = set()
        closed = await self._store.write(
            poll_closing.close_on_time, poll_id, self._clock(), platforms
        )
        for platform in platforms:
            self._queued(platform)
        return bool(closed)
