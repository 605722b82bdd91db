"""The real `communitybot run` in a process of its own, pointed at a fake platform: what an
operator starts, so what it prints and how it exits are tested as they would see them.

`Relay` sits between such a process and a fake platform when a test needs the wire itself: a
request held before the platform sees it, or the platform's answer held after it took the
message (the window between a send and its mark, where a kill -9 makes a message go twice)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Self

import aiohttp
from aiohttp import web
from sqlalchemy import create_engine, text

from storage.engine import normalize_url
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
    """`python -m bot run` in `workdir` (its SQLite database, log file and community.toml);
    `env` adds or overrides settings (DATABASE_URL for another database, the delivery
    settings, ...)."""

    def __init__(self, workdir: Path, argv: Sequence[str] = ("-m", "bot", "run"), **env: str):
        self.workdir = workdir
        self.argv = tuple(argv)
        (workdir / "community.toml").write_text(TEST_COMMUNITY, encoding="utf-8")
        self.env = {k: v for k, v in os.environ.items() if not k.endswith("_TOKEN")}
        self.env.update(
            DATABASE_URL=f"sqlite:///{workdir / 'bot.sqlite3'}", LOG_FILE=str(workdir / "bot.log")
        )
        self.env.update(env)

    @classmethod
    def telegram(cls, workdir: Path, base_url: str, token: str, **env: str) -> BotProcess:
        """The bot serving Telegram through the Bot API at `base_url`."""
        return cls(workdir, TELEGRAM_TOKEN=token, TELEGRAM_BASE_URL=base_url, **env)

    @classmethod
    def discord(
        cls, workdir: Path, base_url: str, ws_url: str, token: str, **env: str
    ) -> BotProcess:
        """The bot serving Discord through the fake's REST API and gateway."""
        return cls(
            workdir,
            ("-c", _DISCORD_AT_FAKE),
            DISCORD_TOKEN=token,
            FAKE_DISCORD_API=f"{base_url}/api/v10",
            FAKE_DISCORD_GATEWAY=ws_url,
            **env,
        )

    @property
    def database_url(self) -> str:
        return self.env["DATABASE_URL"]

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

    async def command(self, *args: str) -> tuple[int, str]:
        """Another `communitybot` command (`announce TEXT`, `migrate`) with this process's
        settings, but no platform token; its exit code and what it printed."""
        env = {k: v for k, v in self.env.items() if not k.endswith("_TOKEN")}
        done = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            *args,
            cwd=self.workdir,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await done.communicate()
        return done.returncode or 0, out.decode()

    def rows(self, sql: str) -> list[tuple[object, ...]]:
        """What a query reads from the process's database (SQLite or PostgreSQL)."""
        url = self.database_url
        if url.startswith("sqlite:///"):
            with contextlib.closing(sqlite3.connect(url.removeprefix("sqlite:///"))) as db:
                return db.execute(sql).fetchall()
        engine = create_engine(normalize_url(url))
        try:
            with engine.connect() as conn:
                return [tuple(row) for row in conn.execute(text(sql))]
        finally:
            engine.dispose()

    def log(self) -> str:
        return (self.workdir / "bot.log").read_text(encoding="utf-8")


async def stop(process: asyncio.subprocess.Process) -> str:
    """SIGTERM, as a service manager stops it; returns its stderr after a clean exit."""
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, stderr.decode()
    return stderr.decode()


async def kill(process: asyncio.subprocess.Process) -> None:
    """kill -9: nothing of the process runs after this, not even its finally blocks."""
    process.kill()
    await process.wait()


async def gave_up(process: asyncio.subprocess.Process, timeout: float = 60) -> str:  # noqa: ASYNC109
    """Wait for the process to exit by itself; assert it said why in one line and exited 2
    (as for every reason it cannot serve), and return that line."""
    _, stderr = await asyncio.wait_for(process.communicate(), timeout)
    lines = stderr.decode().strip().splitlines()
    assert process.returncode == 2, lines
    assert len(lines) == 1 and lines[0].startswith("communitybot: cannot serve:"), lines
    return lines[0]


