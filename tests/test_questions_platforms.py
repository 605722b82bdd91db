"""Answering by reply on the real platforms: python-telegram-bot and discord.py against their
fakes. The bot's post of a question gets a platform id only once sent; a member's reply to it
(Telegram's reply_to_message, Discord's message reference) answers the question."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.adapters.discord import DiscordAdapter
from bot.adapters.telegram import TelegramAdapter
from handlers.ports import Deliveries, Polls
from handlers.router import Dispatcher
from storage.qa_tables import answers
from storage.store import Store
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import FakeTelegram
from tests.harness import Clock, moving_on, rows
from tests.test_discord_adapter import ALICE as D_ALICE
from tests.test_discord_adapter import BOB as D_BOB
from tests.test_discord_adapter import CHANNEL, Ports, acme_fans, said_in_channel, slash
from tests.test_discord_adapter import serving as discord_serving
from tests.test_telegram_adapter import ALICE, CAROL, GROUP, group, said, serving, user


@pytest.fixture(name="tg")
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture(name="telegram")
async def running_telegram(
    tg: FakeTelegram, dispatcher: Dispatcher, store: Store
) -> AsyncIterator[TelegramAdapter]:
    async with serving(tg, dispatcher, store) as adapter:
        yield adapter


@pytest.fixture(autouse=True)
def platform_time(clock: Clock) -> None:
    """The platforms date messages by the real clock: the core's must agree, or the post
    (queued at the message's time) waits for a moment the sender's clock never reaches."""
    clock.now = datetime.now(UTC)


async def test_on_telegram_a_reply_to_the_question_post_answers_it(
    tg: FakeTelegram, telegram: TelegramAdapter, store: Store
) -> None:
    tg.push_message(group(tg), user(tg, ALICE, "Alice"), "/ask Does the linen shirt run large?")
    [post] = await said(tg, 1)
    assert post.startswith("❓ Question #1 from Alice\nDoes the linen shirt run large?")
    posted_id = max(message_id for chat, message_id in tg.messages if chat == GROUP)
    tg.push_message(group(tg), user(tg, CAROL, "Carol"), "Yes, one size down", reply_to=posted_id)
    answered = (await said(tg, 2))[1]
    assert answered == "💬 Answer #1 to question #1 is saved. Alice can accept it with /accept 1."
    tg.push_message(group(tg), user(tg, ALICE, "Alice"), "/questions 1")
    shown = (await said(tg, 3))[2]
    assert "#1 Carol (telegram" in shown and "Yes, one size down" in shown
    assert [row.text for row in rows(store, answers)] == ["Yes, one size down"]


@pytest.fixture(name="fake")
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    async with acme_fans() as fake:
        yield fake


async def test_on_discord_a_slash_question_is_posted_and_a_reply_answers_it(
    fake: FakeDiscord, dispatcher: Dispatcher, store: Store, clock: Clock
) -> None:
    # The sender's clock runs on, past the interaction's own time.
    ports = Ports(Polls(store), Deliveries(store, moving_on(clock)))
    async with discord_serving(fake, dispatcher, ports) as adapter:
        assert isinstance(adapter, DiscordAdapter)
        before = len(fake.messages)
        [ack] = await slash(fake, D_ALICE, "ask", "When does the winter sale start?")
        assert (ack.content or "").startswith("❓ Your question #1 is posted.")
        assert ack.flags & 64  # only the asker sees it
        post = await said_in_channel(fake, CHANNEL, before)
        assert (post.content or "").startswith("❓ Question #1 from Alice")
        before = len(fake.messages)
        await fake.send_message(CHANNEL, D_BOB, "On the 12th, 20:00", reply_to=post.message_id)
        answered = await said_in_channel(fake, CHANNEL, before)
        assert "Answer #1 to question #1 is saved" in (answered.content or "")
    assert [(row.platform, row.text) for row in rows(store, answers)] == [
        ("discord", "On the 12th, 20:00")
    ]
