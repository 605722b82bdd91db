"""A contest on both platforms, through the real python-telegram-bot and discord.py against their
fakes, one community with a Telegram group and a Discord server: a photo entered with /submit
on Telegram and a text entered on Discord, both approved; at the close each group gets the vote,
the photo entry as the photo itself with its vote button under it; members vote by button on
both platforms (an alert on Telegram, an ephemeral answer on Discord; one's own entry and a
second vote refused); at the vote's end the result is posted in both groups, the winner paid
once and told privately."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.adapters.discord import DiscordAdapter, DiscordOptions
from bot.adapters.telegram import TelegramAdapter, TelegramOptions
from bot.adapters.telegram_limits import NO_LIMITS
from bot.delivery.media_files import MediaFiles
from community.config import parse_config
from handlers.firings import Firings
from handlers.ports import Chats, Deliveries, Inbox, Polls
from handlers.router import Dispatcher
from storage.contest_tables import contests
from storage.schema import ledger
from storage.store import Store
from storage.ugc_tables import submissions
from tests.conftest import DISCORD_OWNER, TELEGRAM_OWNER, TEST_COMMUNITY
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import FakeTelegram
from tests.harness import Clock, moving_on, rows, serving_with_sender
from tests.test_scheduler_platforms import (
    ALICE,
    BOB,
    D_ALICE,
    D_BOB,
    GENERAL_EN,
    GUILD_EN,
    NEWS_EN,
    SENDING,
    TG_EN,
    UNLIMITED,
    World,
    dated_snowflakes,
    discord_server,
)

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40  # a ~10 KB "photo"
SCARF = b"\xff\xd8\xff\xe0" + bytes(range(255, -1, -1)) * 30  # another


@contextlib.asynccontextmanager
async def running(
    store: Store, clock: Clock, dispatcher: Dispatcher, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    """Both fakes with the bot serving them as `run` wires it: files kept and sent through
    the store (MediaFiles), a sender draining each platform's outbox."""
    deliveries = Deliveries(store, moving_on(clock))
    async with FakeTelegram() as tg, FakeDiscord() as dc:
        dc.add_guild(GUILD_EN, "Acme", owner_id=DISCORD_OWNER, system_channel_id=GENERAL_EN)
        dc.add_channel(GUILD_EN, GENERAL_EN, "general")
        dc.add_channel(GUILD_EN, NEWS_EN, "news")
        dc.add_member(GUILD_EN, DISCORD_OWNER, "owner")
        dc.add_member(GUILD_EN, D_ALICE, "dalice", global_name="Dalia")
        dc.add_member(GUILD_EN, D_BOB, "dbob", global_name="Dobby")
        monkeypatch.setattr(dc, "snowflake", dated_snowflakes(dc, clock))
        telegram = TelegramAdapter(
            dispatcher,
            TelegramOptions(token="123456:TEST-token", base_url=tg.base_url, poll_timeout=1),
            inbox=Inbox(store),
            chats=Chats(store),
            polls=Polls(store),
            deliveries=deliveries,
            default_locale="en",
            clock=clock,
            limits=NO_LIMITS,
            media_files=MediaFiles(store),
        )
        with dc.patch_discord():
            discord_adapter = DiscordAdapter(
                dispatcher,
                DiscordOptions(token="fake-token"),
                polls=Polls(store),
                deliveries=deliveries,
                default_locale="en",
                rules=parse_config(TEST_COMMUNITY)[0].rules,
                clock=clock,
                limits=UNLIMITED,
                guild_ready_timeout=0.05,
                media_files=MediaFiles(store),
            )
            async with (
                serving_with_sender(telegram, deliveries, SENDING),
                serving_with_sender(discord_adapter, deliveries, SENDING),
            ):
                world = World(tg, dc, store, clock, Firings(store, clock=clock))
                await world.sweep(clock.now)
                yield world


