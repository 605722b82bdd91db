"""A survey end to end on both platforms: the real python-telegram-bot and discord.py against
their fakes, the real core and store, a sender draining the outbox. An admin starts it in a
group, a member presses the invitation's button there and answers privately to the end (the
scale, multiple choice with ticks and "done", single choice by button, free text as a message),
and is paid once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.adapters.discord import DiscordAdapter, DiscordOptions
from bot.adapters.telegram import TelegramAdapter, TelegramOptions
from bot.adapters.telegram_limits import NO_LIMITS
from bot.delivery.messenger import Limits, Rate
from bot.delivery.sender import SenderSettings
from community.config import parse_config
from handlers.ports import Chats, Deliveries, Inbox, Polls
from handlers.router import Dispatcher
from storage.store import Store
from tests.conftest import DISCORD_OWNER, TELEGRAM_OWNER, TEST_COMMUNITY
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import FakeTelegram
from tests.harness import Clock, ledger_state, moving_on, serving_with_sender
from tests.test_survey_handlers import NPS, SHOP, load_surveys, marked

SENDING = SenderSettings(poll_seconds=0.02)
GROUP, ALICE = -1001, 11
GUILD, GENERAL, D_ALICE = 900_000_000_000_000_001, 900_000_000_000_000_002, 900_000_000_000_011
UNLIMITED = Limits(overall=Rate(0, 1), group=Rate(0, 1), private=Rate(0, 1))


@pytest.fixture
async def telegram(
    store: Store, clock: Clock, dispatcher: Dispatcher
) -> AsyncIterator[FakeTelegram]:
    clock.now = datetime.now(UTC)  # the fakes date members' messages by the real clock
    deliveries = Deliveries(store, moving_on(clock))
    async with FakeTelegram() as tg:
        adapter = TelegramAdapter(
            dispatcher,
            TelegramOptions(token="123456:TEST-token", base_url=tg.base_url, poll_timeout=1),
            inbox=Inbox(store),
            chats=Chats(store),
            polls=Polls(store),
            deliveries=deliveries,
            default_locale="en",
            clock=clock,
            limits=NO_LIMITS,
        )
        async with serving_with_sender(adapter, deliveries, SENDING):
            yield tg


def buttons(call: Any) -> list[str]:
    """The callback data of a sendMessage call's inline keyboard, row by row."""
    markup = call.params.get("reply_markup")
    keyboard = json.loads(markup) if isinstance(markup, str) else markup or {}
    return [
        button["callback_data"] for row in keyboard.get("inline_keyboard", []) for button in row
    ]


async def test_a_telegram_member_takes_the_survey_from_the_group_and_answers_in_private(
    telegram: FakeTelegram, store: Store
) -> None:
    tg = telegram
    load_surveys(store)
    group = tg.group(GROUP, "Acme Fans")
    owner, alice = tg.user(TELEGRAM_OWNER, "Owner"), tg.user(ALICE, "Alice", username="alice")
    private = tg.private_chat(alice)

    async def said(chat: dict[str, Any], user: dict[str, Any], text: str) -> str:
        before = len(tg.texts(chat["id"]))
        tg.push_message(chat, user, text)
        await tg.wait_for(lambda t: len(t.texts(chat["id"])) > before)
        return tg.texts(chat["id"])[before]

    async def pressed(chat: dict[str, Any], data: str) -> None:
        before = len(tg.texts(ALICE))
        message_id = tg.calls_to("sendMessage")[-1].result["message_id"]
        tg.push_callback_query(chat, alice, message_id, data)
        await tg.wait_for(lambda t: len(t.texts(ALICE)) > before)

    tg.push_message(group, owner, "/survey start 1")
    await tg.wait_for(lambda t: len(t.texts(GROUP)) == 2)  # the invitation, the admin's answer
    assert any(
        text.startswith("📋 Survey #1 “How are we doing?” is open") for text in tg.texts(GROUP)
    )
    (invitation,) = [c for c in tg.calls_to("sendMessage") if "Survey:" in c.params["_plain"]]
    assert buttons(invitation) == ["/survey take 1"]
    await said(private, alice, "/start")  # she has a private chat with the bot

    tg.push_callback_query(group, alice, invitation.result["message_id"], "/survey take 1")
    await tg.wait_for(lambda t: any("question 1 of 4" in x for x in t.texts(ALICE)))
    alert = tg.calls_to("answerCallbackQuery")[-1].params
    assert alert["text"].startswith("✉️ Alice, I sent you “How are we doing?” in our private chat")
    first = tg.calls_to("sendMessage")[-1]
    assert first.params["chat_id"] == ALICE
    assert buttons(first)[9] == marked("/survey answer 1 0 9", NPS) and len(buttons(first)) == 12

    await pressed(private, "/survey answer 1 0 9")
    assert tg.texts(ALICE)[-1].startswith("✅ Saved.\n📋 How are we doing? — question 2 of 4")
    await pressed(private, "/survey pick 1 1 1")
    await pressed(private, "/survey pick 1 1 3")
    assert "☑️ 2. Community\n" in tg.texts(ALICE)[-1]
    await pressed(private, "/survey done 1 1")
    assert buttons(tg.calls_to("sendMessage")[-1])[:2] == [
        marked("/survey answer 1 2 0", SHOP),
        marked("/survey answer 1 2 1", SHOP),
    ]
    await pressed(private, "/survey answer 1 2 1")
    assert "question 4 of 4" in tg.texts(ALICE)[-1]
    done = await said(private, alice, "Open a shop in Shanghai!")
    assert done == "🎉 Thank you for finishing “How are we doing?”! +20 points (balance 20)."

    # The invitation pressed again: answered with an alert, nothing more asked or paid.
    tg.push_callback_query(group, alice, invitation.result["message_id"], "/survey take 1")
    await tg.wait_for(
        lambda t: (
            "already finished" in (t.calls_to("answerCallbackQuery")[-1].params.get("text") or "")
        )
    )
    assert ledger_state(store, "telegram", str(ALICE)) == (20, 20)
    refused = await said(group, owner, "/survey results 1")
    assert "only you should see" in refused  # members' words are not posted in the group
    await said(tg.private_chat(owner), owner, "/start")
    results = await said(tg.private_chat(owner), owner, "/survey results 1")
    assert "1 member finished" in results and "NPS +100" in results
    assert "Community — 1 (100%)" in results and "“Open a shop in Shanghai!”" in results


