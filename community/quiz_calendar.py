"""Quizzes the topic calendar starts: a calendar entry with a quiz (`quiz = 5` in [[calendar]],
or `/topic add ... --quiz 5`) starts one in each of its groups when it fires, after its topic."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Connection, select

from community import audit, quiz_runs
from community.communities import Community
from community.jobs import SCHEDULE_CHANGED
from community.outbox import Kind, enqueue
from loyalty.errors import UserError
from storage.schema import groups
from storage.sql import savepoint

log = logging.getLogger(__name__)


def start_in_groups(
    conn: Connection,
    community: Community,
    *,
    questions: int,
    category: str,
    key: str,
    at: datetime,
    tag: str | None = None,
) -> set[str]:
    """Start a quiz in every group of the community (with `tag`, if given), its first question
    queued for each; the platforms to wake. A group with a quiz running already is left alone;
    `key` names the firing, so a rerun starts nothing twice."""
    platforms: set[str] = set()
    rows = conn.execute(
        select(
            groups.c.platform,
            groups.c.chat_id,
            groups.c.posting_channel,
            groups.c.needs_channel,
            groups.c.tags,
        ).where(
            groups.c.community_id == community.id,
            groups.c.private.is_(False),
            groups.c.inactive_since.is_(None),
        )
    ).all()
    for row in rows:
        if tag is not None and tag not in (row.tags or ()):
            continue
        target = row.posting_channel if row.needs_channel else row.chat_id
        if not target:
            continue  # a server with no posting channel yet
        try:
            with savepoint(conn):
                started = quiz_runs.start(
                    conn,
                    community,
                    platform=row.platform,
                    chat_id=row.chat_id,
                    channel_id=row.posting_channel if row.needs_channel else None,
                    count=questions,
                    category=category,
                    actor=audit.SCHEDULER,
                    at=at,
                    key=f"{key}:{row.platform}:{row.chat_id}"[:200],
                )
        except UserError as refusal:
            # A quiz running there already, an empty bank (or category): the topic is posted
            # all the same; the log says why its quiz was not.
            log.warning(
                "calendar quiz not started",
                extra={"group": f"{row.platform}:{row.chat_id}", "why": refusal.key},
            )
            continue
        enqueue(
            conn,
            community_id=community.id,
            platform=row.platform,
            chat_id=target,
            kind=Kind.POST,
            reply=started.reply,
            at=at,
            group_chat_id=row.chat_id,
        )
        platforms.update((row.platform, SCHEDULE_CHANGED))
    return platforms
