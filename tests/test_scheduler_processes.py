"""The scheduler as an operator's processes live it: the real `communitybot run` against the fake
Telegram on 127.0.0.1, started after the bot was down with topics due, two at once on one
PostgreSQL database, killed with SIGKILL in the middle of its catch-up sweep, and started after
a downtime longer than the grace period.

A firing is claimed in `job_runs` in the transaction that queues its posts: whoever runs it,
and however often a process dies, each topic reaches each group once. While a process that is
to be killed runs, its sends are held on the wire (`Relay`), so that the only way a post could
go twice is the scheduler's, not Telegram's documented kill-between-send-and-mark window
(tests/test_delivery_processes.py covers that one).
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection

from community import calendar
from community.audit import Actor
from community.communities import Community, apply_config, community_by_slug, community_for_chat
from community.config import parse_config
from storage.store import Store
from tests.conftest import TEST_COMMUNITY
from tests.fakes.process import BotProcess, Relay, kill
from tests.fakes.telegram_api import FakeTelegram

TOKEN = "616161:SCHEDULER-token"
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the test community's timezone
ADMIN = Actor(None, "console:boss")
# More entries than the default 200 fit; the grace is the default's, written down.
COMMUNITY = TEST_COMMUNITY + "[schedule]\nmax_entries = 1000\ngrace_minutes = 60\n"
# Quick delivery (as tests/test_delivery_processes.py), no flood limits to wait out, and the
# periodic full sweep every second (the catch-up at start is what is tested).
QUICK = {
    "DELIVERY_LEASE_SECONDS": "1",
    "DELIVERY_POLL_SECONDS": "0.2",
    "TELEGRAM_MESSAGES_PER_SECOND": "1000",
    "TELEGRAM_GROUP_MESSAGES_PER_MINUTE": "1000",
    "TELEGRAM_GROUP_BURST": "1000",
    "SCHEDULER_SYNC_SECONDS": "1",
}


# Helpers ---------------------------------------------------------------------------------------


def bot_at(workdir: Path, base_url: str, **env: str) -> BotProcess:
    """`communitybot run` in `workdir`, serving Telegram at `base_url`, with COMMUNITY's rules."""
    workdir.mkdir(exist_ok=True)
    bot = BotProcess.telegram(workdir, f"{base_url}/bot", TOKEN, **(QUICK | env))
    (workdir / "community.toml").write_text(COMMUNITY, encoding="utf-8")
    return bot


def acme(conn: Connection) -> Community:
    found = community_by_slug(conn, "acme")
    assert found is not None
    return found


def seed(store: Store, groups: int, now: datetime) -> list[int]:
    """COMMUNITY's rules and `groups` Telegram groups, as a bot that ran before left them; the
    groups' chat ids."""
    config, digest = parse_config(COMMUNITY)
    store.write_now(
        apply_config, config, digest, default_timezone="UTC", default_locale="en", at=now
    )
    chats = [-(8000 + n) for n in range(groups)]
    for chat in chats:
        store.write_now(
            community_for_chat,
            platform="telegram",
            chat_id=str(chat),
            title=f"Group {chat}",
            default_slug="acme",
            at=now,
        )
    return chats


def add_entries(store: Store, lines: list[str], at: datetime) -> list[int]:
    """Calendar entries added by an admin at `at` (so they fire from `at` on); their numbers."""

    def add(conn: Connection) -> list[int]:
        community = acme(conn)
        return [calendar.add_entry(conn, community, line, actor=ADMIN, at=at).id for line in lines]

    return store.write_now(add)


def local(moment: datetime, pattern: str = "%H:%M") -> str:
    return moment.astimezone(SHANGHAI).strftime(pattern)


def topic(n: int) -> str:
    return f"Topic {n:03d} of the week"


def delivered(tg: FakeTelegram, texts: list[str]) -> Counter[tuple[int, str]]:
    """How many messages Telegram took in each chat with each of `texts` in them."""
    return Counter(
        (message.chat_id, text) for message in tg.accepted for text in texts if text in message.text
    )


def outbox_states(bot: BotProcess) -> Counter[str]:
    return Counter(str(state) for (state,) in bot.rows("SELECT state FROM outbox"))


def topic_runs(bot: BotProcess) -> list[tuple[str, str]]:
    """(job, outcome) of every claimed firing of a calendar entry."""
    return [
        (str(job), str(outcome))
        for job, outcome in bot.rows(
            "SELECT job, outcome FROM job_runs WHERE job LIKE 'topic:%' ORDER BY job"
        )
    ]


def ran(log: str) -> int:
    """How many firings a process's log says its sweeps ran."""
    return sum(int(found) for found in re.findall(r"scheduled firings run ran=(\d+)", log))


async def until(predicate: Callable[[], bool], timeout: float = 30, every: float = 0.05) -> None:  # noqa: ASYNC109
    """Wait for something the bot's database shows, read again every `every` seconds."""
    async with asyncio.timeout(timeout):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(every)


# After downtime, within the grace: two processes on one PostgreSQL -----------------------------

