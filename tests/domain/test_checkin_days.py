"""Check-in rules: one a day by the community's calendar (Asia/Shanghai), streaks, the bonus."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import Connection, select

from community.checkins import StreakStatus, check_in, streak_status
from community.communities import Community
from community.config import Rules
from loyalty import ledger
from loyalty.errors import UserError
from loyalty.rules import ActionRule, EarningRules
from storage.schema import checkins
from tests.domain.conftest import BASE_POINTS, BONUS_POINTS, Join, local, on_day


def check_in_days(conn: Connection, community: Community, member_id: int, days: range) -> None:
    for day in days:
        check_in(conn, community, member_id, local(day))


def test_first_checkin_pays_the_base_points_and_starts_a_streak_of_one(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    result = check_in(conn, community, alice.id, local(1))
    assert (result.day, result.points, result.streak, result.bonus) == (on_day(1), 10, 1, False)
    assert result.balance == BASE_POINTS == ledger.balance(conn, alice.id)


def test_the_day_is_the_communitys_calendar_day_not_utcs(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    # 01:30 in Shanghai on day 2 is still day 1 (17:30) in UTC.
    at = local(2, 1, 30)
    assert at.date() == on_day(1)
    assert check_in(conn, community, alice.id, at).day == on_day(2)


def test_2359_and_0001_shanghai_time_are_two_days(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    late = check_in(conn, community, alice.id, local(1, 23, 59))
    early = check_in(conn, community, alice.id, local(2, 0, 1))
    assert (late.day, early.day) == (on_day(1), on_day(2))
    assert (late.streak, early.streak) == (1, 2)
    assert ledger.balance(conn, alice.id) == 2 * BASE_POINTS


def test_0001_and_2359_shanghai_time_are_one_day_though_utc_dates_differ(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    first, second = local(1, 0, 1), local(1, 23, 59)
    assert first.date() != second.date()
    check_in(conn, community, alice.id, first)
    with pytest.raises(UserError) as refused:
        check_in(conn, community, alice.id, second)
    assert refused.value.key == "checkin/already_done"


def test_a_second_checkin_the_same_day_is_refused_and_pays_nothing(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    check_in(conn, community, alice.id, local(1, 9))
    with pytest.raises(UserError) as refused:
        check_in(conn, community, alice.id, local(1, 15))
    assert refused.value.key == "checkin/already_done"
    assert refused.value.context == {"streak": 1, "tomorrow": on_day(2)}
    assert ledger.balance(conn, alice.id) == BASE_POINTS == ledger.ledger_sum(conn, alice.id)


def test_a_missed_day_breaks_the_streak(conn: Connection, community: Community, join: Join) -> None:
    alice = join("alice")
    check_in_days(conn, community, alice.id, range(1, 4))
    after_gap = check_in(conn, community, alice.id, local(5))
    assert after_gap.streak == 1
    assert after_gap.points == BASE_POINTS


@pytest.mark.parametrize(("streak", "bonus"), [(6, False), (7, True), (8, False), (14, True)])
def test_every_seventh_day_of_a_streak_earns_the_bonus(
    conn: Connection, community: Community, join: Join, streak: int, bonus: bool
) -> None:
    alice = join("alice")
    check_in_days(conn, community, alice.id, range(1, streak))
    result = check_in(conn, community, alice.id, local(streak))
    assert result.streak == streak
    assert result.bonus is bonus
    assert result.points == BASE_POINTS + (BONUS_POINTS if bonus else 0)
    assert ledger.recent_entries(conn, alice.id, 1)[0].reason == (
        "streak_bonus" if bonus else "checkin"
    )


def test_two_weeks_of_checkins_pay_two_bonuses_and_the_balance_is_the_ledger_sum(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    check_in_days(conn, community, alice.id, range(1, 15))
    assert ledger.balance(conn, alice.id) == 14 * BASE_POINTS + 2 * BONUS_POINTS
    assert ledger.ledger_sum(conn, alice.id) == ledger.balance(conn, alice.id)


def test_a_streak_broken_after_the_bonus_must_run_seven_days_again(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    check_in_days(conn, community, alice.id, range(1, 8))
    check_in_days(conn, community, alice.id, range(9, 15))  # day 8 missed: six days in a row
    assert check_in(conn, community, alice.id, local(15)).bonus is True
    assert ledger.balance(conn, alice.id) == 14 * BASE_POINTS + 2 * BONUS_POINTS


def test_one_members_checkin_leaves_anothers_day_and_streak_alone(
    conn: Connection, community: Community, join: Join
) -> None:
    alice, bob = join("alice"), join("bob")
    check_in_days(conn, community, alice.id, range(1, 3))
    result = check_in(conn, community, bob.id, local(2))
    assert (result.streak, result.balance) == (1, BASE_POINTS)
    assert ledger.balance(conn, alice.id) == 2 * BASE_POINTS


def test_a_community_that_pays_nothing_for_checkins_still_counts_streaks(
    conn: Connection, community: Community, join: Join
) -> None:
    nothing = ActionRule(points=0)
    unpaid = replace(
        community, rules=Rules(earning=EarningRules(checkin=nothing, streak_bonus=nothing))
    )
    alice = join("alice")
    results = [check_in(conn, unpaid, alice.id, local(day)) for day in range(1, 8)]
    assert [r.streak for r in results] == list(range(1, 8))
    assert {(r.points, r.bonus, r.balance) for r in results} == {(0, False, 0)}
    assert ledger.recent_entries(conn, alice.id) == []


def test_each_checkin_is_recorded_once_with_its_day_streak_and_points(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    check_in_days(conn, community, alice.id, range(1, 8))
    rows = conn.execute(
        select(checkins.c.day, checkins.c.streak, checkins.c.points)
        .where(checkins.c.member_id == alice.id)
        .order_by(checkins.c.day)
    ).all()
    assert [tuple(row) for row in rows] == [
        (on_day(day), day, 30 if day == 7 else 10) for day in range(1, 8)
    ]


def test_streak_status_of_a_member_who_never_checked_in_is_zero(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    assert streak_status(conn, community, alice.id, local(1)) == StreakStatus(0, False)


def test_streak_status_says_checked_in_today_until_local_midnight(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    check_in_days(conn, community, alice.id, range(1, 4))
    assert streak_status(conn, community, alice.id, local(3, 23, 59)) == StreakStatus(3, True)
    assert streak_status(conn, community, alice.id, local(4, 0, 1)) == StreakStatus(3, False)


def test_the_streak_stays_alive_through_the_next_day_and_dies_the_day_after(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    check_in_days(conn, community, alice.id, range(1, 4))
    assert streak_status(conn, community, alice.id, local(4, 23, 59)).streak == 3
    assert streak_status(conn, community, alice.id, local(5, 0, 1)) == StreakStatus(0, False)
