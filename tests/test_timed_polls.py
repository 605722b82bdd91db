"""Polls with an end, through the real core: /poll --for and --until say when they close, and
the scheduler's sweep closes them once and posts their results, also after a restart."""

from __future__ import annotations

from datetime import timedelta

import pytest

from community.jobs import SCHEDULE_CHANGED
from community.outbox import decode_reply
from handlers.firings import Firings
from handlers.ports import Polls
from handlers.router import Dispatcher
from storage.schema import audit_log, outbox, polls
from storage.store import Store
from tests.conftest import T0, make_dispatcher, reconfigure
from tests.harness import Chat, Clock, posted, rows

# T0 is Monday 2026-11-23, 09:00 in the test community's Asia/Shanghai.
TIMED = "/poll --for 2h Best flavour? | Mango | Lychee"
END = T0 + timedelta(hours=2)


async def test_a_timed_poll_says_when_it_closes_and_wakes_the_scheduler(
    chat: Chat, woken: list[str]
) -> None:
    said = await chat.say("boss", TIMED)
    assert said.text == (
        "📊 Best flavour?\n1. Mango\n2. Lychee\n"
        "⏰ Closes Mon 11-23 11:00 (Asia/Shanghai).\n"
        "Vote with a button below: +2 points for taking part."
    )
    assert SCHEDULE_CHANGED in woken


async def test_a_poll_without_an_end_says_nothing_of_one_and_changes_no_schedule(
    chat: Chat, woken: list[str]
) -> None:
    said = await chat.say("boss", "/poll Best flavour? | Mango | Lychee")
    assert said.text is not None and "⏰" not in said.text
    assert SCHEDULE_CHANGED not in woken


@pytest.mark.parametrize(
    ("text", "closes"),
    [
        ("/poll --until 18:00 Q? | a | b", "Mon 11-23 18:00"),
        ("/poll --until 8:30 Q? | a | b", "Tue 11-24 08:30"),  # 09:00 now: tomorrow's
        ("/poll --until 2026-11-30 20:00 Q? | a | b", "Mon 11-30 20:00"),
        ("/poll --for 1h30m Q? | a | b", "Mon 11-23 10:30"),
        ("/poll --for 1d Q? | a | b", "Tue 11-24 09:00"),
    ],
)
async def test_until_and_for_close_in_the_communitys_time(
    chat: Chat, text: str, closes: str
) -> None:
    said = await chat.say("boss", text)
    assert said.text is not None and f"\n⏰ Closes {closes} (Asia/Shanghai).\n" in said.text


async def test_a_chinese_community_reads_chinese_durations_and_answers_in_chinese(
    chat: Chat, store: Store
) -> None:
    reconfigure(store, locale="zh_CN")
    said = await chat.say("boss", "/poll --for 2小时 最爱哪个口味？｜芒果｜荔枝")
    assert said.text == (
        "📊 最爱哪个口味？\n1. 芒果\n2. 荔枝\n"
        "⏰ 截止：11-23 周一 11:00（Asia/Shanghai）\n点击下方按钮投票：参与即得 2 积分。"
    )
    bad = await chat.say("boss", "/poll --for 很久 问题？| 是 | 否")
    assert bad.text == (
        "看不懂投票要进行多久。请写分钟、小时或天，例如：/poll --for 2小时 问题？| 选项 | 选项"
    )


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        (
            "/poll --for soon Q? | a | b",
            "I could not read how long the poll should run. Give minutes, hours or days, "
            "e.g.: /poll --for 2h Question? | option | option",
        ),
        (
            "/poll --for 0m Q? | a | b",
            "A poll can run from 1 minute to 30 days, "
            "e.g.: /poll --for 2h Question? | option | option",
        ),
        (
            "/poll --for 45d Q? | a | b",
            "A poll can run from 1 minute to 30 days, "
            "e.g.: /poll --for 2h Question? | option | option",
        ),
        (
            "/poll --until teatime Q? | a | b",
            "I could not read when the poll should close. Give a time, or a date and a time, "
            "e.g.: /poll --until 18:00 Question? | option | option",
        ),
        (
            "/poll --until 2026-11-01 18:00 Q? | a | b",
            "2026-11-01 18:00 has already passed: pick a later time, "
            "e.g.: /poll --until 18:00 Question? | option | option",
        ),
    ],
)
async def test_a_bad_end_is_answered_with_an_example_and_opens_nothing(
    chat: Chat, store: Store, woken: list[str], text: str, answer: str
) -> None:
    said = await chat.say("boss", text)
    assert said.text == answer
    assert rows(store, polls) == [] and rows(store, audit_log) == []
    assert SCHEDULE_CHANGED not in woken


