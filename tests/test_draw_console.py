"""A lucky draw on the console, end to end in English and Chinese: an admin starts it, members
enter (the button is a line to type there), the clock is moved past its close (the result with
the seed is posted, the winner told privately), and the entrants' CSV is written to a file."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from handlers.router import Dispatcher
from storage.store import Store
from tests.conftest import reconfigure
from tests.test_console import run_console


def read_lines(path: str) -> list[str]:
    """The lines of a CSV the console wrote (UTF-8 with a byte order mark)."""
    return Path(path).read_text(encoding="utf-8-sig").splitlines()


async def test_a_draw_on_the_console_in_english(
    dispatcher: Dispatcher, store: Store, tmp_path: Path
) -> None:
    output = await run_console(
        dispatcher,
        ":as boss\n/draw start A tote bag --winners 1 --until 20:00 --points 30\n"
        ":as alice\n/draw enter 1\n/draw enter 1\n:as bob\n/draw enter 1\n"
        ":time 2026-11-23T20:00\n:as bob\n/draw enter 1\n/draw entrants 1\n",
        scheduled=True,
        exports=tmp_path,
    )
    assert "🎁 Lucky draw #1: A tote bag (+30 points to each winner)" in output
    assert "Press the button below to enter (or send /draw enter 1)." in output
    assert "🎟 alice, you are in lucky draw #1 (A tote bag) with entry #1." in output
    assert "You are in lucky draw #1 already (entry #1)" in output
    assert "🎟 bob, you are in lucky draw #1 (A tote bag) with entry #2." in output
    commitment = re.search(r"🔒 Commitment: ([0-9a-f]{64})", output)
    seed = re.search(r"🔑 Seed: ([0-9a-f]{64})", output)
    assert commitment and seed
    assert hashlib.sha256(seed[1].encode()).hexdigest() == commitment[1]
    winner = min((1, 2), key=lambda n: hashlib.sha256(f"{seed[1]}:{n}".encode()).hexdigest())
    name = {1: "alice", 2: "bob"}[winner]
    assert f"1. {name} (entry #{winner}) +30 points" in output
    assert f"[dm {name}] 🎉 You won lucky draw #1: A tote bag (place 1, entry #{winner})" in output
    assert "Lucky draw #1 (A tote bag) has been drawn, so it takes no more entries." in output
    [written] = re.findall(r"📎 (.+draw-1-entrants.*\.csv)", output)
    lines = read_lines(written)
    assert [line.split(",")[:2] for line in lines[1:]] == [["1", "alice"], ["2", "bob"]]


async def test_a_draw_on_the_console_in_chinese(
    dispatcher: Dispatcher, store: Store, tmp_path: Path
) -> None:
    reconfigure(store, locale="zh_CN")
    output = await run_console(
        dispatcher,
        ":as boss\n/draw 开始 帆布袋 --名额 2 --截止 晚上8点 --条件 cost=5\n"
        ":as alice\n/draw 参加 1\n签到\n/draw 参加 1\n:time 2026-11-23T20:00\n/draw 1\n",
        scheduled=True,
        exports=tmp_path,
    )
    assert "🎁 抽奖 #1：帆布袋\n🏆 共 2 名中奖者" in output
    assert "✅ 参与条件：报名费 5 积分" in output
    assert "参加抽奖 #1 需要 5 积分，你目前有 0 积分。未做任何更改。" in output
    assert (
        "🎟 alice，你已参加抽奖 #1（帆布袋），参与编号 #1。已扣报名费 5 积分，当前余额 5。" in output
    )
    assert "🎉 抽奖 #1 开奖：帆布袋\n🏅 共 1 人参加，中奖者：\n1. alice（参与编号 #1）" in output
    assert "🏅 中奖名单：\n1. alice（参与编号 #1）" in output
