"""The outbox's messages sent on Telegram: the Messenger for python-telegram-bot.

Each message is rendered now, in its locale, as Telegram HTML, and cut into messages Telegram
takes; a native poll, an edit and the end of a poll degrade where Telegram will not have them.
Telegram's errors are said in the sender's words: wait (429 with its retry_after; a dropped
connection, a timeout or a 5xx: back off) or give up (403: removed from the group or blocked;
400: chat not found, ...). Nothing here waits or retries: the sender keeps the limits.
"""

from __future__ import annotations

import logging
import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from cachetools import LRUCache
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Poll,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.adapters.splitting import shorten, split_telegram_html, utf16_length
from bot.adapters.telegram_limits import TELEGRAM_LIMITS
from bot.adapters.telegram_media import TelegramMedia
from bot.adapters.telegram_updates import PLATFORM
from bot.delivery.documents import safe_name
from bot.delivery.invites import InviteLinks
from bot.delivery.media_files import MediaFiles
from bot.delivery.messenger import Limits, Refused, RetryLater
from bot.rendering import Renderer, plain_text, telegram_html
from community.messages import InviteSpec, Media
from community.outbox import Kind, Outgoing
from handlers.invite import Invitations
from handlers.ports import Chats, Polls
from handlers.types import PollSpec, Reply

log = logging.getLogger(__name__)

BUTTON_DATA_LIMIT = 64  # bytes of callback_data
BUTTON_TEXT_LIMIT = 64
CAPTION_LIMIT = 1024  # UTF-16 units of a caption, as the reader sees it (an emoji is two)
# A quiz poll's countdown (open_period), in seconds: Telegram takes 5 to 600. A question with
# less time left goes out without one; the quiz stops it at its end anyway.
OPEN_PERIOD = (5, 600)
# What Telegram says when the message to edit is gone (deleted, too old, not the bot's):
# the new words are posted as a new message instead.
_GONE = ("message to edit not found", "message can't be edited", "message_id_invalid")
_NOT_MODIFIED = "message is not modified"  # the edit says what the message says already
_NO_TEXT = "there is no text in the message to edit"  # a photo's: its caption is edited


def meaning(error: TelegramError) -> RetryLater | Refused:
    """What a Telegram error means for a message: try again (when), or never."""
    if isinstance(error, RetryAfter):
        after = error.retry_after
        seconds = after.total_seconds() if isinstance(after, timedelta) else float(after)
        return RetryLater(error.message, after=seconds)
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        return RetryLater(error.message)  # a dropped connection, a timeout, a 5xx
    if isinstance(error, InvalidToken):
        # The token, not this message: the receiver notices and stops the adapter.
        return RetryLater(error.message)
    return Refused(error.message)  # 403 kicked or blocked, 400 chat not found, ...


