"""What a Discord user sees of a message the bot sends, for tests: a strict reading of Discord's
Markdown that resolves backslash escapes and refuses anything Discord would turn into
formatting, a mention, a link, a quote, a heading or a list that renumbers what we wrote.

Strict on purpose: `*`, `_` and a backquote format once a second one follows anywhere later in
the message (in a value printed further on, say), so two unescaped ones of a kind are an error
wherever they stand; one alone (a template's "- and _") shows as typed.
"""

from __future__ import annotations

import re

# Discord's autolink rule: Markdown inside a link is not formatting, and the link shows as is.
_URL = re.compile(r"https?://[^\s<]+[^<.,:;\"')\]\s]")
# What formats wherever it stands when not escaped.
# A masked link opens at an unescaped "[", by Discord's own rule, which a backslash before "]"
# does not stop: "[" + "a\\](https://x)" is a link.
_INLINE = re.compile(
    r"(?P<what>~~|\|\||<(?=\S)|@(?:everyone|here)\b"
    r"|\[(?:\[[^\]]*\]|[^\[\]]|\](?=[^\[]*\]))*\]\()"
)
_PAIRED = "*_`"
# What formats at the start of a line (after any indentation) when not escaped.
_BLOCK = re.compile(
    r"(?P<quote>>>> |> ?$|> )|(?P<heading>#{1,3}\s)|(?P<subtext>-#\s)|(?P<bullet>[-*]\s)"
    r"|(?P<ordered>\d+)\.(?:\s|$)"
)
# A zero-width space the bot puts after @ so "@everyone" does not look like a ping.
_DEFUSED_PING = "@\u200b"


class ActiveMarkdown(AssertionError):
    """The message holds Markdown Discord would act on instead of showing it as typed."""


def visible(message: str) -> str:
    """The text a Discord user reads in `message`; raises ActiveMarkdown where Discord would
    format, link, mention, quote or number something instead of showing it."""
    lines: list[str] = []
    paired: list[str] = []  # the unescaped *, _ and backquotes, in order
    next_number: int | None = None  # Discord numbers an ordered list's items itself
    for index, line in enumerate(message.split("\n"), start=1):
        body = line.lstrip(" \t")
        indent = line[: len(line) - len(body)]
        block = _BLOCK.match(body)
        if block is None:
            next_number = None
            lines.append(indent + _inline(body, index, paired))
            continue
        if block["ordered"] is None:
            kind = next(name for name, found in block.groupdict().items() if found)
            raise ActiveMarkdown(f"line {index} starts a {kind}: {line!r}")
        written = int(block["ordered"])
        shown = written if next_number is None else next_number
        if shown != written:
            raise ActiveMarkdown(f"line {index}: Discord numbers this item {shown}: {line!r}")
        next_number = shown + 1
        lines.append(indent + block.group() + _inline(body[block.end() :], index, paired))
    for marker in _PAIRED:
        if paired.count(marker) > 1:
            raise ActiveMarkdown(f"{paired.count(marker)} unescaped {marker!r} would pair up")
    return "\n".join(lines).replace(_DEFUSED_PING, "@")


def _inline(text: str, line: int, paired: list[str]) -> str:
    shown: list[str] = []
    at = 0
    while at < len(text):
        char = text[at]
        # A backslash shows the next character as typed, unless it is a letter, digit or space.
        if char == "\\" and at + 1 < len(text) and not re.match(r"[0-9A-Za-z\s]", text[at + 1]):
            shown.append(text[at + 1])
            at += 2
            continue
        if link := _URL.match(text, at):
            shown.append(link.group())
            at = link.end()
            continue
        if active := _INLINE.match(text, at):
            raise ActiveMarkdown(f"line {line}: unescaped {active['what']!r} in {text!r}")
        if char in _PAIRED:
            paired.append(char)
        shown.append(char)
        at += 1
    return "".join(shown)
