"""End-to-end throughput of the Telegram adapter: real python-telegram-bot, real core, real
SQLite file, against the fake Bot API on 127.0.0.1 (tests/fakes/telegram_api.py).

Members in many groups send /checkin and /points; the bench measures from the moment an update
is queued at the fake until the bot's answer reaches it. Every update goes the whole way:
getUpdates long poll -> inbox (durable before the next offset) -> unit of work (which settles
the inbox row and writes the answer to the outbox) -> the sender, woken by the commit, reads it
-> HTML render -> sendMessage -> marked sent. Telegram's flood limits are off (they would cap
this at 30 messages/s and say nothing about the adapter); 429 handling stays on. Run from the
repo root:

    python bench/telegram_bench.py [--updates N] [--groups N] [--members N]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import multiprocessing
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.adapters.telegram import TelegramAdapter, TelegramOptions
from bot.adapters.telegram_limits import NO_LIMITS
from bot.app import build_dispatcher
from bot.delivery.sender import Sender
from community.communities import apply_config
from community.config import parse_config
from handlers.ports import Chats, Deliveries, Inbox, Polls
from storage import migrate
from storage.store import Store
from tests.fakes.telegram_api import FakeTelegram

COMMUNITY = """
[community]
slug = "bench"
name = "Bench Community"
timezone = "Asia/Shanghai"
"""


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]


def platform(updates: int, groups: int, members: int, pipe: Connection) -> None:
    """The fake Telegram, in a process of its own so its work does not slow the bot's loop:
    queues the updates, waits for every answer and reports the timings."""

    async def serve() -> None:
        async with FakeTelegram() as tg:
            pipe.send(tg.base_url)
            await asyncio.to_thread(pipe.recv)  # the bot is up
            pushed: dict[tuple[int, int], float] = {}
            started = time.monotonic()
            for number in range(updates):
                chat = tg.group(-(1000 + number % groups), f"group {number % groups}")
                member = tg.user(10 + number % members, f"Member {number % members}")
                update = tg.message(chat, member, "/checkin" if number < members else "/points")
                pushed[(chat["id"], update["message"]["message_id"])] = time.monotonic()
                tg.push_update(update)
            sends = await tg.wait_for_call("sendMessage", count=updates, timeout=600)
            elapsed = max(call.at for call in sends) - started
            latencies = [
                call.at
                - pushed[(call.params["chat_id"], call.params["reply_parameters"]["message_id"])]
                for call in sends
            ]
            pipe.send((elapsed, latencies))

    asyncio.run(serve())


async def bot(url: str, pipe: Connection) -> tuple[float, list[float]]:
    """The bot as `communitybot run` builds it, against the fake's address."""
    store = Store(url)
    config, digest = parse_config(COMMUNITY)
    store.write_now(
        apply_config,
        config,
        digest,
        default_timezone="UTC",
        default_locale="en",
        at=datetime.now(UTC),
    )
    senders: list[Sender] = []

    def wake(platform: str) -> None:
        for sender in senders:  # a commit queued answers: the sender looks at once
            sender.wake()

    dispatcher = build_dispatcher(
        store,
        access=config.access,
        default_community="bench",
        default_locale="en",
        queued=wake,
    )
    base_url = await asyncio.to_thread(pipe.recv)
    deliveries = Deliveries(store)
    adapter = TelegramAdapter(
        dispatcher,
        TelegramOptions(token="1:BENCH", base_url=base_url),
        inbox=Inbox(store),
        chats=Chats(store),
        polls=Polls(store),
        deliveries=deliveries,
        default_locale="en",
        limits=NO_LIMITS,
    )
    await adapter.start()
    senders.append(Sender(adapter.messenger, deliveries))
    senders[0].start()
    pipe.send("go")
    result: tuple[float, list[float]] = await asyncio.to_thread(pipe.recv)
    await senders[0].stop()
    await adapter.stop()
    store.close()
    return result


def run(updates: int, groups: int, members: int, url: str) -> None:
    ours, theirs = multiprocessing.Pipe()
    fake = multiprocessing.get_context("fork").Process(
        target=platform, args=(updates, groups, members, theirs)
    )
    fake.start()
    elapsed, latencies = asyncio.run(bot(url, ours))
    fake.join()
    millis = [latency * 1000 for latency in latencies]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"== telegram end to end: {updates:,} updates, {groups} groups, {members} members")
    print(f"   updates/s      {updates / elapsed:10,.0f}   ({elapsed:.2f} s)")
    print(f"   latency p50    {percentile(millis, 0.5):10.1f} ms  (queued at the fake -> answer)")
    print(f"   latency p99    {percentile(millis, 0.99):10.1f} ms")
    print(f"   peak RSS       {peak:10.1f} MiB (the bot's process)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=5000)
    parser.add_argument("--groups", type=int, default=50)
    parser.add_argument("--members", type=int, default=1000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        migrate.upgrade(url)
        run(args.updates, args.groups, args.members, url)
    return 0


if __name__ == "__main__":
    sys.exit(main())
