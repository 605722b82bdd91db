"""A command's attached file on Discord: the first attachment of a message command, fetched
from its URL (Discord's CDN) only when it is small enough."""

from __future__ import annotations

import discord

from bot.adapters.attached_files import (
    ATTACHED_FILE_MAX_BYTES,
    TOO_BIG,
    refused_file,
    wants_file,
    with_file,
)
from handlers.types import Event


async def with_attachment(
    event: Event, message: discord.Message, limit: int = ATTACHED_FILE_MAX_BYTES
) -> Event:
    """The command with its first attachment's text (or why not); other events as they are.
    A failed download is raised: the message is handled without its file never."""
    if not message.attachments or not wants_file(event):
        return event
    attachment = message.attachments[0]
    if attachment.size > limit:
        return refused_file(event, attachment.filename, TOO_BIG)
    data = await attachment.read()
    return with_file(event, attachment.filename, data, limit)