ENTRIES, GROUPS = 40, 3


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_two_processes_starting_at_once_post_each_due_topic_once_in_every_group(
    db_url: str, store: Store, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    chats = seed(store, GROUPS, now)
    # Added half an hour ago for a few minutes ago: the bot was down when they fell due.
    due = now - timedelta(minutes=3)
    texts = [topic(n) for n in range(ENTRIES)]
    entries = add_entries(
        store,
        [f"{local(due, '%Y-%m-%d %H:%M')} {text}" for text in texts],
        now - timedelta(minutes=30),
    )
    async with (
        FakeTelegram() as tg,
        Relay(f"http://127.0.0.1:{tg.port}") as a,
        Relay(f"http://127.0.0.1:{tg.port}") as b,
    ):
        bots = [
            bot_at(tmp_path / name, wire.url, DATABASE_URL=db_url)
            for name, wire in (("a", a), ("b", b))
        ]
        processes = await asyncio.gather(*(bot.start() for bot in bots))
        await until(lambda: outbox_states(bots[0]) == {"sent": ENTRIES * GROUPS})
        await tg.wait_for(lambda t: len(t.accepted) >= ENTRIES * GROUPS)
        for process in processes:
            await kill(process)

    assert delivered(tg, texts) == {(chat, text): 1 for chat in chats for text in texts}
    assert len(tg.accepted) == ENTRIES * GROUPS
    assert topic_runs(bots[0]) == sorted((f"topic:{entry}", "ran") for entry in entries)
    # Both processes were serving (each asked Telegram for updates) while the firings ran once:
    # what their logs say they ran adds up to one run per claim (the topics, and whatever
    # daily job of the loyalty engine fell due within the grace at this time of day).
    assert a.forwarded and b.forwarded
    claimed = int(str(bots[0].rows("SELECT count(*) FROM job_runs WHERE outcome = 'ran'")[0][0]))
    assert sum(ran(bot.log()) for bot in bots) == claimed >= ENTRIES


# Killed in the middle of the catch-up sweep on SQLite -----------------------------------------

MANY = 300


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_kill_in_the_middle_of_the_catch_up_loses_and_repeats_no_firing(
    db_url: str, store: Store, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    chats = seed(store, 2, now)
    due = now - timedelta(minutes=3)
    texts = [topic(n) for n in range(MANY)]
    entries = add_entries(
        store, [f"daily {local(due)} {text}" for text in texts], now - timedelta(minutes=30)
    )
    runs = "SELECT count(*) FROM job_runs WHERE job LIKE 'topic:%'"
    async with FakeTelegram() as tg, Relay(f"http://127.0.0.1:{tg.port}") as wire:
        bot = bot_at(tmp_path, wire.url, DATABASE_URL=db_url)
        wire.hold_requests("/sendMessage")  # nothing the first process sends reaches Telegram
        first = await bot.start()
        # Killed once a tenth of the firings are claimed (read every 5 ms).
        await until(lambda: int(str(bot.rows(runs)[0][0])) >= MANY // 10, every=0.005)
        await kill(first)
        claimed = int(str(bot.rows(runs)[0][0]))
        assert 0 < claimed < MANY, (
            f"the catch-up sweep had claimed {claimed} of {MANY} firings at the kill: "
            "make MANY bigger so that the kill lands in its middle"
        )
        await wire.wait_for(lambda w: w.hung_up() == w.held_requests, every=0.05)
        wire.release()  # the dead process's requests are dropped, as cut connections

        second = await bot.start()
        await until(lambda: outbox_states(bot) == {"sent": MANY * len(chats)})
        await tg.wait_for(lambda t: len(t.accepted) >= MANY * len(chats))
        await kill(second)

    assert delivered(tg, texts) == {(chat, text): 1 for chat in chats for text in texts}
    assert len(tg.accepted) == MANY * len(chats)
    assert topic_runs(bot) == sorted((f"topic:{entry}", "ran") for entry in entries)


# After a downtime longer than the grace --------------------------------------------------------


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_after_a_long_downtime_only_firings_within_the_grace_post_and_the_rest_are_logged(
    db_url: str, store: Store, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    chats = seed(store, 2, now)
    old = now - timedelta(hours=2)  # older than the 60 minutes' grace
    fresh = now - timedelta(minutes=5)
    daily, once, recent = add_entries(
        store,
        [f"daily {local(old)} Old daily news"],
        # Since two days before its last firing: three firings missed, on three days.
        old - timedelta(days=2, minutes=30),
    ) + add_entries(
        store,
        [
            f"{local(now - timedelta(minutes=90), '%Y-%m-%d %H:%M')} Yesterday's quiz",
            f"daily {local(fresh)} Fresh news",
        ],
        now - timedelta(hours=3),
    )
    async with FakeTelegram() as tg:
        bot = bot_at(tmp_path, f"http://127.0.0.1:{tg.port}", DATABASE_URL=db_url)
        process = await bot.start()
        await until(lambda: outbox_states(bot) == {"sent": len(chats)})
        await tg.wait_for(lambda t: len(t.accepted) >= len(chats))
        await until(lambda: len(topic_runs(bot)) == 3)
        await kill(process)

    texts = ["Old daily news", "Yesterday's quiz", "Fresh news"]
    assert delivered(tg, texts) == {(chat, "Fresh news"): 1 for chat in chats}
    assert topic_runs(bot) == sorted(
        [(f"topic:{daily}", "missed"), (f"topic:{once}", "missed"), (f"topic:{recent}", "ran")]
    )
    # One warning per job: how many of its firings were skipped, and the newest one (the one
    # claimed as missed, so that the next start looks back no further).
    skipped = [line for line in bot.log().splitlines() if "scheduled firings skipped" in line]
    newest = old.replace(second=0, microsecond=0).isoformat()
    jobs = [line.split(" job=")[1].split()[0] for line in skipped]
    assert len(jobs) == len(set(jobs))
    assert f"job=topic:{daily} skipped=3 newest={newest}" in "\n".join(skipped)
    assert f"job=topic:{once} skipped=1 " in "\n".join(skipped)
    assert f"job=topic:{recent} " not in "\n".join(skipped)
