"""A contest on the console, end to end in English and Chinese: an admin starts it, the clock is
moved past its close (the vote is posted, each entry with its button), members vote, the clock
is moved past the vote's end (the results are posted, the winner told privately)."""

from __future__ import annotations

from handlers.router import Dispatcher
from storage.store import Store
from tests.conftest import reconfigure
from tests.test_console import CONSOLE_CLOCK, run_console
from tests.test_contest import submit


async def test_a_contest_on_the_console_in_english(dispatcher: Dispatcher, store: Store) -> None:
    opened = await run_console(
        dispatcher,
        ":as alice\n/checkin\n:as bob\n/checkin\n:as boss\n"
        "/contest start Winter photos --until 11-25 --category purchase --prizes 300,200\n",
        scheduled=True,
    )
    assert "🏆 Contest #1 “Winter photos” is open for entries until 2026-11-26 00:00" in opened
    assert "🏆 New contest #1: Winter photos" in opened
    entry = submit(store, "alice", "Snow on my new boots", CONSOLE_CLOCK, photo=b"\xff\xd8jpeg")
    voted = await run_console(
        dispatcher,
        f":time 2026-11-26T00:00\n:as bob\n/contest vote 1 {entry}\n/contest vote 1 {entry}\n"
        ":as alice\n/contest 1\n:time 2026-11-28T00:01\n/points\n",
        scheduled=True,
    )
    assert "🗳 Contest #1 “Winter photos” is closed: time to vote! 1 entry below." in voted
    assert f"entry #{entry} by alice\nSnow on my new boots" in voted
    assert "[console] photo photo.jpg saved as" in voted  # its photo, shown with it
    assert f"🗳 Your vote for entry #{entry} by alice in contest #1 is counted." in voted
    assert "You have already voted in contest #1" in voted
    assert f"#{entry} alice 📷: Snow on my new boots — 1 vote" in voted
    assert f"🥇 1st #{entry} alice — 1 vote: +300 points" in voted
    assert f"[dm alice] 🎉 Your entry #{entry} won 🥇 1st place" in voted
    assert "you have 310 points" in voted


async def test_a_contest_on_the_console_in_chinese(dispatcher: Dispatcher, store: Store) -> None:
    reconfigure(store, locale="zh_CN")
    opened = await run_console(
        dispatcher,
        ":as alice\n/checkin\n:as bob\n/checkin\n:as boss\n"
        "/contest 发起 冬季摄影大赛 --截止 11月25日 --分类 晒单\n"
        "/contest 发起 太早了 --截止 2026-11-01\n",
        scheduled=True,
    )
    assert "🏆 征集 #1“冬季摄影大赛”已开始，投稿截止 2026-11-26 00:00（晒单）" in opened
    assert "📥 2026-11-26 00:00 前发送 /submit 晒单 你的内容" in opened
    assert "2026-11-02 00:00 已经过去了，截止时间需要在将来。" in opened
    entry = submit(store, "alice", "雪地靴", CONSOLE_CLOCK)
    voted = await run_console(
        dispatcher,
        f":time 2026-11-26T00:00\n:as alice\n/contest 投票 1 {entry}\n:as bob\n"
        f"/contest 投票 1 {entry}\n:time 2026-11-28T00:01\n",
        scheduled=True,
    )
    assert "🗳 征集 #1“冬季摄影大赛”已截止，开始投票！共 1 个作品。" in voted
    assert f"作品 #{entry} 是你自己的，请在征集 #1 中投给别人的作品。" in voted
    assert f"🗳 已记录你在征集 #1 中投给 alice 的作品 #{entry}，谢谢！" in voted
    assert f"🥇 第一名 #{entry} alice —— 1 票：+300 积分" in voted
    assert f"🎉 你的作品 #{entry} 以 1 票获得征集 #1“冬季摄影大赛”的🥇 第一名！" in voted
