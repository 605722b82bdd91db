"""What a Telegram command brings besides its words, and fetching it: a document's text (a CSV
of coupon codes, Event.file_text) and its photo, video or document (Event.media, a /submit's),
each downloaded once (getFile, then the file), and never when Telegram says it is too big."""

from __future__ import annotations

from dataclasses import dataclass, replace

from telegram import Bot, Message

from bot.adapters.attached_files import (
    ATTACHED_FILE_MAX_BYTES,
    TOO_BIG,
    refused_file,
    wants_file,
    with_file,
)
from bot.adapters.command_media import FILE, PHOTO, VIDEO, fetched, mime_of, too_big
from handlers.types import Event, IncomingFile


@dataclass(frozen=True, slots=True)
class AttachedFile:
    """A document sent with a command: what getFile needs, and what Telegram says of it."""

    file_id: str
    name: str
    size: int | None


@dataclass(frozen=True, slots=True)
class AttachedMedia:
    """A photo, video or document a command brings (its own, or that of the actor's own
    message it replies to): what getFile needs, and what Telegram says of it."""

    kind: str  # photo, video, file
    file_id: str
    name: str
    mime: str
    size: int | None
    from_reply: bool = False


def message_media(message: Message, *, from_reply: bool = False) -> tuple[AttachedMedia, ...]:
    """A message's photo (its largest size), video or document (an animation is one too).
    Telegram sends photos recompressed as JPEG, without a name: one is made from its id."""
    if message.photo:
        largest = message.photo[-1]
        name = f"photo-{largest.file_unique_id}.jpg"
        size = largest.file_size
        return (AttachedMedia(PHOTO, largest.file_id, name, "image/jpeg", size, from_reply),)
    if (video := message.video) is not None:
        name = video.file_name or f"video-{video.file_unique_id}.mp4"
        mime = mime_of(name, video.mime_type or "video/mp4")
        return (AttachedMedia(VIDEO, video.file_id, name, mime, video.file_size, from_reply),)
    if (document := message.document) is not None:
        # Always a file, whatever it holds: Telegram sends a document's file_id as one only.
        name = document.file_name or f"file-{document.file_unique_id}"
        mime = mime_of(name, document.mime_type)
        return (AttachedMedia(FILE, document.file_id, name, mime, document.file_size, from_reply),)
    return ()


class TelegramFiles:
    """Fetches what commands bring, within the adapter's limit (ATTACHED_FILE_MAX_BYTES)."""

    def __init__(self, bot: Bot, limit: int = ATTACHED_FILE_MAX_BYTES) -> None:
        self._bot = bot
        self._limit = limit

    async def brought(
        self, event: Event, file: AttachedFile | None, media: tuple[AttachedMedia, ...]
    ) -> Event:
        """The command with its document's text and its files (or why not); other events as
        they are. A failed download is raised: the update stays in the inbox and is tried
        again."""
        if not wants_file(event) or (file is None and not media):
            return event
        downloaded: dict[str, bytes | None] = {}  # file_id -> bytes (None: too big)
        if file is not None:
            data = await self._download(file.file_id, file.size, downloaded)
            if data is None:
                event = refused_file(event, file.name, TOO_BIG)
            else:
                event = with_file(event, file.name, data, self._limit)
        fetched_media = [await self._fetch(item, downloaded) for item in media]
        return replace(event, media=tuple(fetched_media)) if media else event

    async def _fetch(
        self, item: AttachedMedia, downloaded: dict[str, bytes | None]
    ) -> IncomingFile:
        data = await self._download(item.file_id, item.size, downloaded)
        ref, again = item.file_id, item.from_reply
        if data is None:
            return too_big(
                item.kind, item.name, item.mime, item.size or 0, ref=ref, from_reply=again
            )
        limit = self._limit
        return fetched(
            item.kind, item.name, item.mime, data, limit=limit, ref=ref, from_reply=again
        )

    async def _download(
        self, file_id: str, size: int | None, downloaded: dict[str, bytes | None]
    ) -> bytes | None:
        """The file's bytes (once per update), or None when Telegram says it is over the limit:
        then it is not downloaded at all."""
        if file_id in downloaded:
            return downloaded[file_id]
        data: bytes | None = None
        if size is None or size <= self._limit:
            found = await self._bot.get_file(file_id)
            if found.file_size is None or found.file_size <= self._limit:
                data = bytes(await found.download_as_bytearray())
        downloaded[file_id] = data
        return data
