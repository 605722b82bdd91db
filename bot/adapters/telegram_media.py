"""A reply's photos, videos and files sent on Telegram (a featured submission reposted): each by
its own method (sendPhoto, sendVideo, sendDocument), several as albums (sendMediaGroup: photos
and videos together, files together, ten at most each), uploaded once. The file_id Telegram
gives an upload is remembered (in this process, and through MediaFiles in the database), so the
same photo posted to the next group names it instead of uploading the bytes again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from dataclasses import replace
from typing import Any

from cachetools import LRUCache
from telegram import (
    Bot,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    InputMediaVideo,
    Message,
    ReplyParameters,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest

from bot.adapters.command_media import PHOTO, VIDEO
from bot.adapters.telegram_updates import PLATFORM
from bot.delivery.documents import safe_name
from bot.delivery.media_files import MediaFiles
from community.messages import Media

log = logging.getLogger(__name__)

ALBUM_LIMIT = 10  # files in one sendMediaGroup
# What Telegram says of a file_id it does not know: one another bot was given (the community
# moved to a new bot), never this one's. The kept bytes go up again instead.
_UNKNOWN_FILE_ID = "wrong file identifier"


def sendable(item: Media, known: str | None = None) -> bool:
    """Whether a file can be sent: Telegram knows it (a file_id), or its bytes are here."""
    return bool(item.ref or known or item.content)


def albums(media: Sequence[Media]) -> list[list[Media]]:
    """The files in the groups Telegram sends together: photos and videos (an album may mix
    them), then files (which go only with files), ten at most each, in their order."""
    visual = [m for m in media if m.kind in (PHOTO, VIDEO)]
    files = [m for m in media if m.kind not in (PHOTO, VIDEO)]
    return [
        kind[start : start + ALBUM_LIMIT]
        for kind in (visual, files)
        for start in range(0, len(kind), ALBUM_LIMIT)
    ]


class TelegramMedia:
    """Sends files through PTB's bot, uploading each file once."""

    def __init__(self, bot: Bot, media_files: MediaFiles | None = None) -> None:
        self._bot = bot
        self._files = media_files
        # Media id -> the file_id Telegram gave its upload (this process; the database too).
        self._known: LRUCache[int, str] = LRUCache(maxsize=4096)
        # Outbox key -> the albums already posted, so that a resend after a 429 on the words
        # that follow them does not post them twice (within this process).
        self._posted: LRUCache[str, list[tuple[str, ...]]] = LRUCache(maxsize=1024)
        self._uploads: dict[int, asyncio.Lock] = {}  # media id -> held while uploading it

    def usable(self, media: Sequence[Media]) -> tuple[Media, ...]:
        """The files that can be sent (a file read nowhere, erased since, cannot)."""
        return tuple(m for m in media if sendable(m, self._known.get(m.media_id)))

    async def one(
        self,
        chat_id: int,
        item: Media,
        *,
        caption: str | None = None,
        markup: InlineKeyboardMarkup | None = None,
        quote: ReplyParameters | None = None,
    ) -> str:
        """One file, with the reply's words as its caption (HTML) and its buttons; the id of
        the message posted. A photo or video Telegram will not take as one (too large for a
        photo, an odd format) goes as a file."""
        how: dict[str, Any] = {
            "caption": caption,
            "parse_mode": ParseMode.HTML if caption else None,
            "reply_markup": markup,
            "reply_parameters": quote,
        }
        async with self._first_upload((item,)):
            return await self._one(chat_id, item, how)

    async def _one(self, chat_id: int, item: Media, how: dict[str, Any]) -> str:
        source, uploaded = self._source(item)
        try:
            sent = await self._send_as(item.kind, chat_id, source, item, how)
        except BadRequest as error:
            if not uploaded and _unknown_file_id(error):
                (fresh,) = await self._reloaded((item,), error)
                return await self._one(chat_id, fresh, how)
            if not uploaded or item.kind not in (PHOTO, VIDEO):
                raise
            log.warning(
                "telegram refused a photo or video; sent as a document",
                extra={"media_id": item.media_id, "kind": item.kind, "error": error.message},
            )
            sent = await self._send_as("file", chat_id, source, item, how)
            return str(sent.message_id)  # its file_id is a document's: not this kind's
        if uploaded:
            await self._learn(item, sent)
        return str(sent.message_id)

    async def several(
        self, chat_id: int, key: str, media: Sequence[Media], *, quote: ReplyParameters | None
    ) -> tuple[str, ...]:
        """The files as albums (a lone one as itself), the first quoting `quote`; the ids of
        the messages posted. Sent again for the same outbox message (`key`), the albums
        posted already are not posted twice."""
        groups = albums(media)
        posted = self._posted.setdefault(key, [])
        for index in range(len(posted), len(groups)):
            group = groups[index]
            first = quote if index == 0 else None
            if len(group) == 1:
                posted.append((await self.one(chat_id, group[0], quote=first),))
                continue
            async with self._first_upload(group):
                try:
                    sources, sent = await self._album(chat_id, group, first)
                except BadRequest as error:
                    if not _unknown_file_id(error):
                        raise
                    group = list(await self._reloaded(group, error))
                    sources, sent = await self._album(chat_id, group, first)
                for item, (_, uploaded), message in zip(group, sources, sent, strict=False):
                    if uploaded:
                        await self._learn(item, message)
            posted.append(tuple(str(message.message_id) for message in sent))
        return tuple(ids for album in posted for ids in album)

    async def _album(
        self, chat_id: int, group: Sequence[Media], quote: ReplyParameters | None
    ) -> tuple[list[tuple[str | bytes, bool]], tuple[Message, ...]]:
        """One sendMediaGroup: what named each file (and whether it was an upload), and the
        messages posted."""
        sources = [self._source(item) for item in group]
        inputs = [
            _album_item(item, source) for item, (source, _) in zip(group, sources, strict=True)
        ]
        return sources, await self._bot.send_media_group(chat_id, inputs, reply_parameters=quote)

    async def _reloaded(self, items: Sequence[Media], error: BadRequest) -> tuple[Media, ...]:
        """The files Telegram was sent by file_id, with their kept bytes instead (the dead
        file_ids forgotten); the others as they are. Raises `error` when the bytes cannot be
        read here (no door to the store, the file erased)."""
        named = [
            replace(item, ref=source)
            for item in items
            for source, uploaded in (self._source(item),)
            if not uploaded and isinstance(source, str)
        ]
        for item in named:
            self._known.pop(item.media_id, None)
        if self._files is None:
            raise error
        log.warning(
            "telegram does not know a remembered file_id; uploading the file again",
            extra={"media_ids": [item.media_id for item in named]},
        )
        fresh = {item.media_id: item for item in await self._files.reloaded(named, PLATFORM)}
        if any(item.media_id not in fresh for item in named):
            raise error
        return tuple(fresh.get(item.media_id, item) for item in items)

    @contextlib.asynccontextmanager
    async def _first_upload(self, items: Sequence[Media]) -> AsyncIterator[None]:
        """Hold the sends of files Telegram has no file_id for yet while one is uploading
        them: a broadcast's parallel sends then upload each file once and name its file_id
        after (`_source` looks again once the lock is held). Locks are taken in id order."""
        waiting = sorted(
            {m.media_id for m in items if not m.ref and not self._known.get(m.media_id)}
        )
        async with contextlib.AsyncExitStack() as held:
            for media_id in waiting:
                lock = self._uploads.setdefault(media_id, asyncio.Lock())
                await held.enter_async_context(lock)
            try:
                yield
            finally:
                for media_id in waiting:
                    self._uploads.pop(media_id, None)

    def done(self, key: str) -> None:
        """The outbox message is sent whole: its albums need not be remembered."""
        self._posted.pop(key, None)

    def _source(self, item: Media) -> tuple[str | bytes, bool]:
        """What names the file to Telegram (its file_id), else its bytes; and whether it is
        an upload."""
        known = item.ref or self._known.get(item.media_id)
        return (known, False) if known else (item.content, True)

    async def _send_as(
        self, kind: str, chat_id: int, source: str | bytes, item: Media, how: dict[str, Any]
    ) -> Message:
        name = safe_name(item.name)
        if kind == PHOTO:
            return await self._bot.send_photo(chat_id, source, filename=name, **how)
        if kind == VIDEO:
            return await self._bot.send_video(chat_id, source, filename=name, **how)
        return await self._bot.send_document(chat_id, source, filename=name, **how)

    async def _learn(self, item: Media, sent: Message) -> None:
        """Remember the file_id Telegram gave the upload. Failing to tell the database costs
        an upload next time, never this send."""
        file_id = _file_id(item.kind, sent)
        if not file_id:
            return
        self._known[item.media_id] = file_id
        if self._files is None:
            return
        try:
            await self._files.remember(item.media_id, PLATFORM, file_id)
        except Exception:
            log.exception("telegram file_id not remembered", extra={"media_id": item.media_id})


def _unknown_file_id(error: BadRequest) -> bool:
    return _UNKNOWN_FILE_ID in error.message.lower()


def _album_item(
    item: Media, source: str | bytes
) -> InputMediaPhoto | InputMediaVideo | InputMediaDocument:
    name = safe_name(item.name)
    if item.kind == PHOTO:
        return InputMediaPhoto(source, filename=name)
    if item.kind == VIDEO:
        return InputMediaVideo(source, filename=name)
    return InputMediaDocument(source, filename=name)


def _file_id(kind: str, sent: Message) -> str:
    """The file_id of the file a message carries (a photo's largest size)."""
    if kind == PHOTO and sent.photo:
        return sent.photo[-1].file_id
    if kind == VIDEO and sent.video is not None:
        return sent.video.file_id
    if sent.document is not None:
        return sent.document.file_id
    return ""
