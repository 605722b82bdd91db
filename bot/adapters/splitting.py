"""Cutting a rendered reply into messages a platform accepts, without breaking its escaping.

Templates carry no markup, so the only structure in rendered text is the platform's escaping:
HTML entities (`&lt;`) for Telegram, backslash escapes (`\\*`) for Discord. A cut must never
fall inside one, and should fall at a line break when there is one.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable

TELEGRAM_LIMIT = 4096  # UTF-16 code units of text after entities are decoded
DISCORD_LIMIT = 2000  # characters

_HTML_UNIT = re.compile(r"&(?:#\d+|#x[0-9a-fA-F]+|[a-zA-Z]+);|.", re.DOTALL)
_MARKDOWN_UNIT = re.compile(r"\\.|.", re.DOTALL)


def utf16_length(text: str) -> int:
    """How long Telegram counts `text` (a message's, a caption's limit): in UTF-16 code units,
    so an emoji beyond the BMP (🌟) counts twice."""
    return len(text.encode("utf-16-le")) // 2


def split_telegram_html(text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Split escaped HTML into messages of at most `limit` visible UTF-16 units each."""
    return _split(_HTML_UNIT.findall(text), limit, lambda unit: utf16_length(html.unescape(unit)))


def split_discord_markdown(text: str, limit: int = DISCORD_LIMIT) -> list[str]:
    """Split escaped Markdown into messages of at most `limit` characters each."""
    return _split(_MARKDOWN_UNIT.findall(text), limit, len)


def _split(units: list[str], limit: int, size: Callable[[str], int]) -> list[str]:
    chunks: list[str] = []
    current: list[str] = []
    used = 0
    last_newline = -1  # index in `current` just after the latest line break
    for unit in units:
        width = size(unit)
        while used + width > limit and current:
            cut = last_newline if last_newline > 0 else len(current)
            chunks.append("".join(current[:cut]))
            current = current[cut:]
            used = sum(size(u) for u in current)
            last_newline = -1
        current.append(unit)
        used += width
        if unit == "\n":
            last_newline = len(current)
    if current:
        chunks.append("".join(current))
    # Leading/trailing blank lines at a cut look like a glitch; an all-blank chunk is an error.
    return [chunk.strip("\n") for chunk in chunks if chunk.strip()]


def shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with an ellipsis when it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
