"""Characters that change how text looks without being seen: bidi controls and zero-width
characters. A name or a poll made of them can pose as another or reverse a line, and one typed
next to 签到 would hide the word from the bot."""

from __future__ import annotations

import re
import unicodedata

# Bidi embeddings, overrides and isolates; LRM, RLM and ALM; zero-width space and non-joiner,
# word joiner, BOM (zero-width no-break space), Mongolian vowel separator; the invisible
# operators (U+2061-2064).
INVISIBLE = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
    "\u200e\u200f\u061c"
    "\u200b\u200c\u2060\ufeff\u180e"
    "\u2061\u2062\u2063\u2064"
)
_ZWJ = "\u200d"
_INVISIBLE_RUN = re.compile(f"[{''.join(sorted(INVISIBLE))}]+")


def _joins_symbols(before: str, after: str) -> bool:
    # Emoji sequences (👨‍👩‍👧, 🏳️‍🌈) join symbols; between letters a ZWJ only hides a difference.
    return bool(before and after) and all(
        unicodedata.category(ch).startswith("S") or ch == "\ufe0f" for ch in (before, after)
    )


def strip_invisible(text: str) -> str:
    """`text` without invisible formatting characters; a zero-width joiner stays only where it
    joins two symbols (emoji)."""
    text = _INVISIBLE_RUN.sub("", text)
    if _ZWJ not in text:
        return text
    kept = [
        ch
        for index, ch in enumerate(text)
        if ch != _ZWJ
        or _joins_symbols(text[index - 1] if index else "", text[index + 1 : index + 2])
    ]
    return "".join(kept)
