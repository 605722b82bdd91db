"""Reviewers' digest of new submissions, as the scheduler sends it (see community/jobs.py).

One job per community, listed only while submissions wait that no digest told of yet: a
one-off firing at the first moment a digest may go, which is when the oldest untold submission
came in, but no sooner than digest_minutes after the last firing of the job. A firing tells
every reviewer (the members with the role and the admins, community/admins.py's rule)
privately of everything untold, and marks it told; the next submission lists the job again.
Counting from the job's last claimed firing, not from the last digest's words, keeps a firing
that was missed (the bot was down) or failed from being listed again at the same moment: the
next one comes digest_minutes later and tells everything untold by then.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, func, select, update

from community.communities import Community
from community.jobs import FiringContext, Job, last_claims
from community.messages import Reply, Visibility
from community.outbox import Direct, enqueue_directs
from community.reminders import recipients
from community.schedules import When
from community.submission_reviewers import reviewing_members
from community.submissions import PENDING, category_names
from storage.schema import members
from storage.ugc_tables import submissions

_UTC = ZoneInfo("UTC")
# Submissions a digest names one by one; the rest are counted.
LISTED = 10


def digest_key(community_id: int) -> str:
    """The digest job's name in claims and logs."""
    return f"submissions:{community_id}:digest"


def _untold(community_id: int) -> tuple[ColumnElement[bool], ...]:
    return (
        submissions.c.community_id == community_id,
        submissions.c.state == PENDING,
        submissions.c.announced_at.is_(None),
    )


def jobs(conn: Connection, community: Community) -> list[Job]:
    """This activity's jobs for the community (none while nothing is due)."""
    oldest = conn.execute(
        select(func.min(submissions.c.created_at)).where(*_untold(community.id))
    ).scalar()
    if oldest is None:
        return []
    key = digest_key(community.id)
    moment = oldest
    last = last_claims(conn, [key]).get(key)
    if last is not None:
        moment = max(moment, last + timedelta(minutes=community.rules.submissions.digest_minutes))
    at = _next_minute(moment)
    # In UTC: a one-off at a minute of the UTC calendar has no clock changes to step over.
    when = When("once", times=((at.hour, at.minute),), on=at.date())
    return [Job(key, community.id, when, _UTC, tell_reviewers, since=at)]


def _next_minute(moment: datetime) -> datetime:
    """The first whole minute at or after `moment`, in UTC (schedules count in minutes)."""
    at = moment.astimezone(UTC)
    whole = at.replace(second=0, microsecond=0)
    return whole if whole == at else whole + timedelta(minutes=1)


def tell_reviewers(ctx: FiringContext) -> int:
    """A firing's work: one private digest to each reviewer of the submissions no digest told
    of; returns how many it told of. With no reviewer to reach yet, nothing is marked told:
    they wait for the first one."""
    conn, community = ctx.conn, ctx.community
    people = reviewing_members(conn, community.id, listed=ctx.admins)
    targets = recipients(conn, community.id, sorted(people)) if people else {}
    if not targets:
        return 0
    told = (
        conn.execute(
            update(submissions)
            .where(*_untold(community.id), submissions.c.created_at <= ctx.now)
            .values(announced_at=ctx.now)
            .returning(submissions.c.id)
        )
        .scalars()
        .all()
    )
    if not told:
        return 0
    numbers = sorted(told)
    rows = conn.execute(
        select(submissions.c.id, submissions.c.category, members.c.display_name)
        .join(members, members.c.id == submissions.c.member_id)
        .where(submissions.c.id.in_(numbers[:LISTED]))
        .order_by(submissions.c.id)
    ).all()
    listed = [
        {
            "number": row.id,
            "category": category_names(community, row.category),
            "author": row.display_name,
        }
        for row in rows
    ]
    reply = Reply(
        "ugc/digest",
        {"submissions": listed, "count": len(numbers), "more": len(numbers) - len(listed)},
        visibility=Visibility.PRIVATE,
    )
    names = dict(
        conn.execute(
            select(members.c.id, members.c.display_name).where(members.c.id.in_(people))
        ).all()
    )
    stamp = ctx.scheduled_at.isoformat()
    messages = [
        Direct(t.platform, t.user_id, reply, names.get(m, ""), key=f"ugc:digest:{m}:{stamp}")
        for m, t in targets.items()
    ]
    ctx.platforms.update(
        enqueue_directs(conn, community_id=community.id, at=ctx.now, messages=messages)
    )
    return len(numbers)