class TelegramMessenger:
    """Sends the outbox's messages through PTB's bot; see bot.delivery.messenger.Messenger."""

    platform = PLATFORM

    def __init__(
        self,
        bot: Bot,
        *,
        chats: Chats,
        polls: Polls,
        limits: Limits = TELEGRAM_LIMITS,
        invitations: Invitations | None = None,
        media_files: MediaFiles | None = None,
    ) -> None:
        self.limits = limits
        self._bot = bot
        self._chats = chats
        self._polls = polls
        self._invites = InviteLinks(self._make_invite, invitations)
        self._html = Renderer(telegram_html)
        self._plain = Renderer(plain_text)
        # The parts of a long text already posted, by outbox id: sent again after a 429 on
        # its third part, it goes on from the third part (within this process).
        self._posted: LRUCache[str, list[str]] = LRUCache(maxsize=4096)
        # The words posted before a quiz poll, by outbox id: a quiz poll sent again after a
        # 429 does not repeat them (within this process).
        self._leads: LRUCache[str, tuple[str, ...]] = LRUCache(maxsize=1024)
        self._degraded: set[str] = set()
        self._media = TelegramMedia(bot, media_files)

    async def send(self, message: Outgoing) -> tuple[str, ...]:
        """Send one message; the ids of the messages posted (or edited). Raises RetryLater or
        Refused."""
        try:
            if message.reply.invite is not None:
                message = replace(message, reply=await self._invites.fill(message.reply))
            try:
                return await self._send(int(message.chat_id), message)
            except ChatMigrated as moved:
                # A group that became a supergroup: it lives on under the new id.
                new = str(moved.new_chat_id)
                await self._chats.moved(PLATFORM, old_chat_id=message.chat_id, new_chat_id=new)
                return await self._send(int(new), message)
        except TelegramError as error:
            raise meaning(error) from error

    async def _send(self, chat_id: int, message: Outgoing) -> tuple[str, ...]:
        reply = message.reply
        if message.kind is Kind.END_POLL:
            await self._stop_poll(chat_id, reply.ends_poll or message.edits, required=True)
            return ()
        posted: tuple[str, ...] = ()
        if message.kind is Kind.EDIT and message.edits:
            posted = await self._edit(chat_id, message.edits, reply)
        elif reply.poll is not None and reply.poll.quiz:
            posted = await self._send_quiz(chat_id, message, reply.poll)
        elif reply.poll is not None:
            posted = await self._send_poll(chat_id, reply.poll)
        files = () if message.kind is Kind.EDIT else self._media.usable(reply.media)
        if files:
            posted = await self._send_media(chat_id, message, files)
        elif reply.document is not None and message.kind is not Kind.EDIT:
            posted = await self._send_document(chat_id, message)
        if not posted:
            posted = await self._post(chat_id, message)
        if reply.ends_poll:
            await self._stop_poll(chat_id, reply.ends_poll, required=False)
        return posted

    async def _post(self, chat_id: int, message: Outgoing) -> tuple[str, ...]:
        """Text cut to fit: the first part quotes the asking message, the last has the buttons."""
        chunks = split_telegram_html(self._html.render(message.reply))
        markup = self._keyboard(message.reply)
        posted = self._posted.setdefault(message.key, [])
        for index in range(len(posted), len(chunks)):
            quote = None
            if index == 0 and message.reply_to:
                quote = ReplyParameters(int(message.reply_to), allow_sending_without_reply=True)
            sent = await self._bot.send_message(
                chat_id,
                chunks[index],
                parse_mode=ParseMode.HTML,
                reply_markup=markup if index == len(chunks) - 1 else None,
                reply_parameters=quote,
            )
            posted.append(str(sent.message_id))
        self._posted.pop(message.key, None)
        return tuple(posted)

    async def _send_media(
        self, chat_id: int, message: Outgoing, files: tuple[Media, ...]
    ) -> tuple[str, ...]:
        """The reply's photos, videos and files: a lone one with the words as its caption and
        the buttons under it, when they fit; else the files (several as albums), then the
        words as a message of their own (with the buttons, or with the reply's document)."""
        reply = message.reply
        html = self._html.render(reply)
        words = bool(html.strip())
        quote = None
        if message.reply_to:
            quote = ReplyParameters(int(message.reply_to), allow_sending_without_reply=True)
        fits = not words or self._caption_fits(reply)
        if len(files) == 1 and reply.document is None and fits:
            caption = html if words else None
            markup = self._keyboard(reply)
            return (
                await self._media.one(
                    chat_id, files[0], caption=caption, markup=markup, quote=quote
                ),
            )
        posted = await self._media.several(chat_id, message.key, files, quote=quote)
        rest = replace(message, reply=replace(reply, media=()), reply_to=None)
        if reply.document is not None:
            posted += await self._send_document(chat_id, rest)
        elif words:
            posted += await self._post(chat_id, rest)
        self._media.done(message.key)
        return posted

    def _caption_fits(self, reply: Reply) -> bool:
        """Whether the reply's words fit in a file's caption, counted as Telegram counts."""
        return utf16_length(self._plain.render(reply)) <= CAPTION_LIMIT

    async def _send_document(self, chat_id: int, message: Outgoing) -> tuple[str, ...]:
        """The reply's file with its words as the caption (sendDocument); words too long for a
        caption go first as messages of their own, the file after them."""
        reply = message.reply
        assert reply.document is not None
        html = self._html.render(reply)
        fits = self._caption_fits(reply) and html.strip()
        posted: tuple[str, ...] = ()
        if not fits and html.strip():
            posted = await self._post(chat_id, message)
        quote = None
        if message.reply_to and not posted:
            quote = ReplyParameters(int(message.reply_to), allow_sending_without_reply=True)
        name = safe_name(reply.document.name)
        sent = await self._bot.send_document(
            chat_id,
            InputFile(reply.document.content, filename=name),
            caption=html if fits else None,
            parse_mode=ParseMode.HTML if fits else None,
            reply_markup=self._keyboard(reply) if fits else None,
            reply_parameters=quote,
            filename=name,
        )
        return (*posted, str(sent.message_id))

    async def _make_invite(self, spec: InviteSpec) -> str:
        """A named invite link into the group (the bot must be its admin, allowed to invite);
        "" when Telegram refuses."""
        try:
            made = await self._bot.create_chat_invite_link(int(spec.chat_id), name=spec.code)
        except (BadRequest, Forbidden, ValueError) as error:
            self._degrade("createChatInviteLink", error)
            return ""
        return made.invite_link

    async def _edit(self, chat_id: int, message_id: str, reply: Reply) -> tuple[str, ...]:
        """New words for a message posted before; () when they must go out as a new message
        (the old one is gone, or the words no longer fit in one)."""
        chunks = split_telegram_html(self._html.render(reply))
        if len(chunks) != 1:
            return ()
        try:
            await self._bot.edit_message_text(
                chunks[0],
                chat_id=chat_id,
                message_id=int(message_id),
                parse_mode=ParseMode.HTML,
                reply_markup=self._keyboard(reply),
            )
        except BadRequest as error:
            said = error.message.lower()
            if _NO_TEXT in said:
                # A photo's words are its caption (a featured post edited): edited there.
                return await self._edit_caption(chat_id, message_id, reply)
            if any(gone in said for gone in _GONE):
                return ()
            if _NOT_MODIFIED not in said:
                raise
        return (message_id,)

    async def _edit_caption(self, chat_id: int, message_id: str, reply: Reply) -> tuple[str, ...]:
        """New words for a file's caption; () when they no longer fit in one (posted anew)."""
        if not self._caption_fits(reply):
            return ()
        try:
            await self._bot.edit_message_caption(
                chat_id=chat_id,
                message_id=int(message_id),
                caption=self._html.render(reply),
                parse_mode=ParseMode.HTML,
                reply_markup=self._keyboard(reply),
            )
        except BadRequest as error:
            said = error.message.lower()
            if any(gone in said for gone in _GONE):
                return ()
            if _NOT_MODIFIED not in said:
                raise
        return (message_id,)

    async def _send_quiz(self, chat_id: int, message: Outgoing, poll: PollSpec) -> tuple[str, ...]:
        """A quiz question: the reply's words that lead to it (the answer to the question
        before, the quiz's start), then Telegram's own quiz poll, which shows the question.
        Where Telegram will not have the poll, the question follows as words with buttons."""
        lead = self._leads.get(message.key)
        if lead is None:
            words = _part(message.reply, "lead")
            lead = await self._post(chat_id, replace(message, reply=words))
            self._leads[message.key] = lead
        asked = await self._send_poll(chat_id, poll)
        if not asked:
            asked = await self._post(
                chat_id, replace(message, reply=_part(message.reply, "question"), reply_to=None)
            )
        self._leads.pop(message.key, None)
        return (*lead, *asked)

    async def _send_poll(self, chat_id: int, poll: PollSpec) -> tuple[str, ...]:
        """A native poll (a quiz poll: with its right option, explanation and countdown); ()
        when Telegram will not have it (the caller posts text and buttons). Poll text is shown
        as typed, less what the renderer keeps off every screen."""
        question, options = plain_text(poll.question), [plain_text(o) for o in poll.options]
        if not question.strip() or len(set(options)) != len(options) or "" in options:
            return ()
        try:
            sent = await self._bot.send_poll(
                chat_id,
                question,
                options,
                is_anonymous=False,
                # A quiz: its right option, the explanation shown after an answer, a countdown.
                type=None if poll.correct is None else Poll.QUIZ,
                # Bot API 9.6's list (PTB 22.8 turns the older single id into it anyway).
                correct_option_ids=None if poll.correct is None else [poll.correct],  # type: ignore[list-item]
                explanation=plain_text(poll.explanation).strip() or None,
                open_period=None if poll.correct is None else open_period(poll),
            )
        except (BadRequest, InvalidToken) as error:
            # Too long for a poll, or a Bot API server without polls (404): buttons instead.
            self._degrade("sendPoll", error)
            return ()
        if sent.poll is None:
            return ()
        await self._polls.posted(
            poll.poll_id, native_id=sent.poll.id, message_id=str(sent.message_id)
        )
        return (str(sent.message_id),)

    async def _stop_poll(self, chat_id: int, message_id: str | None, *, required: bool) -> None:
        """Close a native poll. Its results are said in words anyway: a poll that is gone or
        closed already is no failure; a network error is, where closing is all there is to do."""
        if not message_id:
            return
        try:
            await self._bot.stop_poll(chat_id, int(message_id))
        except TelegramError as error:
            if required and isinstance(meaning(error), RetryLater):
                raise
            self._degrade("stopPoll", error)

    def _keyboard(self, reply: Reply) -> InlineKeyboardMarkup | None:
        rows = [
            [
                InlineKeyboardButton(
                    shorten(
                        self._plain.render(Reply(c.label, c.context, reply.locale)),
                        BUTTON_TEXT_LIMIT,
                    ),
                    callback_data=c.command,
                )
            ]
            for c in reply.choices
            if len(c.command.encode()) <= BUTTON_DATA_LIMIT
        ]
        return InlineKeyboardMarkup(rows) if rows else None

    def _degrade(self, method: str, error: Exception) -> None:
        """Say once per method that Telegram would not have it and the bot did without."""
        if method not in self._degraded:
            self._degraded.add(method)
            log.warning(
                "telegram method failed; carrying on without it",
                extra={"method": method, "error": str(error)},
            )


def _part(reply: Reply, part: str) -> Reply:
    """A quiz question's reply cut for Telegram: "lead", the words before its quiz poll (no
    buttons: the poll is answered); "question", the question with its buttons, without them."""
    context = {**reply.context, "part": part}
    return replace(reply, context=context, choices=reply.choices if part == "question" else ())


def open_period(poll: PollSpec, now: datetime | None = None) -> int | None:
    """A quiz poll's countdown: the seconds to the question's end, within what Telegram takes;
    None (no countdown: the quiz stops it at its end) with less than that left."""
    if poll.closes_at is None:
        return None
    left = math.ceil((poll.closes_at - (now or datetime.now(UTC))).total_seconds())
    return min(left, OPEN_PERIOD[1]) if left >= OPEN_PERIOD[0] else None
