"""The audit log: every admin action, who did it, to whom, and with what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert

from storage.schema import audit_log

_RECORD = insert(audit_log)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did something: their member, and the platform account they did it as. An anonymous
    group admin is no member (member_id None); the account still says who vouched."""

    member_id: int | None
    account: str  # "telegram:12345"


# Who acts when the clock does (a poll closing at its end, a calendar's quiz): no member.
SCHEDULER = Actor(None, "scheduler")


def record(
    conn: Connection,
    *,
    community_id: int,
    actor: Actor,
    action: str,
    at: datetime,
    target_member_id: int | None = None,
    **details: Any,
) -> None:
    """Write one audit line in the same unit of work as the action it describes."""
    conn.execute(
        _RECORD,
        {
            "community_id": community_id,
            "actor_member_id": actor.member_id,
            "action": action,
            "target_member_id": target_member_id,
            "details": {"by": actor.account, **details},
            "created_at": at,
        },
    )
