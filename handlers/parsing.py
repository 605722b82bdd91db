"""Turning message text into commands and arguments, the same way on every platform."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from handlers.text import strip_invisible
from handlers.types import AccountRef, ChatRef, Event, EventKind

# "/cmd", "/cmd@SomeBot args"; the full-width slash is what Chinese keyboards often type. Names
# are letters, digits and _ in any script ("/签到"); closing punctuation after a name is dropped
# ("/checkin!"), anything else ("/:)", "/check-in") is an ordinary message.
_COMMAND = re.compile(
    r"^[/／](?P<name>\w{1,32})(?:@(?P<bot>[A-Za-z0-9_]{1,64}))?[!！。.~～]*(?=\s|$)"
)
_DIGITS = 12
# What may trail a trigger word besides whitespace (IMEs type U+3000 as a space).
_CLOSING = "!！。.~～"


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    """A command line taken apart: its name, the rest, and whether it named this bot."""

    name: str
    rest: str
    names_bot: bool


def read_command(text: str, bot_username: str | None = None) -> ParsedCommand | None:
    """Take "/name@bot rest" apart; None when it is no command for this bot. Invisible
    characters (bidi controls, zero-width spaces) are no part of a command or its arguments."""
    stripped = strip_invisible(text).strip()
    match = _COMMAND.match(stripped)
    if match is None:
        return None
    named = match.group("bot")
    if named and bot_username and named.casefold() != bot_username.casefold():
        return None
    rest = stripped[match.end() :].strip()
    return ParsedCommand(match.group("name").lower(), rest, bool(named and bot_username))


def parse_command(text: str, bot_username: str | None = None) -> tuple[str, str] | None:
    """Split "/name@bot rest" into ("name", "rest"); None when it is no command for this bot."""
    parsed = read_command(text, bot_username)
    return None if parsed is None else (parsed.name, parsed.rest)


def event_from_text(
    *,
    event_id: str,
    chat: ChatRef,
    actor: AccountRef,
    text: str,
    occurred_at: datetime,
    bot_username: str | None = None,
) -> Event:
    """Build the Event for a message, recognising commands in it. A private chat, or a command
    that names this bot ("/top@ThisBot"), is addressed to the bot; adapters mark replies to it."""
    parsed = read_command(text, bot_username)
    if parsed is None:
        return Event(
            event_id, chat, actor, occurred_at, EventKind.MESSAGE, text, addressed=chat.private
        )
    name, rest = parsed.name, parsed.rest
    return Event(
        event_id,
        chat,
        actor,
        occurred_at,
        EventKind.COMMAND,
        text,
        command=name,
        args=tuple(rest.split()),
        arg_text=rest,
        addressed=chat.private or parsed.names_bot,
    )


def event_from_button(
    *,
    event_id: str,
    chat: ChatRef,
    actor: AccountRef,
    data: str,
    occurred_at: datetime,
    bot_username: str | None = None,
) -> Event:
    """Build the Event for a pressed button, whose data is the command line it sends. Its
    answer can always go to the presser alone (an alert, an ephemeral reply)."""
    name, rest = parse_command(data, bot_username) or ("", "")
    return Event(
        event_id,
        chat,
        actor,
        occurred_at,
        EventKind.BUTTON,
        data,
        command=name or None,
        args=tuple(rest.split()),
        arg_text=rest,
        private_reply=True,
        addressed=True,
    )


# Full-width digits are what Chinese keyboards type; other scripts' digits ("٥٠", "५", "𝟗")
# are refused: they read as a different number to most admins, or as none at all.
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def parse_number(text: str, *, max_digits: int = _DIGITS) -> int | None:
    """A whole number of ASCII or full-width digits, taken whole (never cut); else None."""
    digits = text.translate(_FULL_WIDTH_DIGITS)
    if not digits or len(digits) > max_digits or not (digits.isascii() and digits.isdigit()):
        return None
    return int(digits)


def parse_numbered(text: str) -> int | None:
    """A number as the bot writes it ("#12", "＃12") or as typed bare ("12"); else None. Members
    copy the "#" from the bot's lists, so every command that takes a number of one takes both."""
    return parse_number(text.strip().lstrip("#＃"))


def parse_amount(text: str) -> int | None:
    """A positive whole number of points as people type it ("50", "+50", "５０"); else None."""
    amount = parse_number(text.removeprefix("+").removeprefix("＋"))
    return amount if amount is not None and amount > 0 else None


def normalize_word(text: str) -> str:
    """A plain message reduced for matching trigger words: no invisible characters, spaces or
    closing punctuation."""
    word = strip_invisible(text).strip()
    end = len(word)
    while end and (word[end - 1].isspace() or word[end - 1] in _CLOSING):
        end -= 1
    return word[:end].casefold()
