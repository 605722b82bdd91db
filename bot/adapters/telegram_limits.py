"""How fast and in what order the Telegram adapter talks: Telegram's flood limits, and one
chat's updates handled in the order they came."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from cachetools import LRUCache
from telegram import Update
from telegram.ext import AIORateLimiter, BaseUpdateProcessor

# Bot API methods that carry a chat_id but post nothing into the chat.
_NOT_MESSAGES = frozenset({"getChatMember", "getChat", "answerCallbackQuery", "stopPoll"})


class TelegramLimits(AIORateLimiter):
    """Telegram's flood limits: PTB's AIORateLimiter keeps 30 messages/s overall and 20/min per
    group and retries 429s after `retry_after`; this adds about one message a second per private
    chat, which it leaves out."""

    def __init__(
        self,
        *,
        max_retries: int = 10,
        overall_per_second: float = 30,
        group_per_minute: float = 20,
        private_per_second: float = 1.0,
    ) -> None:
        super().__init__(
            overall_max_rate=overall_per_second,
            group_max_rate=group_per_minute,
            max_retries=max_retries,
        )
        self._private_rate = private_per_second
        self._private: LRUCache[int, AsyncLimiter] = LRUCache(maxsize=4096)

    @classmethod
    def unlimited(cls) -> TelegramLimits:
        """No flood limits, 429s still retried: for measuring the adapter against a fake."""
        return cls(overall_per_second=0, group_per_minute=0, private_per_second=0)

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        chat_id = data.get("chat_id")
        if endpoint in _NOT_MESSAGES and chat_id is not None:
            # Telegram's per-chat limits are about messages; an admin lookup must not eat a
            # group's 20 messages a minute. Without chat_id only the retry logic applies.
            data = {key: value for key, value in data.items() if key != "chat_id"}
            chat_id = None
        if isinstance(chat_id, int) and chat_id > 0 and self._private_rate:
            limiter = self._private.get(chat_id)
            if limiter is None:
                limiter = self._private[chat_id] = AsyncLimiter(self._private_rate, 1)
            inner = callback

            async def limited(*a: Any, **k: Any) -> Any:
                async with limiter:
                    return await inner(*a, **k)

            callback = limited
        return await super().process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )


class PerChatOrder(BaseUpdateProcessor):
    """Updates from different chats run concurrently (one slow send must not hold up the
    rest); updates from one chat run in order, so answers come in the order asked."""

    def __init__(self, max_concurrent_updates: int = 32) -> None:
        # PTB takes its own slot before do_process_update runs: were that the real limit, 32
        # updates queued behind one busy group's lock would stall every other chat. So PTB's
        # gate is wide open and ours is taken only once the chat's turn has come.
        super().__init__(1_000_000)
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: Counter[int] = Counter()  # updates holding or queued for each lock

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            async with self._slots:
                await coroutine  # poll answers name no chat: nothing to keep in order with
            return
        self._waiting[chat.id] += 1
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        try:
            async with lock, self._slots:
                await coroutine
        finally:
            self._waiting[chat.id] -= 1
            if not self._waiting[chat.id]:  # the last one out forgets the chat
                del self._waiting[chat.id], self._locks[chat.id]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""
