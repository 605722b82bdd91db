"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Table, literal
from sqlalchemy.dialects import postgresql, sqlite


def insert_if_absent(conn: Connection, table: Table, values: dict[str, Any]) -> bool:
    """Insert a row unless a unique key already holds it; True when the row was inserted."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(values).on_conflict_do_nothing()
    # RETURNING, not rowcount: psycopg reports -1 for INSERT ... ON CONFLICT through SQLAlchemy.
    return conn.execute(statement.returning(literal(1))).first() is not None


def fit_text(text: str, limit: int) -> str:
    """Make user text storable anywhere: PostgreSQL rejects NUL, and columns have a length."""
    return text.replace("\x00", "")[:limit]
