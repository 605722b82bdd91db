"""Characters that change how text looks without being seen: bidi controls, zero-width and
other default-ignorable characters, and line separators. A name or a poll made of them can
pose as another or reverse a line, and one typed next to 签到 would hide the word from the bot."""

from __future__ import annotations

import re
import unicodedata

# Unicode's Default_Ignorable_Code_Point set (DerivedCoreProperties.txt: bidi controls, zero-width
# characters, the soft hyphen, Hangul fillers, invisible operators, tag characters...), less the
# zero-width joiner (handled below) and the variation selectors U+FE00-FE0F (they only choose a
# glyph for the character before them, as in ❤️); plus what renders as a blank without being
# one (U+2800 braille blank) and U+180E. Python's unicodedata does not carry the property.
_IGNORABLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b\u200c\u200e\u200f"
    "\u202a-\u202e\u2060-\u206f\u2800\u3164\ufeff\uffa0\ufff0-\ufff8"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff"
)
_INVISIBLE_RUN = re.compile(f"[{_IGNORABLE}]+")
# Line and paragraph separators start a new line on some clients: a name holding one could
# fake a line of /top. They become a plain space.
_SEPARATORS = str.maketrans({"\u2028": " ", "\u2029": " "})
_ZWJ = "\u200d"


def _joins_symbols(before: str, after: str) -> bool:
    # Emoji sequences (👨‍👩‍👧, 🏳️‍🌈) join symbols; between letters a ZWJ only hides a difference.
    return bool(before and after) and all(
        unicodedata.category(ch).startswith("S") or ch == "\ufe0f" for ch in (before, after)
    )


def strip_invisible(text: str) -> str:
    """`text` without invisible formatting characters; a zero-width joiner stays only where it
    joins two symbols (emoji)."""
    text = _INVISIBLE_RUN.sub("", text).translate(_SEPARATORS)
    if _ZWJ not in text:
        return text
    kept = [
        ch
        for index, ch in enumerate(text)
        if ch != _ZWJ
        or _joins_symbols(text[index - 1] if index else "", text[index + 1 : index + 2])
    ]
    return "".join(kept)
