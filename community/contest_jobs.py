"""A contest's close, its vote's end and the winners, as the scheduler runs them (see
community/jobs.py).

On time: each live contest has a one-off job at its next step ("contest:<n>:open" fires at its
closes_at, "contest:<n>:voting" at its vote_ends_at). Caught up: a firing older than the
scheduler's grace (the bot was down) is missed, not run, so while a step is overdue an hourly
sweep runs too, as Q&A's does (four jobs of six times a day, an hour apart), listed from the
earliest step's moment only: a community whose contests are not due costs nothing. Both do the
same work, whatever is due by their time (contest_voting.settle), and each step is claimed by
its contest's state: firing twice closes, pays and posts once.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from community.communities import Community
from community.contest_voting import settle
from community.contests import OPEN, VOTING
from community.jobs import FiringContext, Job
from community.schedules import MAX_TIMES, When
from storage.contest_tables import contests

EVERY = 24 // MAX_TIMES  # hours between one sweep job's firings (a schedule's most a day)


def jobs(conn: Connection, community: Community) -> list[Job]:
    """This activity's jobs for the community (none while no contest is live)."""
    rows = conn.execute(
        select(contests.c.id, contests.c.state, contests.c.closes_at, contests.c.vote_ends_at)
        .where(contests.c.community_id == community.id, contests.c.state.in_((OPEN, VOTING)))
        .order_by(contests.c.id)
    ).all()
    steps: list[tuple[int, str, datetime]] = []
    for row in rows:
        at = row.closes_at if row.state == OPEN else row.vote_ends_at
        if at is not None:
            steps.append((row.id, row.state, at))
    if not steps:
        return []
    tz = community.timezone
    found = [
        Job(
            f"contest:{number}:{state}",
            community.id,
            _once(at, community),
            tz,
            sweep,
            community.created_at,
        )
        for number, state, at in steps
    ]
    earliest = min(at for _, _, at in steps)
    found += [
        Job(
            f"contests:{community.id}:{n}",
            community.id,
            When("daily", times=tuple((hour + n, 0) for hour in range(0, 24, EVERY))),
            tz,
            sweep,
            max(earliest, community.created_at),
        )
        for n in range(EVERY)
    ]
    return found


def _once(at: datetime, community: Community) -> When:
    local = at.astimezone(community.timezone)
    return When("once", times=((local.hour, local.minute),), on=local.date())


def sweep(ctx: FiringContext) -> None:
    """A firing's work: every contest step due by now. Now is never before the firing's own
    time: the console's clock, moved ahead by hand, runs firings whose wall clock is behind."""
    ctx.platforms.update(settle(ctx.conn, ctx.community, max(ctx.now, ctx.scheduled_at)))
