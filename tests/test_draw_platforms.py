"""A lucky draw on both platforms, through the real python-telegram-bot and discord.py against
their fakes: the draw's post with its Enter button reaches a Telegram group and a Discord
server's posting channel; a press on Telegram is answered with an alert, one on Discord
ephemerally; at the close the result with the seed is posted in both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from handlers.router import Dispatcher
from storage.draw_tables import draw_entries, draws
from storage.store import Store
from tests.conftest import TELEGRAM_OWNER
from tests.harness import Clock, rows
from tests.test_scheduler_platforms import (
    ALICE,
    D_ALICE,
    GENERAL_EN,
    GUILD_EN,
    NEWS_EN,
    TG_EN,
    World,
    discord_server,
    running,
)


@pytest.fixture
async def world(
    store: Store, clock: Clock, dispatcher: Dispatcher, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    # The platforms date what members do by the real clock: the test's starts at it.
    clock.now = datetime.now(UTC).replace(microsecond=0)
    async with running(store, clock, dispatcher, monkeypatch) as found:
        yield found


def _telegram_buttons(world: World) -> list[tuple[int, str, str]]:
    return [
        (message_id, button["text"], button["callback_data"])
        for (chat_id, message_id), message in world.tg.messages.items()
        if chat_id == TG_EN
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
        for button in row
    ]


async def test_a_draw_is_entered_by_button_on_both_platforms_and_drawn_in_both(
    world: World,
) -> None:
    await world.tg_say(TG_EN, TELEGRAM_OWNER, "/settings")
    await discord_server(world, GENERAL_EN, NEWS_EN)
    before = len(world.tg.texts(TG_EN))
    world.tg_push(TG_EN, TELEGRAM_OWNER, "/draw start A tote bag --winners 1 --for 1h --points 20")
    await world.tg.wait_for(lambda t: len(t.texts(TG_EN)) >= before + 2)
    await world.delivered()
    said = world.tg.texts(TG_EN)[before:]
    assert any(t.startswith("🎁 Lucky draw #1 is open: its post went to 2 groups.") for t in said)
    assert any(
        t.startswith("🎁 Lucky draw #1: A tote bag (+20 points to each winner)") for t in said
    )
    [(message_id, label, data)] = _telegram_buttons(world)
    assert (label, data) == ("🎟 Enter draw #1", "/draw enter 1")
    [posted] = [m for m in world.dc.messages if (m.content or "").startswith("🎁 Lucky draw #1:")]
    assert posted.where == NEWS_EN
    [button] = posted.components
    assert button["label"] == "🎟 Enter draw #1"

    world.tg.push_callback_query(world.tg_group(TG_EN), world.tg_user(ALICE), message_id, data)
    (alert,) = await world.tg.wait_for_call("answerCallbackQuery")
    assert alert.params["text"].startswith(
        "🎟 Alice, you are in lucky draw #1 (A tote bag) with entry #1."
    )
    press = await world.dc.press_button(
        GUILD_EN, NEWS_EN, D_ALICE, button["custom_id"], posted.message_id
    )
    await world.dc.wait_for(lambda: any(m.where == press.id for m in world.dc.messages))
    [said] = [m for m in world.dc.messages if m.where == press.id]
    assert said.ephemeral
    assert (said.content or "").startswith("🎟 Dalia, you are in lucky draw #1 (A tote bag) with")
    assert [row.number for row in rows(world.store, draw_entries)] == [1, 2]

    before_tg, before_dc = len(world.tg.texts(TG_EN)), len(world.dc_texts(NEWS_EN))
    await world.sweep(world.clock.now + timedelta(hours=1, minutes=1))
    await world.delivered()
    [draw] = rows(world.store, draws)
    assert draw.state == "drawn"
    results: list[Any] = [
        *[t for t in world.tg.texts(TG_EN)[before_tg:] if t.startswith("🎉")],
        *[t for t in world.dc_texts(NEWS_EN)[before_dc:] if t.startswith("🎉")],
    ]
    assert len(results) == 2
    assert all(f"🔑 Seed: {draw.seed}" in text for text in results)
    assert world.tg.duplicates() == []
