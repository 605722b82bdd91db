"""The rewards shop on both platforms, through the real python-telegram-bot and discord.py against
their fakes: /redeem answers with a confirmation button, the press redeems once, a second press
pays nothing; /rewards and /history answer in the chat."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import Connection, func, select

from bot.adapters.discord import DiscordAdapter
from bot.adapters.telegram import TelegramAdapter
from community.communities import community_by_slug
from handlers.router import Dispatcher
from loyalty import rewards
from loyalty.reward_rules import RewardConfig
from storage.schema import balances, redemptions
from storage.store import Store
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import FakeTelegram
from tests.test_discord_adapter import ALICE as DISCORD_ALICE
from tests.test_discord_adapter import CHANNEL, GUILD, answers, fake, ports  # noqa: F401
from tests.test_discord_adapter import adapter as discord_adapter  # noqa: F401
from tests.test_discord_adapter import slash as discord_slash
from tests.test_telegram_adapter import ALICE, GROUP, group, said, serving, user


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def adapter(
    tg: FakeTelegram, dispatcher: Dispatcher, store: Store
) -> AsyncIterator[TelegramAdapter]:
    async with serving(tg, dispatcher, store) as adapter:
        yield adapter


def sticker(store: Store, dispatcher: Dispatcher) -> int:
    """A 5-point sticker in the catalogue, one per member; its number."""

    def add(conn: Connection) -> int:
        acme = community_by_slug(conn, "acme")
        assert acme is not None
        config = RewardConfig(name="Sticker", cost=5, kind="entry", per_member=1)
        return rewards.add_reward(conn, acme.id, config, at=dispatcher.clock(), max_rewards=10).id

    return store.write_now(add)


def buttons(tg: FakeTelegram) -> list[tuple[int, str]]:
    """(message id, callback data) of every button the bot showed in the group."""
    found = []
    for (chat_id, message_id), message in sorted(tg.messages.items()):
        markup: Any = message.get("reply_markup") or {}
        if chat_id == GROUP:
            for row in markup.get("inline_keyboard", []):
                found.extend((message_id, button["callback_data"]) for button in row)
    return found


def held(store: Store) -> tuple[int, int]:
    """(redemptions, points) of the community's one member."""
    return store.read_now(
        lambda conn: (
            int(conn.execute(select(func.count()).select_from(redemptions)).scalar_one()),
            int(conn.execute(select(func.sum(balances.c.points))).scalar_one()),
        )
    )


async def test_a_redemption_is_confirmed_with_a_button_and_a_second_press_pays_nothing(
    tg: FakeTelegram, adapter: TelegramAdapter, store: Store, dispatcher: Dispatcher
) -> None:
    alice = user(tg, ALICE, "Alice")
    tg.push_message(group(tg), alice, "/checkin")
    await said(tg)
    number = sticker(store, dispatcher)
    tg.push_message(group(tg), alice, "/rewards")
    listed = (await said(tg, 2))[-1]
    assert "Sticker" in listed and "10 points" in listed
    tg.push_message(group(tg), alice, f"/redeem {number}")
    asked = (await said(tg, 3))[-1]
    assert "Sticker" in asked and "5 will be left" in asked
    ((message_id, press),) = buttons(tg)
    assert press.startswith(f"/redeem {number} confirm ") and len(press.encode()) <= 64
    tg.push_callback_query(group(tg), alice, message_id, press)
    await tg.wait_for(lambda t: held(store) == (1, 5))
    tg.push_callback_query(group(tg), alice, message_id, press)
    await tg.wait_for_call("answerCallbackQuery", count=2)
    assert held(store) == (1, 5)  # the double press paid once
    tg.push_message(group(tg), alice, "/history")
    await tg.wait_for(lambda t: any("redeemed a reward" in text for text in t.texts(GROUP)))


async def test_on_discord_a_slash_redemption_is_confirmed_with_a_button_once(
    fake: FakeDiscord, discord_adapter: DiscordAdapter, store: Store, dispatcher: Dispatcher
) -> None:
    [checked] = await discord_slash(fake, DISCORD_ALICE, "checkin")
    assert "+10" in (checked.content or "")
    number = sticker(store, dispatcher)
    asked = await fake.slash_command(GUILD, CHANNEL, DISCORD_ALICE, "redeem", {"reward": number})
    [confirm] = await answers(fake, asked)
    assert "Sticker" in (confirm.content or "")
    press = confirm.components[0]["custom_id"]
    assert press.startswith(f"/redeem {number} confirm ")
    pressed = await fake.press_button(GUILD, CHANNEL, DISCORD_ALICE, press, confirm.message_id)
    [done] = await answers(fake, pressed)
    assert "Sticker" in (done.content or "") and held(store) == (1, 5)
    again = await fake.press_button(GUILD, CHANNEL, DISCORD_ALICE, press, confirm.message_id)
    await answers(fake, again)
    assert held(store) == (1, 5)  # the double press paid once
