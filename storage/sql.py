"""The few statements whose spelling differs between SQLite and PostgreSQL, and text limits.

Hot statements across the code are built once at import with `bindparam()` and executed with a
dict of values: building a statement per call costs SQLAlchemy ~120 µs (its cache key is
recomputed every time) against ~25 µs for a prebuilt one (measured with bench/core_bench.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from sqlalchemy import BigInteger, Connection, Insert, Table, bindparam, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite


@cache
def _insert_ignoring_conflicts(dialect_name: str, table: Table) -> Insert:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    # RETURNING, not rowcount: psycopg reports -1 for INSERT ... ON CONFLICT through SQLAlchemy.
    statement: Insert = dialect.insert(table).on_conflict_do_nothing().returning(literal(1))
    return statement


def insert_if_absent(conn: Connection, table: Table, values: dict[str, Any]) -> bool:
    """Insert a row unless a unique key already holds it; True when the row was inserted.

    Race-safe get-or-create is this, then a read: on PostgreSQL (READ COMMITTED) a conflicting
    row another transaction has not committed yet makes the insert wait for it, and the read
    after it (a new statement) sees the row once that transaction committed.
    """
    statement = _insert_ignoring_conflicts(conn.dialect.name, table)
    return conn.execute(statement, values).first() is not None


@cache
def _insert_returning_id(dialect_name: str, table: Table) -> Insert:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement: Insert = dialect.insert(table).on_conflict_do_nothing().returning(table.c.id)
    return statement


def insert_id_if_absent(conn: Connection, table: Table, values: dict[str, Any]) -> int | None:
    """As insert_if_absent, giving the new row's id (None when the row already existed)."""
    statement = _insert_returning_id(conn.dialect.name, table)
    inserted = conn.execute(statement, values).scalar_one_or_none()
    return None if inserted is None else int(inserted)


_ADVISORY_LOCK = select(func.pg_advisory_xact_lock(bindparam("key", type_=BigInteger)))


def lock_until_commit(conn: Connection, name: str) -> None:
    """Wait until no other transaction holds the lock called `name`, then hold it to the end
    of this one: for claims no unique key guards. A no-op on SQLite, whose writers already
    take turns (BEGIN IMMEDIATE)."""
    if conn.dialect.name != "postgresql":
        return
    # Advisory locks are named by a 64-bit number; a collision only makes two claims wait.
    key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), signed=True)
    conn.execute(_ADVISORY_LOCK, {"key": key})


def fit_text(text: str, limit: int) -> str:
    """Make user text storable anywhere: PostgreSQL rejects NUL, and columns have a length."""
    return text.replace("\x00", "")[:limit]


@contextmanager
def savepoint(conn: Connection) -> Iterator[None]:
    """Undo what the block wrote if it raises, leaving the rest of the transaction intact.

    Plain SQL rather than `conn.begin_nested()`: SQLAlchemy compiles its savepoint statements
    on every use, which cost more than the rest of a typical unit of work's bookkeeping.
    """
    conn.exec_driver_sql("SAVEPOINT unit_step")
    try:
        yield
    except BaseException:
        conn.exec_driver_sql("ROLLBACK TO SAVEPOINT unit_step")
        conn.exec_driver_sql("RELEASE SAVEPOINT unit_step")
        raise
    conn.exec_driver_sql("RELEASE SAVEPOINT unit_step")
