"""The daily expiry run through the real core: members hear privately, once, that points are
about to expire (even when the bot was down on the day), then the expired points leave."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from handlers.firings import Firings
from storage.schema import ledger
from storage.store import Store
from tests.conftest import reconfigure
from tests.harness import Chat, Clock, ledger_state, posted, rows

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Points earned on T0 (2026-11-23) expire at 2027-12-01 00:00 in Shanghai; the run is at 00:10.
REMINDER = (
    "⏳ alice, 100 points of yours expire on 2027-12-01 00:00 (Asia/Shanghai). Spend them"
    " before then: /rewards shows what they buy."
)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 11) -> datetime:
    return datetime.combine(datetime(year, month, day).date(), time(hour, minute), SHANGHAI)


async def sweep(store: Store, clock: Clock, moment: datetime) -> None:
    """The bot (re)started at `moment`: it runs what is due within the grace period."""
    clock.now = moment
    await Firings(store, clock=clock).sweep(moment)


async def test_members_are_reminded_once_then_the_points_expire(
    chat: Chat, store: Store, clock: Clock
) -> None:
    await chat.say("boss", "/award @alice 100 welcome")  # unknown yet: refused
    await chat.say("alice", "hello")
    await chat.say("boss", "/award @alice 100 welcome")
    await sweep(store, clock, at(2027, 10, 31))  # 31 days before: too early
    assert posted(store, kind="direct") == []
    await sweep(store, clock, at(2027, 11, 1))
    assert posted(store, kind="direct") == [("alice", REMINDER)]
    await sweep(store, clock, at(2027, 11, 2))
    await sweep(store, clock, at(2027, 11, 30))
    assert len(posted(store, kind="direct")) == 1
    assert ledger_state(store, "console", "alice") == (100, 100)
    await sweep(store, clock, at(2027, 12, 1))
    assert ledger_state(store, "console", "alice") == (0, 0)
    assert [(r.delta, r.reason) for r in rows(store, ledger)][-1] == (-100, "expired")
    await sweep(store, clock, at(2027, 12, 1, 0, 30))  # a rerun that day takes nothing twice
    assert [r.reason for r in rows(store, ledger)].count("expired") == 1


async def test_a_reminder_missed_while_the_bot_was_down_comes_with_the_next_run(
    chat: Chat, store: Store, clock: Clock
) -> None:
    await chat.say("alice", "hello")
    await chat.say("boss", "/award @alice 100 welcome")
    await sweep(store, clock, at(2027, 11, 20))  # down from Oct 31 until Nov 20
    assert posted(store, kind="direct") == [("alice", REMINDER)]


async def test_no_reminder_for_points_already_expired_or_when_reminders_are_off(
    chat: Chat, store: Store, clock: Clock
) -> None:
    reconfigure(store, extra="[expiry]\nremind_days_before = 0\n")
    await chat.say("alice", "hello")
    await chat.say("boss", "/award @alice 100 welcome")
    await sweep(store, clock, at(2027, 11, 15))
    assert posted(store, kind="direct") == []
    await sweep(store, clock, at(2027, 12, 2))  # down on the day: taken the next day
    assert ledger_state(store, "console", "alice") == (0, 0)
    assert posted(store, kind="direct") == []


async def test_the_reminder_comes_in_chinese(chat: Chat, store: Store, clock: Clock) -> None:
    reconfigure(store, locale="zh_CN")
    await chat.say("小明", "签到")
    await sweep(store, clock, at(2027, 11, 1))
    assert posted(store, "zh_CN", kind="direct") == [
        (
            "小明",
            "⏳ 小明，你有 10 积分将于 2027-12-01 00:00（Asia/Shanghai）过期，请在此之前使用：发送"
            " /rewards 看看能兑换什么。",
        )
    ]
