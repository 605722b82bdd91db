"""What a Discord command brings besides its words, fetched from Discord's CDN only when small
enough: a message command's first attachment as text (a CSV of coupon codes, Event.file_text),
its attachments as files (Event.media, a /submit's) or, with none, those of the actor's own
message it replies to; that message's words and author (Event.replied_text, Event.target); a
slash command's attachment options. And the files a reply carries out (discord.File).

No reference is kept for a Discord file: its CDN link expires, so the bytes are what count."""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import discord

from bot.adapters.attached_files import (
    ATTACHED_FILE_MAX_BYTES,
    TOO_BIG,
    refused_file,
    wants_file,
    with_file,
)
from bot.adapters.command_media import fetched, kind_of, mime_of, too_big
from bot.adapters.discord_events import account_ref
from bot.delivery.documents import safe_name
from community.messages import Reply
from handlers.routes import Param, ParamKind
from handlers.types import Event, IncomingFile

log = logging.getLogger(__name__)

FILES_LIMIT = 10  # files Discord takes with one message


async def with_attachment(
    event: Event,
    message: discord.Message,
    limit: int = ATTACHED_FILE_MAX_BYTES,
    *,
    bot_id: int | None = None,
    takes_files: bool = True,
) -> Event:
    """The command with what it brings: its first attachment's text (or why not), its files
    (else those of the actor's own message it replies to), the replied message's words and
    author; other events as they are. Files only for a command that `takes_files` (the
    dispatcher knows). A failed download is raised: the message is never
    handled without its file."""
    if not wants_file(event):
        return event
    replied = await replied_message(message)
    if replied is not None:
        event = replace(event, replied_text=replied.content)
        if event.target is None and replied.author.id != bot_id:
            # Whom "/award 50" replying to Bob's message means, as on Telegram.
            event = replace(event, target=account_ref(replied.author))
    attachments: Sequence[discord.Attachment] = message.attachments
    from_reply = not attachments and replied is not None
    if from_reply and replied is not None and str(replied.author.id) == event.actor.user_id:
        attachments = replied.attachments
    if not attachments or not takes_files:
        return event  # a command that reads no file downloads none
    downloaded: dict[int, bytes | None] = {}
    if not from_reply:
        first = attachments[0]
        data = await _download(first, limit, downloaded)
        if data is None:
            event = refused_file(event, first.filename, TOO_BIG)
        else:
            event = with_file(event, first.filename, data, limit)
    media = [await _fetch(item, limit, downloaded, from_reply) for item in attachments]
    return replace(event, media=tuple(media))


async def replied_message(message: discord.Message) -> discord.Message | None:
    """The message a message replies to (Discord sends it along; fetched when it did not),
    None for no reply, a forward (which carries a reference too), or one deleted since."""
    reference = message.reference
    if message.type is not discord.MessageType.reply or reference is None:
        return None
    found = reference.resolved or reference.cached_message
    if isinstance(found, discord.Message):
        return found
    if found is not None or reference.message_id is None:
        return None  # deleted
    try:
        return await message.channel.fetch_message(reference.message_id)
    except discord.HTTPException as error:
        log.info("discord replied message not fetched", extra={"error": repr(error)})
        return None


async def with_slash_files(
    event: Event,
    interaction: discord.Interaction[Any],
    names: Mapping[str, Param],
    limit: int = ATTACHED_FILE_MAX_BYTES,
) -> Event:
    """A slash command with the files given in its attachment options (Discord sends each as
    an id, the attachment itself among the resolved data)."""
    data: Mapping[str, Any] = interaction.data or {}
    options: Sequence[Mapping[str, Any]] = data.get("options") or ()
    resolved: Mapping[str, Any] = (data.get("resolved") or {}).get("attachments") or {}
    media = []
    for option in options:
        param = names.get(str(option.get("name", "")))
        attachment = resolved.get(str(option.get("value", "")))
        if param is None or param.kind is not ParamKind.FILE or not attachment:
            continue
        name = str(attachment.get("filename") or "file")
        mime = mime_of(name, attachment.get("content_type"))
        size, url = int(attachment.get("size") or 0), str(attachment.get("url") or "")
        if size > limit or not url:
            media.append(too_big(kind_of(mime), name, mime, size))
            continue
        content = await interaction.client.http.get_from_cdn(url)
        media.append(fetched(kind_of(mime), name, mime, content, limit=limit))
    return replace(event, media=tuple(media)) if media else event


def reply_files(reply: Reply, *, media: bool = True) -> list[discord.File]:
    """The files a reply carries out: its document, then its photos, videos and files (those
    whose bytes are here), ten at most."""
    files: list[discord.File] = []
    if reply.document is not None:
        content = io.BytesIO(reply.document.content)
        files.append(discord.File(content, filename=safe_name(reply.document.name)))
    if media:
        files += [
            discord.File(io.BytesIO(item.content), filename=safe_name(item.name))
            for item in reply.media
            if item.content
        ]
    return files[:FILES_LIMIT]


async def _fetch(
    item: discord.Attachment, limit: int, downloaded: dict[int, bytes | None], from_reply: bool
) -> IncomingFile:
    mime = mime_of(item.filename, item.content_type)
    data = await _download(item, limit, downloaded)
    if data is None:
        return too_big(kind_of(mime), item.filename, mime, item.size, from_reply=from_reply)
    return fetched(kind_of(mime), item.filename, mime, data, limit=limit, from_reply=from_reply)


async def _download(
    item: discord.Attachment, limit: int, downloaded: dict[int, bytes | None]
) -> bytes | None:
    """The attachment's bytes (once per message), or None when Discord says it is over the
    limit: then it is not downloaded at all."""
    if item.id not in downloaded:
        downloaded[item.id] = None if item.size > limit else await item.read()
    return downloaded[item.id]
