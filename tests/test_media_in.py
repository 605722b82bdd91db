"""A command's photos, videos and files reach the core as Event.media (a /submit's), on every
platform, through the real clients: a Telegram photo, video or document captioned with the
command (getFile, then the download: the largest photo size only), a Discord message's
attachments, a slash command's attachment field, the console's `:attach PATH`. A command that
replies to the actor's own message brings that message's files (from_reply) and words; one
replying to someone else's brings their words only. A file over the limit is refused without
being downloaded. A plain message's files are never downloaded."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.adapters.command_media import kind_of, mime_of
from bot.adapters.console import ConsoleAdapter
from bot.adapters.discord import DiscordAdapter, DiscordOptions
from bot.adapters.telegram import TelegramAdapter, TelegramOptions
from bot.adapters.telegram_limits import NO_LIMITS
from bot.app import ROUTERS, build_dispatcher
from bot.delivery.media_files import MediaFiles
from bot.delivery.messenger import Limits, Rate
from bot.delivery.sender import SenderSettings
from bot.rendering import Renderer, plain_text
from community import media
from community.config import parse_config
from handlers.ports import Chats, Deliveries, Inbox, Polls
from handlers.router import Dispatcher
from handlers.routes import Context, Param, ParamKind, Router
from handlers.types import Event, IncomingFile, Reply
from storage.store import Store
from tests.conftest import TEST_COMMUNITY
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import FakeTelegram
from tests.harness import Clock, moving_on, serving_with_sender

TOKEN = "123456:TEST-token"
GROUP, ALICE, BOB = -1001, 11, 12
JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40  # ~10 KB "photo"
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x01" * 3000
SENDER = SenderSettings(poll_seconds=0.02)


def media_dispatcher(store: Store, clock: Callable[[], datetime], seen: list[Event]) -> Dispatcher:
    """The test community's dispatcher plus /mediaprobe [words] [photo]: it records the event
    in `seen`, keeps each file it brought (as a /submit would) and answers with them, so what
    came in goes out again."""
    probe = Router()

    @probe.command(
        "mediaprobe",
        params=(
            Param("words", ParamKind.TEXT, required=False),
            Param("photo", ParamKind.FILE, required=False),
        ),
    )
    def _probe(ctx: Context) -> Reply:
        seen.append(ctx.event)
        kept = tuple(
            media.keep(
                ctx.conn,
                community_id=ctx.community.id,
                kind=item.kind,
                name=item.name,
                mime=item.mime,
                data=item.data,
                at=ctx.now,
                platform=ctx.event.chat.platform,
                ref=item.ref,
            )
            for item in ctx.event.media
            if not item.refused
        )
        words = {"command": ctx.event.arg_text or "none"}
        return Reply("common/unknown_command", words, media=kept)

    return build_dispatcher(
        store,
        access=parse_config(TEST_COMMUNITY)[0].access,
        default_community="acme",
        default_locale="en",
        clock=clock,
        routers=(*ROUTERS, probe),
    )


def test_a_files_kind_comes_from_its_mime_type() -> None:
    assert [kind_of(mime_of(n)) for n in ("a.jpg", "b.PNG", "c.mp4", "d.pdf", "e")] == [
        "photo",
        "photo",
        "video",
        "file",
        "file",
    ]
    assert mime_of("x.bin", "image/webp; q=1") == "image/webp"  # what the platform said wins


# Telegram ------------------------------------------------------------------------------------


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


def telegram(tg: FakeTelegram, store: Store, clock: Clock, seen: list[Event], **knobs: Any) -> Any:
    adapter = TelegramAdapter(
        media_dispatcher(store, clock, seen),
        TelegramOptions(token=TOKEN, base_url=tg.base_url, poll_timeout=1),
        inbox=Inbox(store),
        chats=Chats(store),
        polls=Polls(store),
        deliveries=Deliveries(store, moving_on(clock)),
        default_locale="en",
        limits=NO_LIMITS,
        media_files=MediaFiles(store),
        **knobs,
    )
    return serving_with_sender(adapter, Deliveries(store, moving_on(clock)), SENDER)


async def test_telegram_a_photo_captioned_with_a_command_brings_its_largest_size(
    tg: FakeTelegram, store: Store, clock: Clock
) -> None:
    seen: list[Event] = []
    group, alice = tg.group(GROUP, "Acme Fans"), tg.user(ALICE, "Alice", username="alice")
    async with telegram(tg, store, clock, seen):
        tg.push_photo_message(group, alice, "look at this", content=JPEG)  # no command
        tg.push_photo_message(group, alice, "/mediaprobe my new shoes", content=JPEG)
        await tg.wait_for(lambda t: len(t.media_in(GROUP)) >= 1)
    (event,) = seen
    (photo,) = event.media
    assert (photo.kind, photo.mime, photo.data, photo.size) == ("photo", "image/jpeg", JPEG, 10244)
    assert photo.ref.endswith("m") and photo.name.endswith(".jpg") and not photo.from_reply
    assert event.arg_text == "my new shoes"
    assert len(tg.downloads) == 1  # the command's largest size only, never the plain message's
    # Kept with Telegram's file_id: the answer names it instead of uploading the photo again.
    (echoed,) = tg.media_in(GROUP)
    assert (echoed.kind, echoed.content, echoed.by_file_id) == ("photo", JPEG, True)
    assert echoed.caption == "I don't know /my new shoes — try /help to see what I can do."


async def test_telegram_a_video_and_a_document_arrive_with_their_types(
    tg: FakeTelegram, store: Store, clock: Clock
) -> None:
    seen: list[Event] = []
    group, alice = tg.group(GROUP, "Acme Fans"), tg.user(ALICE, "Alice", username="alice")
    async with telegram(tg, store, clock, seen):
        tg.push_video_message(group, alice, "/mediaprobe", content=MP4)
        tg.push_document_message(
            group, alice, "/mediaprobe", "review.pdf", b"%PDF-1.7", mime_type="application/pdf"
        )
        await tg.wait_for(lambda t: len(t.media_in(GROUP)) >= 2)
    video, document = (event.media[0] for event in seen)
    assert (video.kind, video.name, video.mime, video.data) == (
        "video",
        "clip.mp4",
        "video/mp4",
        MP4,
    )
    assert (document.kind, document.mime, document.data) == ("file", "application/pdf", b"%PDF-1.7")
    # The document's one download serves the command's file text too.
    assert seen[1].file_name == "review.pdf" and len(tg.downloads) == 2


async def test_telegram_a_reply_to_ones_own_photo_brings_it_and_its_caption(
    tg: FakeTelegram, store: Store, clock: Clock
) -> None:
    seen: list[Event] = []
    group = tg.group(GROUP, "Acme Fans")
    alice, bob = tg.user(ALICE, "Alice", username="alice"), tg.user(BOB, "Bob", username="bob")
    async with telegram(tg, store, clock, seen):
        tg.push_photo_message(group, alice, "unboxing day", content=JPEG)
        posted = max(key[1] for key in tg.messages if key[0] == GROUP)
        tg.push_message(group, alice, "/mediaprobe", reply_to=posted)
        tg.push_message(group, bob, "/mediaprobe", reply_to=posted)  # not his photo
        await tg.wait_for(lambda t: len(t.texts(GROUP)) >= 1 and len(t.media_in(GROUP)) >= 1)
    own, others = seen
    (photo,) = own.media
    assert (photo.data, photo.from_reply, own.replied_text) == (JPEG, True, "unboxing day")
    assert own.target is not None and own.target.user_id == str(ALICE)
    assert others.media == () and others.replied_text == "unboxing day"
    assert others.target is not None and others.target.user_id == str(ALICE)
    assert len(tg.downloads) == 1


async def test_telegram_a_photo_over_the_limit_is_refused_without_downloading(
    tg: FakeTelegram, store: Store, clock: Clock
) -> None:
    seen: list[Event] = []
    group, alice = tg.group(GROUP, "Acme Fans"), tg.user(ALICE, "Alice", username="alice")
    async with telegram(tg, store, clock, seen, file_limit=1000):
        tg.push_photo_message(group, alice, "/mediaprobe", content=JPEG)
        await tg.wait_for(lambda t: len(t.texts(GROUP)) >= 1)
    (photo,) = seen[0].media
    assert (photo.refused, photo.data, photo.size) == ("too_big", b"", len(JPEG))
    assert tg.downloads == [] and tg.calls_to("getFile") == []


# Discord -------------------------------------------------------------------------------------

GUILD, CHANNEL, OWNER, DAN, EVE = 900_001, 900_002, 900_003, 900_011, 900_012
UNLIMITED = Limits(overall=Rate(0, 1), group=Rate(0, 1), private=Rate(0, 1))


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        server.add_guild(GUILD, "Acme", owner_id=OWNER, system_channel_id=CHANNEL)
        server.add_channel(GUILD, CHANNEL, "general")
        server.add_member(GUILD, DAN, "dan")
        server.add_member(GUILD, EVE, "eve")
        with server.patch_discord():
            yield server


def discord_serving(fake: FakeDiscord, store: Store, clock: Clock, seen: list[Event]) -> Any:
    adapter = DiscordAdapter(
        media_dispatcher(store, clock, seen),
        DiscordOptions(token="fake-token"),
        polls=Polls(store),
        deliveries=Deliveries(store, moving_on(clock)),
        default_locale="en",
        guild_ready_timeout=0.05,
        limits=UNLIMITED,
        media_files=MediaFiles(store),
        file_limit=20_000,
    )
    return serving_with_sender(adapter, Deliveries(store, moving_on(clock)), SENDER)


async def test_discord_a_message_commands_attachments_arrive_and_go_out_again(
    fake: FakeDiscord, store: Store, clock: Clock
) -> None:
    seen: list[Event] = []
    async with discord_serving(fake, store, clock, seen):
        files = [("shoes.jpg", JPEG), ("clip.mp4", MP4)]
        await fake.send_message(CHANNEL, DAN, "look", attachments=[("x.jpg", JPEG)])
        await fake.send_message(CHANNEL, DAN, "/mediaprobe two files", attachments=files)
        await fake.wait_for(lambda: len(fake.files_in(CHANNEL)) >= 2)
    (event,) = seen
    photo, video = event.media
    assert (photo.kind, photo.name, photo.mime, photo.data) == (
        "photo",
        "shoes.jpg",
        "image/jpeg",
        JPEG,
    )
    assert (video.kind, video.mime, video.data, video.ref) == ("video", "video/mp4", MP4, "")
    assert len(fake.downloads) == 2  # the plain message's file stayed where it was
    sent = fake.files_in(CHANNEL)
    assert [(f.filename, f.content) for f in sent] == files  # posted back, bytes intact
    assert "two files" in fake.sent_in(CHANNEL)[-1]


async def test_discord_a_reply_to_ones_own_message_brings_its_files_and_words(
    fake: FakeDiscord, store: Store, clock: Clock
) -> None:
    seen: list[Event] = []
    async with discord_serving(fake, store, clock, seen):
        posted = await fake.send_message(CHANNEL, DAN, "my setup", attachments=[("a.png", JPEG)])
        await fake.send_message(CHANNEL, DAN, "/mediaprobe", reply_to=posted)
        await fake.send_message(CHANNEL, EVE, "/mediaprobe", reply_to=posted)
        too_big = [("big.jpg", JPEG * 3)]  # over the adapter's 20,000 bytes
        await fake.send_message(CHANNEL, EVE, "/mediaprobe", attachments=too_big)
        await fake.wait_for(lambda: len(fake.sent_in(CHANNEL)) >= 3)
    # Discord's events are handled at once, not in turn: told apart by who and what.
    (own,) = [e for e in seen if e.actor.user_id == str(DAN)]
    others, big = sorted(
        (e for e in seen if e.actor.user_id == str(EVE)), key=lambda e: bool(e.media)
    )
    (photo,) = own.media
    assert (photo.name, photo.mime, photo.data, photo.from_reply) == (
        "a.png",
        "image/png",
        JPEG,
        True,
    )
    assert own.replied_text == "my setup" and own.target is not None
    assert own.target.user_id == str(DAN)
    assert others.media == () and others.replied_text == "my setup"
    assert others.target is not None and others.target.user_id == str(DAN)
    (refused,) = big.media
    assert (refused.refused, refused.data, refused.size) == ("too_big", b"", len(JPEG) * 3)
    assert len(fake.downloads) == 1  # neither the big file nor eve's reply was fetched


async def test_discord_a_slash_commands_attachment_field_brings_the_file(
    fake: FakeDiscord, store: Store, clock: Clock
) -> None:
    seen: list[Event] = []
    async with discord_serving(fake, store, clock, seen):
        (synced,) = [c for c in fake.commands[None] if c["name"] == "mediaprobe"]
        assert [(o["name"], o["type"], o["required"]) for o in synced["options"]] == [
            ("words", 3, False),
            ("photo", 11, False),
        ]
        inter = await fake.slash_command(
            GUILD, CHANNEL, DAN, "mediaprobe", {"words": "hi"}, files={"photo": ("p.jpg", JPEG)}
        )
        await fake.wait_for(lambda: len(fake.files_in(inter.id)) >= 1)
    (event,) = seen
    (photo,) = event.media
    assert (photo.kind, photo.name, photo.data) == ("photo", "p.jpg", JPEG)
    assert event.arg_text == "hi"  # the file is no word of the command line
    # Answered inline, the kept photo read back through MediaFiles.
    (answered,) = fake.files_in(inter.id)
    assert answered.content == JPEG


# Console -------------------------------------------------------------------------------------


async def test_the_console_attaches_a_photo_to_the_next_command(
    store: Store, clock: Clock, tmp_path: Path
) -> None:
    seen: list[Event] = []
    photo = tmp_path / "shoes.jpg"
    photo.write_bytes(JPEG)
    out = io.StringIO()
    console = ConsoleAdapter(
        media_dispatcher(store, clock, seen),
        Renderer(plain_text),
        locale="en",
        timezone=ZoneInfo("Asia/Shanghai"),
        stdin=io.StringIO(f":as alice\n:attach {photo}\n/mediaprobe new shoes\n/mediaprobe\n"),
        stdout=out,
        interactive=False,
        deliveries=Deliveries(store, clock),
        clock=lambda: datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
        media=tmp_path / "media",
    )
    await asyncio.wait_for(console.run(), 30)
    attached, next_line = seen
    assert attached.media == (IncomingFile("photo", "shoes.jpg", "image/jpeg", len(JPEG), JPEG),)
    assert next_line.media == ()  # a file goes with one line only
    # The answer shows the kept photo: one line saying where its copy went.
    copy = tmp_path / "media" / "shoes.jpg"
    assert copy.read_bytes() == JPEG
    assert f"[console] photo shoes.jpg saved as {copy}" in out.getvalue()
    assert "new shoes" in out.getvalue()


async def test_telegram_a_command_that_reads_no_file_downloads_none(
    tg: FakeTelegram, store: Store, clock: Clock
) -> None:
    seen: list[Event] = []
    group, alice = tg.group(GROUP, "Acme Fans"), tg.user(ALICE, "Alice", username="alice")
    async with telegram(tg, store, clock, seen):
        tg.push_photo_message(group, alice, "/points", content=JPEG)
        await tg.wait_for(lambda t: len(t.texts(GROUP)) >= 1)
    assert tg.downloads == [] and tg.calls_to("getFile") == []


async def test_discord_a_command_that_reads_no_file_downloads_none(
    fake: FakeDiscord, store: Store, clock: Clock
) -> None:
    # Ten large attachments under /points would otherwise be ten downloads of the limit.
    seen: list[Event] = []
    async with discord_serving(fake, store, clock, seen):
        files = [(f"big{n}.jpg", JPEG) for n in range(10)]
        await fake.send_message(CHANNEL, DAN, "/points", attachments=files)
        await fake.send_message(CHANNEL, DAN, "/mediaprobe after", attachments=files[:1])
        await fake.wait_for(lambda: len(fake.files_in(CHANNEL)) >= 1)
    assert len(fake.downloads) == 1  # the probe's one file; /points fetched nothing
