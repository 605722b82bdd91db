"""Which events were handled already: a redelivered or retried event must change nothing."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, delete, select

from storage.schema import inbox, processed_events
from storage.sql import fit_text, insert_if_absent

# How long an event id is remembered. Platforms redeliver within hours (Telegram keeps updates
# 24 h), so a week is a wide margin, and the table stays small.
DEDUPE_WINDOW = timedelta(days=7)

_FORGET = delete(processed_events).where(processed_events.c.processed_at < bindparam("cutoff"))


def first_sighting(conn: Connection, event_id: str, at: datetime) -> bool:
    """Record the event as handled; False when it was handled before.

    Two bots handling one event at once take turns: on PostgreSQL the later insert waits for
    the first transaction and finds its row once it commits (or inserts it, if it rolled back).
    """
    return insert_if_absent(
        conn, processed_events, {"event_id": fit_text(event_id, 200), "processed_at": at}
    )


def forget_old_events(conn: Connection, now: datetime) -> int:
    """Drop event ids handled before DEDUPE_WINDOW; returns how many were dropped."""
    return int(conn.execute(_FORGET, {"cutoff": now - DEDUPE_WINDOW}).rowcount or 0)


def keep_arrivals(
    conn: Connection, platform: str, arrivals: Sequence[tuple[str, str]], at: datetime
) -> None:
    """Write fetched platform updates (event id, raw payload) to the inbox before they are
    acknowledged to the platform; one already kept is left as it is."""
    for event_id, payload in arrivals:
        insert_if_absent(
            conn,
            inbox,
            {
                "event_id": fit_text(event_id, 200),
                "platform": platform,
                "payload": payload,
                "received_at": at,
            },
        )


def pending_arrivals(conn: Connection, platform: str) -> list[tuple[str, str]]:
    """Updates kept but not yet handled (a crash came between), oldest first."""
    found = conn.execute(
        select(inbox.c.event_id, inbox.c.payload, inbox.c.received_at).where(
            inbox.c.platform == platform
        )
    )
    # Ids of one platform grow in length as they grow ("telegram:999" < "telegram:1000").
    rows = sorted(found, key=lambda row: (row.received_at, len(row.event_id), row.event_id))
    return [(row.event_id, row.payload) for row in rows]


_SETTLE = delete(inbox).where(inbox.c.event_id == bindparam("event_id"))


def settle_arrival(conn: Connection, event_id: str) -> None:
    """The event is handled: its inbox row goes, in the same unit of work as its effects."""
    conn.execute(_SETTLE, {"event_id": fit_text(event_id, 200)})
