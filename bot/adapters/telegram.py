"""The Telegram adapter: python-telegram-bot 22 on the shared event loop.

Updates arrive through telegram_receiving (kept in the inbox before Telegram forgets them) and
become Events in telegram_updates; the core writes their answers to the outbox, and the sender
posts them through this adapter's messenger (telegram_messenger). A button's answer for the
presser alone is shown here at once, as an alert.
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
    Update,
)
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ContextTypes,
    TypeHandler,
)

from bot.adapters.attached_files import ATTACHED_FILE_MAX_BYTES
from bot.adapters.failure import Failure
from bot.adapters.splitting import shorten
from bot.adapters.telegram_files import TelegramFiles
from bot.adapters.telegram_limits import TELEGRAM_LIMITS, PerChatOrder
from bot.adapters.telegram_messenger import TelegramMessenger
from bot.adapters.telegram_receiving import Receiver, TelegramOptions, file_url, refused
from bot.adapters.telegram_updates import PLATFORM, inbox_id, read_update, with_admin
from bot.delivery.media_files import MediaFiles
from bot.delivery.messenger import Limits
from bot.rendering import Renderer, plain_text
from handlers.invite import Invitations
from handlers.ports import Chats, Deliveries, Inbox, Polls
from handlers.router import Dispatcher, Outcome
from handlers.types import Visibility

__all__ = ["TelegramAdapter", "TelegramMessenger", "TelegramOptions"]

log = logging.getLogger(__name__)
T = TypeVar("T")

ADMIN_CACHE_SECONDS = 300  # "briefly": a demoted admin loses their rights within 5 minutes
ALERT_LIMIT = 200  # Telegram's limit for answerCallbackQuery text
# Telegram's language codes for the menus, per locale of ours.
MENU_LANGUAGES = {"en": "en", "zh_CN": "zh"}


class TelegramAdapter:
    """Serves every Telegram chat the bot is in through the dispatcher."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        options: TelegramOptions,
        *,
        inbox: Inbox,
        chats: Chats,
        polls: Polls,
        deliveries: Deliveries,
        default_locale: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        limits: Limits = TELEGRAM_LIMITS,
        invitations: Invitations | None = None,
        file_limit: int = ATTACHED_FILE_MAX_BYTES,
        media_files: MediaFiles | None = None,
    ) -> None:
        self._dispatcher = dispatcher
        self._options = options
        self._inbox = inbox
        self._chats = chats
        self._deliveries = deliveries
        self._default_locale = default_locale
        self._clock = clock
        self._plain = Renderer(plain_text)
        # No PTB rate limiter: every message goes through the outbox, whose sender keeps
        # Telegram's limits and waits out 429s itself; a stop never waits on a limiter.
        builder = (
            ApplicationBuilder()
            .token(options.token)
            .updater(None)
            .concurrent_updates(PerChatOrder())
        )
        if options.base_url:
            builder = builder.base_url(options.base_url)
        if (files := file_url(options)) is not None:
            builder = builder.base_file_url(files)
        self.application: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.application.add_handler(TypeHandler(Update, self._on_update))
        # Only answers are remembered: a failed lookup is asked again next time (#7 item 6).
        self._admins: TTLCache[tuple[int, int], bool] = TTLCache(
            maxsize=10_000, ttl=ADMIN_CACHE_SECONDS
        )
        self._warned: set[str] = set()
        self._failure = Failure()
        # Telegram's flood limits, as the sender keeps them (the operator may lower them).
        self._messenger = TelegramMessenger(
            self.bot,
            chats=chats,
            polls=polls,
            limits=limits,
            invitations=invitations,
            media_files=media_files,
        )
        self._files = TelegramFiles(self.bot, file_limit)
        self._receiver = Receiver(
            self.bot, inbox, self.application.update_queue, options, self._failure
        )

    @property
    def bot(self) -> Bot:
        """PTB's bot."""
        return cast(Bot, self.application.bot)

    @property
    def messenger(self) -> TelegramMessenger:
        """What sends the outbox's Telegram messages, for the sender (usable once started)."""
        return self._messenger

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
            await self._inbox.drop(inbox_id(update.update_id))
            return
        if incoming.migrated is not None:
            old, new = incoming.migrated
            await self._chats.moved(PLATFORM, old_chat_id=old, new_chat_id=new)
        first = incoming.events[0] if incoming.events else None
        if incoming.wants_admin_check and first and self._dispatcher.asks_who_is_admin(first):
            # Only for commands whose answer depends on it: a check-in needs no round trip.
            # None (Telegram could not say) goes to the core, which knows whether it matters:
            # a listed admin needs no answer, a member asking /help gets the members' list.
            is_admin = await self._is_admin(int(first.chat.chat_id), int(first.actor.user_id))
            incoming = with_admin(incoming, is_admin)
        for event in incoming.events:
            if self._dispatcher.takes_files(event):  # others download nothing
                event = await self._files.brought(event, incoming.file, incoming.media)
            outcome = await self._dispatcher.handle(event)
            if incoming.callback_query_id is not None:
                await self._answer_button(incoming.callback_query_id, outcome)
        if not incoming.events or not all(event.from_inbox for event in incoming.events):
            await self._inbox.drop(inbox_id(update.update_id))

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

    async def _answer_button(self, query_id: str, outcome: Outcome) -> None:
        """Stop the button's spinner. An answer for the presser alone is shown as an alert, and
        is then delivered; any other answer is left to the sender, which posts it in the chat."""
        reply = outcome.reply
        alert = None
        # A file, a photo, an invitation or buttons are more than an alert can show: the
        # sender posts those (a private one to the presser's private chat).
        shows = (
            reply is not None
            and reply.document is None
            and not reply.media
            and reply.invite is None
            and not reply.choices
        )
        if reply is not None and shows and reply.visibility is Visibility.PRIVATE:
            alert = shorten(self._plain.render(reply), ALERT_LIMIT)
        answered = await self._optional(
            "answerCallbackQuery",
            self.bot.answer_callback_query(query_id, text=alert, show_alert=alert is not None),
        )
        if alert is not None and answered:
            await self._deliveries.answered(outcome.queued)
        else:
            # Not shown (or nothing private to show): the sender sends it now, not in 30 s.
            await self._deliveries.unhold(outcome.queued)

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
