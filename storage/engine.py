"""Engines with the pragmas and transaction handling each database needs."""

from __future__ import annotations

import json
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url


def normalize_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever the URL says, and make SQLite's folder exist."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return parsed.render_as_string(hide_password=False)


def _json_value(value: Any) -> Any:
    """What JSON columns store for values JSON has no word for: dates as ISO text, sets as
    lists, anything else as its text (a reply's context in the outbox, rendered later)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    return str(value)


# One hook in the serializer rather than a walk over every value before it: the outbox writes a
# reply's context per event, and a walk in Python cost ~4% of the core's throughput.
dump_json = partial(json.dumps, default=_json_value, ensure_ascii=False, separators=(",", ":"))


def make_engine(url: str, *, writer: bool, pool_size: int = 4) -> Engine:
    """Build an engine; the writer's transactions take SQLite's write lock at BEGIN."""
    url = normalize_url(url)
    if not url.startswith("sqlite"):
        return create_engine(
            url, pool_size=pool_size, pool_pre_ping=True, json_serializer=dump_json
        )
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=pool_size,
        json_serializer=dump_json,
    )
    begin = "BEGIN IMMEDIATE" if writer else "BEGIN"

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin: the module's
        # own handling breaks SAVEPOINT (SQLAlchemy docs, "Serializable isolation / Savepoints").
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a reply that says "+10 points" must survive a power cut. Group commit pays
        # one fsync per batch, so this costs ~20% of throughput, not 20x.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE: another process writing the same file makes us wait at BEGIN (busy
        # timeout) instead of failing half-way through a unit of work.
        conn.exec_driver_sql(begin)

    return engine
