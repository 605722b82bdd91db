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
from community.jobs import FiringContext, Job, hourly_sweep
from community.schedules import When
from storage.contest_tables import contests


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
    return found + hourly_sweep("contests", community, sweep, max(earliest, community.created_at))


def _once(at: datetime, community: Community) -> When:
    local = at.astimezone(community.timezone)
    return When("once", times=((local.hour, local.minute),), on=local.date())


def sweep(ctx: FiringContext) -> None:
    """A firing's work: every contest step due by its time."""
    ctx.platforms.update(settle(ctx.conn, ctx.community, ctx.due_by))
