"""/draw through the real core, with the clock moved: an admin starts a draw in every group,
members enter with its button (told privately), the scheduler draws it at its close (seed
revealed, winners told and paid once), cancels give fees back; bad input changes nothing; in
English and Chinese."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest

from handlers.firings import Firings
from handlers.router import Dispatcher
from handlers.types import Visibility
from storage.draw_tables import draw_entries, draws
from storage.schema import audit_log
from storage.store import Store
from tests.conftest import reconfigure
from tests.harness import Chat, Clock, Said, ledger_state, posted, rows

CLOSE = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # 20:00 in the community's Asia/Shanghai


@pytest.fixture
def discord(dispatcher: Dispatcher, clock: Clock) -> Chat:
    """A Discord group of the same community."""
    return Chat(dispatcher, clock, platform="discord", chat_id="discord-group")


@pytest.fixture
async def firings(store: Store, clock: Clock) -> Firings:
    swept = Firings(store, clock=clock)
    await swept.sweep(clock.now)  # the process has started
    return swept


def recompute(seed: str, numbers: list[int], how_many: int) -> list[int]:
    """The README's few lines: what anyone checking the draw runs."""
    return sorted(numbers, key=lambda n: hashlib.sha256(f"{seed}:{n}".encode()).hexdigest())[
        :how_many
    ]


def words(said: Said) -> str:
    assert said.text is not None, "the bot did not answer"
    return said.text


async def test_a_draw_is_announced_entered_by_button_and_drawn_verifiably_at_its_close(
    chat: Chat, discord: Chat, store: Store, firings: Firings, clock: Clock, woken: list[str]
) -> None:
    await discord.say("dora", "hi")  # the Discord group is known to the bot
    started = await chat.say(
        "boss", "/draw start A tote bag --winners 2 --until 20:00 --entry checkin --points 50"
    )
    assert words(started).startswith("🎁 Lucky draw #1 is open: its post went to 2 groups.")
    assert "schedule" in woken
    [(_, here), (_, there)] = posted(store)
    assert here == there and here.startswith("🎁 Lucky draw #1: A tote bag (+50 points")
    [draw] = rows(store, draws)
    assert f"🔒 Commitment: {draw.commitment}" in here and draw.seed not in here
    assert "✅ To enter: checked in today" in here
    assert started.outcome.reply is not None

    refused = await chat.press("alice", "/draw enter 1")
    assert refused.outcome.reply is not None
    assert refused.outcome.reply.visibility is Visibility.PRIVATE
    assert words(refused).startswith("Lucky draw #1 is for members who checked in today")
    for who, where in (("alice", chat), ("bob", chat), ("dora", discord), ("erin", chat)):
        await where.say(who, "/checkin")
        entered = await where.press(who, "/draw enter 1")
        assert entered.outcome.reply is not None
        assert entered.outcome.reply.visibility is Visibility.PRIVATE
        assert "you are in lucky draw #1 (A tote bag) with entry #" in words(entered)
    again = await chat.press("alice", "/draw enter 1")
    assert words(again) == (
        "You are in lucky draw #1 already (entry #1): one entry per member. Nothing was changed."
    )
    shown = words(await chat.say("alice", "/draw 1"))
    assert "4 entries" in shown and "🎟 You are in with entry #1." in shown
    assert "Seed" not in shown

    clock.now = CLOSE - timedelta(seconds=1)
    await firings.sweep(clock.now)
    assert rows(store, draws)[0].state == "open"
    clock.now = CLOSE
    late = await chat.press("frank", "/draw enter 1")
    assert words(late).startswith("Lucky draw #1 (A tote bag) is closed")
    await firings.sweep(clock.now)
    await Firings(store, clock=clock).sweep(clock.now)  # a second process: nothing twice
    [draw] = rows(store, draws)
    assert draw.state == "drawn"
    results = [text for _, text in posted(store) if text.startswith("🎉")]
    assert len(results) == 2 and results[0] == results[1]
    numbers = [row.number for row in rows(store, draw_entries)]
    winners = recompute(draw.seed, numbers, 2)
    assert f"🔑 Seed: {draw.seed}" in results[0]
    named = re.findall(r"^\d\. (\w+) \(entry #(\d+)\) \+50 points$", results[0], re.M)
    assert [int(entry) for _, entry in named] == winners
    for who, platform in (("alice", "console"), ("bob", "console"), ("dora", "discord")):
        balance, ledger_sum = ledger_state(store, platform, who)
        won = any(name == who for name, _ in named)
        assert balance == ledger_sum == 10 + (50 if won else 0)
    notices = [text for _, text in posted(store, kind="direct") if "You won" in text]
    assert len(notices) == 2
    after = words(await chat.say("alice", "/draw 1"))
    assert f"🔑 Seed: {draw.seed}" in after and "🏅 Winners:" in after
    listed = words(await chat.say("bob", "/draw"))
    assert "#1 A tote bag (+50 points to each winner) — drawn" in listed


