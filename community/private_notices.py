"""Private messages to members, named by member id: each goes to the account recipients()
picks (community/reminders.py) and is queued at most once per outbox key (a key from its cause,
so a retried job or a redelivered command never sends it twice). Members with no account the
bot can write to are skipped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from community.communities import Community
from community.messages import Reply
from community.outbox import Direct, enqueue_directs
from community.reminders import recipients
from storage.schema import members

_SLICE = 500  # ids per IN (...)


@dataclass(frozen=True, slots=True)
class Notice:
    """One private message to one member, queued at most once per key."""

    member_id: int
    reply: Reply
    key: str
    name: str | None = None  # the member's name for the message; None: their display name


def tell(
    conn: Connection, community: Community, notices: Sequence[Notice], at: datetime
) -> set[str]:
    """Queue each notice to its member's private chat; the platforms something was queued
    for."""
    targets = recipients(conn, community.id, sorted({n.member_id for n in notices}))
    unnamed = sorted({n.member_id for n in notices if n.name is None and n.member_id in targets})
    names = names_of(conn, unnamed) if unnamed else {}
    messages = [
        Direct(
            target.platform,
            target.user_id,
            n.reply,
            names.get(n.member_id, "") if n.name is None else n.name,
            n.key,
        )
        for n in notices
        if (target := targets.get(n.member_id)) is not None
    ]
    if not messages:
        return set()
    return enqueue_directs(conn, community_id=community.id, at=at, messages=messages)


def names_of(conn: Connection, member_ids: Sequence[int]) -> dict[int, str]:
    """Members' display names."""
    found: dict[int, str] = {}
    for start in range(0, len(member_ids), _SLICE):
        part = list(member_ids[start : start + _SLICE])
        rows = conn.execute(
            select(members.c.id, members.c.display_name).where(members.c.id.in_(part))
        )
        found.update((int(row.id), str(row.display_name)) for row in rows)
    return found
