"""The renderer: every printed value escaped exactly once for its platform, nothing invisible
shown, and counts that agree with their nouns in each locale."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.adapters.discord_events import discord_markdown
from bot.rendering import Renderer, plain_text, telegram_html
from handlers.types import Reply
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


def _renderer(tmp_path: Path, escape: Callable[[str], str], **templates: str) -> Renderer:
    for name, source in templates.items():
        path = tmp_path / "en" / f"{name}.j2"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source, encoding="utf-8")
    return Renderer(escape, templates=tmp_path)


# Escaping once ---------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
@pytest.mark.parametrize("platform", sorted(PLATFORMS))
@pytest.mark.parametrize("who", ["boss", "alice"])
async def test_help_descriptions_are_escaped_once_for_admins_and_members(
    chat: Chat, who: str, platform: str, locale: str
) -> None:
    # An admin's own commands are on /help admin (both lists in one no longer fit Telegram).
    said = await chat.say(who, "/help admin" if who == "boss" else "/help")
    assert said.outcome.reply is not None
    escape, shown_by = PLATFORMS[platform]
    text = shown_by(Renderer(escape).render(replace(said.outcome.reply, locale=locale)))
    poll = {
        "en": "/poll <question> — start a poll: [--for 2h | --until 18:00] Question? | option"
        " | option (admin)",
        "zh_CN": "/poll <问题> —— 发起投票：[--for 2小时 | --until 18:00] 问题？"
        "| 选项 | 选项（管理员）",
    }[locale]
    checkin = {"en": "/checkin — daily check-in (or just say 签到 / 打卡)", "zh_CN": "/checkin ——"}
    assert (checkin[locale] in text) == (who != "boss")
    assert (poll in text) == (who == "boss")
    assert "\\" not in text and "&amp;" not in text and "&lt;" not in text
    # Parameters as declared, named in the chat's language.
    award = {"en": "/award <member> <amount> [reason] —", "zh_CN": "/award <成员> <积分> [原因] ——"}
    assert (award[locale] in text) == (who == "boss")


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_macro_output_is_escaped_exactly_once(tmp_path: Path, platform: str) -> None:
    escape, shown_by = PLATFORMS[platform]
    renderer = _renderer(
        tmp_path,
        escape,
        _macros='{% macro say(x) %}{{ "a | b & <c> *d*" }} {{ x }}{% endmacro %}',
        page='{% from "en/_macros.j2" import say %}{{ say(name) }}',
    )
    shown = shown_by(renderer.render(Reply("page", {"name": "<b>&amp;*_|"})))
    assert shown == "a | b & <c> *d* <b>&amp;*_|"


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
def test_every_filter_the_templates_use_escapes_user_values_exactly_once(
    tmp_path: Path, platform: str
) -> None:
    escape, shown_by = PLATFORMS[platform]
    lines = [
        "{{ names|join(' & ') }}",
        "{{ names|join('、') if names else 'none' }}",
        "{{ '%+d'|format(delta) }} {{ '%s!'|format(name) }}",
        "{{ name ~ ' & ' ~ n }}",
        "{{ '<*literal*> & _x_' }}",
        "{{ n|num }} {{ n|plural(one='point & <1>', other='points & <n>') }}",
        "{{ {'k': '*v*'}.get(key, name) }}",
        # Last: trim_blocks eats the line break after a block tag.
        "{% for x in names %}{{ loop.index }}) {{ x }}{{ ' ' if not loop.last }}{% endfor %}",
    ]
    renderer = _renderer(tmp_path, escape, page="\n".join(lines))
    context = {"names": ["<b>", "&amp;", "*x*"], "name": "a_b|c", "delta": 5, "n": 1000, "key": "?"}
    assert shown_by(renderer.render(Reply("page", context))) == "\n".join(
        [
            "<b> & &amp; & *x*",
            "<b>、&amp;、*x*",
            "+5 a_b|c!",
            "a_b|c & 1000",
            "<*literal*> & _x_",
            "1,000 points & <n>",
            "a_b|c",
            "1) <b> 2) &amp; 3) *x*",
        ]
    )


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


# Plural forms ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "count", "said"),
    [
        ("en", 0, "0 points"),
        ("en", 1, "1 point"),
        ("en", 2, "2 points"),
        ("en", 1000, "1,000 points"),
        ("zh_CN", 1, "1 积分"),
        ("zh_CN", 1000, "1,000 积分"),
    ],
)
def test_plural_follows_the_locales_rules(
    tmp_path: Path, locale: str, count: int, said: str
) -> None:
    template = tmp_path / locale / "count.j2"
    template.parent.mkdir(parents=True)
    words = {"en": 'one="point", other="points"', "zh_CN": 'other="积分"'}[locale]
    template.write_text(f"{{{{ n|num }}}} {{{{ n|plural({words}) }}}}", encoding="utf-8")
    renderer = Renderer(plain_text, templates=tmp_path)
    assert renderer.render(Reply("count", {"n": count}, locale)) == said


async def test_one_point_is_said_in_the_singular(chat: Chat) -> None:
    await chat.say("alice", "hi")
    awarded = await chat.say("boss", "/award @alice 1 thanks")
    assert (
        awarded.text is not None and "alice (@alice) received 1 point for: thanks." in awarded.text
    )
    checked = await chat.say("alice", "/checkin")
    assert checked.text is not None and "Streak: 1 day ·" in checked.text
    me = await chat.say("alice", "/points")
    assert me.text is not None and "you have 11 points" in me.text


def test_a_scheduled_post_is_checked_in_every_language_before_it_is_queued() -> None:
    from bot.app import renders_in_every_language
    from community.messages import Unrenderable

    renders_in_every_language(
        Reply("calendar/topic", {"text": "Tea", "community": "Acme", "poll": False})
    )
    with pytest.raises(Unrenderable, match=r"en/calendar/topic: .text. is undefined"):
        # A value the template needs is missing: what an edit that broke a template looks like.
        renders_in_every_language(Reply("calendar/topic", {"community": "Acme", "poll": False}))
