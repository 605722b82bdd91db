"""Polls that close by themselves: the scheduler's sweep finds those whose end has come and
closes each once, posting its results in its chat (and stopping the platform's native poll)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select, update

from community import audit
from community.messages import Reply
from community.outbox import Kind, enqueue
from community.polls import Poll, poll_from_row, results, tally
from storage.schema import groups, polls

# The most polls one sweep closes; the rest close in the next one.
CLOSING_BATCH = 200


def closing_due(conn: Connection, now: datetime) -> list[int]:
    """The open polls whose end (--for / --until) has come, oldest end first."""
    rows = conn.execute(
        select(polls.c.id)
        .where(polls.c.closed_at.is_(None), polls.c.closes_at <= now)
        .order_by(polls.c.closes_at, polls.c.id)
        .limit(CLOSING_BATCH)
    )
    return [row.id for row in rows]


SCHEDULER = audit.Actor(None, "scheduler")  # who closes a poll at its end, for the audit log


def close_on_time(conn: Connection, poll_id: int, now: datetime, platforms: set[str]) -> bool:
    """Close a poll at its end and post its results in its chat; False if it was closed.

    The UPDATE that closes it is the claim: of two processes (or a /closepoll and the
    scheduler), only the one whose statement changed the row posts the results. The poll is
    closed as of its end, however late the sweep came.
    """
    row = conn.execute(
        update(polls)
        .where(polls.c.id == poll_id, polls.c.closed_at.is_(None), polls.c.closes_at.is_not(None))
        .values(closed_at=polls.c.closes_at)
        .returning(*polls.c)
    ).first()
    if row is None:
        return False
    poll = poll_from_row(row)
    audit.record(
        conn,
        community_id=poll.community_id,
        actor=SCHEDULER,
        action="poll_close",
        at=now,
        poll_id=poll.id,
        on_time=True,
    )
    target = _posting_target(conn, poll, row.channel_id)
    if target is not None:
        chat_id, group_chat_id = target
        enqueue(
            conn,
            community_id=poll.community_id,
            platform=poll.platform,
            chat_id=chat_id,
            kind=Kind.POST,
            reply=Reply(
                "polls/results", results(tally(conn, poll)), ends_poll=row.native_message_id
            ),
            at=now,
            group_chat_id=group_chat_id,
        )
        platforms.add(poll.platform)
    return True


def _posting_target(
    conn: Connection, poll: Poll, channel_id: str | None
) -> tuple[str, str | None] | None:
    """Where a poll's results go: its chat (in a Discord server, the channel it was opened in,
    else the server's posting channel), and the group that is, if the chat is one; None for a
    server with no channel to post in."""
    group = conn.execute(
        select(groups.c.private, groups.c.needs_channel, groups.c.posting_channel).where(
            groups.c.platform == poll.platform, groups.c.chat_id == poll.chat_id
        )
    ).first()
    if group is None:
        return poll.chat_id, None
    if group.private:
        return poll.chat_id, None
    if group.needs_channel:
        channel = channel_id or group.posting_channel
        return (channel, poll.chat_id) if channel else None
    return poll.chat_id, poll.chat_id
