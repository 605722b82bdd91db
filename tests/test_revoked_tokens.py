"""A revoked token stops `communitybot run` with one line and exit code 2 (#7 item 16): retrying
cannot bring it back, and a bot that seems to run but hears nothing is worse than one that stops.
Dropped connections and 5xx answers are not that: they are retried until the platform is back.

The real process against the fakes where an operator would see it; in-process where the test
needs to watch the adapter itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.discord import DiscordAdapter, DiscordOptions
from bot.adapters.failure import TokenRefused
from bot.adapters.telegram import TelegramAdapter, TelegramOptions
from bot.app import serve
from bot.delivery.sender import SenderSettings
from handlers.ports import Chats, Deliveries, Inbox, Polls
from handlers.router import Dispatcher
from storage.store import Store
from tests.conftest import DISCORD_OWNER
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.process import BotProcess, gave_up
from tests.fakes.telegram_api import FakeTelegram
from tests.harness import moving_on

TOKEN = "777777:REVOKED-token"
DISCORD_TOKEN = "fake-discord-REVOKED-token"
GROUP, ALICE = -3003, 31
GUILD, CHANNEL = 900_000_000_000_000_001, 900_000_000_000_000_002


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def dc() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        fake.add_guild(GUILD, "Acme Fans", owner_id=DISCORD_OWNER)
        fake.add_channel(GUILD, CHANNEL, "general")
        fake.add_member(GUILD, DISCORD_OWNER, "owner")
        with fake.patch_discord():
            yield fake


def telegram_adapter(tg: FakeTelegram, dispatcher: Dispatcher, **options: Any) -> TelegramAdapter:
    settings = TelegramOptions(token=TOKEN, base_url=tg.base_url, poll_timeout=1, **options)
    store = dispatcher.store
    return TelegramAdapter(
        dispatcher,
        settings,
        inbox=Inbox(store),
        chats=Chats(store),
        polls=Polls(store),
        deliveries=Deliveries(store, moving_on(dispatcher.clock)),
        default_locale="en",
    )


def discord_adapter(dispatcher: Dispatcher) -> DiscordAdapter:
    return DiscordAdapter(
        dispatcher,
        DiscordOptions(token=DISCORD_TOKEN),
        polls=Polls(dispatcher.store),
        deliveries=Deliveries(dispatcher.store, moving_on(dispatcher.clock)),
        default_locale="en",
        guild_ready_timeout=0.05,
    )


def serving(adapter: TelegramAdapter | DiscordAdapter, store: Store) -> asyncio.Task[None]:
    """`serve` with this one adapter (it starts it) and its sender, as `run` does, until the
    test cancels it or the adapter fails."""
    quick = SenderSettings(poll_seconds=0.02)
    return asyncio.ensure_future(
        serve([adapter], asyncio.Event(), deliveries=Deliveries(store), settings=quick)
    )


# Telegram ------------------------------------------------------------------------------------


async def test_a_telegram_token_revoked_while_polling_stops_run_with_one_line(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    bot = BotProcess.telegram(tmp_path, tg.base_url, TOKEN)
    async with bot.running() as process:
        tg.push_message(tg.group(GROUP, "Acme"), tg.user(ALICE, "Alice"), "/checkin")
        await tg.wait_for(lambda t: len(t.texts(GROUP)) == 1, timeout=30)  # it serves
        tg.revoke_token()
        line = await gave_up(process, timeout=30)
    assert "Telegram refused the bot token" in line and "TELEGRAM_TOKEN" in line
    assert TOKEN not in line and TOKEN not in bot.log()
    # Nothing kept it asking: the long poll that got 401 was the last call.
    assert [call.status for call in tg.calls_to("getUpdates")][-1] == 401
    assert sum(call.status == 401 for call in tg.calls) == 1


async def test_a_telegram_token_refused_at_start_stops_run_with_one_line(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    tg.revoke_token()
    bot = BotProcess.telegram(tmp_path, tg.base_url, TOKEN)
    line = await gave_up(await bot.start())
    assert "Telegram refused the bot token" in line
    assert TOKEN not in line and TOKEN not in bot.log()
    assert [call.method for call in tg.calls] == ["getMe"]


async def test_telegram_5xx_while_polling_is_retried_until_it_recovers(
    tg: FakeTelegram, dispatcher: Dispatcher
) -> None:
    served = serving(telegram_adapter(tg, dispatcher, retry_unit=0.01), dispatcher.store)
    try:
        await tg.wait_for_call("getUpdates")
        tg.fail("getUpdates", 502, "Bad Gateway")
        await tg.wait_for(lambda t: sum(c.status == 502 for c in t.calls) >= 3)
        tg.enable("getUpdates")
        tg.push_message(tg.group(GROUP, "Acme"), tg.user(ALICE, "Alice"), "/checkin")
        await tg.wait_for(lambda t: len(t.texts(GROUP)) == 1)
        assert "+10" in tg.texts(GROUP)[0]
        assert not served.done()  # still serving: a bad gateway is not a refused token
    finally:
        served.cancel()
        await asyncio.gather(served, return_exceptions=True)


async def test_a_telegram_token_revoked_in_webhook_mode_is_noticed(
    tg: FakeTelegram, dispatcher: Dispatcher, unused_tcp_port: int
) -> None:
    adapter = telegram_adapter(
        tg,
        dispatcher,
        mode="webhook",
        webhook_url=f"http://127.0.0.1:{unused_tcp_port}/telegram",
        webhook_port=unused_tcp_port,
        token_check_seconds=0.05,
    )
    served = serving(adapter, dispatcher.store)
    await tg.wait_for(lambda t: len(t.calls_to("getMe")) >= 2)  # checked, and all is well
    assert not served.done()
    tg.revoke_token()  # Telegram just stops calling the webhook: only a check can tell
    with pytest.raises(TokenRefused, match="TELEGRAM_TOKEN"):
        await asyncio.wait_for(served, 10)


# Discord -------------------------------------------------------------------------------------


async def test_a_discord_token_revoked_while_connected_stops_serve(
    dc: FakeDiscord, dispatcher: Dispatcher
) -> None:
    adapter = discord_adapter(dispatcher)
    served = serving(adapter, dispatcher.store)
    await dc.wait_for(lambda: bool(dc.commands.get(None)))  # started: ready, commands synced
    await dc.revoke_token()  # the gateway closes with 4004 Authentication failed
    with pytest.raises(TokenRefused, match="DISCORD_TOKEN"):
        await asyncio.wait_for(served, 10)
    assert adapter.client.is_closed()


async def test_a_discord_reconnect_is_not_a_failure(
    dc: FakeDiscord, dispatcher: Dispatcher
) -> None:
    served = serving(discord_adapter(dispatcher), dispatcher.store)
    try:
        await dc.wait_for(lambda: bool(dc.commands.get(None)))
        await dc.request_reconnect()  # discord.py resumes by itself
        await dc.wait_for(lambda: dc.resumes == 1)
        inter = await dc.slash_command(GUILD, CHANNEL, DISCORD_OWNER, "checkin")
        await dc.wait_for(lambda: any(m.where == inter.id for m in dc.messages))
        assert not served.done()
    finally:
        served.cancel()
        await asyncio.gather(served, return_exceptions=True)


async def test_a_discord_token_revoked_while_connected_stops_run_with_one_line(
    dc: FakeDiscord, tmp_path: Path
) -> None:
    bot = BotProcess.discord(tmp_path, dc.base_url, dc.ws_url, DISCORD_TOKEN)
    async with bot.running() as process:
        await dc.wait_for_ready(timeout=30)
        inter = await dc.slash_command(GUILD, CHANNEL, DISCORD_OWNER, "checkin")
        await dc.wait_for(lambda: any(m.where == inter.id for m in dc.messages), 30)  # it serves
        await dc.revoke_token()
        line = await gave_up(process, timeout=30)
    assert "Discord refused the bot token" in line and "DISCORD_TOKEN" in line
    assert DISCORD_TOKEN not in line and DISCORD_TOKEN not in bot.log()
