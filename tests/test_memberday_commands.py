"""/memberday through the real core: members see the next member day, admins set, skip and
cancel it, and the scheduler's sweep announces, opens and recaps it while check-ins earn double."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from community.communities import community_by_slug
from community.config import MemberDayRules
from community.jobs import SCHEDULE_CHANGED
from handlers.firings import Firings
from handlers.router import Dispatcher
from storage.schema import audit_log
from storage.store import Store
from tests.conftest import reconfigure
from tests.domain.conftest import local
from tests.harness import Chat, Clock, posted, rows

# T0 is Monday 2026-11-23, 09:00 in the test community's Asia/Shanghai; day 5 is Friday 11-27.
FRIDAY = 5
SET = "/memberday set fri 00:00 x2 24h"


def member_day(store: Store) -> MemberDayRules:
    """The member day as stored now."""
    found = store.read_now(community_by_slug, "acme")
    assert found is not None
    return found.rules.member_day


def changes(store: Store) -> list[dict[str, Any]]:
    """The audited member-day changes, oldest first."""
    return [row.details for row in rows(store, audit_log) if row.action == "memberday"]


async def test_members_see_no_member_day_until_one_is_set(chat: Chat) -> None:
    said = await chat.say("alice", "/memberday")
    assert said.text == "🎉 No member day is planned right now."


async def test_an_admin_sets_the_member_day_sees_its_next_three_and_it_is_saved(
    chat: Chat, store: Store, woken: list[str]
) -> None:
    said = await chat.say("boss", SET)
    assert said.text == (
        "🎉 Member day saved: Fri 00:00, for 24 hours, points ×2, announced 24 hours before.\n"
        "Next: Fri 11-27 00:00, Fri 12-04 00:00, Fri 12-11 00:00 (Asia/Shanghai)."
    )
    stored = member_day(store)
    assert (stored.enabled, stored.when, stored.hours, stored.multiplier) == (
        True,
        "fri 00:00",
        24,
        2,
    )
    assert [c["change"] for c in changes(store)] == ["set"]
    assert changes(store)[0]["by"] == "console:boss"
    assert SCHEDULE_CHANGED in woken


async def test_options_read_as_words_or_as_key_value_pairs(chat: Chat, store: Store) -> None:
    said = await chat.say("boss", "/memberday set sat 20:00 hours=48 multiplier=1.5 announce=0")
    assert said.text is not None and said.text.startswith(
        "🎉 Member day saved: Sat 20:00, for 48 hours, points ×1.5.\n"
    )
    stored = member_day(store)
    assert (stored.hours, stored.multiplier, stored.announce_hours_before) == (48, 1.5, 0)
    await chat.say("boss", "/memberday set monthly 18 10:00 3x, 6h, announce 2h")
    stored = member_day(store)
    assert (stored.when, stored.hours, stored.multiplier, stored.announce_hours_before) == (
        "monthly 18 10:00",
        6,
        3,
        2,
    )


async def test_members_see_the_next_member_day_with_its_perks(chat: Chat, store: Store) -> None:
    reconfigure(
        store,
        extra='[member_day]\nenabled = true\nwhen = "fri 00:00"\n'
        'perks = ["Free shipping", "A gift"]\n',
    )
    said = await chat.say("alice", "/memberday")
    assert said.text == (
        "🎉 Next member day: Fri 11-27 00:00 – Sat 11-28 00:00 (Asia/Shanghai). "
        "Every point you earn then counts ×2.\n"
        "🎁 Members only:\n• Free shipping\n• A gift"
    )
    chat.now = local(FRIDAY, 15)
    running = await chat.say("alice", "/memberday")
    assert running.text is not None and running.text.startswith(
        "🎉 It's member day! Until Sat 11-28 00:00 every point you earn counts ×2.\n"
    )


async def test_admin_show_lists_every_setting(chat: Chat, store: Store) -> None:
    reconfigure(
        store,
        extra='[member_day]\nenabled = true\nwhen = "fri 00:00"\nperks = ["Free shipping"]\n'
        'poll = "Best perk? | Shipping | Gift"\n',
    )
    await chat.say("boss", "/memberday skip next")
    said = await chat.say("boss", "/memberday show")
    assert said.text == (
        "🎉 Member day: on\n"
        "When: Fri 00:00, for 24 hours · points ×2\n"
        "Announcement: 24 hours before · recap names the top 3\n"
        "Perks: Free shipping\n"
        "Poll at the opening: Best perk? | Shipping | Gift\n"
        "Skipped: Fri 11-27\n"
        "Next: Fri 12-04 00:00, Fri 12-11 00:00, Fri 12-18 00:00 (Asia/Shanghai)."
    )
    # A member asking for the details gets what members see.
    member = await chat.say("alice", "/memberday show")
    assert member.text is not None and member.text.startswith("🎉 Next member day: Fri 12-04")


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("/memberday set whenever", "I could not read when the member day starts."),
        ("/memberday set x2", "I could not read when the member day starts."),
        ("/memberday set fri 00:00 x20", "The multiplier must be from ×1 to ×10."),
        ("/memberday set fri 00:00 x0.5", "The multiplier must be from ×1 to ×10."),
        ("/memberday set fri 00:00 0h", "How long it lasts must be a whole number of hours"),
        ("/memberday set fri 00:00 200h", "How long it lasts must be a whole number of hours"),
        ("/memberday set fri 00:00 1.5h", "How long it lasts must be a whole number of hours"),
        ("/memberday set fri 00:00 announce=999", "The announcement's hours before must be"),
        ("/memberday set fri 00:00 soon", "I don't understand “soon”."),
        ("/memberday set 2026-11-20 00:00", "2026-11-20 00:00 has already passed."),
        ("/memberday set", "Usage: /memberday"),
        ("/memberday skip tomorrow", "Usage: /memberday"),
        ("/memberday dance", "Usage: /memberday"),
    ],
)
async def test_bad_input_answers_why_and_changes_nothing(
    chat: Chat, store: Store, woken: list[str], text: str, answer: str
) -> None:
    before = member_day(store)
    said = await chat.say("boss", text)
    assert said.text is not None and said.text.startswith(answer), said.text
    assert member_day(store) == before
    assert changes(store) == []
    assert SCHEDULE_CHANGED not in woken


@pytest.mark.parametrize(
    "text",
    [SET, "/memberday skip next", "/memberday unskip", "/memberday cancel", "/memberday on"],
)
async def test_members_cannot_change_the_member_day(chat: Chat, store: Store, text: str) -> None:
    before = member_day(store)
    said = await chat.say("alice", text)
    assert said.text == (
        "Sorry, only community admins can change the member day. "
        "/memberday shows when the next one is."
    )
    assert member_day(store) == before and changes(store) == []


async def test_skip_next_skips_one_more_each_time_and_unskip_brings_them_back(
    chat: Chat, store: Store
) -> None:
    await chat.say("boss", SET)
    first = await chat.say("boss", "/memberday skip next")
    assert first.text == (
        "⏭ The member day of Fri 11-27 is skipped: no posts, no extra points. "
        "/memberday unskip brings it back.\n"
        "Next one: Fri 12-04 00:00 (Asia/Shanghai)."
    )
    second = await chat.say("boss", "/memberday skip")
    assert second.text is not None and second.text.startswith("⏭ The member day of Fri 12-04")
    assert member_day(store).skipped == ("2026-11-27", "2026-12-04")
    shown = await chat.say("alice", "/memberday")
    assert shown.text is not None and shown.text.startswith("🎉 Next member day: Fri 12-11")
    back = await chat.say("boss", "/memberday unskip")
    assert back.text == (
        "↩️ Back on: Fri 11-27, Fri 12-04.\nNext one: Fri 11-27 00:00 (Asia/Shanghai)."
    )
    assert member_day(store).skipped == ()
    assert [c["change"] for c in changes(store)] == ["set", "skip", "skip", "unskip"]


async def test_skipping_a_member_day_that_is_off_says_so(chat: Chat, store: Store) -> None:
    said = await chat.say("boss", "/memberday skip next")
    assert (
        said.text == "The member day is off; there is nothing to skip. /memberday on turns it on."
    )
    assert changes(store) == []


async def test_cancel_turns_it_off_and_on_brings_it_back(chat: Chat, store: Store) -> None:
    await chat.say("boss", SET)
    off = await chat.say("boss", "/memberday cancel")
    assert off.text == (
        "🛑 Member day is off: no announcements, no extra points. "
        "/memberday on turns it back on (Fri 00:00)."
    )
    assert not member_day(store).enabled
    assert (await chat.say("alice", "/memberday")).text == "🎉 No member day is planned right now."
    chat.now = local(FRIDAY, 10)
    checked = await chat.say("alice", "/checkin")
    assert checked.text is not None and "+10 points." in checked.text
    on = await chat.say("boss", "/memberday on")
    assert on.text is not None and on.text.startswith("🎉 Member day saved: Fri 00:00")
    assert member_day(store).enabled
    assert [c["change"] for c in changes(store)] == ["set", "cancel", "on"]


async def test_a_check_in_on_the_member_day_says_it_earned_double(chat: Chat) -> None:
    await chat.say("boss", SET)
    chat.now = local(FRIDAY + 1, 0, 0) - timedelta(seconds=1)
    said = await chat.say("alice", "/checkin")
    assert said.text is not None and said.text.startswith(
        "✅ Checked in, alice! +20 points · member day ×2 🎊.\n"
    )
    chat.now = local(FRIDAY + 1, 0, 0)
    next_day = await chat.say("alice", "/checkin")
    assert next_day.text is not None and next_day.text.startswith(
        "✅ Checked in, alice! +10 points.\n"
    )


async def test_a_chinese_community_sets_and_reads_its_member_day_in_chinese(
    chat: Chat, store: Store
) -> None:
    reconfigure(store, locale="zh_CN")
    said = await chat.say("boss", "/会员日 设置 每月18日 0点 2倍 24小时 预告=12")
    assert said.text == (
        "🎉 会员日已保存：每月18日 00:00，持续 24 小时，积分 ×2，提前 12 小时预告。\n"
        "接下来：12-18 周五 00:00、01-18 周一 00:00、02-18 周四 00:00（Asia/Shanghai）。"
    )
    shown = await chat.say("小明", "会员日")
    assert shown.text == (
        "🎉 下一个会员日：12-18 周五 00:00 – 12-19 周六 00:00（Asia/Shanghai），"
        "期间获得的积分一律 ×2。"
    )
    skipped = await chat.say("boss", "/memberday 跳过下次")
    assert skipped.text is not None and skipped.text.startswith("⏭ 已跳过 12-18 周五 的会员日")
    assert member_day(store).skipped == ("2026-12-18",)
    await chat.say("boss", "/memberday 取消跳过")
    chat.now = local(26, 20)  # Friday 12-18, 20:00
    checked = await chat.say("小明", "签到")
    assert checked.text is not None and checked.text.startswith(
        "✅ 签到成功，小明！+20 积分 · 会员日 ×2 🎊。"
    )
    off = await chat.say("boss", "/会员日 取消")
    assert off.text is not None and off.text.startswith("🛑 会员日已关闭")


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("/memberday 设置 随便", "看不懂会员日的开始时间。"),
        ("/memberday 设置 每周五 ×20", "积分倍数必须在 ×1 到 ×10 之间。未保存。"),
        ("/memberday 设置 每周五 0小时", "持续时间必须是 1 到 168 之间的整数小时。未保存。"),
        ("/memberday 设置 每周五 啊", "看不懂“啊”。"),
    ],
)
async def test_bad_chinese_input_answers_in_chinese_and_changes_nothing(
    chat: Chat, store: Store, text: str, answer: str
) -> None:
    reconfigure(store, locale="zh_CN")
    before = member_day(store)
    said = await chat.say("boss", text)
    assert said.text is not None and said.text.startswith(answer), said.text
    assert member_day(store) == before and changes(store) == []
    refused = await chat.say("小明", "/会员日 设置 每周五")
    assert refused.text == "抱歉，只有社群管理员可以修改会员日。发送 /memberday 查看下一个会员日。"


async def test_a_member_day_is_announced_opened_doubled_and_recapped_by_the_sweep(
    dispatcher: Dispatcher, store: Store, clock: Clock
) -> None:
    chat = Chat(dispatcher, clock)
    firings = Firings(store, clock=clock)
    await firings.sweep(clock.now)  # the process has started: nothing is due
    await chat.say("boss", SET)
    clock.now = local(FRIDAY - 1, 0, 0)  # Thursday 00:00: 24 hours before
    await firings.sweep(clock.now)
    announced = (
        "📣 Member day is coming: Fri 11-27 00:00 – Sat 11-28 00:00. "
        "Every point you earn then counts ×2!"
    )
    assert posted(store) == [("group-1", announced)]
    clock.now = local(FRIDAY, 0, 0)
    await firings.sweep(clock.now)
    opened = (
        "🎉 Member day is on! Until Sat 11-28 00:00 every point you earn counts ×2. "
        "Start with /checkin."
    )
    assert posted(store) == [("group-1", announced), ("group-1", opened)]
    clock.now = local(FRIDAY, 21)
    said = await chat.say("alice", "/checkin")
    assert said.text is not None and "+20 points · member day ×2" in said.text
    clock.now = local(FRIDAY + 1, 0, 0)
    late = await chat.say("bob", "/checkin")  # the first second after: no longer doubled
    assert late.text is not None and "+10 points." in late.text
    await firings.sweep(clock.now + timedelta(seconds=30))
    assert posted(store)[2:] == [
        (
            "group-1",
            "🏁 Member day of Fri 11-27 is over.\n"
            "1 member took part · 1 check-in · 20 points given.\n"
            "🏆 Top of the day:\n"
            "1. alice — 20 points",
        )
    ]
    # Nothing runs twice, also after a restart.
    assert (await firings.sweep(clock.now + timedelta(minutes=1))).ran == 0
    assert (await Firings(store, clock=clock).sweep(clock.now + timedelta(minutes=2))).ran == 0
    assert len(posted(store)) == 3


async def test_a_member_day_cancelled_under_way_is_recapped_at_once_and_only_once(
    dispatcher: Dispatcher, store: Store, clock: Clock
) -> None:
    chat = Chat(dispatcher, clock)
    firings = Firings(store, clock=clock)
    await firings.sweep(clock.now)
    await chat.say("boss", SET)
    clock.now = local(FRIDAY, 10)
    await firings.sweep(clock.now)
    await chat.say("alice", "/checkin")  # earned x2 before the cancel
    clock.now = local(FRIDAY, 10, 5)
    await chat.say("boss", "/memberday cancel")
    recap = (
        "🏁 Member day of Fri 11-27 is over.\n"
        "1 member took part · 1 check-in · 20 points given.\n"
        "🏆 Top of the day:\n"
        "1. alice — 20 points"
    )
    assert posted(store)[-1] == ("group-1", recap)
    clock.now = local(FRIDAY + 1, 0, 1)  # when the recap would have come: nothing more
    await firings.sweep(clock.now)
    assert [words for _, words in posted(store)].count(recap) == 1
