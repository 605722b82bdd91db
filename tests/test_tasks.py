"""Work from no chat (a scheduled firing, a shop, the operator's CLI): once per key, in its
community, registering nobody."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Table, func, select

from community import announcements
from community.audit import Actor
from handlers.tasks import TaskContext, Tasks, UnknownCommunity
from storage.schema import audit_log, groups, members, outbox
from storage.store import Store
from tests.conftest import TEST_COMMUNITY
from tests.harness import Chat, Clock

OPERATOR = Actor(None, "operator:test")


def _announce(task: TaskContext) -> int:
    sent = announcements.announce(
        task.conn, task.community, "Flash sale", actor=OPERATOR, key="t1", at=task.now
    )
    task.outbox_platforms.update(sent.platforms)
    return sent.queued


async def test_a_task_runs_once_per_key_and_registers_nobody(
    chat: Chat, store: Store, clock: Clock
) -> None:
    await chat.say("alice", "hello")  # one group, one member
    woken: list[str] = []
    tasks = Tasks(store, queued=woken.append, clock=clock)
    first = await tasks.run("job:1", "acme", _announce)
    again = await tasks.run("job:1", "acme", _announce)
    assert (first.result, first.duplicate) == (1, False)
    assert (again.result, again.duplicate) == (None, True)
    assert woken == ["console"]

    def count(table: Table) -> int:
        return store.read_now(
            lambda c: c.execute(select(func.count()).select_from(table)).scalar_one()
        )

    # "hello" got no answer; the one group got the one post, once.
    assert (count(members), count(groups), count(outbox)) == (1, 1, 1)
    assert count(audit_log) == 1


async def test_a_task_for_a_community_that_does_not_exist_changes_nothing(
    store: Store, clock: Clock
) -> None:
    with pytest.raises(UnknownCommunity):
        await Tasks(store, clock=clock).run("job:2", "nope", _announce)


def test_the_operator_announces_from_the_command_line_and_the_console_shows_it(
    tmp_path: Path,
) -> None:
    (tmp_path / "community.toml").write_text(TEST_COMMUNITY, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_TOKEN")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'bot.sqlite3'}"

    def bot(*args: str, script: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            input=script,
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env=env,
            timeout=60,
            check=False,
        )

    assert bot("run", script=":as alice\nhello\n:chat shop\nhi\n").returncode == 0
    queued = bot("announce", "Flash sale at 8 pm", "--key", "k1")
    assert queued.returncode == 0, queued.stderr
    assert "queued for 2 group(s)" in queued.stdout
    assert "before" in bot("announce", "Flash sale at 8 pm", "--key", "k1").stdout
    refused = bot("announce", "x", "--community", "nope")
    assert refused.returncode == 2 and "no community is called 'nope'" in refused.stderr
    shown = bot("run", script="/points\n")
    assert shown.returncode == 0, shown.stderr
    assert "[group lobby] 📣 Acme" in shown.stdout and "[group shop] 📣 Acme" in shown.stdout
    assert shown.stdout.count("Flash sale at 8 pm") == 2
