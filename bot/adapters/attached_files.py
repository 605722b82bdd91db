"""A small text file attached to a command (a CSV of coupon codes), as every adapter hands it to
the core: decoded UTF-8, its BOM stripped, or refused (too big, not text)."""

from __future__ import annotations

from dataclasses import replace

from handlers.types import Event, EventKind

# The largest attached file a command takes, in bytes. Bigger ones are not fetched at all.
# The default of the ATTACHED_FILE_MAX_BYTES setting (bot/settings.py): Discord's upload
# limit for bots, Telegram's for a photo.
ATTACHED_FILE_MAX_BYTES = 10_000_000
TOO_BIG, NOT_TEXT = "too_big", "not_text"


def wants_file(event: Event) -> bool:
    """Whether the adapter should fetch the event's file: only a command's (never a plain
    message's: the bot would download every photo of a busy group)."""
    return event.kind is EventKind.COMMAND


def refused_file(event: Event, name: str, why: str) -> Event:
    """The event with its file refused (`why`: TOO_BIG or NOT_TEXT), no text."""
    return replace(event, file_name=name, file_text="", file_refused=why)


def with_file(event: Event, name: str, data: bytes, limit: int = ATTACHED_FILE_MAX_BYTES) -> Event:
    """The event carrying the file's text, or refusing it: over `limit` bytes, or not UTF-8
    text (a NUL byte, an undecodable sequence)."""
    if len(data) > limit:
        return refused_file(event, name, TOO_BIG)
    try:
        text = data.decode("utf-8-sig")  # strips a BOM, as Excel's "CSV UTF-8" writes one
    except UnicodeDecodeError:
        return refused_file(event, name, NOT_TEXT)
    if "\x00" in text:
        return refused_file(event, name, NOT_TEXT)
    return replace(event, file_name=name, file_text=text, file_refused="")
