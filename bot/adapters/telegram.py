"""The Telegram adapter: python-telegram-bot 22 on the shared event loop.

Safer than PTB's own Updater: PTB confirms fetched updates to Telegram (the next getUpdates
offset) before its handlers ran, so a crash loses them. Here every fetched update is written to
the inbox table first, and only then is the offset moved on; the unit of work that handles an
update deletes its inbox row, and a restart replays whatever is left. Webhook mode does the same
before it answers Telegram 200.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar, cast
from urllib.parse import urlsplit

from aiohttp import web
from cachetools import TTLCache
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    ChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ContextTypes,
    TypeHandler,
)
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from bot.adapters.splitting import split_telegram_html
from bot.adapters.telegram_limits import PerChatOrder, TelegramLimits
from bot.adapters.telegram_updates import PLATFORM, Incoming, inbox_id, read_update, with_admin
from bot.rendering import Renderer, plain_text, telegram_html
from handlers.router import Dispatcher, Outcome
from handlers.types import Event, EventKind, PollSpec, Reply, Visibility

log = logging.getLogger(__name__)
T = TypeVar("T")

ALLOWED_UPDATES = ("message", "callback_query", "poll_answer")
ADMIN_CACHE_SECONDS = 300  # "briefly": a demoted admin loses their rights within 5 minutes
ALERT_LIMIT = 200  # Telegram's limit for answerCallbackQuery text
BUTTON_DATA_LIMIT = 64  # bytes of callback_data
# Telegram's language codes for the menus, per locale of ours.
MENU_LANGUAGES = {"en": "en", "zh_CN": "zh"}


@dataclass(frozen=True, slots=True)
class TelegramOptions:
    """How to reach Telegram and how updates arrive."""

    token: str
    base_url: str | None = None
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: str | None = None
    poll_timeout: int = 10  # seconds a getUpdates long poll is held open
    # Telegram's flood limits. Off only to measure the adapter against a fake (bench/).
    flood_limits: bool = True


def _transient(error: BaseException) -> bool:
    # BadRequest is a NetworkError in PTB, but sending it again cannot help.
    return isinstance(error, NetworkError) and not isinstance(error, BadRequest)


class TelegramAdapter:
    """Serves every Telegram chat the bot is in through the dispatcher."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        options: TelegramOptions,
        *,
        default_locale: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._dispatcher = dispatcher
        self._options = options
        self._default_locale = default_locale
        self._clock = clock
        self._html = Renderer(telegram_html)
        self._plain = Renderer(plain_text)
        builder = (
            ApplicationBuilder()
            .token(options.token)
            .updater(None)
            .rate_limiter(TelegramLimits() if options.flood_limits else TelegramLimits.unlimited())
            .concurrent_updates(PerChatOrder())
        )
        if options.base_url:
            builder = builder.base_url(options.base_url)
        self.application: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self._admins: TTLCache[tuple[int, int], bool] = TTLCache(
            maxsize=10_000, ttl=ADMIN_CACHE_SECONDS
        )
        self._warned: set[str] = set()
        self._poller: asyncio.Task[None] | None = None
        self._webhook: web.AppRunner | None = None

    @property
    def bot(self) -> Bot:
        """PTB's bot (with the rate limiter in front of every call)."""
        return cast(Bot, self.application.bot)

    async def start(self) -> None:
        """Connect (getMe), publish the command menus, replay the inbox, start receiving."""
        await self.application.initialize()
        await self.application.start()
        await self._publish_menus()
        for _, payload in await self._dispatcher.pending_arrivals(PLATFORM):
            await self.application.update_queue.put(Update.de_json(json.loads(payload), self.bot))
        if self._options.mode == "webhook":
            await self._start_webhook()
        else:
            await self._optional("deleteWebhook", self.bot.delete_webhook())
            self._poller = asyncio.create_task(self._poll(), name="telegram-poll")
        log.info("telegram ready", extra={"bot": self.bot.username, "mode": self._options.mode})

    async def stop(self) -> None:
        """Stop receiving, let running handlers finish, close the connections."""
        if self._poller is not None:
            self._poller.cancel()
            await asyncio.gather(self._poller, return_exceptions=True)
        if self._webhook is not None:
            await self._webhook.cleanup()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    # Receiving ---------------------------------------------------------------------------------

    async def _poll(self) -> None:
        offset: int | None = None
        failures = 0
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=offset,
                    timeout=self._options.poll_timeout,  # whole seconds, as the Bot API takes it
                    allowed_updates=ALLOWED_UPDATES,
                )
                if updates:
                    # Durable before the next getUpdates tells Telegram to forget them.
                    await self._keep(updates)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                failures += 1
                wait = _retry_in(error, failures)
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
                    await self.application.update_queue.put(update)

    async def _keep(self, updates: Sequence[Update]) -> None:
        await self._dispatcher.keep_arrivals(
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
        await self.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)

    def _webhook_handler(
        self, secret: str
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def receive(request: web.Request) -> web.StreamResponse:
            given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
            if not hmac.compare_digest(given.encode(), secret.encode()):
                return web.Response(status=403)
            try:
                update = Update.de_json(await request.json(), self.bot)
            except Exception:
                return web.Response(status=400)
            # Answering 200 lets Telegram forget the update: keep it first. A failure here
            # answers 500, and Telegram delivers it again.
            await self._keep([update])
            await self.application.update_queue.put(update)
            return web.Response(status=200)

        return receive

    # Handling ----------------------------------------------------------------------------------

    async def _on_update(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await self._handle(update)
        except Exception:
            # The inbox keeps the update; it is tried again at the next start.
            log.exception("telegram update failed", extra={"event_id": inbox_id(update.update_id)})

    async def _handle(self, update: Update) -> None:
        incoming = read_update(update, bot_username=self.bot.username, now=self._clock())
        if incoming is None:
            await self._dispatcher.drop_arrival(inbox_id(update.update_id))
            return
        if incoming.migrated is not None:
            old, new = incoming.migrated
            await self._dispatcher.chat_moved(PLATFORM, old_chat_id=old, new_chat_id=new)
        first = incoming.events[0] if incoming.events else None
        if incoming.wants_admin_check and first and self._dispatcher.asks_who_is_admin(first):
            # Only for commands whose answer depends on it: a check-in needs no round trip.
            incoming = with_admin(
                incoming, await self._is_admin(int(first.chat.chat_id), int(first.actor.user_id))
            )
        for event in incoming.events:
            outcome = await self._dispatcher.handle(event)
            await self._answer(event, incoming, outcome)
        if not incoming.events or not all(event.from_inbox for event in incoming.events):
            await self._dispatcher.drop_arrival(inbox_id(update.update_id))

    async def _is_admin(self, chat_id: int, user_id: int) -> bool:
        key = (chat_id, user_id)
        if key not in self._admins:
            member = await self._optional(
                "getChatMember", self.bot.get_chat_member(chat_id, user_id)
            )
            self._admins[key] = member is not None and member.status in (
                ChatMember.ADMINISTRATOR,
                ChatMember.OWNER,
            )
        return self._admins[key]

    # Answering ---------------------------------------------------------------------------------

    async def _answer(self, event: Event, incoming: Incoming, outcome: Outcome) -> None:
        reply = outcome.reply
        if incoming.callback_query_id is not None:
            alert = None
            if reply is not None and reply.visibility is Visibility.PRIVATE:
                alert = _shorten(self._plain.render(reply), ALERT_LIMIT)
            await self._optional(
                "answerCallbackQuery",
                self.bot.answer_callback_query(
                    incoming.callback_query_id, text=alert, show_alert=alert is not None
                ),
            )
            if alert is not None:
                return
        if reply is None or event.kind is EventKind.VOTE:
            return  # a native poll vote names no chat to answer in
        await self.send(int(event.chat.chat_id), reply, reply_to=incoming.message_id)

    async def send(self, chat_id: int, reply: Reply, *, reply_to: int | None = None) -> None:
        """Post a reply in a chat: a native poll, or text (split to fit) with its buttons."""
        if reply.poll is not None and await self._send_poll(chat_id, reply.poll):
            return
        chunks = split_telegram_html(self._html.render(reply))
        markup = self._keyboard(reply)
        for index, chunk in enumerate(chunks):
            last = index == len(chunks) - 1
            await self._send_text(
                chat_id,
                chunk,
                markup if last else None,
                reply_to if index == 0 else None,
            )
        if reply.ends_poll:
            await self._optional("stopPoll", self.bot.stop_poll(chat_id, int(reply.ends_poll)))

    async def _send_text(
        self,
        chat_id: int,
        text: str,
        markup: InlineKeyboardMarkup | None,
        reply_to: int | None,
    ) -> None:
        quote = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
        try:
            # 429s are waited out and retried by the rate limiter; dropped connections and 5xx
            # are retried here; a refusal (400/403) is final and logged.
            async for attempt in AsyncRetrying(
                retry=retry_if_exception(_transient),
                stop=stop_after_attempt(5),
                wait=wait_exponential(multiplier=0.5, max=10),
                reraise=True,
            ):
                with attempt:
                    await self.bot.send_message(
                        chat_id,
                        text,
                        parse_mode=ParseMode.HTML,
                        reply_markup=markup,
                        reply_parameters=quote,
                    )
        except ChatMigrated as moved:
            # A group that became a supergroup: send there (its first message moves the group).
            await self._send_text(moved.new_chat_id, text, markup, None)
        except TelegramError as error:
            log.error("telegram send failed", extra={"chat_id": chat_id, "error": str(error)})

    async def _send_poll(self, chat_id: int, poll: PollSpec) -> bool:
        message = await self._optional(
            "sendPoll",
            self.bot.send_poll(chat_id, poll.question, list(poll.options), is_anonymous=False),
        )
        if message is None or message.poll is None:
            return False  # the caller falls back to text with buttons
        await self._dispatcher.poll_posted(
            poll.poll_id, native_id=message.poll.id, message_id=str(message.message_id)
        )
        return True

    def _keyboard(self, reply: Reply) -> InlineKeyboardMarkup | None:
        rows = [
            [
                InlineKeyboardButton(
                    _shorten(self._plain.render(Reply(c.label, c.context, reply.locale)), 64),
                    callback_data=c.command,
                )
            ]
            for c in reply.choices
            if len(c.command.encode()) <= BUTTON_DATA_LIMIT
        ]
        return InlineKeyboardMarkup(rows) if rows else None

    async def _publish_menus(self) -> None:
        menu = self._dispatcher.command_menu()
        targets: list[tuple[str, str | None]] = [(self._default_locale, None)]
        targets += [(locale, code) for locale, code in MENU_LANGUAGES.items()]
        for locale, language in targets:

            def commands(admins: bool, locale: str = locale) -> list[BotCommand]:
                return [
                    BotCommand(name, _shorten(self._plain.describe(locale, name) or name, 256))
                    for name, admin_only in menu
                    if admins or not admin_only
                ]

            await self._optional(
                "setMyCommands", self.bot.set_my_commands(commands(False), language_code=language)
            )
            await self._optional(
                "setMyCommands",
                self.bot.set_my_commands(
                    commands(True),
                    scope=BotCommandScopeAllChatAdministrators(),
                    language_code=language,
                ),
            )

    async def _optional(self, method: str, call: Awaitable[T]) -> T | None:
        """A call the bot can do without: a failure is logged once per method, then shrugged."""
        try:
            return await call
        except TelegramError as error:
            if method not in self._warned:
                self._warned.add(method)
                log.warning(
                    "telegram method failed; carrying on without it",
                    extra={"method": method, "error": str(error)},
                )
            return None


def _retry_in(error: Exception, failures: int) -> float:
    """Seconds to wait before polling again: what a 429 asks, else a growing back-off."""
    if isinstance(error, RetryAfter):
        value = error.retry_after
        return value.total_seconds() if isinstance(value, timedelta) else float(value)
    return float(2 ** min(failures, 6))


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
