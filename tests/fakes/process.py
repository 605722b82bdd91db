"""The real `communitybot run` in a process of its own, pointed at a fake platform: what an
operator starts, so what it prints and how it exits are tested as they would see them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from tests.conftest import TEST_COMMUNITY

# discord.py has no setting for its URLs: the process points them at the fake (from the
# environment) before the command line runs, exactly as the in-process tests do.
_DISCORD_AT_FAKE = """
import os, sys, yarl, discord.gateway, discord.http
discord.http.Route.BASE = os.environ["FAKE_DISCORD_API"]
discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(os.environ["FAKE_DISCORD_GATEWAY"])
sys.argv = ["communitybot", "run"]
from bot.cli import main
main()
"""


class BotProcess:
    """`python -m bot run` in `workdir` (its SQLite database, log file and community.toml)."""

    def __init__(self, workdir: Path, argv: Sequence[str] = ("-m", "bot", "run"), **env: str):
        self.workdir = workdir
        self.argv = tuple(argv)
        (workdir / "community.toml").write_text(TEST_COMMUNITY, encoding="utf-8")
        self.env = {k: v for k, v in os.environ.items() if not k.endswith("_TOKEN")}
        self.env.update(
            DATABASE_URL=f"sqlite:///{workdir / 'bot.sqlite3'}",
            LOG_FILE=str(workdir / "bot.log"),
            **env,
        )

    @classmethod
    def telegram(cls, workdir: Path, base_url: str, token: str) -> BotProcess:
        """The bot serving Telegram through the Bot API at `base_url`."""
        return cls(workdir, TELEGRAM_TOKEN=token, TELEGRAM_BASE_URL=base_url)

    @classmethod
    def discord(cls, workdir: Path, base_url: str, ws_url: str, token: str) -> BotProcess:
        """The bot serving Discord through the fake's REST API and gateway."""
        return cls(
            workdir,
            ("-c", _DISCORD_AT_FAKE),
            DISCORD_TOKEN=token,
            FAKE_DISCORD_API=f"{base_url}/api/v10",
            FAKE_DISCORD_GATEWAY=ws_url,
        )

    async def start(self) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            *self.argv,
            cwd=self.workdir,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[asyncio.subprocess.Process]:
        """The started process; killed at the end unless it exited by itself."""
        process = await self.start()
        try:
            yield process
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()

    def rows(self, sql: str) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.workdir / "bot.sqlite3") as db:
            return db.execute(sql).fetchall()

    def log(self) -> str:
        return (self.workdir / "bot.log").read_text(encoding="utf-8")


async def stop(process: asyncio.subprocess.Process) -> str:
    """SIGTERM, as a service manager stops it; returns its stderr after a clean exit."""
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    return stderr.decode()


async def gave_up(process: asyncio.subprocess.Process, timeout: float = 60) -> str:  # noqa: ASYNC109
    """Wait for the process to exit by itself; assert it said why in one line and exited 2
    (as for every reason it cannot serve), and return that line."""
    _, stderr = await asyncio.wait_for(process.communicate(), timeout)
    lines = stderr.decode().strip().splitlines()
    assert process.returncode == 2, lines
    assert len(lines) == 1 and lines[0].startswith("communitybot: cannot serve:"), lines
    return lines[0]
