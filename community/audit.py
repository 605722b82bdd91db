"""The audit log: every admin action, who did it, to whom, and with what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert

from storage.schema import audit_log

_RECORD = insert(audit_log)


def record(
    conn: Connection,
    *,
    community_id: int,
    actor_member_id: int,
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
            "actor_member_id": actor_member_id,
            "action": action,
            "target_member_id": target_member_id,
            "details": details,
            "created_at": at,
        },
    )
