"""One member across Telegram and Discord: both real client libraries, both fakes, one core."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.adapters.discord import DiscordAdapter, DiscordOptions
from bot.adapters.telegram import TelegramAdapter, TelegramOptions
from bot.delivery.sender import SenderSettings
from handlers.ports import Chats, Deliveries, Inbox, Polls
from handlers.router import Dispatcher
from tests.conftest import DISCORD_OWNER
from tests.fakes.discord_api import FakeDiscord, FakeInteraction, SentMessage
from tests.fakes.telegram_api import FakeTelegram
from tests.harness import moving_on, serving_with_sender

GROUP, ALICE_TG, BOSS_TG = -1001, 21, 22
GUILD, CHANNEL, OWNER = 900_000_000_000_000_001, 900_000_000_000_000_002, 900_000_000_000_000_003
ALICE_DC, MOD_DC = 900_000_000_000_000_011, 900_000_000_000_000_012


@pytest.fixture
async def platforms(
    dispatcher: Dispatcher,
) -> AsyncIterator[tuple[FakeTelegram, FakeDiscord]]:
    """Both platforms served by one process on one dispatcher, as `make run` does with both
    tokens set."""
    async with FakeTelegram() as tg, FakeDiscord() as dc:
        dc.add_guild(GUILD, "Acme Fans", owner_id=OWNER)
        dc.add_channel(GUILD, CHANNEL, "general")
        dc.add_member(GUILD, ALICE_DC, "alice_dc", global_name="Alice")
        dc.add_member(GUILD, MOD_DC, "mod", manage_guild=True)
        dc.add_member(GUILD, DISCORD_OWNER, "owner")
        with dc.patch_discord():
            store = dispatcher.store
            deliveries = Deliveries(store, moving_on(dispatcher.clock))
            telegram = TelegramAdapter(
                dispatcher,
                TelegramOptions(token="1:X", base_url=tg.base_url, poll_timeout=1),
                inbox=Inbox(store),
                chats=Chats(store),
                polls=Polls(store),
                deliveries=deliveries,
                default_locale="en",
            )
            discord_ = DiscordAdapter(
                dispatcher,
                DiscordOptions(token="fake-token"),
                polls=Polls(store),
                deliveries=deliveries,
                default_locale="en",
                guild_ready_timeout=0.05,
            )
            quick = SenderSettings(poll_seconds=0.02)
            async with (
                serving_with_sender(telegram, deliveries, quick),
                serving_with_sender(discord_, deliveries, quick),
            ):
                yield tg, dc


async def telegram_says(tg: FakeTelegram, chat: dict[str, Any], user_id: int, text: str) -> str:
    """A Telegram user sends `text` in `chat`; returns the bot's answer there."""
    before = len(tg.texts(chat["id"]))
    tg.push_message(chat, tg.user(user_id, "Alice", username="alice_tg"), text)
    await tg.wait_for(lambda t: len(t.texts(chat["id"])) > before)
    return tg.texts(chat["id"])[before]


async def discord_slash(dc: FakeDiscord, user: int, name: str, text: str | None = None) -> str:
    """A Discord user runs /name; returns the bot's answer."""
    options: dict[str, str | int] | None = {"text": text} if text is not None else None
    inter: FakeInteraction = await dc.slash_command(GUILD, CHANNEL, user, name, options)

    def answers() -> list[SentMessage]:
        return [m for m in dc.messages if m.where == inter.id]

    await dc.wait_for(lambda: bool(answers()))
    return answers()[0].content or ""


async def test_points_earned_on_both_platforms_land_on_one_balance_after_link(
    platforms: tuple[FakeTelegram, FakeDiscord],
) -> None:
    tg, dc = platforms
    group = tg.group(GROUP, "Acme Fans")
    private = tg.private_chat(tg.user(ALICE_TG, "Alice", username="alice_tg"))

    # Before linking, Alice is two members: one check-in on each platform, 10 points each.
    assert "+10" in await telegram_says(tg, group, ALICE_TG, "/checkin")
    assert "+10" in await discord_slash(dc, ALICE_DC, "checkin")

    shown = await telegram_says(tg, private, ALICE_TG, "/link")
    code = re.search(r"\b([A-Z2-9]{8})\b", shown)
    assert code is not None, shown
    confirm = await discord_slash(dc, ALICE_DC, "link", code.group(1))
    assert "joins you to Alice on telegram" in confirm
    # Alice presses "Yes, link my accounts" under the (ephemeral) question.
    press = await dc.press_button(GUILD, CHANNEL, ALICE_DC, f"/link {code.group(1)} confirm")
    await dc.wait_for(lambda: any(m.where == press.id for m in dc.messages))
    linked = next(m for m in dc.messages if m.where == press.id).content or ""
    assert "Linked" in linked and "20" in linked

    # Points earned afterwards on Discord show on Telegram, and the other way round. The
    # community's listed owner has sent /settings in the server, so its moderators are admins.
    await discord_slash(dc, DISCORD_OWNER, "settings")
    awarded = await discord_slash(dc, MOD_DC, "award", "@alice_dc 5 for the review")
    assert "5" in awarded
    assert "25 points" in await telegram_says(tg, private, ALICE_TG, "/points")
    assert "25" in await discord_slash(dc, ALICE_DC, "points")
    # One streak: today's check-in counts once, whichever platform asks again.
    assert "already" in await discord_slash(dc, ALICE_DC, "checkin")

    # The code is spent: entering it again is refused politely.
    assert "not valid" in await discord_slash(dc, ALICE_DC, "link", code.group(1))
