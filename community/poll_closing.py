"""Polls that close by themselves: the scheduler's sweep finds those whose end has come and
closes each once, posting its results in its chat (and stopping the platform's native poll)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select, update

from community import audit, quiz_runs
from community.communities import community_by_id
from community.messages import Reply
from community.outbox import Kind, enqueue
from community.polls import poll_from_row, posting_target, results, tally
from storage.schema import polls

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


def close_on_time(conn: Connection, poll_id: int, now: datetime, platforms: set[str]) -> bool:
    """Close a poll at its end and post its results in its chat (a quiz question's poll: its
    answer, and the quiz's next question or its end); False if it was closed.

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
    if quiz_runs.round_of_poll(conn, poll.id) is not None:
        community = community_by_id(conn, poll.community_id)
        if community is not None:
            quiz_runs.round_ended(
                conn,
                community,
                poll,
                native_message_id=row.native_message_id,
                channel_id=row.channel_id,
                now=now,
                platforms=platforms,
            )
        return True
    audit.record(
        conn,
        community_id=poll.community_id,
        actor=audit.SCHEDULER,
        action="poll_close",
        at=now,
        poll_id=poll.id,
        on_time=True,
    )
    target = posting_target(conn, poll.platform, poll.chat_id, row.channel_id)
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
