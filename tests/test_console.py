"""The console chat, as a newcomer meets it: in-process for detail, and the real CLI end to end."""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.adapters.console import ConsoleAdapter
from bot.delivery.documents import EXPORTS_FOLDER
from bot.rendering import Renderer, plain_text
from handlers.firings import Firings
from handlers.ports import Deliveries
from handlers.router import Dispatcher
from tests.conftest import TEST_COMMUNITY

ROOT = Path(__file__).resolve().parent.parent


# The console's own clock in these sessions: 09:00 in Shanghai (":time" moves it).
CONSOLE_CLOCK = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


async def run_console(
    dispatcher: Dispatcher,
    script: str,
    *,
    locale: str = "en",
    scheduled: bool = False,
    admins: tuple[str, ...] = (),
    exports: Path = EXPORTS_FOLDER,
) -> str:
    """What the console prints for `script`. `scheduled`: the console's clock, moved by
    :time, runs the schedule as `make run` does (`admins`, community.toml's, for the work that
    tells them something); `exports`: where the files it is sent are written."""
    out = io.StringIO()
    # Copies of the files replies show go to a folder of the test's, not the checkout's data/.
    media = Path(tempfile.mkdtemp(prefix="console-media-"))
    clock = lambda: CONSOLE_CLOCK  # noqa: E731
    firings = Firings(dispatcher.store, clock=clock, replay=True, admins=admins)
    console = ConsoleAdapter(
        dispatcher,
        Renderer(plain_text),
        locale=locale,
        timezone=ZoneInfo("Asia/Shanghai"),
        stdin=io.StringIO(script),
        stdout=out,
        interactive=False,
        deliveries=Deliveries(dispatcher.store, dispatcher.clock),
        firings=firings if scheduled else None,
        clock=clock,
        exports=exports,
        media=media,
    )
    try:
        await console.run()
    finally:
        shutil.rmtree(media, ignore_errors=True)
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
    assert "bob (@bob) received 5 points for: hi. New balance: 15." in output
    assert 'group "other-group"' in output and "Points: 0" in output
    assert 'unknown console line ":admin maybe"' in output
    assert '"not-a-time" is not a time I understand' in output


async def test_console_strips_terminal_escapes_from_user_text(dispatcher: Dispatcher) -> None:
    output = await run_console(dispatcher, ":as evil\x1b[2J\x07name\n/checkin\n")
    assert "\x1b" not in output and "\x07" not in output
    assert "Checked in, evil[2Jname!" in output


def cli(
    tmp_path: Path, script: str, *, command: str = "run", **env: str
) -> subprocess.CompletedProcess[str]:
    """Run `python -m bot run` as `make run` does, in a fresh folder, with piped input."""
    clean = {k: v for k, v in os.environ.items() if not k.endswith("_TOKEN")}
    clean["DATABASE_URL"] = f"sqlite:///{tmp_path / 'data' / 'bot.sqlite3'}"
    clean.update(env)
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
    (workdir / "community.toml").write_text("[earning.checkin]\npoints = -5\n", encoding="utf-8")
    result = cli(workdir, "/checkin\n")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "communitybot: community.toml: earning.checkin.points:"
        " Input should be greater than or equal to 0"
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


@pytest.mark.parametrize(
    ("setting", "value", "says"),
    [
        ("DATABASE_URL", "nonsense", "DATABASE_URL: not a database URL"),
        ("DATABASE_URL", "sqlite://", "SQLite needs a file"),
        ("DATABASE_URL", "mysql://u@h/db", "'mysql' is not supported"),
        ("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/x", "Connection refused"),
        ("DEFAULT_TIMEZONE", "Mars/Base", "unknown timezone 'Mars/Base'"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL: Input should be"),
        ("LOG_FILE", "/proc/no-such-dir/bot.log", "cannot write logs to /proc/no-such-dir/bot.log"),
    ],
)
def test_bad_settings_stop_run_with_one_line(
    workdir: Path, setting: str, value: str, says: str
) -> None:
    result = cli(workdir, "/checkin\n", **{setting: value})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], result.stderr
    assert "Traceback" not in result.stdout


def test_a_junk_database_file_stops_run_with_one_line(workdir: Path) -> None:
    (workdir / "junk.db").write_text("not a database", encoding="utf-8")
    result = cli(workdir, "", DATABASE_URL=f"sqlite:///{workdir / 'junk.db'}")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"communitybot: database sqlite:///{workdir / 'junk.db'}: file is not a database"
    ]


def test_an_unreadable_env_file_stops_run_with_one_line(workdir: Path) -> None:
    (workdir / ".env").write_bytes(b"\xff\xfeDATABASE_URL=x\n")
    result = cli(workdir, "")
    assert result.returncode == 2
    assert result.stderr.startswith("communitybot: settings: cannot read .env")
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_renamed_community_slug_stops_run_instead_of_splitting_the_community(
    workdir: Path,
) -> None:
    assert cli(workdir, ":as alice\n/checkin\n").returncode == 0
    toml = workdir / "community.toml"
    toml.write_text(TEST_COMMUNITY.replace('slug = "acme"', 'slug = "acme2"'), encoding="utf-8")
    result = cli(workdir, "/points\n")
    assert result.returncode == 2
    assert "a slug cannot change" in result.stderr and "'acme'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_changed_rules_apply_on_restart(workdir: Path) -> None:
    assert cli(workdir, ":as alice\n/checkin\n").returncode == 0
    toml = workdir / "community.toml"
    toml.write_text(TEST_COMMUNITY.replace('locale = "en"', 'locale = "zh_CN"'), encoding="utf-8")
    result = cli(workdir, ":as alice\n/points\n")
    assert "alice，你共有 10 积分。" in result.stdout


async def test_console_survives_odd_names_and_times(dispatcher: Dispatcher) -> None:
    output = await run_console(
        dispatcher,
        "\ufeff:as nul\x00name\n/checkin\n"
        f":as {'ß' * 64}\n/checkin\n"
        ":chat g\x00x\n/me\n"
        ":time 0001-01-01T00:00\n:time 9999-12-31T23:59\n/points\n",
    )
    assert "Something went wrong" not in output
    assert output.count("+10 points") == 2
    assert output.count("is not a time I understand") == 2
    assert "you have 10 points" in output


def test_a_clock_moved_ahead_prints_announcements_and_every_scheduled_post_in_order(
    workdir: Path,
) -> None:
    # Answers are written at the console's moved time, scheduled posts at the real one:
    # both print, and every topic between the two :time lines, in order.
    result = cli(
        workdir,
        ":as boss\n:time 2030-01-01T09:00\n/announce hello all\n"
        "/topic add daily 10:00 Tea time\n:time 2030-01-03T10:30\n",
    )
    assert result.returncode == 0, result.stderr
    assert "[group lobby] 📣 Acme Fans\nhello all" in result.stdout
    assert result.stdout.count("[group lobby] 🗓 Today's topic\nTea time") == 3
