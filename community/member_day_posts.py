"""The member day's posts: its announcement, its opening (with a poll in every group, if it has
one) and its recap, each a job that fires relative to every start of the member day."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Connection, bindparam, case, distinct, func, select

from community import audit
from community.communities import Community
from community.jobs import FiringContext, Job
from community.member_days import AUDIT_ACTION, is_skipped, schedule_of, shown
from community.messages import Reply
from community.outbox import broadcast
from loyalty.errors import UserError
from storage.schema import audit_log, checkins, ledger, members
from storage.sql import savepoint

log = logging.getLogger(__name__)

# Who opens the opening's polls, for the audit log: no member, the scheduler.
SCHEDULER = audit.Actor(None, "scheduler:memberday")


def jobs(conn: Connection, community: Community) -> list[Job]:
    """The member day's jobs: its announcement (unless announce_hours_before is 0), its
    opening and its recap, each keyed by the community and fired relative to every start.

    Their `since` is the newest change by command, else the community's creation: a change
    never posts for starts before it, and a first start of the bot after the member day was
    turned on in community.toml looks back only as far as the scheduler's grace allows.
    """
    rules = community.rules.member_day
    if not rules.enabled:
        return []
    when, tz, since = schedule_of(rules), community.timezone, _since(conn, community)
    key = f"memberday:{community.id}"
    found = []
    if rules.announce_hours_before:
        before = timedelta(hours=rules.announce_hours_before)
        found.append(
            Job(
                f"{key}:announce",
                community.id,
                when,
                tz,
                partial(_announce, before),
                since,
                -before,
            )
        )
    found.append(Job(f"{key}:open", community.id, when, tz, _open, since))
    length = timedelta(hours=rules.hours)
    found.append(
        # rank 0: when one member day ends as the next begins, its recap comes first.
        Job(f"{key}:recap", community.id, when, tz, partial(_recap, length), since, length, 0)
    )
    return found


_CHANGED = select(func.max(audit_log.c.created_at)).where(
    audit_log.c.community_id == bindparam("community"), audit_log.c.action == AUDIT_ACTION
)


def _since(conn: Connection, community: Community) -> datetime:
    changed = conn.execute(_CHANGED, {"community": community.id}).scalar_one_or_none()
    return community.created_at if changed is None else max(community.created_at, changed)


def _post_context(community: Community, start: datetime) -> dict[str, Any]:
    rules, tz = community.rules.member_day, community.timezone
    return {
        "start": start.astimezone(tz),
        "end": (start + timedelta(hours=rules.hours)).astimezone(tz),
        "hours": rules.hours,
        "multiplier": shown(rules.multiplier),
        "perks": list(rules.perks),
    }


def _announce(before: timedelta, ctx: FiringContext) -> None:
    start = ctx.scheduled_at + before
    if is_skipped(ctx.community.rules.member_day, ctx.community.timezone, start):
        return
    _post(ctx, "announce", start, Reply("memberday/announce", _post_context(ctx.community, start)))


def _open(ctx: FiringContext) -> None:
    community, start = ctx.community, ctx.scheduled_at
    rules = community.rules.member_day
    if is_skipped(rules, community.timezone, start):
        return
    _post(ctx, "open", start, Reply("memberday/open", _post_context(community, start)))
    if rules.poll:
        try:
            with savepoint(ctx.conn):
                _post(ctx, "poll", start, partial(_poll_reply, ctx, rules.poll))
        except UserError as refusal:
            # A poll community.toml holds but /poll would refuse: the opening still goes out.
            log.warning(
                "member day poll not opened",
                extra={"community": community.id, "problem": refusal.key},
            )


def _poll_reply(ctx: FiringContext, text: str, platform: str, chat_id: str) -> Reply:
    # Imported here: polls applies this module's multiplier to votes, and imports it.
    from community import polls

    opened = polls.open_poll(
        ctx.conn,
        ctx.community,
        platform=platform,
        chat_id=chat_id,
        text=text,
        actor=SCHEDULER,
        at=ctx.now,
    )
    return polls.posted(opened, ctx.community.timezone)


def _recap(length: timedelta, ctx: FiringContext) -> None:
    community, start = ctx.community, ctx.scheduled_at - length
    if is_skipped(community.rules.member_day, community.timezone, start):
        return
    ctx.platforms.update(post_recap(ctx.conn, community, start, start + length, ctx.now))


def post_recap(
    conn: Connection, community: Community, start: datetime, end: datetime, at: datetime
) -> frozenset[str]:
    """Queue the recap of the member day that began at `start` and ran until `end` (earlier
    than planned when an admin cancelled it under way) for every group, once whoever asks;
    the platforms it queued for."""
    found = recap_of(conn, community, start, end)
    context = _post_context(community, start) | {
        "end": end.astimezone(community.timezone),
        "participants": found.participants,
        "checkins": found.checkins,
        "points": found.points,
        "top": [{"rank": rank, "name": name, "points": points} for rank, name, points in found.top],
    }
    key = f"memberday:{community.id}:recap:{start.isoformat()}"
    return broadcast(
        conn, community.id, Reply("memberday/recap", context), key=key, at=at
    ).platforms


def _post(ctx: FiringContext, phase: str, start: datetime, reply: Any) -> None:
    key = f"memberday:{ctx.community.id}:{phase}:{start.isoformat()}"
    sent = broadcast(ctx.conn, ctx.community.id, reply, key=key, at=ctx.now)
    ctx.platforms.update(sent.platforms)


@dataclass(frozen=True, slots=True)
class Recap:
    """What one member day came to."""

    participants: int  # members with any ledger entry in the window
    checkins: int
    points: int  # the positive ledger deltas in the window
    top: list[tuple[int, str, int]]  # (rank, name, points earned), best first


def recap_of(conn: Connection, community: Community, start: datetime, end: datetime) -> Recap:
    """The numbers of the window [start, end): participants, check-ins, points given and the
    `top_members` who earned most (ties share a rank)."""
    window = (
        (ledger.c.community_id == community.id)
        & (ledger.c.created_at >= start)
        & (ledger.c.created_at < end)
    )
    participants, points = conn.execute(
        select(
            func.count(distinct(ledger.c.member_id)),
            func.coalesce(func.sum(case((ledger.c.delta > 0, ledger.c.delta), else_=0)), 0),
        ).where(window)
    ).one()
    checked_in = conn.execute(
        select(func.count()).where(
            checkins.c.community_id == community.id,
            checkins.c.created_at >= start,
            checkins.c.created_at < end,
        )
    ).scalar_one()
    earned = func.sum(ledger.c.delta).label("earned")
    rows = conn.execute(
        select(members.c.display_name, earned)
        .join(members, members.c.id == ledger.c.member_id)
        .where(window, ledger.c.delta > 0)
        .group_by(ledger.c.member_id, members.c.display_name)
        .order_by(earned.desc(), ledger.c.member_id)
        .limit(community.rules.member_day.top_members)
    ).all()
    top: list[tuple[int, str, int]] = []
    for index, (name, amount) in enumerate(rows):
        rank = top[-1][0] if top and top[-1][2] == amount else index + 1
        top.append((rank, name, int(amount)))
    return Recap(int(participants), int(checked_in), int(points), top)
