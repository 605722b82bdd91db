"""The scheduler end to end on both platforms: the real python-telegram-bot and discord.py
adapters against their fakes, the real core and store, a real sender draining each platform's
outbox, and `Firings.sweep` run at moved moments. Each test reads what people in the chats
would see: the words the fakes received, the native polls opened and stopped, and nothing twice.

Members' messages carry the test clock's moment (a Telegram message's date, a Discord
snowflake), so a check-in "during the member day" happens then, whatever the real date is.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from bot.adapters.discord import DiscordAdapter, DiscordOptions
from bot.adapters.telegram import TelegramAdapter, TelegramOptions
from bot.adapters.telegram_limits import NO_LIMITS
from bot.delivery.messenger import Limits, Rate
from bot.delivery.sender import SenderSettings
from community.config import parse_config
from handlers.firings import Firings
from handlers.ports import Chats, Deliveries, Inbox, Polls
from handlers.router import Dispatcher
from storage.schema import communities, inbox, outbox, polls, votes
from storage.store import Store
from tests.conftest import DISCORD_OWNER, T0, TELEGRAM_OWNER, TEST_COMMUNITY
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.telegram_api import FakeTelegram
from tests.harness import Clock, moving_on, serving_with_sender

# T0 is Monday 2026-11-23, 09:00 in Asia/Shanghai (both communities' timezone).
EVENING = T0 + timedelta(hours=11, minutes=1)  # 20:01 in Shanghai
THURSDAY = T0 + timedelta(days=2, hours=15)  # Thu 11-26 00:00 in Shanghai
FRIDAY = THURSDAY + timedelta(days=1)  # Fri 11-27 00:00
SATURDAY = FRIDAY + timedelta(days=1)  # Sat 11-28 00:00

# Telegram: groups have negative ids; a private chat's id is the user's.
TG_EN, TG_EN2, TG_ZH = -1001, -1003, -1002
ALICE, BOB = 11, 12
# Discord: one server per community, each with #general and #news (the posting channel).
GUILD_EN, GENERAL_EN, NEWS_EN = (
    900_000_000_000_000_001,
    900_000_000_000_000_002,
    900_000_000_000_000_003,
)
GUILD_ZH, GENERAL_ZH, NEWS_ZH = (
    900_000_000_000_000_101,
    900_000_000_000_000_102,
    900_000_000_000_000_103,
)
D_ALICE, D_BOB = 900_000_000_000_000_011, 900_000_000_000_000_012
DISCORD_EPOCH_MS = 1_420_070_400_000

SENDING = SenderSettings(poll_seconds=0.02)  # the outbox looked at often: posts come soon
UNLIMITED = Limits(overall=Rate(0, 1), group=Rate(0, 1), private=Rate(0, 1))


@dataclass
class World:
    """Both fakes with the bot serving them, the store, the test's clock and its sweeper."""

    tg: FakeTelegram
    dc: FakeDiscord
    store: Store
    clock: Clock
    firings: Firings

    # Moments -----------------------------------------------------------------------------------

    async def sweep(self, at: datetime) -> Any:
        """Move the clock to `at` and run what the schedule says is due."""
        self.clock.now = at
        return await self.firings.sweep(at)

    # Telegram ----------------------------------------------------------------------------------

    def tg_group(self, chat_id: int) -> dict[str, Any]:
        return self.tg.group(chat_id, {TG_EN: "Acme Fans", TG_EN2: "Acme VIP"}.get(chat_id, "上海"))

    def tg_user(self, user_id: int) -> dict[str, Any]:
        name = {ALICE: "Alice", BOB: "Bob", TELEGRAM_OWNER: "Owner"}[user_id]
        return self.tg.user(user_id, name, username=name.lower())

    def tg_push(self, chat_id: int, user_id: int, text: str) -> int:
        """`user_id` sends `text` in a chat (a group, or their private chat with the bot when
        `chat_id` is their id), dated now by the test's clock."""
        user = self.tg_user(user_id)
        chat = self.tg.private_chat(user) if chat_id > 0 else self.tg_group(chat_id)
        sent = self.tg.message(chat, user, text)
        sent["message"]["date"] = int(self.clock.now.timestamp())
        return self.tg.push_update(sent)

    async def tg_say(self, chat_id: int, user_id: int, text: str) -> str:
        """`user_id` sends `text`; returns the bot's answer (the next message in that chat)."""
        before = len(self.tg.texts(chat_id))
        self.tg_push(chat_id, user_id, text)
        await self.tg.wait_for(lambda t: len(t.texts(chat_id)) > before)
        return self.tg.texts(chat_id)[before]

    # Discord -----------------------------------------------------------------------------------

    def dc_texts(self, channel: int) -> list[str]:
        return self.dc.sent_in(channel)

    async def dc_say(self, channel: int, user: int, text: str) -> str:
        """`user` types `text` in a channel; returns the bot's answer posted there."""
        before = len(self.dc_texts(channel))
        await self.dc.send_message(channel, user, text)
        await self.dc.wait_for(lambda: len(self.dc_texts(channel)) > before)
        return self.dc_texts(channel)[before]

    # The outbox --------------------------------------------------------------------------------

    def unsent(self) -> int:
        query = select(func.count()).select_from(outbox).where(outbox.c.state == "pending")
        return int(self.store.read_now(lambda conn: conn.execute(query).scalar_one()))

    async def delivered(self) -> None:
        """Wait until every queued message has gone out (or failed)."""
        await self.tg.wait_for(lambda t: self.unsent() == 0, every=0.01)

    def count(self, table: Any) -> int:
        query = select(func.count()).select_from(table)
        return int(self.store.read_now(lambda conn: conn.execute(query).scalar_one()))

    async def handled(self) -> None:
        """Wait until the Telegram adapter handled every update it fetched."""
        await self.tg.wait_for(lambda t: not t.pending_updates, every=0.01)
        await self.tg.wait_for(lambda t: self.count(inbox) == 0, every=0.01)


