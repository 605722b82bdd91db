"""/remind and the private nudges through the real core: members opt in and out, the evening
sweep writes privately to those who have not checked in, and the win-back to those gone quiet."""

from __future__ import annotations

from datetime import timedelta

import pytest

from handlers.firings import Firings
from handlers.router import Dispatcher
from storage.schema import members
from storage.store import Store
from tests.conftest import T0, reconfigure
from tests.harness import Chat, Clock, posted, rows

# T0 is Monday 2026-11-23, 09:00 in the test community's Asia/Shanghai.
EVENING = T0 + timedelta(hours=11, minutes=1)  # 20:01, just after the default streak_at


async def test_remind_shows_the_state_and_turns_it_on_and_off(chat: Chat, store: Store) -> None:
    off = await chat.say("alice", "/remind")
    assert off.text == (
        "🔕 Reminders are off. /remind on sends you a private nudge at 20:00 (Asia/Shanghai)"
        " on days you have not checked in."
    )
    on = await chat.say("alice", "/remind on")
    assert on.text == (
        "⏰ Reminders on: on days you have not checked in by 20:00 (Asia/Shanghai),"
        " I will nudge you privately."
    )
    shown = await chat.say("alice", "/remind")
    assert shown.text is not None and shown.text.startswith("⏰ Reminders are on")
    turned_off = await chat.say("alice", "/remind OFF")
    assert turned_off.text == "🔕 Reminders off. Turn them back on with /remind on."
    assert [row.reminders for row in rows(store, members)] == [False]


async def test_a_word_remind_does_not_know_changes_nothing(chat: Chat, store: Store) -> None:
    await chat.say("alice", "/remind on")
    said = await chat.say("alice", "/remind maybe")
    assert (
        said.text == "Usage: /remind on, /remind off, or /remind to see whether reminders are on."
    )
    assert [row.reminders for row in rows(store, members)] == [True]


async def test_chinese_words_turn_reminders_on_and_off(chat: Chat, store: Store) -> None:
    reconfigure(store, locale="zh_CN")
    on = await chat.say("小明", "提醒 开")
    assert on.text == ("⏰ 已开启签到提醒：当天 20:00（Asia/Shanghai）前还没签到，我会私信提醒你。")
    shown = await chat.say("小明", "提醒")
    assert shown.text is not None and shown.text.startswith("⏰ 签到提醒已开启")
    off = await chat.say("小明", "/提醒 关")
    assert off.text == "🔕 已关闭签到提醒。发送 /remind on 可重新开启。"
    again = await chat.say("小明", "开启提醒")
    assert again.text is not None and again.text.startswith("⏰ 已开启签到提醒")
    assert [row.reminders for row in rows(store, members)] == [True]


async def test_opting_in_on_telegram_without_a_private_chat_says_to_start_one(
    dispatcher: Dispatcher, clock: Clock
) -> None:
    group = Chat(dispatcher, clock, platform="telegram", chat_id="-100200")
    said = await group.say("12345", "/remind on")
    assert said.text is not None
    assert said.text.endswith("Start a private chat with me first, so I can write to you.")
    private = Chat(dispatcher, clock, platform="telegram", chat_id="12345", private=True)
    again = await private.say("12345", "/remind on")
    assert again.text is not None and "Start a private chat" not in again.text


async def test_the_evening_sweep_nudges_opted_in_members_who_have_not_checked_in_once(
    chat: Chat, store: Store, clock: Clock
) -> None:
    woken: list[str] = []
    firings = Firings(store, clock=clock, queued=woken.append)
    await firings.sweep(clock.now)  # the process has started: nothing is due
    for who in ("alice", "carol"):
        await chat.say(who, "/remind on")
    await chat.say("bob", "/checkin")  # never opted in
    await chat.say("carol", "/checkin")  # opted in, but checked in already
    clock.now = EVENING
    swept = await firings.sweep(clock.now)
    assert swept.ran >= 1 and "console" in woken
    assert posted(store, kind="direct") == [
        (
            "alice",
            "⏰ alice, you have not checked in today. Send /checkin before midnight: +10 points.",
        )
    ]
    # Later sweeps, and a restarted process, do not nudge again.
    await firings.sweep(clock.now + timedelta(minutes=5))
    await Firings(store, clock=clock).sweep(clock.now + timedelta(minutes=10))
    assert len(posted(store, kind="direct")) == 1


async def test_the_nudge_tells_a_streak_and_comes_in_chinese(
    chat: Chat, store: Store, clock: Clock
) -> None:
    reconfigure(store, locale="zh_CN")
    firings = Firings(store, clock=clock)
    await chat.say("小明", "提醒 开")
    await chat.say("小明", "签到")
    await firings.sweep(clock.now)
    clock.now = EVENING + timedelta(days=1)  # the next evening: not checked in yet
    await firings.sweep(clock.now)
    assert posted(store, "zh_CN", kind="direct") == [
        (
            "小明",
            "⏰ 小明，你已连续签到 1 天，今晚零点前不签到就会中断。发送 /checkin 签到：+10 积分。",
        )
    ]


WIN_BACK = """
[reminders]
win_back_after_days = 3
win_back_at = "11:00"
"""


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (
            WIN_BACK,
            "👋 alice, we miss you at Acme Fans! It has been 3 days. Drop by and /checkin for"
            " points.",
        ),
        (WIN_BACK + 'win_back_message = "Come back: double points this week!"\n', None),
    ],
)
async def test_win_back_writes_once_to_members_gone_quiet(
    chat: Chat, store: Store, clock: Clock, extra: str, words: str | None
) -> None:
    reconfigure(store, extra=extra)
    firings = Firings(store, clock=clock)
    await firings.sweep(clock.now)
    await chat.say("alice", "/checkin")  # seen at 09:00 on day 1
    clock.now = T0 + timedelta(days=2, hours=2, minutes=1)  # day 3, 11:01: only 2 days
    await firings.sweep(clock.now)
    assert posted(store, kind="direct") == []
    clock.now += timedelta(days=1)  # day 4, 11:01: 3 days and 2 hours
    await firings.sweep(clock.now)
    expected = words or "Come back: double points this week!"
    assert posted(store, kind="direct") == [("alice", expected)]
    clock.now += timedelta(days=1)
    await firings.sweep(clock.now)
    assert len(posted(store, kind="direct")) == 1
