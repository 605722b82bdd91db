"""Runs synchronous units of work: writes in one writer thread with group commit, reads in a pool.

Why a thread and not async SQL: every awaited statement costs a thread hop, so a unit of work
is handed over whole (`await store.write(fn, ...)`) and runs as plain Python on a connection
(DESIGN.md, Storage). Writes queue up while the writer is busy and the next batch commits them
together: one commit (one fsync) for many events, and on SQLite no lost updates by construction.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

from storage.engine import make_engine

# How often a unit of work that lost a race to another writer runs again.
CONFLICT_RETRIES = 3
# PostgreSQL's serialization failure and deadlock: the transaction may simply run again.
_RETRYABLE_SQLSTATES = ("40001", "40P01")

P = ParamSpec("P")
T = TypeVar("T")
log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Job:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    outcome: tuple[bool, Any] | None = None  # (committed?, result or exception) once run


def lost_a_race(error: BaseException) -> bool:
    """Whether `error` says another transaction got there first (a unique key it took, a
    deadlock, a serialization failure), so that running again can succeed. SQLite's "database
    is locked" is not: its busy timeout has waited already, and waiting again would hold the
    one writer for as long once more."""
    if isinstance(error, IntegrityError):
        return True
    if not isinstance(error, DBAPIError):
        return False
    return getattr(error.orig, "sqlstate", None) in _RETRYABLE_SQLSTATES


class StoreClosedError(RuntimeError):
    """Raised when work is handed to a store that has been closed."""


class Store:
    """The database as the program sees it: `await write(fn, ...)` and `await read(fn, ...)`."""

    def __init__(self, url: str, *, max_batch: int = 128, readers: int = 2) -> None:
        self.url = url
        self._max_batch = max_batch
        self._writer_engine = make_engine(url, writer=True, pool_size=1)
        self._reader_engine = make_engine(url, writer=False, pool_size=readers)
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._readers = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="db-read")
        self._closed = False  # no more writes are taken
        self._shut = False  # close() has run
        # Held while checking `_closed` and queueing, so nothing can queue behind the stop mark.
        self._gate = threading.Lock()
        self._connected = threading.Event()
        self._failure: BaseException | None = None  # why the writer stopped, if it did
        self._writer = threading.Thread(target=self._write_loop, name="db-write", daemon=True)
        self._writer.start()
        # Fail here, where start-up can report it, if the writer cannot even connect; a bot
        # that answers every event with an error but keeps running helps nobody.
        self._connected.wait()
        if self._failure is not None:
            self.close()
            raise self._failure

    async def write(
        self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `fn(conn, ...)` in the writer thread; returns once its transaction is committed.

        If `fn` raises, none of its changes are kept and the exception is raised here.
        """
        loop = asyncio.get_running_loop()
        job = _Job(fn, args, kwargs, loop, loop.create_future())
        with self._gate:
            if self._closed:
                raise StoreClosedError("store is closed")
            self._jobs.put(job)
        return await job.future  # type: ignore[no-any-return]

    async def read(
        self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run `fn(conn, ...)` on a reader connection; it sees every write already returned."""
        if self._closed:
            raise StoreClosedError("store is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._readers, lambda: self.read_now(fn, *args, **kwargs))

    def read_now(
        self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run a read in the calling thread (start-up, tests and tools that have no event loop)."""
        with self._reader_engine.connect() as conn, conn.begin():
            return fn(conn, *args, **kwargs)

    def write_now(
        self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run a unit of work in the calling thread; only for start-up before the loop serves."""
        with self._writer_engine.connect() as conn, conn.begin():
            return fn(conn, *args, **kwargs)

    def close(self) -> None:
        """Finish the queued writes, then release every connection."""
        with self._gate:
            if self._shut:
                return
            self._shut = self._closed = True
            self._jobs.put(None)
        self._writer.join()
        self._refuse_leftovers([])
        self._readers.shutdown(wait=True)
        self._writer_engine.dispose()
        self._reader_engine.dispose()

    def _refuse_leftovers(self, batch: list[_Job]) -> None:
        """Answer every job in hand and in the queue: those that never ran are refused."""
        jobs = list(batch)
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                jobs.append(job)
        for job in jobs:
            if job.outcome is None:
                job.outcome = (False, StoreClosedError("store is closed"))
        self._settle(jobs)

    def _write_loop(self) -> None:
        batch: list[_Job] = []
        try:
            self._serve(batch)
        except BaseException:
            # The writer cannot go on (no connection, or something no unit of work should
            # raise): close the store so every waiting and later write fails instead of hanging.
            log.exception("database writer stopped")
            self._failure = sys.exc_info()[1]
            with self._gate:
                self._closed = True
            self._connected.set()
            self._refuse_leftovers(batch)

    def _serve(self, batch: list[_Job]) -> None:
        """Commit batches until the stop mark; `batch` always holds the one in hand."""
        with self._writer_engine.connect() as conn:
            self._connected.set()
            stopping = False
            while not stopping:
                first = self._jobs.get()
                if first is None:
                    break
                batch[:] = [first]
                while len(batch) < self._max_batch:
                    try:
                        job = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if job is None:
                        stopping = True
                        break
                    batch.append(job)
                self._commit(conn, batch)
                self._settle(batch)

    def _commit(self, conn: Connection, batch: list[_Job]) -> None:
        """Run a batch in one transaction; if anything fails, run each job alone instead.

        Re-running is safe because the failed transaction left nothing behind, and it keeps one
        bad job from failing the others that happened to share its commit.
        """
        try:
            with conn.begin():
                results = [job.fn(conn, *job.args, **job.kwargs) for job in batch]
        except Exception as error:
            if len(batch) == 1:
                self._commit_alone(conn, batch[0], error)
                return
            for job in batch:
                self._commit(conn, [job])
            return
        for job, result in zip(batch, results, strict=True):
            job.outcome = (True, result)

    def _commit_alone(self, conn: Connection, job: _Job, error: Exception) -> None:
        """A job that failed alone: run again while it lost a race to another writer (another
        process on the same database inserted the same member, check-in or vote first; a
        deadlock). Its second run reads what the winner committed and does what follows from
        that (e.g. "already checked in today"); any other failure is the job's answer."""
        for _ in range(CONFLICT_RETRIES):
            if not lost_a_race(error):
                break
            try:
                with conn.begin():
                    job.outcome = (True, job.fn(conn, *job.args, **job.kwargs))
                return
            except Exception as again:
                error = again
        job.outcome = (False, error)

    @staticmethod
    def _settle(batch: list[_Job]) -> None:
        by_loop: dict[asyncio.AbstractEventLoop, list[_Job]] = {}
        for job in batch:
            by_loop.setdefault(job.loop, []).append(job)
        for loop, jobs in by_loop.items():
            try:
                loop.call_soon_threadsafe(_resolve, jobs)
            except RuntimeError:  # the loop is closed: nobody is waiting any more
                log.warning("writes finished after their event loop closed: %d", len(jobs))


def _resolve(jobs: list[_Job]) -> None:
    for job in jobs:
        if job.future.done():  # cancelled by its caller, or answered already
            continue
        assert job.outcome is not None
        ok, value = job.outcome
        if ok:
            job.future.set_result(value)
        else:
            job.future.set_exception(value)
