"""What no one sees is no part of a name on screen, a trigger word or a command: every
default-ignorable character, blank-looking fillers and line separators."""

from __future__ import annotations

import pytest

from bot.rendering import Renderer, plain_text, telegram_html
from handlers.parsing import normalize_word, parse_command
from handlers.text import strip_invisible
from handlers.types import Reply
from tests.harness import Chat

# The review's finds beyond bidi controls and zero-width spaces.
HIDDEN = [
    "\u00ad",  # soft hyphen
    "\u034f",  # combining grapheme joiner
    "\u115f",  # Hangul choseong filler
    "\u1160",  # Hangul jungseong filler
    "\u3164",  # Hangul filler
    "\u2800",  # braille pattern blank
    "\U000e0041",  # tag letter A
    "\u2063",  # invisible separator
    "\ufff0",  # unassigned, default ignorable
]


@pytest.mark.parametrize("hidden", HIDDEN)
def test_hidden_characters_are_dropped_from_words_and_commands(hidden: str) -> None:
    assert strip_invisible(f"bo{hidden}b") == "bob"
    assert normalize_word(f"签{hidden}到") == "签到"
    assert parse_command(f"/check{hidden}in now") == ("checkin", "now")


@pytest.mark.parametrize("hidden", HIDDEN)
def test_a_name_made_only_of_hidden_characters_is_shown_as_a_sign(hidden: str) -> None:
    for escape in (plain_text, telegram_html):
        assert escape(hidden * 3) == "\ufffd"


def test_a_line_separator_cannot_start_a_fake_line_of_the_leaderboard() -> None:
    name = "bob\u2028999. mallory — 1,000,000"
    assert strip_invisible(name) == "bob 999. mallory — 1,000,000"
    shown = Renderer(plain_text).render(
        Reply(
            "points/top",
            {
                "community": "Acme",
                "leaders": [{"rank": 1, "name": name, "points": 5, "me": False}],
                "my_rank": 2,
                "my_points": 0,
                "in_top": False,
            },
        )
    )
    assert "\u2028" not in shown and "\u2029" not in shown
    assert not any(line.startswith("999.") for line in shown.splitlines())


def test_emoji_keep_their_joiners_and_variation_selectors() -> None:
    for emoji in ("👨\u200d👩\u200d👧", "❤\ufe0f", "🏳\ufe0f\u200d🌈"):
        assert strip_invisible(emoji) == emoji


def test_real_text_keeps_what_it_needs_to_look_right() -> None:
    england = "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
    scotland = "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
    assert strip_invisible(f"{england} England") == f"{england} England"
    assert strip_invisible(england + scotland) != "🏴🏴"
    assert strip_invisible("葛\U000e0100飾") == "葛\U000e0100飾"  # a kanji's variant
    assert strip_invisible("ᠠ\u180bᠳ") == "ᠠ\u180bᠳ"  # Mongolian shaping
    # Tag characters outside a flag still carry text no one sees.
    assert strip_invisible(f"{england} hi\U000e0041\U000e0042") == f"{england} hi"


async def test_flag_only_poll_options_are_three_options(chat: Chat) -> None:
    england = "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
    scotland = "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
    wales = "🏴\U000e0067\U000e0062\U000e0077\U000e006c\U000e0073\U000e007f"
    said = await chat.say("boss", f"/poll Which flag? | {england} | {scotland} | {wales}")
    assert said.outcome.reply is not None and said.outcome.reply.poll is not None
    assert said.outcome.reply.poll.options == (england, scotland, wales)
