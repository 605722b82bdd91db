"""Restart safety on Telegram: the real `communitybot run` process, killed mid-update.

Telegram forgets an update as soon as the next getUpdates carries a higher offset. The bot
must have the update on disk by then, so a kill between "confirmed" and "handled" loses
nothing, and a restart must not handle it twice.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.conftest import TEST_COMMUNITY
from tests.fakes.telegram_api import FakeTelegram

TOKEN = "424242:RESTART-token"
GROUP = -2002


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


class BotProcess:
    """`python -m bot run` with the Telegram adapter pointed at the fake."""

    def __init__(self, workdir: Path, base_url: str) -> None:
        self.workdir = workdir
        self.env = {k: v for k, v in os.environ.items() if not k.endswith("_TOKEN")}
        self.env.update(
            DATABASE_URL=f"sqlite:///{workdir / 'bot.sqlite3'}",
            TELEGRAM_TOKEN=TOKEN,
            TELEGRAM_BASE_URL=base_url,
            LOG_FILE=str(workdir / "bot.log"),
        )

    async def start(self) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=self.workdir,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )

    def rows(self, sql: str) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.workdir / "bot.sqlite3") as db:
            return db.execute(sql).fetchall()


async def stop(process: asyncio.subprocess.Process) -> str:
    """SIGTERM, as a service manager stops it; returns its stderr after a clean exit."""
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    return stderr.decode()


async def test_a_killed_bot_neither_loses_nor_repeats_a_checkin(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    (tmp_path / "community.toml").write_text(TEST_COMMUNITY, encoding="utf-8")
    bot = BotProcess(tmp_path, tg.base_url)
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
    assert TOKEN not in (tmp_path / "bot.log").read_text(encoding="utf-8")


async def test_an_unreachable_bot_api_stops_run_with_one_line_and_no_token(
    tmp_path: Path, unused_tcp_port: int
) -> None:
    (tmp_path / "community.toml").write_text(TEST_COMMUNITY, encoding="utf-8")
    bot = BotProcess(tmp_path, f"http://127.0.0.1:{unused_tcp_port}/bot")
    process = await bot.start()
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    lines = stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("communitybot: cannot serve:"), lines
    assert TOKEN not in stderr.decode()
    assert TOKEN not in (tmp_path / "bot.log").read_text(encoding="utf-8")