async def test_entrants_are_listed_as_a_csv_anyone_can_recompute_the_draw_from(
    chat: Chat, store: Store, firings: Firings, clock: Clock
) -> None:
    await chat.say("boss", "/draw start Mug --winners 1 --for 1h")
    for who in ("alice", "bob", "carol"):
        await chat.say(who, "/draw enter 1")
    clock.now += timedelta(hours=1)
    await firings.sweep(clock.now)
    listed = await chat.say("zed", "/draw entrants 1")
    assert words(listed).startswith(
        "📄 The entries of lucky draw #1 (Mug): 3 in draw-1-entrants.csv"
    )
    assert listed.outcome.reply is not None and listed.outcome.reply.document is not None
    table = listed.outcome.reply.document.content.decode("utf-8-sig").splitlines()
    cells = [line.split(",") for line in table[1:]]
    seed = rows(store, draws)[0].seed
    assert [c[1] for c in cells] == ["alice", "bob", "carol"]
    [winner] = [int(c[0]) for c in cells if c[5] == "1"]
    assert [winner] == recompute(seed, [1, 2, 3], 1)


async def test_a_typed_entry_is_answered_in_the_group_and_a_fee_is_taken_once(
    chat: Chat, store: Store
) -> None:
    await chat.say("alice", "hello")
    await chat.say("boss", "/award @alice 30")
    await chat.say("boss", "/draw start Mug --winners 1 --until 20:00 --entry cost=20")
    typed = await chat.say("alice", "/draw enter #1")
    assert typed.outcome.reply is not None
    assert typed.outcome.reply.visibility is Visibility.CHAT
    assert words(typed) == (
        "🎟 alice, you are in lucky draw #1 (Mug) with entry #1. Entry fee: 20 points; your "
        "balance is 10. The winners are drawn Mon 11-23 20:00 (Asia/Shanghai)."
    )
    again = await chat.say("alice", "/draw enter 1")
    assert "already" in words(again)
    assert ledger_state(store, "console", "alice") == (10, 10)
    poor = await chat.press("bob", "/draw enter 1")
    assert words(poor) == (
        "Entering lucky draw #1 costs 20 points, and you have 0. Nothing was changed."
    )
    assert len(rows(store, draw_entries)) == 1