def dated_snowflakes(fake: FakeDiscord, clock: Clock) -> Callable[[], int]:
    """Snowflakes stamped with the test clock's moment: what members post happens "now"."""
    counter = itertools.count(1)

    def snowflake() -> int:
        ms = int(clock.now.timestamp() * 1000) - DISCORD_EPOCH_MS
        return (ms << 22) | (next(counter) & 0xFFF)

    return snowflake


@contextlib.asynccontextmanager
async def running(
    store: Store, clock: Clock, dispatcher: Dispatcher, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    deliveries = Deliveries(store, moving_on(clock))
    async with FakeTelegram() as tg, FakeDiscord() as dc:
        for guild, general, news in (
            (GUILD_EN, GENERAL_EN, NEWS_EN),
            (GUILD_ZH, GENERAL_ZH, NEWS_ZH),
        ):
            dc.add_guild(
                guild, f"Server {guild}", owner_id=DISCORD_OWNER, system_channel_id=general
            )
            dc.add_channel(guild, general, "general")
            dc.add_channel(guild, news, "news")
            dc.add_member(guild, DISCORD_OWNER, "owner")
            dc.add_member(guild, D_ALICE, "dalice", global_name="Dalia")
            dc.add_member(guild, D_BOB, "dbob", global_name="Dobby")
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
            )
            async with (
                serving_with_sender(telegram, deliveries, SENDING),
                serving_with_sender(discord_adapter, deliveries, SENDING),
            ):
                world = World(tg, dc, store, clock, Firings(store, clock=clock))
                await world.sweep(clock.now)  # the process has started: nothing is due
                yield world


