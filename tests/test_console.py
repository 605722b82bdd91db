"""The console chat, as a newcomer meets it: in-process for detail, and the real CLI end to end."""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.rendering import Renderer, plain_text
from handlers.router import Dispatcher
from tests.conftest import TEST_COMMUNITY

ROOT = Path(__file__).resolve().parent.parent


async def run_console(dispatcher: Dispatcher, script: str) -> str:
    out = io.StringIO()
    console = ConsoleAdapter(
        dispatcher,
        Renderer(plain_text),
        locale="en",
        timezone=ZoneInfo("Asia/Shanghai"),
        stdin=io.StringIO(script),
        stdout=out,
        interactive=False,
        clock=lambda: datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
    )
    await console.run()
    return out.getvalue()


async def test_console_session_checkin_then_next_day(dispatcher: Dispatcher) -> None:
    output = await run_console(
        dispatcher,
        ":as alice\n/checkin\n/checkin\n:time 2026-11-24T09:00\n签到\n/points\n:quit\n/never\n",
    )
    assert 'you are alice in group "lobby"' in output
    assert "+10 points" in output and "already checked in today" in output
    assert "the clock now reads 2026-11-24 09:00 Asia/Shanghai" in output
    assert "Streak: 2 days · Balance: 20 points" in output
    assert "you have 20 points" in output
    assert "/never" not in output and output.rstrip().endswith("[console] bye!")


async def test_console_admin_switch_and_chats(dispatcher: Dispatcher) -> None:
    output = await run_console(
        dispatcher,
        ":as bob\n/checkin\n:as carol\n/award @bob 5 hi\n:admin on\n/award @bob 5 hi\n"
        ":chat other-group\n/me\n:admin maybe\n:time not-a-time\n",
    )
    assert "Sorry, /award is for community admins only." in output
    assert "you are carol (admin)" in output
    assert "bob received 5 points for: hi. New balance: 15." in output
    assert 'group "other-group"' in output and "Points: 0" in output
    assert 'unknown console line ":admin maybe"' in output
    assert '"not-a-time" is not a time I understand' in output


async def test_console_strips_terminal_escapes_from_user_text(dispatcher: Dispatcher) -> None:
    output = await run_console(dispatcher, ":as evil\x1b[2J\x07name\n/checkin\n")
    assert "\x1b" not in output and "\x07" not in output
    assert "Checked in, evil[2Jname!" in output


def cli(tmp_path: Path, script: str, *, command: str = "run") -> subprocess.CompletedProcess[str]:
    """Run `python -m bot run` as `make run` does, in a fresh folder, with piped input."""
    clean = {k: v for k, v in os.environ.items() if not k.endswith("_TOKEN")}
    clean["DATABASE_URL"] = f"sqlite:///{tmp_path / 'data' / 'bot.sqlite3'}"
    return subprocess.run(
        [sys.executable, "-m", "bot", command],
        input=script,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean,
        timeout=60,
        check=False,
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "community.toml").write_text(TEST_COMMUNITY, encoding="utf-8")
    return tmp_path


def test_piped_cli_session_checks_in_and_survives_a_restart(workdir: Path) -> None:
    first = cli(workdir, ":as alice\n/checkin\n/points\n")
    assert first.returncode == 0, first.stderr
    assert "+10 points" in first.stdout and "Balance: 10 points" in first.stdout
    assert "alice, you have 10 points" in first.stdout
    assert first.stderr == ""
    again = cli(workdir, ":as alice\n/points\n")
    assert again.returncode == 0
    assert "alice, you have 10 points" in again.stdout


def test_cli_reports_a_corrupt_community_file_in_one_line(workdir: Path) -> None:
    (workdir / "community.toml").write_text("[checkin\npoints = 10\n", encoding="utf-8")
    result = cli(workdir, "/checkin\n")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "community.toml" in lines[0] and "not valid TOML" in lines[0]


def test_cli_reports_a_bad_rule_in_one_line(workdir: Path) -> None:
    (workdir / "community.toml").write_text("[checkin]\npoints = -5\n", encoding="utf-8")
    result = cli(workdir, "/checkin\n")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "communitybot: community.toml: checkin.points: Input should be greater than or equal to 0"
    ]


def test_cli_reports_a_missing_community_file(tmp_path: Path) -> None:
    result = cli(tmp_path, "/checkin\n")
    assert result.returncode == 2
    assert "community.toml: cannot read community file" in result.stderr


def test_cli_help_explains_run_and_migrate() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--help"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0
    assert "run" in result.stdout and "migrate" in result.stdout


def test_migrate_command_creates_the_schema(tmp_path: Path) -> None:
    result = cli(tmp_path, "", command="migrate")
    assert result.returncode == 0, result.stderr
    assert "database is up to date" in result.stdout
    with sqlite3.connect(tmp_path / "data" / "bot.sqlite3") as db:
        tables = {r[0] for r in db.execute("select name from sqlite_master where type='table'")}
    assert {"ledger", "balances", "checkins", "members", "accounts", "audit_log"} <= tables
