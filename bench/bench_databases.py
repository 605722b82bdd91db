"""Where a bench's runs keep their data: a new SQLite file, or a new PostgreSQL schema."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text

from storage import migrate
from storage.engine import normalize_url


@contextlib.contextmanager
def fresh_database(folder: Path, postgresql: str | None) -> Iterator[str]:
    """A migrated, empty database: a new SQLite file in `folder`, or a new schema in the
    PostgreSQL at `postgresql` (dropped afterwards)."""
    if postgresql is None:
        url = f"sqlite:///{folder / f'bench-{uuid.uuid4().hex[:8]}.sqlite3'}"
        migrate.upgrade(url)
        yield url
        return
    base = normalize_url(postgresql)
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        url = f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
        migrate.upgrade(url)
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
