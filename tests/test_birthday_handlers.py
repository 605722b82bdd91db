"""/birthday (生日) through the real core: a member gives it once and sees it, admins correct
anyone's (audited), and on the day the scheduler pays the bonus and says so privately."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from handlers.firings import Firings
from storage.schema import audit_log, members
from storage.store import Store
from tests.conftest import reconfigure
from tests.harness import Chat, Clock, ledger_state, posted, rows

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def test_a_member_gives_a_birthday_once_and_sees_it(chat: Chat, store: Store) -> None:
    unset = await chat.say("alice", "/birthday")
    assert unset.text == (
        "🎂 You have not told me your birthday yet. Send /birthday MM-DD (e.g. /birthday 12-24)"
        " — you can give it once, and on the day you get a birthday bonus."
    )
    saved = await chat.say("alice", "/birthday 12月24日")
    assert saved.text == (
        "🎂 Saved: your birthday is 12-24. On the day you get a birthday bonus of 20 points"
        " (your tier's). Only an admin can change it now."
    )
    again = await chat.say("alice", "/birthday 01-01")
    assert again.text == (
        "🎂 You already gave your birthday: 12-24. It can be given only once; if it is wrong,"
        " ask a community admin to correct it. Nothing was changed."
    )
    shown = await chat.say("alice", "/birthday")
    assert shown.text == "🎂 Your birthday: 12-24. To change it, ask a community admin."
    assert [row.birthday for row in rows(store, members)] == ["12-24"]


async def test_bad_dates_are_refused_politely(chat: Chat, store: Store) -> None:
    for typed in ("02-30", "13-01", "next week"):
        said = await chat.say("alice", f"/birthday {typed}")
        assert said.text == (
            f"I can't read “{typed}” as a birthday. Send the month and the day, e.g."
            " /birthday 12-24 (12月24日 works too). Nothing was saved."
        )
    assert [row.birthday for row in rows(store, members)] == [None]


async def test_feb_29_is_a_birthday(chat: Chat) -> None:
    said = await chat.say("alice", "/birthday 02-29")
    assert said.text is not None
    assert "In years without Feb 29 we celebrate on Feb 28." in said.text


async def test_an_admin_corrects_a_birthday_and_a_member_cannot(chat: Chat, store: Store) -> None:
    await chat.say("alice", "/birthday 12-24")
    await chat.say("bob", "hi")
    refused = await chat.say("bob", "/birthday @alice 01-01")
    assert refused.text == (
        "Sorry, only community admins can set another member's birthday. Send /birthday MM-DD"
        " to give your own."
    )
    corrected = await chat.say("boss", "/birthday @alice 12-25")
    assert corrected.text == "🎂 alice (@alice): birthday set to 12-25 (was 12-24)."
    shown = await chat.say("boss", "/birthday @alice")
    assert shown.text == "🎂 alice (@alice): birthday 12-25."
    unknown = await chat.say("boss", "/birthday @nobody 12-25")
    assert unknown.text is not None and unknown.text.startswith("I can't find @nobody")
    audited = [row for row in rows(store, audit_log) if row.action == "birthday"]
    assert [row.details["birthday"] for row in audited] == ["12-25"]
    assert {row.display_name: row.birthday for row in rows(store, members)}["alice"] == "12-25"


async def test_the_chinese_word_and_replies(chat: Chat, store: Store) -> None:
    reconfigure(store, locale="zh_CN")
    saved = await chat.say("小明", "/生日 3月8日")
    assert saved.text == (
        "🎂 已保存：你的生日是 3月8日。生日当天你将获得 20 积分的生日礼（按你的会员等级）。"
        "之后只有管理员可以修改。"
    )
    shown = await chat.say("小明", "生日")
    assert shown.text == "🎂 你的生日：3月8日。如需修改，请联系社群管理员。"


async def test_on_the_day_the_bonus_is_paid_and_the_member_congratulated(
    chat: Chat, store: Store, clock: Clock
) -> None:
    await chat.say("alice", "/birthday 11-24")  # tomorrow (today is 2026-11-23)
    firings = Firings(store, clock=clock)
    await firings.sweep(clock.now)
    clock.now = datetime.combine(datetime(2026, 11, 24).date(), time(9, 1), SHANGHAI)
    await firings.sweep(clock.now)
    assert posted(store, kind="direct") == [
        (
            "alice",
            "🎂 Happy birthday, alice! Everyone at Acme Fans wishes you a wonderful day, and"
            " here is a gift: +20 points.",
        )
    ]
    assert ledger_state(store, "console", "alice") == (20, 20)
    await Firings(store, clock=clock).sweep(clock.now)  # a restart pays nothing twice
    assert ledger_state(store, "console", "alice") == (20, 20)
