"""The store: units of work commit together, fail alone, and are durable when awaited."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import OperationalError

from storage.engine import make_engine
from storage.schema import metadata, processed_events
from storage.store import Store, StoreClosedError
from tests.conftest import T0


def record(conn: Connection, event_id: str, fail: bool = False) -> str:
    conn.execute(insert(processed_events).values(event_id=event_id, processed_at=T0))
    if fail:
        raise RuntimeError(f"unit {event_id} failed")
    return event_id


def count(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(processed_events)).scalar_one())


def hold(conn: Connection, gate: threading.Event) -> None:
    """A unit of work that keeps the writer busy until the test opens the gate."""
    assert gate.wait(10), "gate never opened"


async def test_one_failing_unit_does_not_fail_the_others_in_its_batch(db_url: str) -> None:
    store = Store(db_url, max_batch=64)
    gate = threading.Event()
    try:
        # While the writer holds the gate job, all 50 units queue up and then commit as one
        # batch, so the failing unit really shares its transaction with the others.
        held = asyncio.ensure_future(store.write(hold, gate))
        units = [
            asyncio.ensure_future(store.write(record, f"e{n}", fail=(n == 17))) for n in range(50)
        ]
        asyncio.get_running_loop().call_soon(gate.set)
        results = await asyncio.gather(*units, return_exceptions=True)
        await held
        failures = [r for r in results if isinstance(r, Exception)]
        assert [str(f) for f in failures] == ["unit e17 failed"]
        assert store.read_now(count) == 49
        ids = store.read_now(
            lambda c: set(c.execute(select(processed_events.c.event_id)).scalars())
        )
        assert "e17" not in ids
    finally:
        store.close()


async def test_an_awaited_write_is_visible_to_readers_at_once(db_url: str) -> None:
    store = Store(db_url)
    try:
        for n in range(20):
            await store.write(record, f"x{n}")
            assert await store.read(count) == n + 1
    finally:
        store.close()


async def test_close_finishes_queued_writes_then_refuses_more(db_url: str) -> None:
    store = Store(db_url)
    pending = [asyncio.ensure_future(store.write(record, f"q{n}")) for n in range(30)]
    await asyncio.sleep(0)  # every write task takes its first step: the job is queued
    await asyncio.to_thread(store.close)
    assert [await p for p in pending] == [f"q{n}" for n in range(30)]
    with pytest.raises(StoreClosedError):
        await store.write(record, "late")
    reopened = Store(db_url)
    try:
        assert reopened.read_now(count) == 30
    finally:
        reopened.close()


def test_migrations_build_exactly_the_schema_the_code_uses(db_url: str) -> None:
    engine = make_engine(db_url, writer=True, pool_size=1)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    engine.dispose()
    assert diff == []


def test_a_store_that_cannot_connect_says_so_at_once(tmp_path: Path) -> None:
    # A folder where the database file should be: SQLite cannot open it.
    with pytest.raises(OperationalError, match="unable to open database file"):
        Store(f"sqlite:///{tmp_path}")


class Fatal(BaseException):
    """Something no unit of work should raise; it stops the writer."""


def explode(conn: Connection) -> None:
    raise Fatal("writer cannot go on")


def fail(conn: Connection) -> None:
    raise ValueError("an ordinary bug")


async def test_a_dying_writer_answers_every_waiting_write(db_url: str) -> None:
    store = Store(db_url)
    gate = threading.Event()
    try:
        held = asyncio.ensure_future(store.write(hold, gate))
        units = [
            asyncio.ensure_future(store.write(fail)),
            asyncio.ensure_future(store.write(record, "ok-1")),
            asyncio.ensure_future(store.write(explode)),
            asyncio.ensure_future(store.write(record, "ok-2")),
        ]
        asyncio.get_running_loop().call_soon(gate.set)
        results = await asyncio.wait_for(
            asyncio.gather(held, *units, return_exceptions=True), timeout=30
        )
        assert isinstance(results[1], ValueError)
        assert all(not isinstance(r, asyncio.CancelledError) for r in results)
        with pytest.raises(StoreClosedError):
            await store.write(record, "after")
    finally:
        store.close()
