"""Which events were handled already: a redelivered or retried event must change nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, delete

from storage.schema import processed_events
from storage.sql import fit_text, insert_if_absent

# How long an event id is remembered. Platforms redeliver within hours (Telegram keeps updates
# 24 h), so a week is a wide margin, and the table stays small.
DEDUPE_WINDOW = timedelta(days=7)

_FORGET = delete(processed_events).where(processed_events.c.processed_at < bindparam("cutoff"))


def first_sighting(conn: Connection, event_id: str, at: datetime) -> bool:
    """Record the event as handled; False when it was handled before."""
    return insert_if_absent(
        conn, processed_events, {"event_id": fit_text(event_id, 200), "processed_at": at}
    )


def forget_old_events(conn: Connection, now: datetime) -> int:
    """Drop event ids handled before DEDUPE_WINDOW; returns how many were dropped."""
    return int(conn.execute(_FORGET, {"cutoff": now - DEDUPE_WINDOW}).rowcount or 0)
