"""Delivery through the outbox, as an operator's processes live it: the real `communitybot run`
(real python-telegram-bot, real discord.py) against the fake platforms on 127.0.0.1, killed with
SIGKILL at each point of a message's way, stopped with SIGTERM while hundreds wait, throttled,
refused, and run twice on one PostgreSQL database.

A message's way: its cause and the message are committed together -> the sender reads it ->
its request reaches the platform -> the platform takes it -> the answer comes back -> the
outbox marks it sent. A kill before the platform takes it loses nothing and sends it once; a
kill after the platform took it and before the mark sends it again after the restart (on
Telegram, which has no idempotency key; Discord's nonce makes it once). `Relay`
(tests/fakes/process.py) holds requests or answers on the wire to stop a process exactly there.

Tests that are not about stopping end the bot with kill -9 once the outbox says everything is
done, so that each asserts only what it is about.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection

from community.communities import community_by_slug, community_for_chat
from community.messages import Reply
from community.outbox import broadcast
from storage.store import Store
from tests.conftest import DISCORD_OWNER, TELEGRAM_OWNER
from tests.fakes.discord_api import FakeDiscord, FakeLimits
from tests.fakes.process import BotProcess, Relay, kill
from tests.fakes.telegram_api import Accepted, FakeTelegram, FloodLimits

TOKEN = "515151:DELIVERY-token"
DISCORD_TOKEN = "fake-discord-DELIVERY-token"
GROUP = -4004
GUILD, CHANNEL = 910_000_000_000_000_001, 910_000_000_000_000_002
# A killed process's drain lease lasts this long: its successor takes over after it.
QUICK = {"DELIVERY_LEASE_SECONDS": "1", "DELIVERY_POLL_SECONDS": "0.2"}
STORM = 20  # 429s a platform answers in a row


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(flood_limits=FloodLimits()) as fake:  # Telegram's own limits
        yield fake


@pytest.fixture
async def wire(tg: FakeTelegram) -> AsyncIterator[Relay]:
    async with Relay(f"http://127.0.0.1:{tg.port}") as relay:
        yield relay


def telegram_bot(tmp_path: Path, wire: Relay, **env: str) -> BotProcess:
    return BotProcess.telegram(tmp_path, f"{wire.url}/bot", TOKEN, **(QUICK | env))


async def serving(bot: BotProcess, tg: FakeTelegram) -> asyncio.subprocess.Process:
    """The bot started, its database migrated and its long poll waiting."""
    process = await bot.start()
    await tg.wait_for_call("getUpdates", timeout=30)
    return process


def outbox_states(bot: BotProcess) -> Counter[str]:
    return Counter(str(state) for (state,) in bot.rows("SELECT state FROM outbox"))


def group_count(bot: BotProcess) -> int:
    return int(str(bot.rows("SELECT count(*) FROM groups WHERE NOT private")[0][0]))


async def until(predicate: Callable[[], bool], timeout: float = 30) -> None:  # noqa: ASYNC109
    """Wait for something the bot's database shows (another process's writes notify nothing
    here, so it is read again every 50 ms)."""
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def settled(bot: BotProcess, states: Mapping[str, int]) -> None:
    """Wait until the outbox holds exactly these states (e.g. everything sent)."""
    await until(lambda: outbox_states(bot) == Counter(states))


async def sigterm(process: asyncio.subprocess.Process, within: float = 10) -> float:
    """SIGTERM, as a service manager stops the bot: it must exit 0 within `within` seconds
    (else it is killed and the test fails). Returns the seconds it took."""
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), within)
    except TimeoutError:
        await kill(process)
        pytest.fail(f"still running {within:g} s after SIGTERM")
    assert process.returncode == 0
    return time.monotonic() - began


# Killed between the commit and the send ------------------------------------------------------


async def test_an_answer_committed_but_unsent_at_a_kill_arrives_once_after_restart(
    tg: FakeTelegram, wire: Relay, tmp_path: Path
) -> None:
    bot = telegram_bot(tmp_path, wire)
    wire.hold_requests("/sendMessage")  # the sender's request never reaches Telegram
    first = await serving(bot, tg)
    tg.push_message(tg.group(GROUP, "Acme"), tg.user(7, "Alice"), "/checkin")
    await wire.wait_for(lambda w: w.held_requests == 1)
    # The check-in and its answer were committed together; Telegram has seen nothing.
    assert bot.rows("SELECT count(*) FROM checkins") == [(1,)]
    assert outbox_states(bot) == {"pending": 1}
    await kill(first)
    await wire.wait_for(lambda w: w.hung_up() == 1, every=0.05)
    wire.release()  # the dead process's request is dropped, as a cut connection
    await wire.wait_for(lambda w: w.dropped == 1)
    assert tg.accepted == []

    second = await bot.start()
    await settled(bot, {"sent": 1})
    await kill(second)
    (answer,) = tg.accepted
    assert answer.chat_id == GROUP and "Checked in, Alice! +10" in answer.text
    assert bot.rows("SELECT count(*) FROM checkins") == [(1,)]


# Killed between the send and the mark --------------------------------------------------------


async def test_telegram_repeats_what_it_took_before_a_kill_and_only_that(
    tg: FakeTelegram, wire: Relay, tmp_path: Path
) -> None:
    bot = telegram_bot(tmp_path, wire)
    wire.hold_answers("/sendMessage")  # Telegram takes each message; its answer is held
    first = await serving(bot, tg)
    groups = [tg.group(GROUP - n, f"Acme {n}") for n in range(3)]
    for n, group in enumerate(groups):
        tg.push_message(group, tg.user(10 + n, f"Member{n}"), "/checkin")
    await wire.wait_for(lambda w: w.held_answers == 3)
    on_the_wire = len(tg.accepted)  # taken by Telegram, not yet known to the bot
    await kill(first)
    wire.release()
    assert outbox_states(bot) == {"pending": 3}

    second = await bot.start()
    await settled(bot, {"sent": 3})
    await kill(second)
    # The documented window: each message Telegram took before the kill went twice, no other.
    twice = tg.duplicates()
    assert len(twice) == on_the_wire == 3
    assert {chat for chat, _ in twice} == {group["id"] for group in groups}
    assert len(tg.accepted) == 6


async def test_discord_takes_a_message_resent_after_a_kill_once_by_its_nonce(
    tmp_path: Path,
) -> None:
    async with FakeDiscord(limits=FakeLimits()) as dc, Relay(dc.base_url) as wire:
        dc.add_guild(GUILD, "Acme Fans", owner_id=DISCORD_OWNER)
        dc.add_channel(GUILD, CHANNEL, "general")
        dc.add_member(GUILD, DISCORD_OWNER, "owner")
        dc.add_member(GUILD, 77, "alice")
        bot = BotProcess.discord(tmp_path, wire.url, dc.ws_url, DISCORD_TOKEN, **QUICK)
        wire.hold_answers(f"/channels/{CHANNEL}/messages")  # Discord posts; its answer waits
        first = await bot.start()
        await dc.wait_for_ready(timeout=30)
        await dc.send_message(CHANNEL, 77, "签到")
        await wire.wait_for(lambda w: w.held_answers == 1)
        assert len(dc.sent_in(CHANNEL)) == 1
        await kill(first)
        wire.release()
        assert outbox_states(bot) == {"pending": 1}

        second = await bot.start()
        await settled(bot, {"sent": 1})
        await kill(second)
    # Sent again with the same nonce: Discord answered with the first message, posted nothing.
    assert wire.posted(f"/channels/{CHANNEL}/messages") == 2
    assert dc.deduplicated == 1
    (posted,) = [m for m in dc.accepted if m.channel == CHANNEL]
    assert "+10" in posted.content and posted.nonce


# SIGTERM with hundreds queued ----------------------------------------------------------------


async def test_sigterm_with_500_queued_exits_at_once_and_the_restart_delivers_each_once(
    tg: FakeTelegram, wire: Relay, tmp_path: Path
) -> None:
    groups = 520  # a broadcast to each: at least 500 still queued when SIGTERM comes
    bot = telegram_bot(tmp_path, wire)
    first = await serving(bot, tg)
    member = tg.user(11, "Member")
    for n in range(groups):
        tg.push_message(tg.group(-(10_000 + n), f"Group {n}"), member, "hi")
    await until(lambda: group_count(bot) == groups)
    admin = tg.user(TELEGRAM_OWNER, "Boss")
    tg.push_message(tg.private_chat(admin), admin, "/announce Big sale today")
    await tg.wait_for(lambda t: len(t.accepted) >= 10, timeout=30)  # sending, within limits
    assert await sigterm(first) < 10
    queued = outbox_states(bot)
    assert queued["pending"] >= 500 and queued.total() == groups + 1

    # At Telegram's 30 a second the rest would take 17 s: here both sides allow more.
    tg.flood_limits = FloodLimits(overall=200)
    second = await telegram_bot(tmp_path, wire, TELEGRAM_MESSAGES_PER_SECOND="200").start()
    await settled(bot, {"sent": groups + 1})
    await sigterm(second)
    posts = Counter(a.chat_id for a in tg.accepted if "Big sale today" in a.text)
    assert len(posts) == groups and set(posts.values()) == {1}
    assert tg.duplicates() == []


# 429 storms ----------------------------------------------------------------------------------


async def test_a_429_storm_on_telegram_is_waited_out_and_everything_goes_once(
    tg: FakeTelegram, wire: Relay, tmp_path: Path
) -> None:
    bot = telegram_bot(tmp_path, wire)
    process = await serving(bot, tg)
    member = tg.user(11, "Member")
    groups = [tg.group(-(20_000 + n), f"Group {n}") for n in range(40)]
    for group in groups:
        tg.push_message(group, member, "hi")
    await until(lambda: group_count(bot) == len(groups))
    tg.throttle("sendMessage", times=STORM, retry_after=1)  # on top of Telegram's limits
    admin = tg.user(TELEGRAM_OWNER, "Boss")
    tg.push_message(tg.private_chat(admin), admin, "/announce Storm warning")
    await settled(bot, {"sent": len(groups) + 1})
    await kill(process)

    posts = Counter(a.chat_id for a in tg.accepted if "Storm warning" in a.text)
    assert posts.keys() == {group["id"] for group in groups} and set(posts.values()) == {1}
    assert tg.duplicates() == []
    throttled = [call for call in tg.calls_to("sendMessage") if call.status == 429]
    # The storm, and next to none of the bot's own making (sends at the edge of Telegram's
    # one-second window may meet its count a few milliseconds early).
    assert STORM <= len(throttled) <= STORM + 5
    # Every 429 was waited out: that chat's next try came after its retry_after (1 s at least).
    for call in throttled:
        chat = call.params["chat_id"]
        later = [c.at for c in tg.calls_to("sendMessage") if c.params["chat_id"] == chat]
        assert min(at for at in later if at > call.at) >= call.at + 1


async def test_a_429_storm_on_discord_is_sat_out_and_everything_goes_once(
    tmp_path: Path,
) -> None:
    guilds = [GUILD + 10 * n for n in range(8)]
    channels = [guild + 1 for guild in guilds]
    async with FakeDiscord(limits=FakeLimits()) as dc:  # Discord's limits
        for guild, channel in zip(guilds, channels, strict=True):
            dc.add_guild(guild, f"Acme {guild}", owner_id=DISCORD_OWNER)
            dc.add_channel(guild, channel, "general")
            dc.add_member(guild, DISCORD_OWNER, "owner")
        bot = BotProcess.discord(tmp_path, dc.base_url, dc.ws_url, DISCORD_TOKEN, **QUICK)
        process = await bot.start()
        await dc.wait_for_ready(timeout=30)
        for channel in channels:  # a listed admin's command there makes it the posting channel
            await dc.send_message(channel, DISCORD_OWNER, "/settings")
        posting = "SELECT count(*) FROM groups WHERE posting_channel IS NOT NULL"
        await until(lambda: bot.rows(posting) == [(len(guilds),)])
        dc.throttle("POST", "/channels/", times=STORM, retry_after=0.2)
        await dc.send_message(channels[0], DISCORD_OWNER, "/announce Storm warning")
        # The /settings answers, the posts and /announce's answer.
        await settled(bot, {"sent": 2 * len(guilds) + 1})
        await kill(process)
    posts = [m.channel for m in dc.accepted if "Storm warning" in m.content]
    assert sorted(posts) == channels
    assert len(dc.accepted) == 2 * len(guilds) + 1
    assert len({m.nonce for m in dc.accepted}) == len(dc.accepted)  # each once
    assert STORM <= dc.throttled <= STORM + 5


# Refused for good ----------------------------------------------------------------------------


async def test_a_group_that_removed_the_bot_fails_its_messages_and_is_then_skipped(
    tg: FakeTelegram, wire: Relay, tmp_path: Path
) -> None:
    # A burst of 20: the admin's group takes its posts and answers at once.
    bot = telegram_bot(tmp_path, wire, DELIVERY_REFUSALS_TO_IDLE="3", TELEGRAM_GROUP_BURST="20")
    process = await serving(bot, tg)
    here, gone, member = tg.group(-5001, "Here"), tg.group(-5002, "Gone"), tg.user(11, "Member")
    tg.push_message(gone, member, "hi")
    await until(lambda: group_count(bot) == 1)
    tg.forbid(gone["id"])  # the bot was removed from it
    admin = tg.user(TELEGRAM_OWNER, "Boss")
    for n in range(3):
        tg.push_message(here, admin, f"/announce News {n}")
    inactive = "SELECT chat_id FROM groups WHERE inactive_since IS NOT NULL"
    await until(lambda: bot.rows(inactive) == [("-5002",)])
    refused = "SELECT state, failure FROM outbox WHERE chat_id = '-5002'"
    assert bot.rows(refused) == [("failed", "Forbidden: bot was kicked from the group chat")] * 3

    tg.push_message(here, admin, "/announce News 3")
    await settled(bot, {"sent": 8, "failed": 3})
    await kill(process)
    answers = [a.text for a in tg.accepted if a.text.startswith("📣 Announcement queued")]
    assert len(answers) == 4
    assert "queued for 2 groups" in answers[0]
    assert "queued for 1 group;" in answers[3]
    assert "1 group has refused the bot lately" in answers[3]
    assert len(bot.rows(refused)) == 3  # nothing more was queued for it
    posts = [a.text for a in tg.accepted if a.text.startswith("📣 Acme Fans")]
    assert [post.splitlines()[-1] for post in posts] == [f"News {n}" for n in range(4)]
    assert sum(call.params["chat_id"] == gone["id"] for call in tg.calls_to("sendMessage")) == 3


# Two processes on one PostgreSQL database ----------------------------------------------------

GROUPS, POSTS = 3, 25  # more posts to each group than its minute allows (20)


def seed_groups(conn: Connection) -> None:
    for n in range(GROUPS):
        community_for_chat(
            conn,
            platform="telegram",
            chat_id=str(-(6000 + n)),
            title=f"Group {n}",
            default_slug="acme",
            at=datetime.now(UTC),
        )


def queue_posts(conn: Connection) -> None:
    """What /announce (or the scheduler) queues, POSTS times over."""
    community = community_by_slug(conn, "acme")
    assert community is not None
    for n in range(POSTS):
        post = Reply("announce/post", {"text": f"Post {n}", "community": "Acme"})
        broadcast(conn, community.id, post, key=f"posts:{n}", at=datetime.now(UTC))


def most_in_a_minute(accepted: list[Accepted]) -> int:
    """The most messages one chat was sent in any 60 s."""
    times: dict[int, list[float]] = {}
    for message in accepted:
        times.setdefault(message.chat_id, []).append(message.at)
    worst = 0
    for seen in times.values():
        seen.sort()
        start = 0
        for end, at in enumerate(seen):
            while seen[start] <= at - 60:
                start += 1
            worst = max(worst, end - start + 1)
    return worst


@contextlib.asynccontextmanager
async def relays(tg: FakeTelegram) -> AsyncIterator[tuple[Relay, Relay]]:
    """One relay to Telegram for each process: what each one sent is told apart."""
    root = f"http://127.0.0.1:{tg.port}"
    async with Relay(root) as first, Relay(root) as second:
        yield first, second


async def two_processes(
    db_url: str, tmp_path: Path, tg: FakeTelegram, wires: list[Relay]
) -> tuple[list[BotProcess], list[asyncio.subprocess.Process]]:
    """Two `communitybot run` on one database, each through its own relay (which shows who
    sent what); Telegram's 20 a minute per group may go at once (no burst spread)."""
    bots = []
    for name, wire in zip("ab", wires, strict=True):
        (tmp_path / name).mkdir()
        bots.append(
            BotProcess.telegram(
                tmp_path / name,
                f"{wire.url}/bot",
                TOKEN,
                **QUICK,
                DATABASE_URL=db_url,
                TELEGRAM_GROUP_BURST="20",
            )
        )
    processes = [await bot.start() for bot in bots]
    await tg.wait_for(lambda t: len(t.calls_to("getUpdates")) >= 2, timeout=30)
    return bots, processes


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_two_processes_on_one_postgresql_send_each_message_once_within_the_limits(
    db_url: str, store: Store, tmp_path: Path
) -> None:
    store.write_now(seed_groups)
    async with FakeTelegram() as tg, relays(tg) as (a, b):
        bots, processes = await two_processes(db_url, tmp_path, tg, [a, b])
        store.write_now(queue_posts)
        await settled(bots[0], {"sent": GROUPS * 20, "pending": GROUPS * 5})
        # One process drains (it holds the lease); the other waits its turn.
        assert sorted([a.posted("/sendMessage"), b.posted("/sendMessage")]) == [0, GROUPS * 20]
        assert len(tg.accepted) == GROUPS * 20 and most_in_a_minute(tg.accepted) == 20
        for process in processes:
            await kill(process)

        # The rest of each group's posts would go a minute later: allowed at once here.
        rest = await BotProcess.telegram(
            tmp_path / "a",
            f"{a.url}/bot",
            TOKEN,
            **QUICK,
            DATABASE_URL=db_url,
            TELEGRAM_GROUP_MESSAGES_PER_MINUTE="100",
        ).start()
        await settled(bots[0], {"sent": GROUPS * POSTS})
        await kill(rest)
    assert tg.duplicates() == []
    assert Counter(m.chat_id for m in tg.accepted) == {-(6000 + n): POSTS for n in range(GROUPS)}


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_a_process_taking_the_lease_over_keeps_the_groups_minute(
    db_url: str, store: Store, tmp_path: Path
) -> None:
    store.write_now(seed_groups)
    async with FakeTelegram() as tg, relays(tg) as (a, b):
        bots, processes = await two_processes(db_url, tmp_path, tg, [a, b])
        store.write_now(queue_posts)
        await tg.wait_for(lambda t: len(t.accepted) >= GROUPS * 10, timeout=30)
        leader = 0 if a.posted("/sendMessage") else 1
        await sigterm(processes[leader])  # a rolling restart: the other takes over
        # Each group's last posts belong to the next minute. Sent by a successor that forgot
        # the minute, they would be out within a second; kept back, they are still waiting when
        # this stops looking.
        with contextlib.suppress(TimeoutError):
            await until(lambda: outbox_states(bots[leader])["pending"] == 0, timeout=3)
        await kill(processes[1 - leader])
    assert b.posted("/sendMessage") if leader == 0 else a.posted("/sendMessage")  # took over
    assert most_in_a_minute(tg.accepted) == 20