@pytest.fixture
async def world(
    store: Store, clock: Clock, dispatcher: Dispatcher, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    async with running(store, clock, dispatcher, monkeypatch) as world:
        yield world


async def discord_server(world: World, general: int, news: int) -> None:
    """The listed owner adopts a server in #general, then makes #news its posting channel."""
    adopted = await world.dc_say(general, DISCORD_OWNER, "/settings")
    assert "Acme Fans" in adopted or "acme" in adopted
    moved = await world.dc_say(news, DISCORD_OWNER, "/settings channel")
    assert "will go to this channel" in moved, moved


def speak_chinese(store: Store, slug: str) -> None:
    store.write_now(
        lambda conn: conn.execute(
            update(communities).where(communities.c.slug == slug).values(locale="zh_CN")
        )
    )


async def two_communities(world: World) -> None:
    """Acme (en) with a Telegram group and a Discord server; "shanghai" (zh_CN) with one of
    each, moved there by the listed owner."""
    await world.tg_say(TG_EN, TELEGRAM_OWNER, "/settings")
    await discord_server(world, GENERAL_EN, NEWS_EN)
    moved = await world.tg_say(TG_ZH, TELEGRAM_OWNER, "/settings community shanghai")
    assert "shanghai" in moved
    await discord_server(world, GENERAL_ZH, NEWS_ZH)
    moved = await world.dc_say(GENERAL_ZH, DISCORD_OWNER, "/settings community shanghai")
    assert "shanghai" in moved
    speak_chinese(world.store, "shanghai")


# 1. Topics in each community's language ---------------------------------------------------------


async def test_each_group_gets_its_communitys_topic_in_its_language_once(world: World) -> None:
    await two_communities(world)
    added = await world.tg_say(
        TG_EN, TELEGRAM_OWNER, "/topic add daily 20:00 Your best buy this week?"
    )
    assert added.startswith("🗓 Topic #1 saved")
    added = await world.tg_say(TG_ZH, TELEGRAM_OWNER, "/topic add 每天 20:00 这周读了什么书？")
    assert added.startswith("🗓 话题"), added
    welcome = await world.tg_say(ALICE, ALICE, "/start")  # a private chat: no group
    assert welcome
    await world.delivered()
    tg_before = {chat: len(world.tg.texts(chat)) for chat in (TG_EN, TG_ZH, ALICE)}
    dc_before = {
        channel: len(world.dc_texts(channel))
        for channel in (NEWS_EN, NEWS_ZH, GENERAL_EN, GENERAL_ZH)
    }

    await world.sweep(EVENING)  # (the streak reminders' firings run too: nobody opted in)
    await world.delivered()
    english = "🗓 Today's topic\nYour best buy this week?"
    chinese = "🗓 今日话题\n这周读了什么书？"
    assert world.tg.texts(TG_EN)[tg_before[TG_EN] :] == [english]
    assert world.tg.texts(TG_ZH)[tg_before[TG_ZH] :] == [chinese]
    assert world.tg.texts(ALICE)[tg_before[ALICE] :] == []
    en_posts = world.dc_texts(NEWS_EN)[dc_before[NEWS_EN] :]
    zh_posts = world.dc_texts(NEWS_ZH)[dc_before[NEWS_ZH] :]
    assert len(en_posts) == 1 and "Today's topic" in en_posts[0] and "best buy" in en_posts[0]
    assert len(zh_posts) == 1 and "今日话题" in zh_posts[0] and "这周读了什么书" in zh_posts[0]
    # Nothing in #general: a server's posts go to its posting channel.
    for general in (GENERAL_EN, GENERAL_ZH):
        assert world.dc_texts(general)[dc_before[general] :] == []

    # A second sweep (and a restarted process) sends nothing more.
    again = await world.sweep(EVENING + timedelta(minutes=1))
    assert again.ran == 0
    restarted = await Firings(world.store, clock=world.clock).sweep(EVENING + timedelta(minutes=2))
    assert restarted.ran == 0
    assert world.unsent() == 0
    assert world.tg.texts(TG_EN)[tg_before[TG_EN] :] == [english]
    assert world.tg.texts(TG_ZH)[tg_before[TG_ZH] :] == [chinese]
    assert len(world.dc_texts(NEWS_EN)) == dc_before[NEWS_EN] + 1
    assert len(world.dc_texts(NEWS_ZH)) == dc_before[NEWS_ZH] + 1
    assert world.tg.duplicates() == []


# 2. A topic with a poll --------------------------------------------------------------------------


def native_ids(store: Store) -> list[str | None]:
    query = select(polls.c.native_id).order_by(polls.c.id)
    return list(store.read_now(lambda conn: conn.execute(query).scalars().all()))


async def test_a_topics_poll_is_native_in_every_group_and_its_votes_count(world: World) -> None:
    await world.tg_say(TG_EN, TELEGRAM_OWNER, "/settings")
    world.tg_push(TG_EN2, BOB, "hello")  # the bot meets the second group (no answer)
    await world.handled()
    await discord_server(world, GENERAL_EN, NEWS_EN)
    added = await world.tg_say(
        TG_EN, TELEGRAM_OWNER, "/topic add daily 20:00 Best flavour? | Mango | Lychee"
    )
    assert "📊 With a poll: Mango / Lychee" in added
    await world.delivered()
    news_before = len(world.dc.messages)

    await world.sweep(EVENING)
    await world.delivered()
    # Telegram: the topic, then Telegram's own poll, in each group.
    sent_polls = world.tg.calls_to("sendPoll")
    assert sorted(call.params["chat_id"] for call in sent_polls) == sorted([TG_EN, TG_EN2])
    for call in sent_polls:
        assert call.params["question"] == "Best flavour?"
        assert [o["text"] if isinstance(o, dict) else o for o in call.params["options"]] == [
            "Mango",
            "Lychee",
        ]
        assert call.params["is_anonymous"] is False
    for chat in (TG_EN, TG_EN2):
        assert world.tg.texts(chat)[-1] == (
            "🗓 Today's topic\nBest flavour?\n📊 Vote in the poll below."
        )
    # Discord: the topic and Discord's own poll, in the posting channel.
    posted = [m for m in world.dc.messages[news_before:] if m.kind == "channel"]
    assert {m.where for m in posted} == {NEWS_EN}
    (native,) = [m for m in posted if m.poll is not None]
    assert native.poll is not None and native.poll["question"] == {"text": "Best flavour?"}
    assert [a["poll_media"]["text"] for a in native.poll["answers"]] == ["Mango", "Lychee"]
    assert any("Best flavour?" in (m.content or "") for m in posted if m.poll is None)
    await world.tg.wait_for(lambda t: None not in native_ids(world.store), every=0.01)
    assert len(native_ids(world.store)) == 3  # one poll per group

    # Votes on the platforms' own polls count, once per member.
    poll_of = {call.params["chat_id"]: call.result["poll"]["id"] for call in sent_polls}
    world.tg.push_poll_answer(poll_of[TG_EN], world.tg_user(ALICE), [1])
    world.tg.push_poll_answer(poll_of[TG_EN2], world.tg_user(BOB), [0])
    await world.dc.poll_vote(GUILD_EN, NEWS_EN, native.message_id, D_ALICE, 2)  # from 1: Lychee
    await world.tg.wait_for(lambda t: world.count(votes) == 3, every=0.01)
    await world.handled()
    # A change of mind moves the vote and earns nothing more. (Sent once the first answer was
    # handled: the adapter handles one user's poll answers concurrently, see the report.)
    world.tg.push_poll_answer(poll_of[TG_EN], world.tg_user(ALICE), [0])
    await world.handled()

    points = await world.tg_say(TG_EN, ALICE, "/points")
    assert "2 points" in points
    closed = await world.tg_say(TG_EN, TELEGRAM_OWNER, "/closepoll")
    assert "Mango — 1 (100%)" in closed and "Lychee — 0 (0%)" in closed and "1 voter." in closed
    closed = await world.tg_say(TG_EN2, TELEGRAM_OWNER, "/closepoll")
    assert "Mango — 1 (100%)" in closed and "1 voter." in closed
    results = await world.dc_say(NEWS_EN, DISCORD_OWNER, "/closepoll")
    assert "Lychee — 1 (100%)" in results and "1 voter." in results
    await world.delivered()
    stopped = sorted(call.params["chat_id"] for call in world.tg.calls_to("stopPoll"))
    assert stopped == sorted([TG_EN, TG_EN2])
    expire = f"/channels/{NEWS_EN}/polls/{native.message_id}/expire"
    await world.dc.wait_for(lambda: any(c.path == expire for c in world.dc.calls))


# 3. A timed poll -------------------------------------------------------------------------------


async def test_a_timed_poll_closes_at_its_end_with_its_results_and_stops_the_native_poll_once(
    world: World,
) -> None:
    await discord_server(world, GENERAL_EN, NEWS_EN)
    world.tg_push(TG_EN, TELEGRAM_OWNER, "/poll --for 1h Lunch? | Noodles | Dumplings")
    (tg_poll,) = await world.tg.wait_for_call("sendPoll")
    assert tg_poll.params["chat_id"] == TG_EN and tg_poll.params["question"] == "Lunch?"
    before = len(world.dc.messages)
    await world.dc.send_message(NEWS_EN, DISCORD_OWNER, "/poll --for 1h Dinner? | Rice | Soup")
    await world.dc.wait_for(lambda: any(m.poll for m in world.dc.messages[before:]))
    (dc_poll,) = [m for m in world.dc.messages[before:] if m.poll is not None]
    assert dc_poll.where == NEWS_EN
    await world.tg.wait_for(lambda t: None not in native_ids(world.store), every=0.01)

    world.tg.push_poll_answer(tg_poll.result["poll"]["id"], world.tg_user(ALICE), [1])
    await world.dc.poll_vote(GUILD_EN, NEWS_EN, dc_poll.message_id, D_ALICE, 1)
    await world.tg.wait_for(lambda t: world.count(votes) == 2, every=0.01)
    # After the end, before the sweep came: too late, counted nowhere.
    world.clock.now = T0 + timedelta(hours=1, seconds=30)
    world.tg.push_poll_answer(tg_poll.result["poll"]["id"], world.tg_user(BOB), [0])
    await world.dc.poll_vote(GUILD_EN, NEWS_EN, dc_poll.message_id, D_BOB, 2)
    await world.handled()
    tg_before, dc_before = len(world.tg.texts(TG_EN)), len(world.dc_texts(NEWS_EN))

    swept = await world.sweep(T0 + timedelta(hours=1, minutes=1))
    assert swept.polls_closed == 2
    await world.delivered()
    assert world.tg.texts(TG_EN)[tg_before:] == [
        "📊 Results: Lunch?\nNoodles — 0 (0%)\nDumplings — 1 (100%)\n1 voter."
    ]
    (stop,) = world.tg.calls_to("stopPoll")
    assert stop.params["chat_id"] == TG_EN
    assert stop.params["message_id"] == tg_poll.result["message_id"]
    assert world.tg.polls[tg_poll.result["poll"]["id"]]["is_closed"] is True
    (results,) = world.dc_texts(NEWS_EN)[dc_before:]
    assert "Dinner?" in results and "Rice — 1 (100%)" in results and "1 voter." in results
    expire = f"/channels/{NEWS_EN}/polls/{dc_poll.message_id}/expire"
    await world.dc.wait_for(lambda: any(c.path == expire for c in world.dc.calls))

    # Once: later sweeps, and a restarted process, close nothing more.
    assert (await world.sweep(T0 + timedelta(hours=1, minutes=2))).polls_closed == 0
    restarted = Firings(world.store, clock=world.clock)
    assert (await restarted.sweep(T0 + timedelta(hours=1, minutes=3))).polls_closed == 0
    assert world.unsent() == 0
    assert len(world.tg.texts(TG_EN)) == tg_before + 1
    assert len(world.dc_texts(NEWS_EN)) == dc_before + 1
    assert len(world.tg.calls_to("stopPoll")) == 1
    assert [c.path for c in world.dc.calls].count(expire) == 1


# 4. The member day -----------------------------------------------------------------------------


async def test_the_member_day_is_announced_opened_doubled_and_recapped_on_both_platforms(
    world: World,
) -> None:
    await world.tg_say(TG_EN, TELEGRAM_OWNER, "/settings")
    await discord_server(world, GENERAL_EN, NEWS_EN)
    saved = await world.tg_say(TG_EN, TELEGRAM_OWNER, "/memberday set fri 00:00 x2 24h")
    assert saved.startswith("🎉 Member day saved: Fri 00:00")
    await world.delivered()

    def since(counts: dict[int, int]) -> dict[int, list[str]]:
        return {
            TG_EN: world.tg.texts(TG_EN)[counts[TG_EN] :],
            NEWS_EN: world.dc_texts(NEWS_EN)[counts[NEWS_EN] :],
        }

    def counts() -> dict[int, int]:
        return {TG_EN: len(world.tg.texts(TG_EN)), NEWS_EN: len(world.dc_texts(NEWS_EN))}

    before = counts()
    await world.sweep(THURSDAY)  # 24 hours before
    await world.delivered()
    shown = since(before)
    assert shown[TG_EN] == [
        "📣 Member day is coming: Fri 11-27 00:00 – Sat 11-28 00:00. "
        "Every point you earn then counts ×2!"
    ]
    (announced,) = shown[NEWS_EN]
    assert "Member day is coming" in announced and "×2" in announced

    before = counts()
    await world.sweep(FRIDAY)
    await world.delivered()
    shown = since(before)
    assert shown[TG_EN] == [
        "🎉 Member day is on! Until Sat 11-28 00:00 every point you earn counts ×2. "
        "Start with /checkin."
    ]
    (opened,) = shown[NEWS_EN]
    assert "Member day is on!" in opened

    # During it, a check-in earns double, and its answer says so, on either platform.
    world.clock.now = FRIDAY + timedelta(hours=21)
    checked = await world.tg_say(TG_EN, ALICE, "/checkin")
    assert "+20 points · member day ×2" in checked, checked
    checked = await world.dc_say(GENERAL_EN, D_ALICE, "/checkin")
    assert "+20 points · member day ×2" in checked, checked
    world.clock.now = SATURDAY  # the first second after: no longer doubled
    late = await world.tg_say(TG_EN, BOB, "/checkin")
    assert "+10 points." in late and "×2" not in late
    await world.delivered()

    before = counts()
    await world.sweep(SATURDAY + timedelta(seconds=30))
    await world.delivered()
    shown = since(before)
    (recap,) = shown[TG_EN]
    assert recap.startswith(
        "🏁 Member day of Fri 11-27 is over.\n"
        "2 members took part · 2 check-ins · 40 points given.\n"
        "🏆 Top of the day:\n"
    ), recap
    assert "Alice — 20 points" in recap and "Dalia — 20 points" in recap
    (dc_recap,) = shown[NEWS_EN]
    assert "2 members took part" in dc_recap and "Dalia" in dc_recap

    # Nothing again: later sweeps, a restarted process.
    before = counts()
    assert (await world.sweep(SATURDAY + timedelta(minutes=1))).ran == 0
    restarted = Firings(world.store, clock=world.clock)
    assert (await restarted.sweep(SATURDAY + timedelta(minutes=2))).ran == 0
    assert world.unsent() == 0 and since(before) == {TG_EN: [], NEWS_EN: []}


# 5. The streak reminder ------------------------------------------------------------------------


async def test_the_streak_reminder_writes_privately_once_to_who_has_not_checked_in(
    world: World,
) -> None:
    for who in (ALICE, BOB):
        on = await world.tg_say(who, who, "/remind on")
        assert on.startswith("⏰ Reminders on"), on
        assert "Start a private chat" not in on
    checked = await world.tg_say(TG_EN, BOB, "/checkin")
    assert "+10 points" in checked
    # On Discord the bot may write first: opting in in a channel is enough.
    on = await world.dc_say(GENERAL_EN, D_ALICE, "/remind on")
    assert on.startswith("⏰ Reminders on"), on
    await world.delivered()
    before = {who: len(world.tg.texts(who)) for who in (ALICE, BOB)}
    group_before = len(world.tg.texts(TG_EN))

    await world.sweep(EVENING - timedelta(minutes=2))  # 19:59: not yet
    assert world.unsent() == 0 and world.dc.dms == {}
    await world.sweep(EVENING)
    await world.delivered()
    assert world.tg.texts(ALICE)[before[ALICE] :] == [
        "⏰ Alice, you have not checked in today. Send /checkin before midnight: +10 points."
    ]
    assert world.tg.texts(BOB)[before[BOB] :] == []  # he checked in
    assert len(world.tg.texts(TG_EN)) == group_before  # nothing said in the group
    dm = world.dc.dms[D_ALICE]
    (nudge,) = world.dc_texts(dm)
    assert "Dalia, you have not checked in today" in nudge

    # Once: later sweeps, and a restarted process, nudge nobody again.
    await world.sweep(EVENING + timedelta(minutes=5))
    await Firings(world.store, clock=world.clock).sweep(EVENING + timedelta(minutes=10))
    assert world.unsent() == 0
    assert len(world.tg.texts(ALICE)) == before[ALICE] + 1
    assert world.tg.texts(BOB)[before[BOB] :] == []
    assert len(world.dc_texts(dm)) == 1


async def test_a_member_linked_across_platforms_who_checked_in_on_discord_is_not_nudged(
    world: World,
) -> None:
    await world.tg_say(ALICE, ALICE, "/remind on")
    shown = await world.tg_say(ALICE, ALICE, "/link")
    found = re.search(r"link code: (\w+)", shown)
    assert found is not None
    dm = world.dc.open_dm(D_ALICE)
    await world.dc_say(dm, D_ALICE, f"/link {found[1]}")
    press = await world.dc.press_button(None, dm, D_ALICE, f"/link {found[1]} confirm")
    await world.dc.wait_for(lambda: any(m.where == press.id for m in world.dc.messages))
    world.clock.now = T0 + timedelta(hours=2)
    checked = await world.dc_say(GENERAL_EN, D_ALICE, "/checkin")
    assert "+10 points" in checked
    await world.delivered()
    before = len(world.tg.texts(ALICE)), len(world.dc_texts(dm))

    await world.sweep(EVENING)
    assert world.unsent() == 0
    assert (len(world.tg.texts(ALICE)), len(world.dc_texts(dm))) == before


async def test_a_discord_timed_polls_results_come_where_the_poll_is(world: World) -> None:
    await discord_server(world, GENERAL_EN, NEWS_EN)
    before = len(world.dc.messages)
    await world.dc.send_message(GENERAL_EN, DISCORD_OWNER, "/poll --for 1h Where? | Here | There")
    await world.dc.wait_for(lambda: any(m.poll for m in world.dc.messages[before:]))
    (native,) = [m for m in world.dc.messages[before:] if m.poll is not None]
    assert native.where == GENERAL_EN
    await world.tg.wait_for(lambda t: None not in native_ids(world.store), every=0.01)
    general, news = len(world.dc_texts(GENERAL_EN)), len(world.dc_texts(NEWS_EN))

    await world.sweep(T0 + timedelta(hours=1, minutes=1))
    await world.delivered()
    expire = f"/channels/{GENERAL_EN}/polls/{native.message_id}/expire"
    assert any(c.path == expire for c in world.dc.calls)  # the poll in #general ends
    assert world.dc_texts(NEWS_EN)[news:] == []
    (results,) = world.dc_texts(GENERAL_EN)[general:]
    assert results.startswith("📊 Results: Where?")


async def test_a_telegram_vote_changed_right_away_counts_the_last_choice(world: World) -> None:
    await world.tg_say(TG_EN, TELEGRAM_OWNER, "/settings")
    world.tg_push(TG_EN, TELEGRAM_OWNER, "/poll Lunch? | Noodles | Dumplings")
    (sent,) = await world.tg.wait_for_call("sendPoll")
    await world.tg.wait_for(lambda t: None not in native_ids(world.store), every=0.01)
    world.clock.now += timedelta(hours=2)  # the dispatcher's hourly housekeeping comes due
    world.tg.push_poll_answer(sent.result["poll"]["id"], world.tg_user(ALICE), [1])
    world.tg.push_poll_answer(sent.result["poll"]["id"], world.tg_user(ALICE), [0])
    await world.handled()
    closed = await world.tg_say(TG_EN, TELEGRAM_OWNER, "/closepoll")
    assert "Noodles — 1 (100%)" in closed, closed
