"""Check-ins through the real core: one a day in the community's timezone, streaks, bonus."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.harness import Chat


async def test_first_checkin_pays_base_points_and_says_so(chat: Chat) -> None:
    said = await chat.say("alice", "/checkin")
    assert said.text is not None
    assert "+10 points" in said.text
    assert "Streak: 1 day" in said.text
    assert "Balance: 10 points" in said.text


async def test_second_checkin_same_day_is_refused_and_pays_nothing(chat: Chat) -> None:
    await chat.say("alice", "/checkin")
    chat.now += timedelta(hours=3)
    again = await chat.say("alice", "签到")
    assert again.text is not None and "already checked in today" in again.text
    points = await chat.say("alice", "/points")
    assert points.text is not None and "you have 10 points" in points.text


async def test_plain_words_check_in(chat: Chat) -> None:
    for who, word in (("a", "签到"), ("b", "打卡"), ("c", " 签到！")):
        said = await chat.say(who, word)
        assert said.text is not None and "+10 points" in said.text, word


async def test_ordinary_message_gets_no_reply_but_registers_the_member(chat: Chat) -> None:
    said = await chat.say("alice", "我今天签到了吗")
    assert said.outcome.reply is None
    award = await chat.say("boss", "/award @alice 5 welcome")
    assert award.text is not None and "alice (@alice) received 5 points" in award.text


async def test_next_day_continues_the_streak(chat: Chat) -> None:
    await chat.say("alice", "/checkin")
    chat.now += timedelta(days=1)
    said = await chat.say("alice", "/checkin")
    assert said.text is not None and "Streak: 2 days" in said.text
    assert "Balance: 20 points" in said.text


async def test_missed_day_resets_the_streak(chat: Chat) -> None:
    await chat.say("alice", "/checkin")
    chat.now += timedelta(days=2)
    said = await chat.say("alice", "/checkin")
    assert said.text is not None and "Streak: 1 day" in said.text
    me = await chat.say("alice", "/me")
    assert me.text is not None and "Streak: 1 day" in me.text


async def test_seventh_day_pays_the_streak_bonus(chat: Chat) -> None:
    for _ in range(6):
        await chat.say("alice", "/checkin")
        chat.now += timedelta(days=1)
    said = await chat.say("alice", "/checkin")
    assert said.text is not None
    assert "+30 points" in said.text and "streak bonus" in said.text
    assert "Streak: 7 days" in said.text and "Balance: 90 points" in said.text


async def test_day_boundary_is_the_communitys_midnight_not_utc(chat: Chat) -> None:
    # Asia/Shanghai is UTC+8: 15:30 UTC and 16:30 UTC are two different local days.
    chat.now = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)
    await chat.say("alice", "/checkin")
    chat.now = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)
    said = await chat.say("alice", "/checkin")
    assert said.text is not None and "Streak: 2 days" in said.text


async def test_streak_is_zero_after_a_missed_day(chat: Chat) -> None:
    await chat.say("alice", "/checkin")
    chat.now += timedelta(days=2)
    me = await chat.say("alice", "/me")
    assert me.text is not None
    assert "Streak: 0 days" in me.text and "not checked in yet today" in me.text


async def test_slash_forms_of_the_words_check_in(chat: Chat) -> None:
    for who, text in (("a", "/签到"), ("b", "／打卡"), ("c", "/checkin!"), ("d", "/CheckIn")):
        said = await chat.say(who, text)
        assert said.text is not None and "+10 points" in said.text, text


async def test_a_slash_word_that_is_no_command_says_so(chat: Chat) -> None:
    private = Chat(chat.dispatcher, chat.clock, chat_id="dm-alice", private=True)
    said = await private.say("alice", "/签退")
    assert said.text == "I don't know /签退 — try /help to see what I can do."
    for text in ("/:)", "/check-in", "/\u202eevil", "/\x1b]0;pwn"):
        assert (await chat.say("alice", text)).outcome.reply is None, text
    points = await chat.say("alice", "/points!")
    assert points.text is not None and "you have 0 points" in points.text


@pytest.mark.parametrize("text", ["签到\u200b", "\u202e签到", "\u2066打卡\u2069", "\ufeff签到！"])
async def test_a_trigger_word_with_invisible_characters_still_checks_in(
    chat: Chat, text: str
) -> None:
    said = await chat.say("alice", text)
    assert said.outcome.reply is not None and said.outcome.reply.template == "checkin/done"
