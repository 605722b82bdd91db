"""A reply's file (an /export's CSV) reaches the member: kept in the outbox, sent by Telegram's
sendDocument with the words as its caption, attached to the Discord message, written to
./data/exports by the console, never over an earlier file."""

from __future__ import annotations

import io
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import discord
import pytest
from telegram import Bot

from bot.adapters.console import ConsoleAdapter
from bot.adapters.discord_messenger import DiscordMessenger
from bot.adapters.telegram_messenger import TelegramMessenger
from bot.delivery.documents import save_document
from bot.rendering import Renderer, plain_text
from community.messages import Document, Reply
from community.outbox import (
    DOCUMENT_MAX_BYTES,
    DocumentTooBig,
    Kind,
    Outgoing,
    decode_reply,
    encode_reply,
)
from handlers.ports import Chats, Deliveries, Polls
from storage.store import Store
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.probe import EXPORTED, probing_dispatcher
from tests.fakes.telegram_api import FakeTelegram
from tests.harness import Clock

TOKEN = "123456:TEST-token"
GROUP = -1001
CSV = EXPORTED
_ids = itertools.count(1)


def export(words: str = "common/unknown_command") -> Reply:
    return Reply(words, {"command": "/export"}, document=Document("ledger-2026-12.csv", CSV))


def outgoing(reply: Reply, chat_id: str, **fields: Any) -> Outgoing:
    return Outgoing(next(_ids), 1, "telegram", chat_id, Kind.REPLY, reply, **fields)


def test_the_outbox_keeps_the_file_and_refuses_one_over_the_limit() -> None:
    kept = decode_reply(encode_reply(export()), "en")
    assert kept.document == Document("ledger-2026-12.csv", CSV, "text/csv")
    too_big = Document("big.csv", b"x" * (DOCUMENT_MAX_BYTES + 1))
    with pytest.raises(DocumentTooBig):
        encode_reply(Reply("common/unknown_command", document=too_big))


# Telegram ------------------------------------------------------------------------------------


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def telegram(tg: FakeTelegram, store: Store) -> AsyncIterator[TelegramMessenger]:
    bot = Bot(TOKEN, base_url=tg.base_url)
    await bot.initialize()
    yield TelegramMessenger(bot, chats=Chats(store), polls=Polls(store))
    await bot.shutdown()


async def test_telegram_sends_the_file_with_the_words_as_its_caption(
    tg: FakeTelegram, telegram: TelegramMessenger
) -> None:
    tg.group(GROUP, "Acme Fans")
    (message_id,) = await telegram.send(outgoing(export(), str(GROUP)))
    (sent,) = tg.documents
    assert (sent.chat_id, sent.filename, sent.content) == (GROUP, "ledger-2026-12.csv", CSV)
    assert "/export" in sent.caption and message_id == str(sent.message_id)
    assert tg.calls_to("sendMessage") == []


async def test_telegram_sends_words_too_long_for_a_caption_first_then_the_file(
    tg: FakeTelegram, telegram: TelegramMessenger
) -> None:
    long = Reply(
        "common/unknown_command", {"command": "/" + "x" * 2000}, document=export().document
    )
    ids = await telegram.send(outgoing(long, str(GROUP)))
    assert len(tg.calls_to("sendMessage")) == 1
    (sent,) = tg.documents
    assert sent.content == CSV and sent.caption == "" and len(ids) == 2


# Discord -------------------------------------------------------------------------------------

GUILD, CHANNEL, OWNER = 500, 501, 7


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        server.add_guild(GUILD, "Acme", owner_id=OWNER)
        server.add_channel(GUILD, CHANNEL, "general")
        yield server


@pytest.fixture
async def client(fake: FakeDiscord) -> AsyncIterator[discord.Client]:
    with fake.patch_discord():
        bot = discord.Client(intents=discord.Intents.none(), guild_ready_timeout=0.05)
        await bot.login("token")
        yield bot
        await bot.close()


async def test_discord_attaches_the_file_to_the_message(
    fake: FakeDiscord, client: discord.Client, store: Store
) -> None:
    messenger = DiscordMessenger(client, Polls(store))
    message = Outgoing(next(_ids), 1, "discord", str(CHANNEL), Kind.POST, export(), str(GUILD))
    await messenger._send(message)  # connected or not: the REST call is what is checked
    (sent,) = fake.files
    assert (sent.where, sent.filename, sent.content) == (CHANNEL, "ledger-2026-12.csv", CSV)
    assert "/export" in fake.sent_in(CHANNEL)[0]


# Console -------------------------------------------------------------------------------------


def test_a_saved_file_never_replaces_an_earlier_one(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    first = save_document(Document("ledger.csv", b"1"), folder)
    second = save_document(Document("ledger.csv", b"2"), folder)
    hostile = save_document(Document("../../etc/passwd", b"3"), folder)
    assert (first.name, second.name) == ("ledger.csv", "ledger-2.csv")
    assert first.read_bytes() == b"1" and second.read_bytes() == b"2"
    assert hostile.parent == folder and hostile.read_bytes() == b"3"


async def test_the_console_writes_an_answers_file_and_prints_where(
    store: Store, clock: Clock, tmp_path: Path
) -> None:
    probing = probing_dispatcher(store, clock, [])
    out = io.StringIO()
    console = ConsoleAdapter(
        probing,
        Renderer(plain_text),
        locale="en",
        timezone=ZoneInfo("Asia/Shanghai"),
        stdin=io.StringIO(":as alice\n/exportprobe\n/exportprobe\n"),
        stdout=out,
        interactive=False,
        deliveries=Deliveries(store, clock),
        clock=lambda: datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
        exports=tmp_path / "data" / "exports",
    )
    await console.run()
    folder = tmp_path / "data" / "exports"
    assert sorted(p.name for p in folder.iterdir()) == [
        "ledger-2026-12-2.csv",
        "ledger-2026-12.csv",
    ]
    assert (folder / "ledger-2026-12.csv").read_bytes() == CSV
    assert f"📎 {folder / 'ledger-2026-12.csv'}" in out.getvalue()
    assert "/export" in out.getvalue()
