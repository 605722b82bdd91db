"""/topic and /calendar through the real core: admins plan topics, members read what is coming,
and the scheduler's sweep posts each topic once in every group."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from community.jobs import SCHEDULE_CHANGED
from handlers.firings import Firings
from handlers.router import Dispatcher
from storage.schema import audit_log, calendar_entries
from storage.store import Store
from tests.conftest import T0, reconfigure
from tests.harness import Chat, Clock, posted, rows

# T0 is Monday 2026-11-23, 09:00 in the test community's Asia/Shanghai.
ADD = "/topic add mon,wed 20:00 What are you reading this week?"


async def test_adding_a_topic_echoes_it_with_its_next_three_times_and_saves_it(
    chat: Chat, store: Store, woken: list[str]
) -> None:
    said = await chat.say("boss", ADD)
    assert said.text == (
        "🗓 Topic #1 saved: Mon, Wed 20:00.\n"
        "What are you reading this week?\n"
        "Next: Mon 11-23 20:00, Wed 11-25 20:00, Mon 11-30 20:00 (Asia/Shanghai)."
    )
    assert SCHEDULE_CHANGED in woken
    [entry] = rows(store, calendar_entries)
    assert entry.text == "What are you reading this week?" and entry.when_text == "mon,wed 20:00"
    assert [row.action for row in rows(store, audit_log)] == ["topic_add"]


async def test_a_topic_with_a_tag_and_a_poll_says_so(chat: Chat) -> None:
    said = await chat.say("boss", "/topic add fri 20:00 #vip Best flavour? | Mango | Lychee")
    assert said.text == (
        "🗓 Topic #1 saved: Fri 20:00, in groups tagged #vip.\n"
        "Best flavour?\n"
        "📊 With a poll: Mango / Lychee\n"
        "Next: Fri 11-27 20:00, Fri 12-04 20:00, Fri 12-11 20:00 (Asia/Shanghai).\n"
        "⚠️ No group tagged #vip gets it yet: tag one with /settings tags vip."
    )


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("/topic add someday Hello", "I could not read that time. Write it like “mon,wed 20:00”"),
        ("/topic add 25:00 Hello", "I could not read that time."),
        ("/topic add 2026-11-20 10:00 Hello", "2026-11-20 10:00 has already passed."),
        ("/topic add mon 20:00", "What should the topic say?"),
        ("/topic add mon 20:00 Best? | only", "A topic's poll needs its question and two"),
        ("/topic add mon 20:00 " + "x" * 2001, "That topic is 2,001 characters long"),
        ("/topic add", "Usage:\n/topic add WHEN"),
        ("/topic", "Usage:"),
        ("/topic dance", "Usage:"),
        ("/topic remove", "Usage:"),
        ("/topic remove one", "Usage:"),
        ("/topic remove 7", "There is no topic #7. See the numbers with /topic list."),
        ("/topic pause 7", "There is no topic #7."),
        ("/topic resume #7", "There is no topic #7."),
    ],
)
async def test_bad_input_answers_why_and_saves_nothing(
    chat: Chat, store: Store, woken: list[str], text: str, answer: str
) -> None:
    said = await chat.say("boss", text)
    assert said.text is not None and said.text.startswith(answer), said.text
    assert rows(store, calendar_entries) == [] and rows(store, audit_log) == []
    assert SCHEDULE_CHANGED not in woken


async def test_a_time_the_clocks_skip_is_refused_in_the_communitys_timezone(
    chat: Chat, store: Store
) -> None:
    reconfigure(store, timezone="America/New_York")
    said = await chat.say("boss", "/topic add 2027-03-14 02:30 Spring forward")
    assert said.text == (
        "02:30 does not exist on 2027-03-14 in America/New_York: the clocks skip it that night. "
        "Pick another time, e.g. one hour later. Nothing was saved."
    )
    assert rows(store, calendar_entries) == []
    later = await chat.say("boss", "/topic add 2027-03-14 03:30 Spring forward")
    assert later.text is not None
    assert "Next: Sun 03-14 03:30 (America/New_York)." in later.text


async def test_members_cannot_plan_topics(chat: Chat, store: Store) -> None:
    said = await chat.say("alice", ADD)
    assert said.text == "Sorry, /topic is for community admins only."
    await chat.say("boss", ADD)
    for text in ("/topic list", "/topic remove 1", "/topic pause 1"):
        refused = await chat.say("alice", text)
        assert refused.text == "Sorry, /topic is for community admins only."
    assert len(rows(store, calendar_entries)) == 1


async def test_list_pause_resume_and_remove_by_number(
    chat: Chat, store: Store, woken: list[str]
) -> None:
    empty = await chat.say("boss", "/topic list")
    assert empty.text == (
        "🗓 Topic calendar (Asia/Shanghai)\n"
        "No topics yet. Add one: /topic add mon,wed 20:00 What are you reading this week?"
    )
    await chat.say("boss", ADD)
    await chat.say("boss", "/topic add daily 08:00 #vip Good morning")
    await chat.say("boss", "/topic add 2026-11-22 10:00 Yesterday")  # refused: no number taken
    woken.clear()
    paused = await chat.say("boss", "/topic pause 2")
    assert paused.text == (
        "⏸ Topic #2 paused: daily 08:00 — Good morning\nResume it with /topic resume 2."
    )
    assert SCHEDULE_CHANGED in woken
    listed = await chat.say("boss", "/topic list")
    assert listed.text == (
        "🗓 Topic calendar (Asia/Shanghai)\n"
        "#1 Mon, Wed 20:00 — What are you reading this week?\n"
        "   next: Mon 11-23 20:00\n"
        "#2 daily 08:00 #vip — Good morning\n"
        "   ⏸ paused"
    )
    chat.now = T0 + timedelta(days=2)
    resumed = await chat.say("boss", "/topic resume 2")
    assert resumed.text == (
        "▶️ Topic #2 resumed: daily 08:00 — Good morning\n"
        "Next: Thu 11-26 08:00. What it missed while paused is not posted."
    )
    removed = await chat.say("boss", "/topic remove 1")
    assert removed.text == "🗑 Topic #1 removed: Mon, Wed 20:00 — What are you reading this week?"
    assert [row.id for row in rows(store, calendar_entries)] == [2]
    assert [row.action for row in rows(store, audit_log)] == [
        "topic_add",
        "topic_add",
        "topic_pause",
        "topic_resume",
        "topic_remove",
    ]


async def test_calendar_shows_the_next_days_by_day_to_members(chat: Chat) -> None:
    await chat.say("boss", ADD)
    await chat.say("boss", "/topic add 2026-11-24 12:00 Lunch poll? | Noodles | Rice")
    said = await chat.say("alice", "/calendar")
    assert said.text == (
        "🗓 The next 7 days (Asia/Shanghai)\n"
        "Mon 11-23\n"
        "  20:00 What are you reading this week?\n"
        "Tue 11-24\n"
        "  12:00 Lunch poll? 📊\n"
        "Wed 11-25\n"
        "  20:00 What are you reading this week?"
    )
    worded = await chat.say("alice", "日历")
    assert worded.text == said.text


async def test_calendar_with_nothing_planned(chat: Chat) -> None:
    said = await chat.say("alice", "/calendar")
    assert said.text == "🗓 The next 7 days (Asia/Shanghai)\nNothing planned yet."


async def test_a_chinese_community_plans_in_chinese(chat: Chat, store: Store) -> None:
    reconfigure(store, locale="zh_CN")
    said = await chat.say("boss", "/topic 添加 每周一 20:00 新品剧透")
    assert said.text == (
        "🗓 话题 #1 已保存：每周一 20:00。\n"
        "新品剧透\n"
        "接下来：11-23 周一 20:00、11-30 周一 20:00、12-07 周一 20:00（Asia/Shanghai）。"
    )
    bad = await chat.say("boss", "/topic add 下周 新品")
    assert bad.text is not None and bad.text.startswith("看不懂这个时间。")
    past = await chat.say("boss", "/topic add 2026-11-01 10:00 新品")
    assert past.text == "2026-11-01 10:00 已经过去了，请选一个将来的时间。未保存。"
    long = await chat.say("boss", "/topic add 每天 9点 " + "字" * 2001)
    assert long.text == "这个话题有 2,001 个字符，最多 2,000 个。未保存。"
    unknown = await chat.say("boss", "/topic 删除 9")
    assert unknown.text == "没有 #9 号话题。用 /topic list 查看编号。"
    refused = await chat.say("alice", "/topic list")
    assert refused.text is not None and "/topic" in refused.text
    calendar = await chat.say("小明", "话题日历")
    assert calendar.text == "🗓 未来 7 天（Asia/Shanghai）\n11-23 周一\n  20:00 新品剧透"
    assert len(rows(store, calendar_entries)) == 1


async def test_a_chinese_time_the_clocks_skip(chat: Chat, store: Store) -> None:
    reconfigure(store, timezone="America/New_York", locale="zh_CN")
    said = await chat.say("boss", "/topic add 2027年3月14日 凌晨2点30 春令时")
    assert said.text == (
        "2027-03-14 这天 02:30 在 America/New_York 并不存在：那一夜时钟会跳过它。"
        "请换个时间，比如晚一小时。未保存。"
    )


async def test_a_topic_added_by_command_is_posted_once_in_every_group_by_the_sweep(
    dispatcher: Dispatcher, store: Store, clock: Clock
) -> None:
    groups = [Chat(dispatcher, clock, chat_id=f"group-{n}") for n in (1, 2, 3)]
    for group in groups:
        await group.say("alice", "/calendar")  # the bot meets each group
    firings = Firings(store, clock=clock)
    await firings.sweep(clock.now)  # the process has started: nothing is due
    said = await groups[0].say("boss", "/topic add daily 20:00 Evening topic: your best buy?")
    assert said.text is not None and said.text.startswith("🗓 Topic #1 saved")
    clock.now = T0 + timedelta(hours=11, minutes=1)  # 20:01 in Shanghai
    await firings.sweep(clock.now)
    words = "🗓 Today's topic\nEvening topic: your best buy?"
    assert sorted(posted(store)) == [(f"group-{n}", words) for n in (1, 2, 3)]
    again = await firings.sweep(clock.now + timedelta(minutes=1))
    assert again.ran == 0
    restarted = await Firings(store, clock=clock).sweep(clock.now + timedelta(minutes=2))
    assert restarted.ran == 0
    assert len(posted(store)) == 3
    # The next evening posts again, once per group.
    clock.now += timedelta(days=1)
    await firings.sweep(clock.now)
    assert len(posted(store)) == 6
    # A paused topic posts nothing; resumed, it does not catch up what it missed.
    await groups[0].say("boss", "/topic pause 1")
    clock.now += timedelta(days=2)
    await firings.sweep(clock.now)
    await groups[0].say("boss", "/topic resume 1")
    await firings.sweep(clock.now + timedelta(minutes=1))
    assert len(posted(store)) == 6
    assert datetime(2026, 11, 26, 12, 1, tzinfo=UTC) == clock.now


async def test_a_long_calendar_is_listed_a_page_at_a_time(chat: Chat) -> None:
    for n in range(30):
        await chat.say("boss", f"/topic add daily 20:{n:02d} Topic {n}")
    first = await chat.say("boss", "/topic list")
    second = await chat.say("boss", "/topic list 2")
    assert first.text is not None and second.text is not None
    assert first.text.count("— Topic ") == 25 and second.text.count("— Topic ") == 5
    assert "Page 1 of 2: /topic list 2 shows the next ones." in first.text
    assert "Topic 29" in second.text and "Page 2 of 2." in second.text
