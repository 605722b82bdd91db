"""Characters that change how text looks without being seen: bidi controls, zero-width and
other default-ignorable characters, and line separators. A name or a poll made of them can
pose as another or reverse a line, and one typed next to 签到 would hide the word from the bot."""

from __future__ import annotations

import re
import unicodedata

# Unicode's Default_Ignorable_Code_Point set (DerivedCoreProperties.txt: bidi controls,
# zero-width characters, the soft hyphen, Hangul fillers, invisible operators, tag characters),
# less what real text needs: the zero-width joiner (handled below), variation selectors
# (U+FE00-FE0F as in ❤️, U+E0100-E01EF for a kanji's variant) and Mongolian's free variation
# selectors (U+180B-180D, U+180F: the script's letters take their shape from them); plus what
# renders as a blank without being one (U+2800 braille blank). Python's unicodedata does not
# carry the property.
_IGNORABLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b\u200c\u200e\u200f"
    "\u202a-\u202e\u2060-\u206f\u2800\u3164\ufeff\uffa0\ufff0-\ufff8"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e00ff\U000e01f0-\U000e0fff"
)
_INVISIBLE_RUN = re.compile(f"[{_IGNORABLE}]+")
# Tag characters are kept where they spell a flag (🏴 + tags + cancel tag: England, Scotland,
# Wales) and nowhere else: elsewhere they carry text no one sees.
_TAG_FLAG = re.compile("(\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f)")
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
    if "\U0001f3f4" in text:
        parts = _TAG_FLAG.split(text)  # flags at odd indexes stay whole
        text = "".join(p if i % 2 else _INVISIBLE_RUN.sub("", p) for i, p in enumerate(parts))
    else:
        text = _INVISIBLE_RUN.sub("", text)
    text = text.translate(_SEPARATORS)
    if _ZWJ not in text:
        return text
    kept = [
        ch
        for index, ch in enumerate(text)
        if ch != _ZWJ
        or _joins_symbols(text[index - 1] if index else "", text[index + 1 : index + 2])
    ]
    return "".join(kept)
