"""Small doors into the store for the platform adapters and the senders, one per purpose, so
that the dispatcher is only the pipeline and the adapters reach nothing else of the core."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from community.communities import rename_chat
from community.events import keep_arrivals, pending_arrivals, settle_arrival
from community.outbox import Outgoing
from community.outbox_drain import (
    defer_chats,
    due,
    forget_delivered,
    mark_delivered,
    mark_failed,
    mark_sent,
    postpone,
    recent_sends,
    release_hold,
    release_lease,
    take_lease,
)
from community.polls import attach_native, open_polls_of_chat
from storage.store import Store

Clock = Callable[[], datetime]
OPEN_POLLS_LISTED = 25  # Discord's autocomplete shows this many choices


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Inbox:
    """Platform updates kept before the platform is told they arrived (Telegram's polling)."""

    def __init__(self, store: Store, clock: Clock = _utcnow) -> None:
        self._store = store
        self._clock = clock

    async def keep(self, platform: str, arrivals: Sequence[tuple[str, str]]) -> None:
        """Durably keep fetched updates (event id, raw payload)."""
        await self._store.write(keep_arrivals, platform, arrivals, self._clock())

    async def pending(self, platform: str) -> list[tuple[str, str]]:
        """Updates kept before a crash and not handled yet, oldest first."""
        return await self._store.write(pending_arrivals, platform)

    async def drop(self, event_id: str) -> None:
        """Forget a kept update that asks nothing of the core (a bot's message, a notice)."""
        await self._store.write(settle_arrival, event_id)


class Chats:
    """What a platform says about its chats themselves."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def moved(self, platform: str, *, old_chat_id: str, new_chat_id: str) -> None:
        """The platform gave a chat a new id (a Telegram group became a supergroup): its
        community, adoption and polls go with it."""
        await self._store.write(rename_chat, platform, old_chat_id, new_chat_id)


class Polls:
    """The platform's own polls behind ours."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def posted(self, poll_id: int, *, native_id: str, message_id: str) -> None:
        """Tie a poll to the platform's own poll, so that its native votes find it."""
        await self._store.write(attach_native, poll_id, native_id=native_id, message_id=message_id)

    async def open_in(
        self, platform: str, chat_id: str, *, limit: int = OPEN_POLLS_LISTED
    ) -> list[tuple[int, str]]:
        """The polls still open in a chat, newest first, as (number, question): what a
        platform offers to pick from (Discord's autocomplete). Read without the writer."""
        return await self._store.read(open_polls_of_chat, platform, chat_id, limit)


class Deliveries:
    """The outbox as its senders, and adapters that answered inline, see it."""

    def __init__(self, store: Store, clock: Clock = _utcnow) -> None:
        self._store = store
        self._clock = clock

    def now(self) -> datetime:
        return self._clock()

    def with_clock(self, clock: Clock) -> Deliveries:
        """The same outbox read on another clock (the console's, which :time moves)."""
        return Deliveries(self._store, clock)

    async def due(self, platform: str, limit: int) -> list[Outgoing]:
        """The platform's messages ready to send, oldest first. Read on the reader pool: the
        writer's time is the events' (a committed row is seen by the next read)."""
        return await self._store.read(due, platform, self._clock(), limit)

    async def recent(self, platform: str, window: timedelta) -> list[tuple[str, bool, int]]:
        """Per chat, the messages the platform accepted in the last `window`."""
        return await self._store.read(recent_sends, platform, self._clock() - window)

    async def sent(self, delivered: Sequence[tuple[Outgoing, Sequence[str]]]) -> None:
        """The platform accepted these, giving the posted messages these ids."""
        await self._store.write(mark_sent, delivered, self._clock())

    async def answered(self, message_ids: Sequence[int]) -> None:
        """The adapter answered these itself, inline (see Event.answered_inline)."""
        if message_ids:
            await self._store.write(mark_delivered, message_ids, self._clock())

    async def unhold(self, message_ids: Sequence[int]) -> None:
        """Leave these, kept back for an inline answer, to the sender after all."""
        if message_ids:
            await self._store.write(release_hold, message_ids, self._clock())

    async def defer(self, platform: str, waits: Mapping[str, timedelta]) -> None:
        """Nothing to these chats for their waits (over their limits): others go first."""
        now = self._clock()
        until = {chat: now + wait for chat, wait in waits.items()}
        await self._store.write(defer_chats, platform, until)

    async def retry(self, messages: Sequence[Outgoing], after: timedelta) -> None:
        """Not this time (a 429, a network error, a 5xx): again after `after`."""
        await self._store.write(postpone, messages, self._clock() + after)

    async def failed(
        self,
        messages: Sequence[Outgoing],
        reason: str,
        *,
        refusals_to_idle: int,
        refused: bool = True,
    ) -> bool:
        """Never to be sent (refused for good, or given up: `refused=False`); True when their
        group has now refused often enough to be idle."""
        return await self._store.write(
            mark_failed,
            messages,
            reason,
            self._clock(),
            refusals_to_idle=refusals_to_idle,
            refused=refused,
        )

    async def lease(self, platform: str, holder: str, ttl: timedelta) -> bool:
        """Hold the right to drain `platform` for `ttl` more; False while another holds it."""
        return await self._store.write(take_lease, platform, holder, self._clock(), ttl)

    async def release(self, platform: str, holder: str) -> None:
        await self._store.write(release_lease, platform, holder)

    async def forget(self, older_than: timedelta) -> int:
        """Drop delivered and failed messages older than `older_than`."""
        return await self._store.write(forget_delivered, self._clock() - older_than)
