"""Turning message text into commands and arguments, the same way on every platform."""

from __future__ import annotations

import re
from datetime import datetime

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


def parse_command(text: str, bot_username: str | None = None) -> tuple[str, str] | None:
    """Split "/name@bot rest" into ("name", "rest"); None when it is no command for this bot."""
    stripped = text.strip()
    match = _COMMAND.match(stripped)
    if match is None:
        return None
    addressed = match.group("bot")
    if addressed and bot_username and addressed.casefold() != bot_username.casefold():
        return None
    return match.group("name").lower(), stripped[match.end() :].strip()


def event_from_text(
    *,
    event_id: str,
    chat: ChatRef,
    actor: AccountRef,
    text: str,
    occurred_at: datetime,
    bot_username: str | None = None,
) -> Event:
    """Build the Event for a message, recognising commands in it."""
    parsed = parse_command(text, bot_username)
    if parsed is None:
        return Event(event_id, chat, actor, occurred_at, EventKind.MESSAGE, text)
    name, rest = parsed
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
    )


def parse_amount(text: str) -> int | None:
    """A positive whole number of points as people type it ("50", "+50", "５０"); else None."""
    digits = text.removeprefix("+")
    if not digits.isdecimal() or len(digits) > _DIGITS:
        return None
    amount = int(digits)
    return amount if amount > 0 else None


def normalize_word(text: str) -> str:
    """A plain message reduced for matching trigger words: no spaces or closing punctuation."""
    word = text.strip()
    end = len(word)
    while end and (word[end - 1].isspace() or word[end - 1] in _CLOSING):
        end -= 1
    return word[:end].casefold()