async def test_a_cancelled_draw_returns_the_fees_and_is_audited(
    chat: Chat, store: Store, firings: Firings, clock: Clock
) -> None:
    await chat.say("alice", "hello")
    await chat.say("boss", "/award @alice 30")
    await chat.say("boss", "/draw start Mug --winners 1 --until 20:00 --entry cost=20")
    await chat.press("alice", "/draw enter 1")
    member = await chat.say("alice", "/draw cancel 1")
    assert words(member) == "Sorry, /draw is for community admins only."
    cancelled = await chat.say("boss", "/draw cancel 1")
    assert words(cancelled) == (
        "Lucky draw #1 (Mug) is cancelled; the groups were told. 1 entry fee (20 points) went back."
    )
    assert ledger_state(store, "console", "alice") == (30, 30)
    refunds = [t for _, t in posted(store, kind="direct") if t.startswith("↩️")]
    assert refunds == [
        "↩️ Your entry fee for lucky draw #1 (Mug), 20 points, is back: the draw was cancelled. "
        "Balance: 30."
    ]
    assert [t for _, t in posted(store) if "cancelled" in t] == [
        "Lucky draw #1 (Mug) is cancelled: nobody is drawn. Entry fees go back to everyone who "
        "entered."
    ]
    actions = [row.action for row in rows(store, audit_log) if row.action.startswith("draw")]
    assert actions == ["draw_start", "draw_cancel"]
    clock.now = CLOSE
    await firings.sweep(clock.now)
    assert rows(store, draws)[0].state == "cancelled"
    assert "was cancelled" in words(await chat.press("bob", "/draw enter 1"))


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("/draw start Mug --winners 0 --until 20:00", "--winners takes a number from 1 to 100."),
        ("/draw start Mug --winners 1 --until 20:00 --entry cost=5000", "An entry fee of 5,000"),
        ("/draw start Mug --winners 1 --until 2026-11-22 20:00", "2026-11-22 20:00 has already"),
        ("/draw start Mug --winners 1 --until 2027-11-22 20:00", "from one minute to 30 days"),
        ("/draw start Mug --winners 1 --until 20:00 --entry tier>=platinum", "no tier called"),
        ("/draw start Mug", "Start a lucky draw like this"),
        ("/draw cancel 7", "There is no lucky draw #7 here."),
        ("/draw frobnicate", "🎁 Lucky draws: /draw lists"),
    ],
)
async def test_bad_admin_input_is_answered_and_starts_nothing(
    chat: Chat, store: Store, typed: str, answer: str
) -> None:
    said = await chat.say("boss", typed)
    assert answer in words(said)
    assert rows(store, draws) == []


async def test_members_cannot_start_and_old_buttons_say_so(chat: Chat, store: Store) -> None:
    member = await chat.say("alice", "/draw start Mug --winners 1 --until 20:00")
    assert words(member) == "Sorry, /draw is for community admins only."
    gone = await chat.press("alice", "/draw enter 42")
    assert gone.outcome.reply is not None
    assert gone.outcome.reply.visibility is Visibility.PRIVATE
    assert words(gone) == "There is no lucky draw #42 here. /draw lists the open ones."
    assert words(await chat.say("alice", "/draw")) == "No lucky draws yet."
    assert rows(store, draws) == []


async def test_a_chinese_community_runs_a_draw_in_chinese(
    chat: Chat, store: Store, firings: Firings, clock: Clock
) -> None:
    reconfigure(store, locale="zh_CN")
    started = await chat.say(
        "boss", "/draw 开始 帆布袋 --名额 1 --截止 晚上8点 --条件 签到、tier>=银卡"
    )
    assert words(started).startswith("🎁 抽奖 #1 已开始：公告已发布到 1 个群")
    [(_, post)] = posted(store, locale="zh_CN")
    assert post.startswith(
        "🎁 抽奖 #1：帆布袋\n🏆 共 1 名中奖者，11-23 周一 20:00（Asia/Shanghai）开奖"
    )
    assert "✅ 参与条件：当天已签到 · 银卡会员及以上" in post
    refused = await chat.press("alice", "/draw 参加 1")
    assert words(refused) == (
        "抽奖 #1 仅限银卡会员及以上参加，你目前是普通会员。发送 /tier 查看如何升级。未做任何更改。"
    )
    bad = await chat.say("boss", "/draw start 帆布袋 --名额 1 --截止 明年")
    assert words(bad).startswith("看不懂抽奖何时截止。")
    clock.now = CLOSE
    await firings.sweep(clock.now)
    [(_, result)] = [p for p in posted(store, locale="zh_CN") if p[1].startswith("🎉")]
    assert result.startswith("🎉 抽奖 #1 开奖：帆布袋\n无人参加，本次没有中奖者。\n🔑 种子：")