async def test_a_member_cannot_open_a_timed_poll(chat: Chat, store: Store) -> None:
    said = await chat.say("alice", TIMED)
    assert said.text == "Sorry, /poll is for community admins only."
    assert rows(store, polls) == []


async def test_the_sweep_closes_a_poll_at_its_end_and_posts_its_results_once(
    chat: Chat, store: Store, dispatcher: Dispatcher, clock: Clock, woken: list[str]
) -> None:
    firings = Firings(store, clock=clock, queued=woken.append)
    await firings.sweep(clock.now)  # the process has started
    opened = await chat.say("boss", TIMED)
    await Polls(dispatcher.store).posted(1, native_id="tg-5001", message_id="77")
    await chat.press("alice", opened.button(0))
    await chat.press("bob", opened.button(1))
    clock.now = END - timedelta(seconds=1)
    assert (await firings.sweep(clock.now)).polls_closed == 0
    await chat.press("carol", opened.button(1))  # in the last second: counts
    clock.now = END + timedelta(seconds=20)
    late = await chat.press("dave", opened.button(0))  # the end came, the sweep has not yet
    assert late.text == "The poll “Best flavour?” is closed."
    woken.clear()
    swept = await firings.sweep(clock.now)
    assert swept.polls_closed == 1 and "console" in woken
    results = "📊 Results: Best flavour?\nMango — 1 (33%)\nLychee — 2 (67%)\n3 voters."
    assert posted(store) == [("group-1", results)]
    closing = next(row for row in rows(store, outbox) if row.kind == "post")
    assert decode_reply(closing.payload, "en").ends_poll == "77"  # the native poll is stopped
    # Later sweeps, and /closepoll, find nothing left to close.
    assert (await firings.sweep(clock.now + timedelta(minutes=1))).polls_closed == 0
    assert (await chat.say("boss", "/closepoll")).text == "There is no open poll here."
    assert len(posted(store)) == 1
    actions = [(row.action, row.details["by"]) for row in rows(store, audit_log)]
    assert actions == [("poll_open", "console:boss"), ("poll_close", "scheduler")]


async def test_a_poll_that_ended_while_the_bot_was_down_closes_after_the_restart(
    chat: Chat, store: Store, clock: Clock, db_url: str
) -> None:
    await Firings(store, clock=clock).sweep(clock.now)
    opened = await chat.say("boss", TIMED)
    await chat.press("alice", opened.button(1))
    # The bot stops; the poll's end passes (well beyond any grace period); it starts again.
    clock.now = END + timedelta(hours=5)
    restarted_store = Store(db_url)
    try:
        restarted = make_dispatcher(restarted_store, clock)
        swept = await Firings(restarted_store, clock=clock).sweep(clock.now)
        assert swept.polls_closed == 1
        assert posted(restarted_store) == [
            ("group-1", "📊 Results: Best flavour?\nMango — 0 (0%)\nLychee — 1 (100%)\n1 voter.")
        ]
        again = await Firings(restarted_store, clock=clock).sweep(clock.now)
        assert again.polls_closed == 0 and len(posted(restarted_store)) == 1
        same_chat = Chat(restarted, clock)
        late = await same_chat.press("bob", opened.button(0))
        assert late.text == "The poll “Best flavour?” is closed."
    finally:
        restarted_store.close()


async def test_a_poll_closed_by_hand_before_its_end_is_left_alone_by_the_sweep(
    chat: Chat, store: Store, clock: Clock
) -> None:
    firings = Firings(store, clock=clock)
    await firings.sweep(clock.now)
    await chat.say("boss", TIMED)
    closed = await chat.say("boss", "/closepoll")
    assert closed.text is not None and closed.text.startswith("📊 Results: Best flavour?")
    clock.now = END + timedelta(minutes=1)
    assert (await firings.sweep(clock.now)).polls_closed == 0
    assert posted(store) == []
    assert [row.action for row in rows(store, audit_log)] == ["poll_open", "poll_close"]


async def test_the_results_of_a_chinese_communitys_poll_are_posted_in_chinese(
    chat: Chat, store: Store, clock: Clock
) -> None:
    reconfigure(store, locale="zh_CN")
    firings = Firings(store, clock=clock)
    await firings.sweep(clock.now)
    opened = await chat.say("boss", "/poll --for 30分钟 喝茶还是咖啡？| 茶 | 咖啡")
    await chat.press("小明", opened.button(0))
    clock.now = T0 + timedelta(minutes=31)
    await firings.sweep(clock.now)
    assert posted(store, "zh_CN") == [
        (
            "group-1",
            "📊 投票结果：喝茶还是咖啡？\n茶 —— 1 票（100%）\n咖啡 —— 0 票（0%）\n共 1 人投票。",
        )
    ]
