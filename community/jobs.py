"""Scheduled jobs: what fires when, and the claim that makes each firing run once.

A job is a schedule (a When in the community's timezone, maybe shifted: a member day's
announcement fires hours before its start) and the work a firing does. The scheduler (bot/)
only decides when to look; `due_firings` says what is due, and a firing's unit of work
`claim`s it by (job, scheduled time) in the same transaction that writes its posts. Whatever
crashes or races, a firing is claimed once, and its posts are queued once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, and_, func, or_, select

from community.communities import Community
from community.messages import Reply, renders_anywhere
from community.schedules import MAX_TIMES, When, firings, next_firings
from storage.schema import job_runs, polls
from storage.sql import insert_if_absent

# The most firings of one job a sweep looks at: a schedule of six times a day over a month.
MAX_FIRINGS_PER_SWEEP = 200
# How far back a process that has just started looks for firings it missed, to log them: a job
# that never ran (new, or older than the claims) is not walked from its beginning.
MISSED_LOOKBACK = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class FiringContext:
    """What a firing's work is given: the open connection, its community, the moment it was
    scheduled for and the moment it runs (later after downtime)."""

    conn: Connection
    community: Community
    scheduled_at: datetime
    now: datetime
    # Platforms the work queued messages for: their senders are woken after the commit.
    platforms: set[str]
    # Raises Unrenderable for a post its template cannot render in some language: a broken
    # entry is skipped and reported once, not sent in pieces to every group.
    check: Callable[[Reply], None] = renders_anywhere
    # The accounts community.toml lists as admins ("telegram:12345"): the deployment's own,
    # not kept in the database, handed to work that tells the admins something.
    admins: tuple[str, ...] = ()

    @property
    def due_by(self) -> datetime:
        """The moment work that does "whatever is due by now" counts to: the later of now and
        the firing's own time, since the console's clock, moved ahead by hand (:time), runs
        firings whose moment the process's own clock has not reached."""
        return max(self.now, self.scheduled_at)


Work = Callable[[FiringContext], Any]


@dataclass(frozen=True, slots=True)
class Job:
    """Something that fires on a schedule in one community."""

    key: str  # "topic:12", "memberday:3:open": names the job in claims and logs
    community_id: int
    when: When
    timezone: ZoneInfo
    work: Work
    # Firings before this moment never run: the job did not exist yet (or was paused).
    since: datetime
    # Added to each scheduled time: a member day's announcement fires before its start.
    offset: timedelta = timedelta()
    # Of firings due at one moment, lower ranks run first: a member day's recap before the
    # next one's opening when they are back to back.
    rank: int = 1

    def firings(self, after: datetime, until: datetime) -> list[datetime]:
        """The firing times in (after, until], oldest first."""
        start = max(after, self.since - timedelta(microseconds=1))
        found = firings(
            self.when,
            self.timezone,
            start - self.offset,
            until - self.offset,
            MAX_FIRINGS_PER_SWEEP,
        )
        return [at + self.offset for at in found]

    def next_firing(self, after: datetime) -> datetime | None:
        """The first firing after `after` (for the alarm clock); None for a spent one-off."""
        start = max(after, self.since - timedelta(microseconds=1)) - self.offset
        found = next_firings(self.when, self.timezone, start, 1)
        return found[0] + self.offset if found else None


# A schedule holds MAX_TIMES times a day at most, so an hourly sweep is this many daily jobs
# of MAX_TIMES times each, an hour apart.
HOURLY_JOBS = 24 // MAX_TIMES


def hourly_sweep(name: str, community: Community, work: Work, since: datetime) -> list[Job]:
    """An hourly sweep of the community: HOURLY_JOBS jobs "<name>:<community>:<n>", an hour
    apart, whose firings before `since` never run. A firing missed while the bot was down is
    caught up by the next one, an hour later at most, so the work does whatever is due by its
    time (FiringContext.due_by)."""
    return [
        Job(
            f"{name}:{community.id}:{n}",
            community.id,
            When("daily", times=tuple((hour + n, 0) for hour in range(0, 24, HOURLY_JOBS))),
            community.timezone,
            work,
            since,
        )
        for n in range(HOURLY_JOBS)
    ]


@dataclass(frozen=True, slots=True)
class Firing:
    """One due firing of a job."""

    job: Job
    at: datetime

    @property
    def key(self) -> str:
        return self.job.key


