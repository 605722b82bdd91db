"""Restart safety on Telegram: the real `communitybot run` process, killed mid-update.

Telegram forgets an update as soon as the next getUpdates carries a higher offset. The bot
must have the update on disk by then, so a kill between "confirmed" and "handled" loses
nothing, and a restart must not handle it twice.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.process import BotProcess, gave_up, stop
from tests.fakes.telegram_api import FakeTelegram

TOKEN = "424242:RESTART-token"
GROUP = -2002


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


async def test_a_killed_bot_neither_loses_nor_repeats_a_checkin(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    bot = BotProcess.telegram(tmp_path, tg.base_url, TOKEN)
    kept_when_confirmed: list[list[tuple[object, ...]]] = []

    async def confirmed(offset: int) -> None:
        kept_when_confirmed.append(bot.rows("SELECT event_id FROM inbox ORDER BY event_id"))

    tg.on_offset = confirmed
    # Freeze the bot half-way: /help asks Telegram whether Alice is an admin and never hears
    # back, and her check-in, sent right after in the same group, waits its turn behind it.
    tg.hold("getChatMember")
    first = await bot.start()
    alice, group = tg.user(7, "Alice", username="alice"), tg.group(GROUP, "Acme")
    help_id = tg.push_message(group, alice, "/help")
    checkin_id = tg.push_message(group, alice, "/checkin")
    await tg.wait_for_call("getChatMember", timeout=30)
    await tg.wait_for(lambda t: t.confirmed_up_to >= checkin_id, timeout=30)
    first.kill()
    await first.wait()
    assert kept_when_confirmed[0] == [(f"telegram:{help_id}",), (f"telegram:{checkin_id}",)]
    assert bot.rows("SELECT count(*) FROM checkins") == [(0,)]

    tg.release("getChatMember")
    second = await bot.start()
    await tg.wait_for(lambda t: len(t.texts(GROUP)) == 2, timeout=30)
    assert "Commands you can use" in tg.texts(GROUP)[0] and "+10" in tg.texts(GROUP)[1]
    await stop(second)

    third = await bot.start()
    # By the time a later message is answered, a repeat of the check-in would have happened.
    tg.push_message(tg.group(GROUP, "Acme"), tg.user(7, "Alice", username="alice"), "/points")
    await tg.wait_for(lambda t: len(t.texts(GROUP)) == 3, timeout=30)
    assert "10 points" in tg.texts(GROUP)[2]
    await stop(third)
    assert bot.rows("SELECT count(*) FROM checkins") == [(1,)]
    assert bot.rows("SELECT count(*) FROM inbox") == [(0,)]
    assert TOKEN not in bot.log()


async def test_an_unreachable_bot_api_stops_run_with_one_line_and_no_token(
    tmp_path: Path, unused_tcp_port: int
) -> None:
    bot = BotProcess.telegram(tmp_path, f"http://127.0.0.1:{unused_tcp_port}/bot", TOKEN)
    line = await gave_up(await bot.start())
    assert TOKEN not in line
    assert TOKEN not in bot.log()
