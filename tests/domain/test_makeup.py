"""Make-up cards (补签卡): a missed day of the window filled, the streak restored as if checked in,
free tier cards first and bought ones after, refusals that change nothing."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import Connection, select, update

from community.checkins import check_in, streak_status
from community.communities import Community
from community.config import MakeupRules
from community.makeup import cards, make_up, missed_days
from community.members import Member
from loyalty import ledger
from loyalty.errors import UserError
from storage.schema import balances, checkins
from tests.domain.conftest import BASE_POINTS, Join, local, on_day

SILVER = 1  # the default tiers' index of Silver: one free card a month


def holds(conn: Connection, member: Member, *, tier: int = 0, bought: int = 0) -> None:
    """Give the member a tier and make-up cards bought in the shop."""
    conn.execute(
        update(balances)
        .where(balances.c.member_id == member.id)
        .values(tier=tier, makeup_cards=bought)
    )


def check_in_on(conn: Connection, community: Community, member: Member, *days: int) -> None:
    for day in days:
        check_in(conn, community, member.id, local(day))


def streaks(conn: Connection, member: Member) -> list[tuple[int, int, int, str | None]]:
    """(day number, streak, points, card) of every day the member has, in order."""
    query = (
        select(checkins.c.day, checkins.c.streak, checkins.c.points, checkins.c.card)
        .where(checkins.c.member_id == member.id)
        .order_by(checkins.c.day)
    )
    return [
        ((row.day - on_day(1)).days + 1, row.streak, row.points, row.card)
        for row in conn.execute(query)
    ]


def bought_cards(conn: Connection, member: Member) -> int:
    query = select(balances.c.makeup_cards).where(balances.c.member_id == member.id)
    return int(conn.execute(query).scalar_one())


def test_a_missed_day_filled_restores_the_streak_as_if_checked_in_and_pays_nothing(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    check_in_on(conn, community, alice, 1, 2, 4, 5)
    holds(conn, alice, tier=SILVER)
    balance = ledger.balance(conn, alice.id)
    done = make_up(conn, community, alice.id, local(5, 12))
    assert (done.day, done.card, done.streak, done.day_streak) == (on_day(3), "tier", 5, 3)
    assert streaks(conn, alice) == [
        (1, 1, BASE_POINTS, None),
        (2, 2, BASE_POINTS, None),
        (3, 3, 0, "tier"),
        (4, 4, BASE_POINTS, None),
        (5, 5, BASE_POINTS, None),
    ]
    assert ledger.balance(conn, alice.id) == balance  # a make-up earns no points
    # /me reads the restored streak, and tomorrow's check-in goes on from it.
    assert streak_status(conn, community, alice.id, local(5, 13)).streak == 5
    assert check_in(conn, community, alice.id, local(6)).streak == 6


def test_yesterday_filled_before_todays_checkin_keeps_the_streak_alive(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    check_in_on(conn, community, alice, 1, 2, 3)
    holds(conn, alice, bought=1)
    assert streak_status(conn, community, alice.id, local(5)).streak == 0  # day 4 was missed
    done = make_up(conn, community, alice.id, local(5), on_day(4))
    assert (done.card, done.streak) == ("shop", 4)
    assert check_in(conn, community, alice.id, local(5, 10)).streak == 5


def test_a_day_filled_apart_from_the_streak_says_so_and_lists_the_days_still_missed(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice", at=local(-20, 8))
    check_in_on(conn, community, alice, 1, 2, 6)
    holds(conn, alice, bought=1)
    done = make_up(conn, community, alice.id, local(6, 12), on_day(3))
    assert (done.day_streak, done.streak) == (3, 1)  # days 4 and 5 still break it
    assert done.missed[:3] == (on_day(5), on_day(4), on_day(0))


def test_free_tier_cards_go_first_then_bought_ones_then_none_is_left(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice", at=local(-20, 8))
    check_in_on(conn, community, alice, 1)
    holds(conn, alice, tier=SILVER, bought=1)
    now = local(5, 12)
    assert cards(conn, community, alice.id, now).total == 2
    first = make_up(conn, community, alice.id, now)
    second = make_up(conn, community, alice.id, now)
    assert [(first.day, first.card), (second.day, second.card)] == [
        (on_day(4), "tier"),
        (on_day(3), "shop"),
    ]
    assert (second.cards.tier_left, second.cards.bought) == (0, 0)
    assert bought_cards(conn, alice) == 0
    with pytest.raises(UserError) as refused:
        make_up(conn, community, alice.id, now)
    assert refused.value.key == "makeup/no_cards"
    assert refused.value.context["better"]["cards"] == 2  # Gold gives two a month
    assert missed_days(conn, community, alice.id, now)[:2] == (on_day(2), on_day(0))


def test_tier_cards_come_back_with_the_communitys_month(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    holds(conn, alice, tier=SILVER)
    # Day 8 is 11-30 and day 9 is 12-01 in Shanghai; 00:30 on 12-01 there is still 11-30 in UTC.
    late_november, early_december = local(8, 23, 30), local(9, 0, 30)
    assert make_up(conn, community, alice.id, late_november).day == on_day(7)
    with pytest.raises(UserError, match="makeup/no_cards"):
        make_up(conn, community, alice.id, local(8, 23, 50))
    assert early_december.date() == on_day(8)
    done = make_up(conn, community, alice.id, early_december)
    assert (done.day, done.card, done.cards.tier_left) == (on_day(8), "tier", 0)


@pytest.mark.parametrize(
    ("day", "refusal"),
    [
        (5, "makeup/already_checked_in"),
        (1, "makeup/too_old"),  # day 10 looks back 7 days: to day 3
        (10, "makeup/not_past"),  # today is still to check in
        (11, "makeup/not_past"),
    ],
)
def test_refusals_change_nothing(
    conn: Connection, community: Community, join: Join, day: int, refusal: str
) -> None:
    alice = join("alice")
    check_in_on(conn, community, alice, 5)
    holds(conn, alice, tier=SILVER, bought=3)
    before = streaks(conn, alice)
    with pytest.raises(UserError) as refused:
        make_up(conn, community, alice.id, local(10), on_day(day))
    assert refused.value.key == refusal
    assert streaks(conn, alice) == before
    assert bought_cards(conn, alice) == 3
    assert cards(conn, community, alice.id, local(10)).tier_left == 1


def test_a_day_older_than_the_window_is_refused_by_the_communitys_setting(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    holds(conn, alice, bought=2)
    rules = community.rules.model_copy(update={"makeup": MakeupRules(window_days=2)})
    short = replace(community, rules=rules)
    assert make_up(conn, short, alice.id, local(10), on_day(8)).day == on_day(8)
    with pytest.raises(UserError, match="makeup/too_old"):
        make_up(conn, short, alice.id, local(10), on_day(7))


def test_a_member_with_no_card_learns_how_to_get_one(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    with pytest.raises(UserError) as refused:
        make_up(conn, community, alice.id, local(5))
    assert refused.value.context["monthly"] == 0
    assert refused.value.context["better"] == {"en": "Silver", "zh_CN": "银卡会员", "cards": 1}
    assert streaks(conn, alice) == []


def test_nothing_to_make_up_when_every_day_of_the_window_was_checked_in(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    check_in_on(conn, community, alice, *range(1, 10))
    holds(conn, alice, bought=1)
    with pytest.raises(UserError, match="makeup/nothing_missed"):
        make_up(conn, community, alice.id, local(10))
    assert bought_cards(conn, alice) == 1


def test_a_day_before_the_member_joined_is_neither_missed_nor_made_up(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice", at=local(3, 8))  # joined on day 3; the window reaches back to day -2
    holds(conn, alice, bought=2)
    with pytest.raises(UserError) as refused:
        make_up(conn, community, alice.id, local(5), on_day(2))
    assert refused.value.key == "makeup/before_joining"
    assert missed_days(conn, community, alice.id, local(5)) == (on_day(4), on_day(3))
    assert bought_cards(conn, alice) == 2
