"""Units of work that come from no chat: a scheduled firing, a shop's call, the operator's CLI.

They run the pipeline's steps that apply to them (handlers/pipeline.py): the work is recorded
once by its key (a retried job or a repeated request changes nothing), it happens in its
community, and nobody is registered and no group created, as there is no actor and no chat.
Messages it queues are sent by the platforms' senders, woken after the commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

from sqlalchemy import Connection

from community.communities import Community, community_by_slug
from community.events import first_sighting
from storage.sql import savepoint
from storage.store import Store

T = TypeVar("T")


class UnknownCommunity(LookupError):
    """No community has that short name."""


@dataclass(frozen=True, slots=True)
class TaskContext:
    """What a task's work is given: the open connection, its community and its time."""

    conn: Connection
    community: Community
    now: datetime
    # Platforms the work queued messages for: their senders are woken after the commit.
    outbox_platforms: set[str] = field(default_factory=set)


@dataclass(frozen=True, slots=True)
class TaskOutcome(Generic[T]):
    """What a task came to: its work's result, or that it had been done before."""

    result: T | None
    duplicate: bool = False


class Tasks:
    """Runs work without a chat, as one unit of work each."""

    def __init__(
        self,
        store: Store,
        *,
        queued: Callable[[str], None] = lambda platform: None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._queued = queued
        self._clock = clock

    async def run(
        self, key: str, community: str, work: Callable[[TaskContext], T]
    ) -> TaskOutcome[T]:
        """Run `work` in the community called `community`, once per `key`."""
        outcome, platforms = await self._store.write(
            self._unit_of_work, key, community, work, self._clock()
        )
        for platform in platforms:
            self._queued(platform)
        return outcome

    @staticmethod
    def _unit_of_work(
        conn: Connection, key: str, slug: str, work: Callable[[TaskContext], T], now: datetime
    ) -> tuple[TaskOutcome[T], set[str]]:
        found = community_by_slug(conn, slug)
        if found is None:
            raise UnknownCommunity(slug)
        # The steps that apply: record the key, find the place (a community, not a chat).
        if not first_sighting(conn, key, now):
            return TaskOutcome(None, duplicate=True), set()
        context = TaskContext(conn, found, now)
        with savepoint(conn):
            result = work(context)
        return TaskOutcome(result), context.outbox_platforms