# Discord ---------------------------------------------------------------------------------------


@pytest.fixture
async def discord(store: Store, clock: Clock, dispatcher: Dispatcher) -> AsyncIterator[FakeDiscord]:
    clock.now = datetime.now(UTC)  # the fakes date members' messages by the real clock
    async with FakeDiscord() as fake:
        fake.add_guild(GUILD, "Acme", owner_id=DISCORD_OWNER, system_channel_id=GENERAL)
        fake.add_channel(GUILD, GENERAL, "general")
        fake.add_member(GUILD, DISCORD_OWNER, "owner")
        fake.add_member(GUILD, D_ALICE, "dalice", global_name="Dalia")
        with fake.patch_discord():
            deliveries = Deliveries(store, moving_on(clock))
            adapter = DiscordAdapter(
                dispatcher,
                DiscordOptions(token="fake-token"),
                polls=Polls(store),
                deliveries=deliveries,
                default_locale="en",
                rules=parse_config(TEST_COMMUNITY)[0].rules,
                clock=clock,
                limits=UNLIMITED,
                guild_ready_timeout=0.05,
            )
            async with serving_with_sender(adapter, deliveries, SENDING):
                yield fake


async def test_a_discord_member_takes_the_survey_from_the_server_and_answers_by_dm(
    discord: FakeDiscord, store: Store
) -> None:
    fake = discord
    load_surveys(store)

    async def said(channel: int, user: int, text: str) -> str:
        before = len(fake.sent_in(channel))
        await fake.send_message(channel, user, text)
        await fake.wait_for(lambda: len(fake.sent_in(channel)) > before)
        return fake.sent_in(channel)[before]

    await said(GENERAL, DISCORD_OWNER, "/settings")  # the owner adopts the server
    before = len(fake.sent_in(GENERAL))
    await fake.send_message(GENERAL, DISCORD_OWNER, "/survey start 1")
    await fake.wait_for(lambda: len(fake.sent_in(GENERAL)) == before + 2)
    assert any("Survey #1 “How are we doing?” is open" in t for t in fake.sent_in(GENERAL))
    invitation = next(m for m in fake.messages if "Survey: How are" in (m.content or ""))
    assert [c["custom_id"] for c in invitation.components] == ["/survey take 1"]

    press = await fake.press_button(
        GUILD, GENERAL, D_ALICE, "/survey take 1", invitation.message_id
    )
    await fake.wait_for(lambda: any(m.where == press.id for m in fake.messages))
    (ack,) = [m for m in fake.messages if m.where == press.id]
    assert ack.ephemeral and "I sent you “How are we doing?”" in (ack.content or "")
    await fake.wait_for(lambda: D_ALICE in fake.dms and bool(fake.sent_in(fake.dms[D_ALICE])))
    dm = fake.dms[D_ALICE]
    assert "question 1 of 4" in fake.sent_in(dm)[0]

    async def press_in_dm(custom_id: str) -> str:
        pressed = await fake.press_button(None, dm, D_ALICE, custom_id)
        await fake.wait_for(lambda: any(m.where == pressed.id for m in fake.messages))
        (answer,) = [m for m in fake.messages if m.where == pressed.id]
        assert not answer.ephemeral  # the DM is private already
        return answer.content or ""

    assert "question 2 of 4" in await press_in_dm("/survey answer 1 0 10")
    assert "☑️ 1. Products" in await press_in_dm("/survey pick 1 1 0")
    assert "question 3 of 4" in await press_in_dm("/survey done 1 1")
    old = await press_in_dm("/survey answer 1 0 0")  # the first question's button again
    assert "which you already answered" in old and "question 3 of 4" in old
    assert "question 4 of 4" in await press_in_dm("/survey answer 1 2 0")
    done = await said(dm, D_ALICE, "More live events")
    assert "Thank you for finishing “How are we doing?”! +20 points (balance 20)." in done
    assert ledger_state(store, "discord", str(D_ALICE)) == (20, 20)
    again = await press_in_dm("/survey take 1")
    assert "You already finished" in again
    assert ledger_state(store, "discord", str(D_ALICE)) == (20, 20)
