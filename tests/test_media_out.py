"""A reply's photos, videos and files (a featured submission reposted) reach every platform:
the outbox keeps which files, never their bytes, and its drain reads them back once per read
(a platform's own reference instead, where it has one); Telegram sends a lone file with the
words as its caption and the buttons, several as albums then the words, and names the file_id
it gave the first upload in every later post (remembered in the database, so after a restart
too); Discord attaches the files to the message; an edit changes the words only."""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import discord
import pytest
from sqlalchemy import Connection
from telegram import Bot

from bot.adapters.console import ConsoleMessenger
from bot.adapters.discord_messenger import DiscordMessenger
from bot.adapters.telegram_limits import NO_LIMITS
from bot.adapters.telegram_messenger import TelegramMessenger
from bot.delivery.media_files import MediaFiles
from bot.delivery.sender import Sender
from bot.rendering import Renderer, plain_text
from community import media, outbox_drain
from community.communities import community_by_slug
from community.messages import Choice, Media, Reply
from community.outbox import Kind, Outgoing, decode_reply, encode_reply, enqueue
from handlers.ports import Chats, Deliveries, Polls
from storage.store import Store
from storage.ugc_tables import media_refs
from tests.conftest import T0
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import FakeTelegram
from tests.harness import Clock, rows

TOKEN = "123456:TEST-token"
GROUPS = (-1001, -1002, -1003)
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40
PNG = b"\x89PNG\r\n\x1a\n" + b"\x02" * 5000
PDF = b"%PDF-1.7 " + b"\x03" * 3000
WORDS = "common/unknown_command"
BUTTON = Choice("common/unknown_command", "/vote 1 0", {"command": "vote"})
_ids = itertools.count(1)


def keep(store: Store, name: str, data: bytes, kind: str = "photo", mime: str = "") -> Media:
    """A file kept for the test community, as a /submit keeps it."""

    def kept(conn: Connection) -> Media:
        community = community_by_slug(conn, "acme")
        assert community is not None
        return media.keep(
            conn,
            community_id=community.id,
            kind=kind,
            name=name,
            mime=mime or "image/jpeg",
            data=data,
            at=T0,
        )

    return store.write_now(kept)


def post(store: Store, platform: str, chat: str, reply: Reply, **fields: Any) -> int:
    """A group post of `reply` queued on `platform`."""

    def queued(conn: Connection) -> int:
        community = community_by_slug(conn, "acme")
        assert community is not None
        return enqueue(
            conn,
            community_id=community.id,
            platform=platform,
            chat_id=chat,
            kind=fields.pop("kind", Kind.POST),
            reply=reply,
            at=T0,
            group_chat_id=chat,
            **fields,
        )

    return store.write_now(queued)


def featured(*shown: Media, command: str = "featured", **how: Any) -> Reply:
    return Reply(WORDS, {"command": command}, media=shown, **how)


# The outbox ----------------------------------------------------------------------------------


def test_the_outbox_keeps_which_files_never_their_bytes() -> None:
    shown = Media(7, "photo", "shoes.jpg", "image/jpeg", content=JPEG, ref="AgAD")
    payload = encode_reply(featured(shown))
    assert payload["media"] == [
        {"id": 7, "kind": "photo", "name": "shoes.jpg", "mime": "image/jpeg"}
    ]
    assert len(json.dumps(payload)) < 300  # no bytes, in any encoding
    assert decode_reply(payload, "en").media == (Media(7, "photo", "shoes.jpg", "image/jpeg"),)