@pytest.fixture
async def world(
    store: Store, clock: Clock, dispatcher: Dispatcher, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    # The platforms date what members do by the real clock: the test's starts at it.
    clock.now = datetime.now(clock.now.tzinfo).replace(microsecond=0)
    async with running(store, clock, dispatcher, monkeypatch) as found:
        yield found


def tg_buttons(world: World, chat_id: int) -> dict[str, tuple[int, str]]:
    """The inline buttons in a Telegram chat: each one's data, with its message and label."""
    return {
        button["callback_data"]: (message_id, button["text"])
        for (chat, message_id), message in world.tg.messages.items()
        if chat == chat_id
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
        for button in row
    }


async def tg_press(world: World, user_id: int, message_id: int, data: str) -> str:
    """`user_id` presses a button in the Telegram group; the alert the bot answers with."""
    before = len(world.tg.calls_to("answerCallbackQuery"))
    group, user = world.tg_group(TG_EN), world.tg_user(user_id)
    world.tg.push_callback_query(group, user, message_id, data)
    await world.tg.wait_for(lambda t: len(t.calls_to("answerCallbackQuery")) > before)
    return str(world.tg.calls_to("answerCallbackQuery")[before].params.get("text", ""))


async def dc_press(world: World, user_id: int, custom_id: str, message_id: int) -> Any:
    """`user_id` presses a button in the Discord posting channel; the answer only they see."""
    press = await world.dc.press_button(GUILD_EN, NEWS_EN, user_id, custom_id, message_id)
    await world.dc.wait_for(lambda: any(m.where == press.id for m in world.dc.messages))
    return next(m for m in world.dc.messages if m.where == press.id)


def state_of(world: World, number: int) -> str:
    query = select(submissions.c.state).where(submissions.c.id == number)
    return str(world.store.read_now(lambda conn: conn.execute(query).scalar_one()))


async def test_a_photo_entry_is_voted_on_by_button_on_both_platforms_and_wins_once(
    world: World,
) -> None:
    await world.tg_say(TG_EN, TELEGRAM_OWNER, "/settings")
    await discord_server(world, GENERAL_EN, NEWS_EN)
    until = (world.clock.now + timedelta(days=2)).date().isoformat()
    world.tg_push(
        TG_EN,
        TELEGRAM_OWNER,
        f"/contest start Winter photos --until {until} --category purchase --prizes 300,200",
    )
    opened = "🏆 Contest #1 “Winter photos” is open for entries until"
    await world.tg.wait_for(lambda t: any(x.startswith(opened) for x in t.texts(TG_EN)))
    await world.delivered()
    assert any(t.startswith("🏆 New contest #1: Winter photos") for t in world.tg.texts(TG_EN))
    assert any(t.startswith("🏆 New contest #1: Winter photos") for t in world.dc_texts(NEWS_EN))

    # Alice enters a photo on Telegram; Dalia a text on Discord; the owner approves both.
    photo = world.tg.photo_message(
        world.tg_group(TG_EN), world.tg_user(ALICE), "/submit 晒单 Snow on my boots", content=JPEG
    )
    photo["message"]["date"] = int(world.clock.now.timestamp())
    world.tg.push_update(photo)
    await world.tg.wait_for(lambda t: any("Submission #1" in x for x in t.texts(TG_EN)))
    before = len(world.dc_texts(NEWS_EN))
    await world.dc.send_message(
        NEWS_EN, D_ALICE, "/submit purchase My scarf", attachments=[("scarf.jpg", SCARF)]
    )
    await world.dc.wait_for(lambda: len(world.dc_texts(NEWS_EN)) > before)
    assert "Submission #2" in world.dc_texts(NEWS_EN)[before]
    for number in (1, 2):
        world.tg_push(TELEGRAM_OWNER, TELEGRAM_OWNER, f"/review approve {number}")
        await world.tg.wait_for(lambda t, n=number: state_of(world, n) == "approved")  # type: ignore[misc]
    assert [row.contest_id for row in rows(world.store, submissions)] == [1, 1]

    # The close: the vote with each entry and its button, in both groups.
    [contest] = rows(world.store, contests)
    await world.sweep(contest.closes_at)
    await world.delivered()
    [header] = [t for t in world.tg.texts(TG_EN) if "time to vote" in t]
    assert header.startswith("🗳 Contest #1 “Winter photos” is closed: time to vote! 2 entries")
    [shown] = [m for m in world.tg.media_in(TG_EN) if "entry #1" in m.caption]
    assert shown.caption == "🏆 #1 Winter photos · entry #1 by Alice\nSnow on my boots"
    assert (shown.kind, shown.content) == ("photo", JPEG)
    buttons = tg_buttons(world, TG_EN)
    assert buttons["/contest vote 1 1"] == (shown.message_id, "🗳 Vote for #1 (Alice)")
    assert buttons["/contest vote 1 2"][1] == "🗳 Vote for #2 (Dalia)"
    [scarf] = [m for m in world.tg.media_in(TG_EN) if "entry #2" in m.caption]
    assert (scarf.caption, scarf.content) == (
        "🏆 #1 Winter photos · entry #2 by Dalia\nMy scarf",
        SCARF,
    )
    assert sorted(f.content for f in world.dc.files_in(NEWS_EN)) == sorted([JPEG, SCARF])
    [dc_entry] = [
        m for m in world.dc.messages if m.where == NEWS_EN and "entry #1 by" in (m.content or "")
    ]
    assert [b["label"] for b in dc_entry.components] == ["🗳 Vote for #1 (Alice)"]

    # Votes by button: Bob on Telegram, Dobby on Discord; Alice's own entry and Bob's second
    # vote refused.
    voted = await tg_press(world, BOB, shown.message_id, "/contest vote 1 1")
    assert voted == "🗳 Your vote for entry #1 by Alice in contest #1 is counted. Thank you!"
    own = await tg_press(world, ALICE, shown.message_id, "/contest vote 1 1")
    assert own == "Entry #1 is your own: vote for someone else's entry in contest #1."
    again = await tg_press(world, BOB, buttons["/contest vote 1 2"][0], "/contest vote 1 2")
    assert again.startswith("You have already voted in contest #1 (for entry #1)")
    answer = await dc_press(world, D_BOB, dc_entry.components[0]["custom_id"], dc_entry.message_id)
    assert answer.ephemeral
    assert answer.content == (
        "🗳 Your vote for entry #1 by Alice in contest #1 is counted. Thank you!"
    )

    # The end, swept twice: the result in both groups, Alice paid once and told privately.
    [contest] = rows(world.store, contests)
    await world.sweep(contest.vote_ends_at)
    await world.sweep(contest.vote_ends_at + timedelta(minutes=1))
    await world.delivered()
    result = "🏆 Contest #1 “Winter photos”: the vote is over (2 votes).\n🥇 1st #1 Alice"
    assert [t for t in world.tg.texts(TG_EN) if t.startswith(result)] != []
    assert [t for t in world.dc_texts(NEWS_EN) if t.startswith(result)] != []
    assert len([t for t in world.tg.texts(TG_EN) if "the vote is over" in t]) == 1
    prizes = [row for row in rows(world.store, ledger) if row.reason == "contest_prize"]
    assert [(row.delta, row.idempotency_key) for row in prizes] == [(300, "contest_prize:1:1")]
    assert any(t.startswith("🎉 Your entry #1 won 🥇 1st place") for t in world.tg.texts(ALICE))
    # The refusals went to the presser alone: the group never read whom Bob voted for.
    refusals = ("You have already voted", "Entry #1 is your own")
    assert not any(t.startswith(refusals) for t in world.tg.texts(TG_EN))
    assert world.tg.duplicates() == []