@dataclass(frozen=True, slots=True)
class Due:
    """What a sweep found: firings to run, oldest first, and those too old to run. `through`:
    when a job had more firings than one look lists (a clock moved a year), what was found is
    complete up to this moment only; the sweep looks again from there."""

    run: list[Firing]
    missed: list[Firing]
    through: datetime | None = None


def due_firings(
    conn: Connection,
    jobs: Sequence[Job],
    *,
    now: datetime,
    swept_to: datetime | None,
    grace: Callable[[int], timedelta],
    replay: bool = False,
) -> Due:
    """The unclaimed firings of `jobs` up to `now`.

    `swept_to` is when this process last looked (None: it has just started, and looks back to
    each job's last claim). A firing runs only if it is no older than the community's grace;
    older ones are `missed` (the caller records and logs them): the bot was down, or frozen.
    With `replay` (a clock moved by hand: the console's :time), everything since `swept_to`
    runs, in order, however old.
    """
    run: list[Firing] = []
    missed: list[Firing] = []
    through: datetime | None = None
    last = {} if swept_to is not None else last_claims(conn, [job.key for job in jobs])
    for job in jobs:
        late_limit = now - grace(job.community_id)
        if swept_to is not None:
            start = min(swept_to, late_limit)
        else:
            looked_back = late_limit - MISSED_LOOKBACK
            start = max(last.get(job.key) or looked_back, looked_back)
        found = job.firings(start, now)
        if len(found) == MAX_FIRINGS_PER_SWEEP:
            through = min(through or found[-1], found[-1])
        for at in found:
            fresh = at > late_limit or (replay and swept_to is not None and at > swept_to)
            (run if fresh else missed).append(Firing(job, at))
    if through is not None:
        # In time order, nothing past a truncated job's last listed firing runs this round.
        run = [firing for firing in run if firing.at <= through]
        missed = [firing for firing in missed if firing.at <= through]
    claimed = _claimed(conn, run + missed)
    run = [firing for firing in run if (firing.key, firing.at) not in claimed]
    missed = [firing for firing in missed if (firing.key, firing.at) not in claimed]
    run.sort(key=lambda firing: (firing.at, firing.job.rank, firing.key))
    return Due(run, missed, through)


def claim(
    conn: Connection,
    firing: Firing,
    *,
    now: datetime,
    outcome: str = "ran",
) -> bool:
    """Claim a firing for this unit of work; False when another already did (it ran)."""
    return insert_if_absent(
        conn,
        job_runs,
        {
            "job": firing.key,
            "scheduled_at": firing.at,
            "community_id": firing.job.community_id,
            "ran_at": now,
            "outcome": outcome,
        },
    )


def last_claims(conn: Connection, keys: Iterable[str]) -> dict[str, datetime]:
    """The newest claimed firing of each job that has one."""
    wanted = list(keys)
    found: dict[str, datetime] = {}
    # In slices: a statement's parameters are limited (SQLite: 32,766).
    for start in range(0, len(wanted), 500):
        part = wanted[start : start + 500]
        rows = conn.execute(
            select(job_runs.c.job, func.max(job_runs.c.scheduled_at))
            .where(job_runs.c.job.in_(part))
            .group_by(job_runs.c.job)
        )
        found.update({row[0]: row[1] for row in rows})
    return found


def _claimed(conn: Connection, found: Sequence[Firing]) -> set[tuple[str, datetime]]:
    claimed: set[tuple[str, datetime]] = set()
    for start in range(0, len(found), 200):
        part = found[start : start + 200]
        rows = conn.execute(
            select(job_runs.c.job, job_runs.c.scheduled_at).where(
                or_(
                    *(
                        and_(job_runs.c.job == firing.key, job_runs.c.scheduled_at == firing.at)
                        for firing in part
                    )
                )
            )
        )
        claimed.update((row.job, row.scheduled_at) for row in rows)
    return claimed


# Put into a unit of work's set of platforms to wake when a command changed what is scheduled
# (a topic added, a member day moved, a poll given an end): the scheduler re-reads its jobs.
SCHEDULE_CHANGED = "schedule"


def poll_ends(conn: Connection) -> list[tuple[int, datetime]]:
    """The open polls that close by themselves, with when (the alarm clock sets one each)."""
    rows = conn.execute(
        select(polls.c.id, polls.c.closes_at).where(
            polls.c.closed_at.is_(None), polls.c.closes_at.is_not(None)
        )
    )
    return [(row.id, row.closes_at) for row in rows]
