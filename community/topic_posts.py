"""The topic calendar firing: each entry's topic (and its poll) posted into the groups.

A post is checked before it is queued (FiringContext.check renders it in every language): an
entry whose template broke is skipped and reported once, to the log, the audit log and the admin
who added it, instead of failing in every group at every firing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from sqlalchemy import Connection, update

from community import audit, polls, quiz_calendar
from community.calendar import Entry, entry_by_id, list_entries
from community.communities import Community
from community.jobs import FiringContext, Job
from community.messages import Reply, Unrenderable
from community.outbox import Broadcast, Kind, broadcast, enqueue
from community.reminders import recipients
from loyalty.errors import UserError
from storage.schema import calendar_entries

log = logging.getLogger(__name__)


def jobs(conn: Connection, community: Community) -> list[Job]:
    """One job per unpaused entry: "topic:<id>", firing from its `since` on."""
    return [
        Job(
            key=f"topic:{entry.id}",
            community_id=community.id,
            when=entry.when,
            timezone=community.timezone,
            work=partial(post_topic, entry_id=entry.id),
            since=entry.since,
        )
        for entry in list_entries(conn, community)
        if not entry.paused
    ]


def post_topic(ctx: FiringContext, *, entry_id: int) -> Broadcast | None:
    """A firing's work: the topic (and its poll, opened in each group; its quiz, started in
    each group) queued for each group;
    nothing if the entry was removed or paused since the jobs were read, or if its post does
    not render (reported once)."""
    conn, community = ctx.conn, ctx.community
    try:
        entry = entry_by_id(conn, community, entry_id)
    except UserError:
        return None
    if entry.paused:
        return None
    key = f"topic:{entry.id}:{ctx.scheduled_at.isoformat()}"
    post = Reply(
        "calendar/topic",
        {"text": entry.text, "community": community.name, "poll": entry.poll is not None},
    )
    try:
        ctx.check(post)
    except Unrenderable as error:
        _report_broken(ctx, entry, str(error))
        return None
    if entry.broken_at is not None:
        _set_broken(conn, entry.id, None)  # it renders again (the template was mended)
    sent = broadcast(conn, community.id, post, key=key, at=ctx.now, tag=entry.tag)
    ctx.platforms.update(sent.platforms)
    if entry.poll is not None:
        question, options = entry.poll
        opener = partial(_open_poll, conn, community, question, options, ctx.now)
        voted = broadcast(conn, community.id, opener, key=f"{key}:poll", at=ctx.now, tag=entry.tag)
        ctx.platforms.update(voted.platforms)
    if entry.quiz is not None:
        # After the topic (and its poll): each group's quiz starts with its first question.
        started = quiz_calendar.start_in_groups(
            conn,
            community,
            questions=entry.quiz.questions,
            category=entry.quiz.category,
            key=f"{key}:quiz",
            at=ctx.now,
            tag=entry.tag,
        )
        ctx.platforms.update(started)
    return sent


def _open_poll(
    conn: Connection,
    community: Community,
    question: str,
    options: tuple[str, ...],
    at: datetime,
    platform: str,
    chat_id: str,
) -> Reply:
    """The topic's poll opened in one group, as /poll would post it there."""
    opened = polls.open_poll(
        conn,
        community,
        platform=platform,
        chat_id=chat_id,
        text=" | ".join((question, *options)),
        actor=audit.SCHEDULER,
        at=at,
    )
    return polls.posted(opened, community.timezone)


def _report_broken(ctx: FiringContext, entry: Entry, problem: str) -> None:
    """Skip a topic that does not render; the first time, tell the log, the audit log and the
    admin who added it (an entry from community.toml: the log and the audit log)."""
    log.error(
        "calendar entry skipped: its post does not render",
        extra={"entry": entry.id, "problem": problem, "reported": entry.broken_at is not None},
    )
    if entry.broken_at is not None:
        return  # reported when it first broke
    _set_broken(ctx.conn, entry.id, ctx.now)
    audit.record(
        ctx.conn,
        community_id=ctx.community.id,
        actor=audit.SCHEDULER,
        action="topic_broken",
        at=ctx.now,
        entry=entry.id,
        problem=problem[:300],
    )
    if entry.created_by is None:
        return
    target = recipients(ctx.conn, ctx.community.id, [entry.created_by]).get(entry.created_by)
    if target is None:
        return
    enqueue(
        ctx.conn,
        community_id=ctx.community.id,
        platform=target.platform,
        chat_id=target.user_id,
        kind=Kind.DIRECT,
        # Its own words, not the broken template's: it says which entry and what broke.
        reply=Reply("calendar/broken", {"number": entry.id, "problem": problem[:300]}),
        at=ctx.now,
    )
    ctx.platforms.add(target.platform)


def _set_broken(conn: Connection, entry_id: int, at: datetime | None) -> None:
    conn.execute(
        update(calendar_entries).where(calendar_entries.c.id == entry_id).values(broken_at=at)
    )
