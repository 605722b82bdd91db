"""The daily expiry run (积分过期): expired points leave the ledger, and members whose points
expire soon get one private reminder per expiry moment ("120 points expire on 12-01").

A reminder is recorded before it is queued (a job_runs row named for the member, dated with
the expiry moment), so a member hears of one expiry once, however many daily runs see it
coming; a run missed while the bot was down is made up by the next while the expiry is ahead.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Connection, Insert, String, and_, bindparam, cast, exists, func, select
from sqlalchemy.dialects import postgresql, sqlite

from community.communities import Community
from community.jobs import FiringContext, Job
from community.messages import Reply, Visibility
from community.outbox import Direct, enqueue_directs
from community.reminders import recipients
from community.schedules import When
from loyalty import expiry
from storage.schema import job_runs, lots, members

_REMINDED = (
    exists()
    .where(
        job_runs.c.job == bindparam("prefix", type_=String).concat(cast(lots.c.member_id, String)),
        job_runs.c.scheduled_at == lots.c.expires_at,
    )
    .correlate(lots)
)
# Per member and expiry moment in the window, the points that will expire then, unless that
# member was reminded of that moment already.
_COMING = (
    select(
        lots.c.member_id,
        lots.c.expires_at,
        func.sum(lots.c.remaining).label("points"),
        members.c.display_name,
    )
    .join(members, members.c.id == lots.c.member_id)
    .where(
        lots.c.community_id == bindparam("community"),
        lots.c.remaining > 0,
        and_(lots.c.expires_at > bindparam("after"), lots.c.expires_at <= bindparam("until")),
        ~_REMINDED,
    )
    .group_by(lots.c.member_id, lots.c.expires_at, members.c.display_name)
    .order_by(lots.c.member_id, lots.c.expires_at)
)


def jobs(conn: Connection, community: Community) -> list[Job]:
    """The expiry run ("expiry:<community>"), daily at [expiry] run_at."""
    hour, minute = community.rules.expiry.run_at.split(":")
    return [
        Job(
            f"expiry:{community.id}",
            community.id,
            When("daily", times=((int(hour), int(minute)),)),
            community.timezone,
            run_expiry,
            community.created_at,
        )
    ]


def reminder_key(community_id: int, member_id: int) -> str:
    """The job_runs name of a member's expiry reminders (its scheduled_at: the expiry moment)."""
    return f"expiry-remind:{community_id}:{member_id}"


def run_expiry(ctx: FiringContext) -> expiry.ExpiryOutcome:
    """Post the points expired by the firing's moment, then remind whoever's points expire in
    the next remind_days_before days and has not heard of that expiry yet."""
    outcome = expiry.expire_due(ctx.conn, ctx.community.program, ctx.scheduled_at)
    send_reminders(ctx)
    return outcome


def send_reminders(ctx: FiringContext) -> int:
    """Queue one private "X points expire on DATE" per member and coming expiry moment; returns
    how many were queued."""
    community, conn = ctx.community, ctx.conn
    days = community.rules.expiry.remind_days_before
    if days <= 0:
        return 0
    # From the run's moment (or later, if it runs late): what has expired is gone already.
    start = ctx.due_by
    rows = conn.execute(
        _COMING,
        {
            "community": community.id,
            "after": start,
            "until": start + timedelta(days=days),
            "prefix": f"expiry-remind:{community.id}:",
        },
    ).all()
    if not rows:
        return 0
    targets = recipients(conn, community.id, sorted({row.member_id for row in rows}))
    reachable = [row for row in rows if row.member_id in targets]
    heard = _record(ctx, [(row.member_id, row.expires_at) for row in reachable])
    messages = []
    for row in reachable:
        if (row.member_id, row.expires_at) not in heard:
            continue  # heard of it already (another process's run, a moment ago)
        target = targets[row.member_id]
        reply = Reply(
            "expiry/reminder",
            {
                "name": row.display_name,
                "points": int(row.points),
                "expires_at": row.expires_at.astimezone(community.timezone),
                "timezone": community.timezone.key,
            },
            visibility=Visibility.PRIVATE,
        )
        messages.append(Direct(target.platform, target.user_id, reply, row.display_name))
    ctx.platforms.update(
        enqueue_directs(conn, community_id=community.id, at=ctx.now, messages=messages)
    )
    return len(messages)


_RECORDS_AT_ONCE = 1000


def _record(ctx: FiringContext, reminders: list[tuple[int, datetime]]) -> set[tuple[int, datetime]]:
    """Note that these members heard of these expiries, many rows per statement; returns those
    recorded now (not before)."""
    statement = _insert_runs(ctx.conn.dialect.name)
    prefix = f"expiry-remind:{ctx.community.id}:"
    recorded: set[tuple[int, datetime]] = set()
    for start in range(0, len(reminders), _RECORDS_AT_ONCE):
        rows = [
            {
                "job": reminder_key(ctx.community.id, member_id),
                "scheduled_at": expires_at,
                "community_id": ctx.community.id,
                "ran_at": ctx.now,
                "outcome": "sent",
            }
            for member_id, expires_at in reminders[start : start + _RECORDS_AT_ONCE]
        ]
        for job, scheduled_at in ctx.conn.execute(statement, rows):
            recorded.add((int(job.removeprefix(prefix)), scheduled_at))
    return recorded


@cache
def _insert_runs(dialect_name: str) -> Insert:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement: Insert = (
        dialect.insert(job_runs)
        .on_conflict_do_nothing()
        .returning(job_runs.c.job, job_runs.c.scheduled_at)
    )
    return statement
