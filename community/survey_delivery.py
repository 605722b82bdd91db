"""A survey question sent to a member's private chat with the bot, when they took the survey
where others would read it (a group's invitation button, /survey typed in a group)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from community.communities import Community
from community.messages import Reply
from community.outbox import Direct, enqueue_directs
from community.reminders import recipients
from storage.schema import members


@dataclass(frozen=True, slots=True)
class Sent:
    """Where the question went: the platform of the private chat, whether the bot can surely
    write there (a platform that lets no bot write first needs the member to have started a
    private chat), and the platforms queued for."""

    platform: str
    reachable: bool
    platforms: frozenset[str]


def send_privately(
    conn: Connection, community: Community, member_id: int, reply: Reply, at: datetime
) -> Sent | None:
    """Queue `reply` to the member's private chat, chosen as every private message of the bot
    is (community/reminders.py: a private chat first). None: no account to write to. Nothing
    is queued where the bot surely cannot write (the member is told to start a chat)."""
    target = recipients(conn, community.id, [member_id]).get(member_id)
    if target is None:
        return None
    if not target.reachable:
        return Sent(target.platform, False, frozenset())
    name = conn.execute(select(members.c.display_name).where(members.c.id == member_id)).scalar()
    message = Direct(target.platform, target.user_id, reply, str(name or ""))
    queued = enqueue_directs(conn, community_id=community.id, at=at, messages=[message])
    return Sent(target.platform, True, frozenset(queued))
