"""Announcements: an admin's words posted to every group of a community, audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from community import audit
from community.communities import Community
from community.messages import Reply
from community.outbox import Broadcast, broadcast


def announce(
    conn: Connection, community: Community, text: str, *, actor: audit.Actor, key: str, at: datetime
) -> Broadcast:
    """Queue `text` as a post to each active group of the community (rendered in each one's
    language when sent). `key` names the announcement: a repeat of it queues nothing."""
    post = Reply("announce/post", {"text": text, "community": community.name})
    sent = broadcast(conn, community.id, post, key=f"announce:{key}", at=at)
    audit.record(
        conn,
        community_id=community.id,
        actor=actor,
        action="announced",
        at=at,
        groups=sent.queued,
        text=text,
    )
    return sent
