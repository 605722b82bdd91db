"""Reminder rules: who gets the evening streak nudge, where private messages go, and the
win-back's periods and limit."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, insert, select

from community.checkins import check_in
from community.communities import Community
from community.config import ReminderRules
from community.jobs import FiringContext
from community.members import Member
from community.outbox import Kind, decode_reply
from community.reminders import (
    jobs,
    recipients,
    reminders_on,
    send_streak_reminders,
    send_win_backs,
    set_reminders,
)
from community.schedules import When
from storage.schema import accounts, groups, outbox
from tests.domain.conftest import Join, local

EVENING = local(1, 20)  # the default streak_at, on day 1


def fire(
    conn: Connection, community: Community, work: Any, at: datetime, now: datetime | None = None
) -> set[str]:
    """Run a job's work as a firing scheduled at `at` (run at `now`); the platforms it woke."""
    platforms: set[str] = set()
    work(FiringContext(conn, community, at, now or at, platforms))
    return platforms


def sent(conn: Connection) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(platform, chat, template, context) of each private message queued, in order."""
    found = []
    for row in conn.execute(select(outbox).order_by(outbox.c.id)):
        assert row.kind == Kind.DIRECT and row.group_chat_id is None
        reply = decode_reply(row.payload, "en")
        found.append((row.platform, row.chat_id, reply.template, dict(reply.context)))
    return found


def with_rules(community: Community, **changes: Any) -> Community:
    rules = community.rules.reminders.model_copy(update=changes)
    ReminderRules.model_validate(rules.model_dump())  # the changes are valid settings
    return replace(community, rules=community.rules.model_copy(update={"reminders": rules}))


def opted_in(conn: Connection, join: Join, name: str, **how: Any) -> Member:
    member = join(name, **how)
    set_reminders(conn, member.id, True)
    return member


# Jobs -------------------------------------------------------------------------------------


def test_the_streak_reminder_is_a_daily_job_at_streak_at_and_win_back_is_off_by_default(
    conn: Connection, community: Community
) -> None:
    (remind,) = jobs(conn, community)
    assert remind.key == f"remind:{community.id}"
    assert remind.when == When("daily", times=((20, 0),))
    assert remind.timezone == community.timezone
    assert remind.firings(local(1, 9), local(3, 9)) == [local(1, 20), local(2, 20)]


def test_win_back_is_a_second_daily_job_when_its_days_are_set(
    conn: Connection, community: Community
) -> None:
    set_up = with_rules(community, win_back_after_days=7, win_back_at="10:30", streak_at="21:15")
    remind, win_back = jobs(conn, set_up)
    assert remind.when == When("daily", times=((21, 15),))
    assert (win_back.key, win_back.when) == (
        f"winback:{community.id}",
        When("daily", times=((10, 30),)),
    )


# Streak reminder --------------------------------------------------------------------------


def test_opting_in_and_out(conn: Connection, join: Join) -> None:
    alice = join("alice")
    assert reminders_on(conn, alice.id) is False
    set_reminders(conn, alice.id, True)
    assert reminders_on(conn, alice.id) is True
    set_reminders(conn, alice.id, False)
    assert reminders_on(conn, alice.id) is False


def test_only_opted_in_members_who_have_not_checked_in_today_are_nudged(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = opted_in(conn, join, "alice")
    bob = opted_in(conn, join, "bob")
    join("carol")  # never opted in
    dave = opted_in(conn, join, "dave")
    set_reminders(conn, dave.id, False)  # opted out again
    check_in(conn, community, bob.id, local(1, 19, 59))
    assert fire(conn, community, send_streak_reminders, EVENING) == {"telegram"}
    assert sent(conn) == [
        ("telegram", "alice", "reminders/streak", {"name": "Alice", "streak": 0, "points": 10})
    ]
    assert alice.id != bob.id


def test_the_nudge_tells_the_streak_still_alive_and_what_tonight_earns(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = opted_in(conn, join, "alice")
    for day in range(1, 7):
        check_in(conn, community, alice.id, local(day, 9))
    fire(conn, community, send_streak_reminders, local(7, 20))
    # Day 7 would be the 7th in a row: the bonus of 20 comes with it.
    assert sent(conn)[0][3] == {"name": "Alice", "streak": 6, "points": 30}


def test_a_streak_broken_before_today_is_no_streak(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = opted_in(conn, join, "alice")
    check_in(conn, community, alice.id, local(1, 9))
    fire(conn, community, send_streak_reminders, local(3, 20))
    assert sent(conn)[0][3]["streak"] == 0


def test_the_day_is_the_communitys_local_day(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = opted_in(conn, join, "alice")
    # 00:30 in Shanghai on day 2 is still day 1 in UTC: it is a check-in of day 2.
    check_in(conn, community, alice.id, local(2, 0, 30))
    fire(conn, community, send_streak_reminders, local(2, 20))
    assert sent(conn) == []


def test_a_nudge_run_after_its_day_is_over_says_nothing(
    conn: Connection, community: Community, join: Join
) -> None:
    opted_in(conn, join, "alice")
    late = local(2, 0, 10)  # 23:30's firing, run after midnight (within the grace period)
    assert fire(conn, community, send_streak_reminders, local(1, 23, 30), late) == set()
    assert sent(conn) == []


def test_a_nudge_replayed_by_a_clock_moved_ahead_is_sent_on_its_own_day(
    conn: Connection, community: Community, join: Join
) -> None:
    # The console's :time three days ahead: each evening's firing runs "before" real time.
    opted_in(conn, join, "alice")
    assert fire(conn, community, send_streak_reminders, local(3, 20), local(1, 9)) != set()
    assert len(sent(conn)) == 1


# Where private messages go ----------------------------------------------------------------


def add_account(conn: Connection, member: Member, platform: str, user_id: str) -> None:
    conn.execute(
        insert(accounts).values(
            community_id=member.community_id,
            member_id=member.id,
            platform=platform,
            platform_user_id=user_id,
            display_name=member.display_name,
            created_at=local(1),
        )
    )


def private_chat(conn: Connection, community: Community, platform: str, chat_id: str) -> None:
    conn.execute(
        insert(groups).values(
            platform=platform,
            chat_id=chat_id,
            community_id=community.id,
            created_at=local(1),
            private=True,
        )
    )


def test_a_private_message_goes_where_the_member_talks_to_the_bot(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice", "discord")
    add_account(conn, alice, "telegram", "111")
    bob = join("bob", "telegram")
    add_account(conn, bob, "discord", "222")
    private_chat(conn, community, "telegram", "111")  # alice wrote to the bot on Telegram
    private_chat(conn, community, "discord", "dm:222")  # bob on Discord
    found = recipients(conn, community.id, [alice.id, bob.id])
    assert (found[alice.id].platform, found[alice.id].user_id) == ("telegram", "111")
    assert (found[bob.id].platform, found[bob.id].user_id) == ("discord", "222")
    assert found[alice.id].reachable and found[bob.id].reachable


def test_without_a_private_chat_a_platform_that_lets_the_bot_write_first_is_chosen(
    conn: Connection, community: Community, join: Join
) -> None:
    carol = join("carol", "discord")
    add_account(conn, carol, "telegram", "333")  # linked later: newer, but Telegram
    dave = join("dave", "telegram")
    found = recipients(conn, community.id, [carol.id, dave.id])
    assert (found[carol.id].platform, found[carol.id].reachable) == ("discord", True)
    # Telegram alone, and no private chat: the bot tries, but cannot be sure it may.
    assert (found[dave.id].platform, found[dave.id].reachable) == ("telegram", False)


# Win-back ---------------------------------------------------------------------------------

WEEKLY = {"win_back_after_days": 7, "win_back_max": 2}


def test_win_back_sends_one_message_per_period_of_absence_up_to_the_max(
    conn: Connection, community: Community, join: Join
) -> None:
    set_up = with_rules(community, **WEEKLY)
    join("alice", at=local(1, 8))  # last seen on day 1, 08:00

    def morning(day: int) -> int:
        """How many messages the win-back's firing that morning queued."""
        before = len(sent(conn))
        fire(conn, set_up, send_win_backs, local(day, 11))
        return len(sent(conn)) - before

    assert [morning(day) for day in range(2, 8)] == [0] * 6  # not yet 7 days
    assert morning(8) == 1  # 7 days and 3 hours
    assert [morning(day) for day in range(9, 15)] == [0] * 6  # the same period
    assert morning(15) == 1
    assert [morning(day) for day in range(16, 40)] == [0] * 24  # the max for this stretch
    contexts = [context for *_, context in sent(conn)]
    assert contexts == [
        {"name": "Alice", "community": "Acme Fans", "days": 7, "message": ""},
        {"name": "Alice", "community": "Acme Fans", "days": 14, "message": ""},
    ]


