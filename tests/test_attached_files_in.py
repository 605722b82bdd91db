"""A command sent with a small text file (a CSV of coupon codes) reaches its handler with the
file's text: a Telegram document captioned with the command (getFile, then the download), a
Discord message with an attachment, the console's `:attach PATH`. Too big or not text, the
handler hears why; a plain message's file is never downloaded."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.adapters.attached_files import with_file
from bot.adapters.console import ConsoleAdapter
from bot.adapters.discord import DiscordAdapter, DiscordOptions
from bot.adapters.telegram import TelegramAdapter, TelegramOptions
from bot.adapters.telegram_limits import NO_LIMITS
from bot.delivery.messenger import Limits, Rate
from bot.delivery.sender import SenderSettings
from bot.rendering import Renderer, plain_text
from handlers.ports import Chats, Deliveries, Inbox, Polls
from handlers.types import ChatRef, Event, EventKind
from storage.store import Store
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.probe import probing_dispatcher
from tests.fakes.telegram_api import FakeTelegram
from tests.harness import Clock, moving_on, serving_with_sender

TOKEN = "123456:TEST-token"
GROUP, ALICE = -1001, 11
CODES = "\ufeffCODE-1\nCODE-2\n张三-3\n".encode()
SENDER = SenderSettings(poll_seconds=0.02)


def test_a_file_is_decoded_without_its_bom_or_refused() -> None:
    event = Event("e", ChatRef("console", "x"), None, datetime.now(UTC), EventKind.COMMAND, "")  # type: ignore[arg-type]
    assert with_file(event, "a.csv", CODES).file_text == "CODE-1\nCODE-2\n张三-3\n"
    assert with_file(event, "a.csv", b"\xff\xfe\x00x").file_refused == "not_text"
    assert with_file(event, "a.csv", b"a\x00b").file_refused == "not_text"
    big = with_file(event, "a.csv", b"x" * 11, limit=10)
    assert (big.file_refused, big.file_text, big.file_name) == ("too_big", "", "a.csv")


# Telegram ------------------------------------------------------------------------------------


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


def telegram(tg: FakeTelegram, store: Store, clock: Clock, seen: list[Event], **knobs: Any) -> Any:
    dispatcher = probing_dispatcher(store, clock, seen)
    adapter = TelegramAdapter(
        dispatcher,
        TelegramOptions(token=TOKEN, base_url=tg.base_url, poll_timeout=1),
        inbox=Inbox(store),
        chats=Chats(store),
        polls=Polls(store),
        deliveries=Deliveries(store, moving_on(clock)),
        default_locale="en",
        limits=NO_LIMITS,
        **knobs,
    )
    return serving_with_sender(adapter, Deliveries(store, moving_on(clock)), SENDER)


async def test_telegram_a_captioned_document_brings_its_text_to_the_command(
    tg: FakeTelegram, store: Store, clock: Clock
) -> None:
    seen: list[Event] = []
    group, alice = tg.group(GROUP, "Acme Fans"), tg.user(ALICE, "Alice", username="alice")
    async with telegram(tg, store, clock, seen):
        tg.push_document_message(group, alice, "/probe", "codes.csv", CODES)
        tg.push_document_message(group, alice, "just a file", "other.csv", CODES)
        tg.push_message(group, alice, "/probe")
        await tg.wait_for(lambda t: len(t.texts(GROUP)) >= 2)
    with_codes, without = seen
    assert (with_codes.file_name, with_codes.file_text) == ("codes.csv", "CODE-1\nCODE-2\n张三-3\n")
    assert without.file_name == without.file_text == ""
    assert len(tg.calls_to("getFile")) == 1 and len(tg.downloads) == 1  # the command's only


async def test_telegram_a_file_over_the_limit_is_refused_without_downloading(
    tg: FakeTelegram, store: Store, clock: Clock
) -> None:
    seen: list[Event] = []
    group, alice = tg.group(GROUP, "Acme Fans"), tg.user(ALICE, "Alice", username="alice")
    async with telegram(tg, store, clock, seen, file_limit=10):
        tg.push_document_message(group, alice, "/probe", "codes.csv", CODES)
        await tg.wait_for(lambda t: len(t.texts(GROUP)) >= 1)
    (event,) = seen
    assert (event.file_refused, event.file_text) == ("too_big", "")
    assert tg.downloads == []


# Discord -------------------------------------------------------------------------------------

GUILD, CHANNEL, OWNER, BOB = 900_001, 900_002, 900_003, 900_011
UNLIMITED = Limits(overall=Rate(0, 1), group=Rate(0, 1), private=Rate(0, 1))


async def test_discord_a_message_command_with_an_attachment_brings_its_text(
    store: Store, clock: Clock
) -> None:
    seen: list[Event] = []
    async with FakeDiscord() as fake:
        fake.add_guild(GUILD, "Acme", owner_id=OWNER, system_channel_id=CHANNEL)
        fake.add_channel(GUILD, CHANNEL, "general")
        fake.add_member(GUILD, BOB, "bob")
        with fake.patch_discord():
            adapter = DiscordAdapter(
                probing_dispatcher(store, clock, seen),
                DiscordOptions(token="fake-token"),
                polls=Polls(store),
                deliveries=Deliveries(store, moving_on(clock)),
                default_locale="en",
                guild_ready_timeout=0.05,
                limits=UNLIMITED,
            )
            deliveries = Deliveries(store, moving_on(clock))
            async with serving_with_sender(adapter, deliveries, SENDER):
                await fake.send_message(CHANNEL, BOB, "/probe", attachments=[("c.csv", CODES)])
                await fake.send_message(CHANNEL, BOB, "look", attachments=[("x.csv", CODES)])
                await fake.send_message(CHANNEL, BOB, "/probe", attachments=[("b.bin", b"\0\1")])
                await fake.wait_for(lambda: len(fake.sent_in(CHANNEL)) >= 2)
    text, binary = seen
    assert (text.file_name, text.file_text) == ("c.csv", "CODE-1\nCODE-2\n张三-3\n")
    assert (binary.file_name, binary.file_refused, binary.file_text) == ("b.bin", "not_text", "")
    assert len(fake.downloads) == 2  # the plain message's file stayed where it was


# Console -------------------------------------------------------------------------------------


async def test_the_console_attaches_a_file_to_the_next_line(
    store: Store, clock: Clock, tmp_path: Path
) -> None:
    seen: list[Event] = []
    codes = tmp_path / "codes.csv"
    codes.write_bytes(CODES)
    out = io.StringIO()
    script = f":as boss\n:attach {codes}\n/probe\n/probe\n:attach {tmp_path / 'missing.csv'}\n"
    console = ConsoleAdapter(
        probing_dispatcher(store, clock, seen),
        Renderer(plain_text),
        locale="en",
        timezone=ZoneInfo("Asia/Shanghai"),
        stdin=io.StringIO(script),
        stdout=out,
        interactive=False,
        deliveries=Deliveries(store, clock),
        clock=lambda: datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
    )
    await asyncio.wait_for(console.run(), 30)
    attached, next_line = seen
    assert (attached.file_name, attached.file_text) == ("codes.csv", "CODE-1\nCODE-2\n张三-3\n")
    assert next_line.file_name == ""  # a file goes with one line only
    assert "codes.csv" in out.getvalue() and "cannot read" in out.getvalue()