# Hop-by-hop headers, and those the relay's own client and server set for themselves.
_OWN_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "keep-alive", "content-encoding"}
)


class Relay:
    """An HTTP relay on 127.0.0.1 in front of a fake platform (`upstream`: its root URL).

    Everything passes through unchanged unless held: `hold_requests(path_end)` keeps POSTs
    whose path ends so from the platform until `release()` (a request whose sender hung up
    meanwhile is dropped there, as a connection cut before the platform read it);
    `hold_answers(path_end)` lets the platform take them and keeps its answers until then.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.port = 0
        self.held_requests = 0  # requests waiting now, before the platform
        self.held_answers = 0  # answers waiting now, the platform having taken the request
        self.dropped = 0  # held requests whose sender had hung up when released
        self.answers_lost = 0  # held answers whose sender had hung up when released
        self.forwarded: list[str] = []  # "METHOD /path" of every request passed on, in order
        self._held: list[web.Request] = []
        self._request_rules: set[str] = set()
        self._answer_rules: set[str] = set()
        self._released = asyncio.Event()
        self._change = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> Self:
        app = web.Application(client_max_size=64 << 20)
        app.router.add_route("*", "/{tail:.*}", self._relay)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))
        return self

    async def stop(self) -> None:
        self.release()
        if self._session is not None:
            await self._session.close()  # requests still on their way (long polls) end now
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def hold_requests(self, path_end: str) -> None:
        self._request_rules.add(path_end)

    def hold_answers(self, path_end: str) -> None:
        self._answer_rules.add(path_end)

    def release(self) -> None:
        """Let everything held go on, and hold nothing more."""
        self._request_rules.clear()
        self._answer_rules.clear()
        self._released.set()
        self._released = asyncio.Event()

    async def wait_for(
        self,
        predicate: Callable[[Relay], bool],
        timeout: float = 30,  # noqa: ASYNC109 - a deadline for the predicate, not for I/O
        *,
        every: float | None = None,
    ) -> None:
        """Wait until `predicate(self)` holds, re-checked whenever something is held or let go,
        and every `every` seconds if given (a sender hanging up changes nothing here)."""
        async with asyncio.timeout(timeout):
            while not predicate(self):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._change.wait(), every)

    def posted(self, path_end: str) -> int:
        """How many POSTs whose path ends so were passed on to the platform."""
        return sum(call.startswith("POST ") and call.endswith(path_end) for call in self.forwarded)

    def hung_up(self) -> int:
        """How many of the requests held now were given up by their sender (killed, timed out)."""
        return sum(_hung_up(request) for request in self._held)

    def _changed(self) -> None:
        event, self._change = self._change, asyncio.Event()
        event.set()

    @staticmethod
    def _matches(rules: set[str], request: web.Request) -> bool:
        return request.method == "POST" and any(request.path.endswith(end) for end in rules)

    async def _relay(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if self._matches(self._request_rules, request):
            released = self._released
            self.held_requests += 1
            self._held.append(request)
            self._changed()
            await released.wait()
            self._held.remove(request)
            self.held_requests -= 1
            self._changed()
            if _hung_up(request):
                self.dropped += 1
                return web.Response(status=499)
        if self._session is None or self._session.closed:
            return web.Response(status=502)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _OWN_HEADERS}
        self.forwarded.append(f"{request.method} {request.path}")
        try:
            async with self._session.request(
                request.method, self.upstream + request.path_qs, data=body, headers=headers
            ) as answer:
                content = await answer.read()
                status = answer.status
                back = {k: v for k, v in answer.headers.items() if k.lower() not in _OWN_HEADERS}
        except aiohttp.ClientError:
            return web.Response(status=502)  # the platform went away (the test is ending)
        if self._matches(self._answer_rules, request):
            released = self._released
            self.held_answers += 1
            self._changed()
            await released.wait()
            self.held_answers -= 1
            self.answers_lost += _hung_up(request)
            self._changed()
        return web.Response(body=content, status=status, headers=back)


def _hung_up(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()
