"""The renderer: nothing invisible shown on any platform."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from bot.adapters.discord_events import discord_markdown
from bot.rendering import Renderer, plain_text, telegram_html
from storage.schema import members
from storage.store import Store
from tests.discord_markdown import visible
from tests.fakes.telegram_api import html_to_plain
from tests.harness import Chat

# Each platform's escaping, and how its client turns the escaped text back into what it shows.
PLATFORMS: dict[str, tuple[Callable[[str], str], Callable[[str], str]]] = {
    "telegram": (telegram_html, html_to_plain),
    "discord": (discord_markdown, visible),
    "console": (plain_text, lambda text: text),
}
HIDDEN = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
ZERO_WIDTH = "\u200b\u200c\u2060\ufeff\u180e"


# What is never shown ---------------------------------------------------------------------------


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
@pytest.mark.parametrize("char", HIDDEN + ZERO_WIDTH)
def test_bidi_controls_and_zero_width_characters_never_reach_the_screen(
    platform: str, char: str
) -> None:
    escape, shown_by = PLATFORMS[platform]
    assert shown_by(escape(f"ad{char}min{char}")) == "admin"


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"),  # family
        ("🏳\ufe0f\u200d🌈", "🏳\ufe0f\u200d🌈"),  # rainbow flag: VS16 before the joiner
        ("👩🏽\u200d💻", "👩🏽\u200d💻"),  # skin tone modifier before the joiner
        ("ad\u200dmin", "admin"),
        ("\u200d👩", "👩"),
        ("👩\u200d", "👩"),
        ("👩\u200da", "👩a"),
    ],
)
def test_zero_width_joiner_survives_only_inside_emoji_sequences(typed: str, shown: str) -> None:
    assert plain_text(typed) == shown


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_a_name_of_only_invisible_characters_is_shown_as_a_replacement_sign(
    platform: str,
) -> None:
    escape, shown_by = PLATFORMS[platform]
    assert shown_by(escape("\u202e\u200b\u200d\u2066")) == "\ufffd"
    assert shown_by(escape("")) == ""  # nothing typed stays nothing (an empty note)
    assert shown_by(escape(" ")) == " "


def test_discord_still_defuses_a_ping_hidden_behind_a_zero_width_space() -> None:
    assert discord_markdown("@\u200beveryone @\u2060here") == "@\u200beveryone @\u200bhere"


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
async def test_top_shows_names_without_bidi_controls_and_keeps_the_stored_name(
    chat: Chat, store: Store, platform: str
) -> None:
    spoofed = "\u202eevil\u200b"
    await chat.say(spoofed, "/checkin")
    top = await chat.say("alice", "/top")
    assert top.outcome.reply is not None
    escape, shown_by = PLATFORMS[platform]
    assert "1. evil — 10" in shown_by(Renderer(escape).render(top.outcome.reply))
    names = select(members.c.display_name)
    assert spoofed in store.read_now(lambda conn: conn.execute(names).scalars().all())
