"""How Telegram updates reach the adapter: long polling (getUpdates) or a webhook.

Safer than PTB's own Updater: PTB confirms fetched updates to Telegram (the next getUpdates
offset) before its handlers ran, so a crash loses them. Here every fetched update is written to
the inbox table first, and only then is the offset moved on; the unit of work that handles an
update deletes its inbox row, and a restart replays whatever is left. Webhook mode does the same
before it answers Telegram 200.

Dropped connections, 429s and 5xx are waited out and retried; a refused token is not (it stays
refused), and ends the adapter through its Failure.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Bot, Update
from telegram.error import InvalidToken, RetryAfter, TelegramError

from bot.adapters.failure import Failure, TokenRefused
from bot.adapters.telegram_updates import PLATFORM, inbox_id
from handlers.ports import Inbox

log = logging.getLogger(__name__)

# What getUpdates fetches and setWebhook asks Telegram to post. edited_message: a message edited
# to show something else (a /link code) still counts for what it shows. chat_member: who joined
# through which invite link (Telegram sends it only to a bot that is an admin of the group).
ALLOWED_UPDATES = ("message", "edited_message", "callback_query", "poll_answer", "chat_member")
# Webhook mode has no getUpdates to notice a revoked token (Telegram just stops calling): a
# getMe this often does.
TOKEN_CHECK_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class TelegramOptions:
    """How to reach Telegram and how updates arrive."""

    token: str
    base_url: str | None = None
    # Where files are downloaded from; by default next to base_url ("http://h:p/bot" ->
    # "http://h:p/file/bot"), as a self-hosted Bot API server serves them.
    base_file_url: str | None = None
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: str | None = None
    poll_timeout: int = 10  # seconds a getUpdates long poll is held open
    # Seconds of the back-off after failed getUpdates: 2, 4, 8 ... 64 units. Tests shrink it.
    retry_unit: float = 1.0
    token_check_seconds: float = TOKEN_CHECK_SECONDS


def file_url(options: TelegramOptions) -> str | None:
    """Where PTB downloads files from (None: Telegram's own)."""
    if options.base_file_url:
        return options.base_file_url
    base = options.base_url
    if base and base.rstrip("/").endswith("/bot"):
        return base.rstrip("/").removesuffix("/bot") + "/file/bot"
    return None


def refused(error: InvalidToken) -> TokenRefused:
    """What the operator is told when Telegram refuses the token (its words, never the token)."""
    return TokenRefused(
        f"Telegram refused the bot token ({error.message}): it was revoked or replaced; "
        "put the current token from @BotFather in TELEGRAM_TOKEN"
    )


class Receiver:
    """Fetches updates, keeps them in the inbox before Telegram forgets them, and queues them
    for PTB's handlers."""

    def __init__(
        self,
        bot: Bot,
        inbox: Inbox,
        queue: asyncio.Queue[object],
        options: TelegramOptions,
        failure: Failure,
    ) -> None:
        self._bot = bot
        self._inbox = inbox
        self._queue = queue
        self._options = options
        self._failure = failure
        self._task: asyncio.Task[None] | None = None
        self._webhook: web.AppRunner | None = None

    async def start(self) -> None:
        """Replay what the inbox kept from the last run, then start receiving."""
        for _, payload in await self._inbox.pending(PLATFORM):
            await self._queue.put(Update.de_json(json.loads(payload), self._bot))
        if self._options.mode == "webhook":
            await self._start_webhook()
            self._task = asyncio.create_task(self._watch_token(), name="telegram-token")
        else:
            try:
                await self._bot.delete_webhook()
            except TelegramError as error:
                # getMe has just accepted the token, so this is a Bot API server without the
                # method; polling works unless a webhook is still set (getUpdates would say so).
                log.warning("telegram deleteWebhook failed", extra={"error": str(error)})
            self._task = asyncio.create_task(self._poll(), name="telegram-poll")

    async def stop(self) -> None:
        """Stop fetching and close the webhook server."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._webhook is not None:
            await self._webhook.cleanup()

    async def _poll(self) -> None:
        offset: int | None = None
        failures = 0
        while True:
            try:
                updates = await self._bot.get_updates(
                    offset=offset,
                    timeout=self._options.poll_timeout,  # whole seconds, as the Bot API takes it
                    allowed_updates=ALLOWED_UPDATES,
                )
                if updates:
                    # Durable before the next getUpdates tells Telegram to forget them.
                    await self._keep(updates)
            except asyncio.CancelledError:
                raise
            except InvalidToken as error:
                # 401 for a revoked token (404 for a malformed one): asking again cannot help.
                log.error("telegram refused the bot token; stopping", extra={"error": str(error)})
                self._failure.set(refused(error))
                return
            except Exception as error:
                failures += 1
                wait = retry_in(error, failures, self._options.retry_unit)
                log.warning(
                    "telegram getUpdates failed; retrying",
                    extra={"error": str(error), "retry_in": wait},
                )
                await asyncio.sleep(wait)
                continue
            failures = 0
            if updates:
                offset = updates[-1].update_id + 1
                for update in updates:
                    await self._queue.put(update)

    async def _watch_token(self) -> None:
        while True:
            await asyncio.sleep(self._options.token_check_seconds)
            try:
                await self._bot.get_me()
            except InvalidToken as error:
                log.error("telegram refused the bot token; stopping", extra={"error": str(error)})
                self._failure.set(refused(error))
                return
            except Exception as error:
                log.debug("telegram token check failed", extra={"error": str(error)})

    async def _keep(self, updates: Sequence[Update]) -> None:
        await self._inbox.keep(
            PLATFORM, [(inbox_id(update.update_id), update.to_json()) for update in updates]
        )

    async def _start_webhook(self) -> None:
        url = self._options.webhook_url
        if not url:
            raise ValueError("TELEGRAM_MODE=webhook needs TELEGRAM_WEBHOOK_URL")
        secret = self._options.webhook_secret or secrets.token_urlsafe(32)
        server = web.Application(client_max_size=1 << 20)
        server.router.add_post(urlsplit(url).path or "/", self._webhook_handler(secret))
        self._webhook = web.AppRunner(server, access_log=None)
        await self._webhook.setup()
        site = web.TCPSite(self._webhook, self._options.webhook_listen, self._options.webhook_port)
        await site.start()
        await self._bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)

    def _webhook_handler(
        self, secret: str
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def receive(request: web.Request) -> web.StreamResponse:
            given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
            if not hmac.compare_digest(given.encode(), secret.encode()):
                return web.Response(status=403)
            try:
                update = Update.de_json(await request.json(), self._bot)
            except Exception:
                return web.Response(status=400)
            # Answering 200 lets Telegram forget the update: keep it first. A failure here
            # answers 500, and Telegram delivers it again.
            await self._keep([update])
            await self._queue.put(update)
            return web.Response(status=200)

        return receive


def retry_in(error: Exception, failures: int, unit: float = 1.0) -> float:
    """Seconds to wait before polling again: what a 429 asks, else a growing back-off."""
    if isinstance(error, RetryAfter):
        value = error.retry_after
        return value.total_seconds() if isinstance(value, timedelta) else float(value)
    return unit * float(2 ** min(failures, 6))
