"""A submission's whole way on the real platforms: python-telegram-bot and discord.py against
their fakes, one community on both. A member sends a photo captioned /submit in the Telegram
group; the admin reviews it in a private chat with the bot (the photo shown again, by the
file_id Telegram gave it) and presses "approve and feature"; the photo, with the author
credited, is posted into the Telegram group and into the Discord server, bytes intact."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.adapters.telegram import TelegramAdapter, TelegramOptions
from bot.adapters.telegram_limits import NO_LIMITS
from bot.delivery.media_files import MediaFiles
from handlers.ports import Chats, Deliveries, Inbox, Polls
from handlers.router import Dispatcher
from storage.store import Store
from storage.ugc_tables import submissions
from tests.conftest import TELEGRAM_OWNER
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import FakeTelegram
from tests.harness import Clock, moving_on, rows, serving_with_sender
from tests.test_discord_adapter import CHANNEL, Ports, acme_fans
from tests.test_discord_adapter import serving as discord_serving
from tests.test_telegram_adapter import ALICE, GROUP, SENDER, TOKEN

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40  # a ~10 KB "photo"


@pytest.fixture(autouse=True)
def platform_time(clock: Clock) -> None:
    """The platforms date messages by the real clock: the core's must agree, or a post
    (queued at the message's time) waits for a moment the sender's clock never reaches."""
    clock.now = datetime.now(UTC)


@pytest.fixture(name="tg")
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture(name="fake")
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    async with acme_fans() as fake:
        yield fake


def telegram(tg: FakeTelegram, dispatcher: Dispatcher, store: Store) -> object:
    """The Telegram adapter as `run` wires it (files kept and sent through the store), with
    its sender draining the outbox."""
    deliveries = Deliveries(store, moving_on(dispatcher.clock))
    adapter = TelegramAdapter(
        dispatcher,
        TelegramOptions(token=TOKEN, base_url=tg.base_url, poll_timeout=1),
        inbox=Inbox(store),
        chats=Chats(store),
        polls=Polls(store),
        deliveries=deliveries,
        default_locale="en",
        limits=NO_LIMITS,
        media_files=MediaFiles(store),
    )
    return serving_with_sender(adapter, deliveries, SENDER)


async def test_a_photo_submitted_on_telegram_is_featured_in_both_platforms_groups(
    tg: FakeTelegram, fake: FakeDiscord, dispatcher: Dispatcher, store: Store, clock: Clock
) -> None:
    ports = Ports(Polls(store), Deliveries(store, moving_on(clock)))
    group = tg.group(GROUP, "Acme Fans")
    alice = tg.user(ALICE, "Alice", username="alice")
    owner = tg.user(TELEGRAM_OWNER, "Owner", username="owner")
    async with (
        discord_serving(fake, dispatcher, ports, media_files=MediaFiles(store)),
        telegram(tg, dispatcher, store),  # type: ignore[attr-defined]
    ):
        tg.push_photo_message(group, alice, "/submit 晒单 My new bag!", content=JPEG)
        await tg.wait_for(lambda t: any("Submission #1" in text for text in t.texts(GROUP)))
        [row] = rows(store, submissions)
        assert (row.category, row.state, row.text) == ("purchase", "pending", "My new bag!")

        private = tg.private_chat(owner)
        tg.push_message(private, owner, "/review")
        await tg.wait_for(lambda t: len(t.media_in(TELEGRAM_OWNER)) >= 1)
        [card] = tg.media_in(TELEGRAM_OWNER)
        assert card.caption.startswith("📮 Submission #1 · Purchase photo · by Alice")
        assert (card.content, card.by_file_id) == (JPEG, True)  # Telegram's own file_id
        buttons = tg.messages[(TELEGRAM_OWNER, card.message_id)]["reply_markup"]
        feature = buttons["inline_keyboard"][1][0]["callback_data"]
        assert feature == "/review feature 1"

        tg.push_callback_query(private, owner, card.message_id, feature)
        await tg.wait_for(lambda t: len(t.media_in(GROUP)) >= 1)
        await fake.wait_for(lambda: len(fake.files_in(CHANNEL)) >= 1)
    [in_telegram] = tg.media_in(GROUP)
    assert in_telegram.caption == "🌟 Featured Purchase photo by Alice (#1)\nMy new bag!"
    assert in_telegram.content == JPEG and in_telegram.by_file_id
    [in_discord] = fake.files_in(CHANNEL)
    assert (in_discord.filename.endswith(".jpg"), in_discord.content) == (True, JPEG)
    posted = next(
        m for m in fake.messages if m.where == CHANNEL and "Featured" in (m.content or "")
    )
    assert (posted.content or "").startswith("🌟 Featured Purchase photo by Alice (#1)")
    [decided] = rows(store, submissions)
    assert (decided.state, decided.featured, decided.points) == ("approved", True, 30)
