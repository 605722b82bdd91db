"""The Telegram adapter: python-telegram-bot 22 on the shared event loop.

Updates arrive through telegram_receiving (kept in the inbox before Telegram forgets them),
become Events in telegram_updates, and are answered here within Telegram's limits
(telegram_limits).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

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
from telegram.error import BadRequest, ChatMigrated, InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ContextTypes,
    TypeHandler,
)
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from bot.adapters.failure import Failure
from bot.adapters.splitting import shorten, split_telegram_html
from bot.adapters.telegram_limits import PerChatOrder, TelegramLimits
from bot.adapters.telegram_receiving import Receiver, TelegramOptions, refused
from bot.adapters.telegram_updates import PLATFORM, Incoming, inbox_id, read_update, with_admin
from bot.rendering import Renderer, plain_text, telegram_html
from handlers.router import Dispatcher, Outcome
from handlers.types import Event, EventKind, PollSpec, Reply, Visibility

__all__ = ["TelegramAdapter", "TelegramOptions"]

log = logging.getLogger(__name__)
T = TypeVar("T")

ADMIN_CACHE_SECONDS = 300  # "briefly": a demoted admin loses their rights within 5 minutes
ALERT_LIMIT = 200  # Telegram's limit for answerCallbackQuery text
BUTTON_DATA_LIMIT = 64  # bytes of callback_data
# Telegram's language codes for the menus, per locale of ours.
MENU_LANGUAGES = {"en": "en", "zh_CN": "zh"}


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
        # Only answers are remembered: a failed lookup is asked again next time (#7 item 6).
        self._admins: TTLCache[tuple[int, int], bool] = TTLCache(
            maxsize=10_000, ttl=ADMIN_CACHE_SECONDS
        )
        self._warned: set[str] = set()
        self._failure = Failure()
        self._receiver = Receiver(
            self.bot, dispatcher, self.application.update_queue, options, self._failure
        )

    @property
    def bot(self) -> Bot:
        """PTB's bot (with the rate limiter in front of every call)."""
        return cast(Bot, self.application.bot)

    async def start(self) -> None:
        """Connect (getMe), publish the command menus, replay the inbox, start receiving.

        Raises TokenRefused when Telegram refuses the token.
        """
        try:
            await self.application.initialize()
        except BaseException as error:
            await self.bot.shutdown()  # its HTTP clients were opened before getMe failed
            if isinstance(error, InvalidToken):
                raise refused(error) from None  # PTB's own words name the token
            raise
        await self.application.start()
        await self._publish_menus()
        await self._receiver.start()
        log.info("telegram ready", extra={"bot": self.bot.username, "mode": self._options.mode})

    async def stop(self) -> None:
        """Stop receiving, let running handlers finish, close the connections."""
        await self._receiver.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def failed(self) -> BaseException:
        """Wait until Telegram refuses the token (revoked while running) and return why."""
        return await self._failure.wait()

    # Handling ----------------------------------------------------------------------------------

    async def _on_update(self, update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await self._handle(update)
        except Exception:
            # The inbox keeps the update; it is tried again at the next start.
            log.exception("telegram update failed", extra={"event_id": inbox_id(update.update_id)})

    async def _handle(self, update: Update) -> None:
        incoming = read_update(
            update, bot_username=self.bot.username, bot_id=self.bot.id, now=self._clock()
        )
        if incoming is None:
            await self._dispatcher.drop_arrival(inbox_id(update.update_id))
            return
        if incoming.migrated is not None:
            old, new = incoming.migrated
            await self._dispatcher.chat_moved(PLATFORM, old_chat_id=old, new_chat_id=new)
        first = incoming.events[0] if incoming.events else None
        if incoming.wants_admin_check and first and self._dispatcher.asks_who_is_admin(first):
            # Only for commands whose answer depends on it: a check-in needs no round trip.
            # None (Telegram could not say) goes to the core, which knows whether it matters:
            # a listed admin needs no answer, a member asking /help gets the members' list.
            is_admin = await self._is_admin(int(first.chat.chat_id), int(first.actor.user_id))
            incoming = with_admin(incoming, is_admin)
        for event in incoming.events:
            outcome = await self._dispatcher.handle(event)
            await self._answer(event, incoming, outcome)
        if not incoming.events or not all(event.from_inbox for event in incoming.events):
            await self._dispatcher.drop_arrival(inbox_id(update.update_id))

    async def _is_admin(self, chat_id: int, user_id: int) -> bool | None:
        """Whether Telegram says the user is an admin of the chat; None when it could not say."""
        key = (chat_id, user_id)
        known = self._admins.get(key)
        if known is not None:
            return known
        try:
            member = await self.bot.get_chat_member(chat_id, user_id)
        except TelegramError as error:
            log.warning(
                "telegram getChatMember failed; admin rights unknown",
                extra={"chat_id": chat_id, "user_id": user_id, "error": str(error)},
            )
            return None
        answer = self._admins[key] = member.status in (ChatMember.ADMINISTRATOR, ChatMember.OWNER)
        return answer

    # Answering ---------------------------------------------------------------------------------

    async def _answer(self, event: Event, incoming: Incoming, outcome: Outcome) -> None:
        reply = outcome.reply
        if incoming.callback_query_id is not None:
            alert = None
            if reply is not None and reply.visibility is Visibility.PRIVATE:
                alert = shorten(self._plain.render(reply), ALERT_LIMIT)
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
        # Poll text is shown as typed, less what the renderer keeps off every screen (control
        # and invisible characters); a poll that no longer fits goes out as text with buttons.
        question, options = plain_text(poll.question), [plain_text(o) for o in poll.options]
        if not question.strip() or len(set(options)) != len(options) or "" in options:
            return False
        message = await self._optional(
            "sendPoll",
            self.bot.send_poll(chat_id, question, options, is_anonymous=False),
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
                    shorten(self._plain.render(Reply(c.label, c.context, reply.locale)), 64),
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
                    BotCommand(name, shorten(self._plain.describe(locale, name) or name, 256))
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