async def test_the_drain_reads_each_file_once_with_the_bytes_or_the_platforms_reference(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo, other = keep(store, "shoes.jpg", JPEG), keep(store, "box.png", PNG, mime="image/png")
    store.write_now(media.remember_ref, photo.media_id, "telegram", "AgAD-photo")
    for chat in ("501", "502"):
        post(store, "discord", chat, featured(photo))
    post(store, "telegram", "-1001", featured(photo, other))
    read = store.read_now(outbox_drain.due, "discord", T0, 10)
    assert [m.reply.media[0].content for m in read] == [JPEG, JPEG]
    assert read[0].reply.media[0].content is read[1].reply.media[0].content  # read once
    (telegram,) = store.read_now(outbox_drain.due, "telegram", T0, 10)
    named, uploaded = telegram.reply.media
    assert (named.ref, named.content, uploaded.ref, uploaded.content) == (
        "AgAD-photo",
        b"",
        "",
        PNG,
    )
    # The outbox rows themselves name the files only.
    assert all(len(json.dumps(row.payload)) < 400 for row in rows(store, outbox_drain.outbox))
    # A read stops loading files past its budget: the rest wait, in order, for the next one.
    monkeypatch.setattr(outbox_drain, "MEDIA_BYTES_PER_READ", 1)
    post(store, "discord", "503", featured(other))
    assert len(store.read_now(outbox_drain.due, "discord", T0, 10)) == 2


def test_answers_with_files_are_never_merged_into_one_line(store: Store) -> None:
    shown = (Media(1, "photo", "a.jpg", "image/jpeg"),)
    answer = Reply(WORDS, {"command": "x"}, line=WORDS, media=shown)
    plain = Reply(WORDS, {"command": "y"}, line=WORDS)
    waiting = [
        Outgoing(i, 1, "telegram", "-1", Kind.REPLY, reply, "-1")
        for i, reply in enumerate((answer, plain, plain), 1)
    ]
    sender = Sender(ConsoleMessenger(Renderer(plain_text), io.StringIO()), Deliveries(store))
    # A busy group's answers are merged, but never one that shows a photo.
    assert [m.id for m in sender._unit(waiting, room=1)] == [1]
    assert [m.id for m in sender._unit(waiting[1:], room=1)] == [2, 3]


# Telegram ------------------------------------------------------------------------------------


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        for chat in GROUPS:
            fake.group(chat, f"Group {chat}")
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    bot = Bot(TOKEN, base_url=tg.base_url)
    await bot.initialize()
    yield bot
    await bot.shutdown()


def telegram_sender(bot: Bot, store: Store, clock: Clock) -> Sender:
    """A sender draining the Telegram outbox through a fresh messenger (as after a start)."""
    messenger = TelegramMessenger(
        bot, chats=Chats(store), polls=Polls(store), limits=NO_LIMITS, media_files=MediaFiles(store)
    )
    return Sender(messenger, Deliveries(store, clock))


async def test_telegram_uploads_a_photo_once_and_names_its_file_id_in_every_later_post(
    tg: FakeTelegram, bot: Bot, store: Store, clock: Clock
) -> None:
    photo = keep(store, "shoes.jpg", JPEG)
    for chat in GROUPS[:2]:
        post(store, "telegram", str(chat), featured(photo, choices=(BUTTON,)))
    await telegram_sender(bot, store, clock).drain_once()
    first, second = tg.media_in()
    assert (first.chat_id, first.kind, first.filename, first.content) == (
        GROUPS[0],
        "photo",
        "shoes.jpg",
        JPEG,
    )
    assert not first.by_file_id and first.caption.startswith("I don't know /featured")
    assert (second.by_file_id, second.content, second.file_id) == (True, JPEG, first.file_id)
    assert tg.calls_to("sendMessage") == []  # the words are the caption
    markup = tg.messages[(GROUPS[0], first.message_id)]["reply_markup"]
    assert markup["inline_keyboard"][0][0]["callback_data"] == "/vote 1 0"
    # Remembered in the database: after a restart the next group's post names it too.
    (ref,) = rows(store, media_refs)
    assert (ref.media_id, ref.platform, ref.ref) == (photo.media_id, "telegram", first.file_id)
    post(store, "telegram", str(GROUPS[2]), featured(photo))
    clock.now += timedelta(seconds=1)
    await telegram_sender(bot, store, clock).drain_once()
    assert tg.media_in(GROUPS[2])[0].by_file_id


async def test_telegram_sends_words_too_long_for_a_caption_after_the_photo(
    tg: FakeTelegram, bot: Bot, store: Store, clock: Clock
) -> None:
    photo = keep(store, "shoes.jpg", JPEG)
    long = featured(photo, command="x" * 1100, choices=(BUTTON,))
    post(store, "telegram", str(GROUPS[0]), long)
    await telegram_sender(bot, store, clock).drain_once()
    (sent,) = tg.media_in(GROUPS[0])
    (words,) = tg.calls_to("sendMessage")
    assert sent.caption == "" and sent.content == JPEG
    assert words.params["reply_markup"]["inline_keyboard"]  # the buttons go with the words
    assert tg.accepted[0].message_id == sent.message_id  # the photo first, then the words


async def test_telegram_sends_several_files_as_albums_then_the_words(
    tg: FakeTelegram, bot: Bot, store: Store, clock: Clock
) -> None:
    shoes, box = keep(store, "shoes.jpg", JPEG), keep(store, "box.png", PNG, mime="image/png")
    review = keep(store, "review.pdf", PDF, kind="file", mime="application/pdf")
    post(store, "telegram", str(GROUPS[0]), featured(shoes, review, box))
    await telegram_sender(bot, store, clock).drain_once()
    sent = tg.media_in(GROUPS[0])
    assert [(m.kind, m.filename, m.content) for m in sent] == [
        ("photo", "shoes.jpg", JPEG),
        ("photo", "box.png", PNG),
        ("document", "review.pdf", PDF),
    ]
    assert sent[0].media_group_id == sent[1].media_group_id != ""  # the photos: one album
    assert len(tg.calls_to("sendMediaGroup")) == 1 and len(tg.calls_to("sendDocument")) == 1
    assert tg.texts(GROUPS[0]) == ["I don't know /featured — try /help to see what I can do."]
    assert len(rows(store, media_refs)) == 3  # each upload's file_id remembered


async def test_telegram_edits_the_caption_of_a_photo_post(
    tg: FakeTelegram, bot: Bot, store: Store, clock: Clock
) -> None:
    photo = keep(store, "shoes.jpg", JPEG)
    post(store, "telegram", str(GROUPS[0]), featured(photo))
    await telegram_sender(bot, store, clock).drain_once()
    (sent,) = tg.media_in(GROUPS[0])
    edit = featured(photo, command="edited")
    post(store, "telegram", str(GROUPS[0]), edit, kind=Kind.EDIT, edits=str(sent.message_id))
    clock.now += timedelta(seconds=1)
    await telegram_sender(bot, store, clock).drain_once()
    assert len(tg.media_in()) == 1  # nothing uploaded again
    (edited,) = tg.calls_to("editMessageCaption")
    assert edited.status == 200
    assert "/edited" in tg.messages[(GROUPS[0], sent.message_id)]["caption"]


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


async def test_discord_attaches_the_files_to_the_post_and_an_edit_changes_the_words_only(
    fake: FakeDiscord, client: discord.Client, store: Store
) -> None:
    shoes, review = keep(store, "shoes.jpg", JPEG), keep(store, "review.pdf", PDF, "file")
    messenger = DiscordMessenger(client, Polls(store), media_files=MediaFiles(store))
    reply = featured(shoes, review, choices=(BUTTON,))
    # Straight from the handler (an interaction's answer): the bytes are read through the door.
    message = Outgoing(next(_ids), 1, "discord", str(CHANNEL), Kind.POST, reply, str(GUILD))
    (posted,) = await messenger._send(message)  # connected or not: the REST call is checked
    assert [(f.filename, f.content, f.message_id) for f in fake.files_in(CHANNEL)] == [
        ("shoes.jpg", JPEG, int(posted)),
        ("review.pdf", PDF, int(posted)),
    ]
    shown = fake.messages[-1]
    assert "/featured" in (shown.content or "") and shown.components[0]["custom_id"] == "/vote 1 0"
    edit = Outgoing(
        next(_ids), 1, "discord", str(CHANNEL), Kind.EDIT, featured(shoes), str(GUILD), edits=posted
    )
    await messenger._send(edit)
    assert len(fake.files) == 2 and fake.messages[-1].kind == "channel_edit"
