"""A lucky draw's close and its winners, as the scheduler draws them (see community/jobs.py).

Each open draw has a one-off job at its close ("draw:<number>:close", on the minute: a close
given with seconds fires at the next minute). A firing missed while the bot was down (older
than the community's grace) is not run by the scheduler; so while a draw's close has come and
it is still open, an hourly catch-up sweep ("draws:<community>:<n>", four jobs of six times a
day, an hour apart, as community/question_jobs.py does) draws it: at most an hour after the
bot is back. Every firing draws whatever is due by its time, each draw once
(community/draw_closing.py claims it).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, select

from community import draw_closing
from community.communities import Community
from community.draws import OPEN
from community.jobs import FiringContext, Job, hourly_sweep
from community.schedules import When
from storage.draw_tables import draws


def jobs(conn: Connection, community: Community) -> list[Job]:
    """Every open draw's close, and the hourly catch-up from the earliest close on; nothing
    while no draw is open."""
    closes = conn.execute(
        select(draws.c.id, draws.c.closes_at).where(
            draws.c.community_id == community.id, draws.c.state == OPEN
        )
    ).all()
    if not closes:
        return []
    tz = community.timezone
    found = [
        Job(
            f"draw:{number}:close",
            community.id,
            _once(closes_at, community),
            tz,
            close_due,
            closes_at - timedelta(minutes=1),
        )
        for number, closes_at in closes
    ]
    earliest = min(closes_at for _, closes_at in closes)
    return found + hourly_sweep("draws", community, close_due, earliest)


def _once(closes_at: datetime, community: Community) -> When:
    """The close's own firing: its minute, or the next one when it has seconds."""
    local = closes_at.astimezone(community.timezone)
    minute = local.replace(second=0, microsecond=0)
    if minute < local:
        minute += timedelta(minutes=1)
    return When("once", times=((minute.hour, minute.minute),), on=minute.date())


def close_due(ctx: FiringContext) -> int:
    """A firing's work: draw every draw of the community whose close has come. Returns how
    many were drawn."""
    now = ctx.due_by
    drawn = 0
    for number in draw_closing.due(ctx.conn, ctx.community.id, now):
        done = draw_closing.close(ctx.conn, ctx.community, number, now)
        if done is not None:
            drawn += 1
            ctx.platforms.update(done.platforms)
    return drawn