def test_a_member_seen_again_starts_a_new_stretch(
    conn: Connection, community: Community, join: Join
) -> None:
    set_up = with_rules(community, **WEEKLY)
    join("alice", at=local(1, 8))
    for day in (8, 15, 22):
        fire(conn, set_up, send_win_backs, local(day, 11))
    assert len(sent(conn)) == 2
    join("alice", at=local(23, 9))  # back: seen again
    for day in range(24, 30):
        fire(conn, set_up, send_win_backs, local(day, 11))
    assert len(sent(conn)) == 2
    fire(conn, set_up, send_win_backs, local(30, 11))  # 7 days since day 23
    assert len(sent(conn)) == 3


def test_a_win_back_is_sent_once_whatever_runs_it_again(
    conn: Connection, community: Community, join: Join
) -> None:
    set_up = with_rules(community, **WEEKLY)
    join("alice", at=local(1, 8))
    fire(conn, set_up, send_win_backs, local(8, 11))
    # The same firing run again (a retry past its claim), a second process, a later hour.
    fire(conn, set_up, send_win_backs, local(8, 11))
    fire(conn, set_up, send_win_backs, local(8, 23))
    assert len(sent(conn)) == 1


def test_a_long_absence_found_late_gets_one_message_not_a_burst(
    conn: Connection, community: Community, join: Join
) -> None:
    set_up = with_rules(community, **WEEKLY)
    join("alice", at=local(1, 8))
    fire(conn, set_up, send_win_backs, local(40, 11))  # five periods gone, nothing sent yet
    assert len(sent(conn)) == 1
    fire(conn, set_up, send_win_backs, local(41, 11))
    assert len(sent(conn)) == 1
    fire(conn, set_up, send_win_backs, local(43, 11))  # the sixth period: the second and last
    fire(conn, set_up, send_win_backs, local(50, 11))
    assert len(sent(conn)) == 2


def test_the_communitys_own_words_replace_the_bots(
    conn: Connection, community: Community, join: Join
) -> None:
    set_up = with_rules(community, win_back_message="We saved you a coupon!", **WEEKLY)
    join("alice", at=local(1, 8))
    fire(conn, set_up, send_win_backs, local(8, 11))
    assert sent(conn)[0][3]["message"] == "We saved you a coupon!"


def test_win_back_off_sends_nothing(conn: Connection, community: Community, join: Join) -> None:
    join("alice", at=local(1, 8))
    assert fire(conn, community, send_win_backs, local(100, 11)) == set()
    assert sent(conn) == []


@pytest.mark.parametrize("days", [1, 3])
def test_members_seen_within_the_period_are_left_alone(
    conn: Connection, community: Community, join: Join, days: int
) -> None:
    set_up = with_rules(community, win_back_after_days=days)
    join("alice", at=local(5, 12))
    fire(conn, set_up, send_win_backs, local(5 + days, 11))  # an hour short
    assert sent(conn) == []
    fire(conn, set_up, send_win_backs, local(5 + days, 12))
    assert len(sent(conn)) == 1
    assert timedelta(days=days) == local(5 + days, 12) - local(5, 12)
