"""/makeup and 补签 through the real core: a missed day filled with a card, the streak /me shows
restored, the cards left; refusals say why and what to do, and change nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Connection, update

from handlers.makeup import read_day
from loyalty.errors import UserError
from storage.schema import balances, checkins
from storage.store import Store
from tests.conftest import reconfigure
from tests.domain.conftest import local
from tests.harness import Chat, member_id, rows

# Day 1 is Monday 2026-11-23 in the community's Asia/Shanghai; day 3 (11-25) goes missed.


def bought(store: Store, who: str, cards: int, tier: int = 0) -> None:
    """`who` holds `cards` make-up cards from the shop, at tier `tier`."""
    member = member_id(store, "console", who)

    def give(conn: Connection) -> None:
        conn.execute(
            update(balances)
            .where(balances.c.member_id == member)
            .values(makeup_cards=cards, tier=tier)
        )

    store.write_now(give)


async def joined_long_ago(chat: Chat, who: str = "alice") -> None:
    """`who` first wrote in the group weeks ago: every day of the window was theirs to miss."""
    now, chat.now = chat.now, local(-20)
    await chat.say(who, "hello")
    chat.now = now


async def missing_day_three(chat: Chat, who: str = "alice") -> None:
    await joined_long_ago(chat, who)
    for day in (1, 2, 4):
        chat.now = local(day)
        await chat.say(who, "/checkin")


async def test_a_bought_card_fills_the_missed_day_and_me_shows_the_streak_back(
    chat: Chat, store: Store
) -> None:
    await missing_day_three(chat)
    bought(store, "alice", 2)
    said = await chat.say("alice", "/makeup")
    assert said.text == (
        "✅ alice, Wed 11-25 is made up with a card you bought: it counts as checked in"
        " (a make-up earns no points).\n"
        "Streak restored: 4 days.\n"
        "Cards left: 0 free this month · 1 bought.\n"
        "Still missed: 11-22, 11-21, 11-20, 11-19 (/makeup DATE fills one)."
    )
    me = await chat.say("alice", "/me")
    assert me.text is not None and "Streak: 4 days · checked in today ✅" in me.text
    chat.now = local(5)
    checked = await chat.say("alice", "/checkin")
    assert checked.text is not None and "Streak: 5 days" in checked.text


async def test_the_plain_word_and_every_way_of_naming_the_day(chat: Chat, store: Store) -> None:
    await joined_long_ago(chat)
    chat.now = local(9)
    await chat.say("alice", "/checkin")
    bought(store, "alice", 5)
    for text, day in [
        ("补签", "11-30"),
        ("/makeup yesterday", None),
        ("/makeup 11-29", "11-29"),
        ("/makeup 2026-11-28", "11-28"),
        ("/makeup 11月27日", "11-27"),
        ("/makeup 前天", None),
    ]:
        said = await chat.say("alice", text)
        assert said.text is not None
        if day is None:
            assert "already checked in" in said.text
        else:
            assert f" {day} is made up" in said.text
    filled = sorted(row.day.isoformat() for row in rows(store, checkins) if row.card == "shop")
    assert filled == ["2026-11-27", "2026-11-28", "2026-11-29", "2026-11-30"]


async def test_no_card_left_says_how_to_get_one_and_changes_nothing(
    chat: Chat, store: Store
) -> None:
    await missing_day_three(chat)
    said = await chat.say("alice", "/makeup 11-25")
    assert said.text == (
        "You have no make-up card left. Silver members get 1 free every month."
        " You can buy one with points: /rewards. Nothing was changed."
    )
    assert [row.card for row in rows(store, checkins)] == [None, None, None]


async def test_a_silver_members_free_card_and_its_month(chat: Chat, store: Store) -> None:
    await joined_long_ago(chat)
    await missing_day_three(chat)
    bought(store, "alice", 0, tier=1)
    said = await chat.say("alice", "/makeup yesterday")
    assert (
        said.text is not None and "Wed 11-25 is made up with a free card of your tier" in said.text
    )
    again = await chat.say("alice", "/makeup 11-22")
    assert again.text == (
        "You have no make-up card left this month (your Silver tier gives 1 card a month)."
        " Gold members get 2 free every month. You can buy one with points: /rewards."
        " Nothing was changed."
    )


async def test_refusals_say_why(chat: Chat, store: Store) -> None:
    await missing_day_three(chat)
    bought(store, "alice", 3)
    answers = {
        text: (await chat.say("alice", text)).text
        for text in (
            "/makeup 11-24",
            "/makeup 11-26",
            "/makeup 11-27",
            "/makeup 11-01",
            "/makeup soon",
        )
    }
    assert answers == {
        "/makeup 11-24": (
            "You already checked in on Tue 11-24: nothing to make up. Nothing was changed."
        ),
        "/makeup 11-26": "Today can't be made up: just check in with /checkin (or say 签到).",
        "/makeup 11-27": "Fri 11-27 hasn't come yet: only missed days before today can be made up.",
        "/makeup 11-01": (
            "Sun 11-01 is too long ago: make-up cards fill only the last 7 days (from Thu 11-19)."
            " Nothing was changed."
        ),
        "/makeup soon": (
            "I can't read “soon” as a day. Write /makeup 2026-11-25, /makeup 11-25 or"
            " /makeup yesterday; /makeup alone fills the latest missed day."
        ),
    }
    assert [row.card for row in rows(store, checkins)] == [None, None, None]
    assert rows(store, balances)[0].makeup_cards == 3


async def test_answers_in_chinese(chat: Chat, store: Store) -> None:
    reconfigure(store, locale="zh_CN")
    await missing_day_three(chat)
    bought(store, "alice", 1)
    said = await chat.say("alice", "补签")
    assert said.text == (
        "✅ alice，已用兑换的补签卡补签 11-25 周三，视同当天已签到（补签不得积分）。\n"
        "连续签到已恢复：4 天。\n"
        "剩余补签卡：本月免费 0 张 · 兑换 0 张。\n"
        "仍漏签：11-22、11-21、11-20、11-19（发送 /makeup 日期 继续补签）。"
    )
    refused = await chat.say("alice", "/makeup 哪天")
    assert refused.text is not None and refused.text.startswith("看不懂“哪天”是哪一天")


def test_a_month_day_without_a_year_is_the_nearest_one() -> None:
    new_year = date(2027, 1, 2)
    assert read_day("12-31", new_year) == date(2026, 12, 31)
    assert read_day("１月１日", new_year) == date(2027, 1, 1)
    assert read_day("", new_year) is None
    assert read_day("昨天", new_year) == date(2027, 1, 1)
    for nonsense in ("02-30", "13-01", "2027-02-29", "1", "next week"):
        with pytest.raises(UserError, match="makeup/bad_date"):
            read_day(nonsense, new_year)
