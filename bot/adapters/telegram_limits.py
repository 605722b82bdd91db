"""How fast and in what order the Telegram adapter talks: Telegram's flood limits, as the
outbox's sender keeps them, and one chat's updates handled in the order they came."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.delivery.messenger import Limits, Rate

# Telegram's limits (its FAQ): about 30 messages a second in all, 20 a minute into one group,
# about one a second into one private chat. A group gets at most 5 at once; the rest of its
# minute is spread out, so answers that come later are not all held back to the next minute.
# Nothing in the adapter waits on them: the sender does, and a stop never waits on a limiter.
TELEGRAM_LIMITS = Limits(overall=Rate(30, 1), group=Rate(20, 60), private=Rate(1, 1), group_burst=5)
# No limits at all: for measuring the adapter against a fake (bench/).
NO_LIMITS = Limits(overall=Rate(0, 1), group=Rate(0, 60), private=Rate(0, 1))


class PerChatOrder(BaseUpdateProcessor):
    """Updates from different chats run concurrently (one slow admin lookup must not hold up
    the rest); updates from one chat run in order, so their answers reach the outbox, and the
    chat, in the order asked. Poll answers name no chat: one person's run in order, so a vote
    changed at once is counted as changed (not overtaken by the first)."""

    def __init__(self, max_concurrent_updates: int = 32) -> None:
        # PTB takes its own slot before do_process_update runs: were that the real limit, 32
        # updates queued behind one busy group's lock would stall every other chat. So PTB's
        # gate is wide open and ours is taken only once the chat's turn has come.
        super().__init__(1_000_000)
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._locks: dict[tuple[str, int], asyncio.Lock] = {}
        # Updates holding or queued for each lock.
        self._waiting: Counter[tuple[str, int]] = Counter()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = _order_key(update)
        if key is None:
            async with self._slots:
                await coroutine  # nothing to keep in order with
            return
        self._waiting[key] += 1
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock, self._slots:
                await coroutine
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:  # the last one out forgets the chat
                del self._waiting[key], self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


def _order_key(update: object) -> tuple[str, int] | None:
    """What an update keeps its order with: its chat, or (a poll answer) its voter."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return ("chat", update.effective_chat.id)
    if update.effective_user is not None:
        return ("user", update.effective_user.id)
    return None
