"""Redeeming and refunding: points through the ledger, limits per local period, tiers and
member-day windows, refunds back into the lots the points came from."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Connection, select, update

from community import shop
from community.communities import Community
from loyalty import ledger, redemptions, rewards
from loyalty.errors import UserError
from loyalty.reward_rules import RewardConfig
from storage.schema import balances, lots, members
from tests.domain.conftest import Join, give, local


def _add(conn: Connection, community: Community, **settings: object) -> int:
    config = RewardConfig.model_validate({"name": "Mug", "cost": 100, **settings})
    return rewards.add_reward(conn, community.id, config, at=local(1), max_rewards=50).id


def _redeem(
    conn: Connection, community: Community, member_id: int, reward_id: int, at: datetime
) -> redemptions.Redeemed:
    return shop.redeem(
        conn,
        community,
        member_id=member_id,
        reward_id=reward_id,
        issued=int(at.timestamp()),
        at=at,
    )


def _refused(
    conn: Connection, community: Community, member_id: int, reward_id: int, at: datetime
) -> str:
    with pytest.raises(UserError) as refused:
        _redeem(conn, community, member_id, reward_id, at)
    return refused.value.key


def test_a_weekly_limit_counts_the_communitys_week(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    give(conn, alice, 1000)
    pin = _add(conn, community, per_member=1, per_period="week")
    _redeem(conn, community, alice.id, pin, local(1, 9))  # Monday
    assert _refused(conn, community, alice.id, pin, local(7, 23, 59)) == "rewards/limit_reached"
    # Monday 00:00 in Shanghai is Sunday 16:00 UTC: a new week there.
    assert _redeem(conn, community, alice.id, pin, local(8, 0, 0)).balance == 800


def test_a_refunded_redemption_no_longer_counts_to_the_limit(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    give(conn, alice, 1000)
    pin = _add(conn, community, per_member=1)
    done = _redeem(conn, community, alice.id, pin, local(1))
    redemptions.refund(conn, community.program, done.redemption.id, at=local(1, 10))
    assert _redeem(conn, community, alice.id, pin, local(1, 11)).balance == 900


def test_a_tier_and_a_member_day_gate_a_reward(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    give(conn, alice, 1000)
    gold = _add(conn, community, min_tier=2)
    with pytest.raises(UserError) as refused:
        _redeem(conn, community, alice.id, gold, local(1))
    assert refused.value.key == "rewards/tier_too_low"
    assert refused.value.context["tier"] == {"en": "Gold", "zh_CN": "金卡会员"}
    conn.execute(update(balances).where(balances.c.member_id == alice.id).values(tier=2))
    assert _redeem(conn, community, alice.id, gold, local(1)).balance == 900
    party = _add(conn, community, window="member_day")
    assert _refused(conn, community, alice.id, party, local(1)) == "rewards/member_day_only"
    done = redemptions.redeem(
        conn,
        community.program,
        member_id=alice.id,
        reward_id=party,
        issued=1,
        at=local(1),
        window_open=True,
    )
    assert done.balance == 800


def test_nothing_changes_when_points_are_short(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    give(conn, alice, 99)
    mug = _add(conn, community, stock=1)
    assert _refused(conn, community, alice.id, mug, local(1)) == "rewards/not_enough"
    assert ledger.balance(conn, alice.id) == 99
    assert rewards.reward_by_id(conn, community.id, mug).stock == 1


def test_a_refund_puts_points_back_with_their_expiry(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    expires = local(200)
    ledger.post(
        conn,
        community_id=community.id,
        member_id=alice.id,
        delta=300,
        reason="checkin",
        key="earned",
        at=local(1),
        lot=ledger.Lot(expires, True),
    )
    mug = _add(conn, community, cost=300, stock=4)
    done = _redeem(conn, community, alice.id, mug, local(2))
    refunded = redemptions.refund(conn, community.program, done.redemption.id, at=local(3))
    assert refunded.balance == 300 and refunded.redemption.state == "refunded"
    held = conn.execute(select(lots.c.remaining, lots.c.expires_at)).all()
    assert [(r.remaining, r.expires_at) for r in held] == [(300, expires)]
    assert rewards.reward_by_id(conn, community.id, mug).stock == 4
    with pytest.raises(UserError) as twice:
        redemptions.refund(conn, community.program, done.redemption.id, at=local(4))
    assert twice.value.key == "rewards/already_refunded"
    assert ledger.balance(conn, alice.id) == 300 == ledger.ledger_sum(conn, alice.id)


def test_a_refund_takes_back_a_title_and_a_card(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    give(conn, alice, 1000)
    star = _add(conn, community, kind="digital", value="Superstar")
    card = _add(conn, community, kind="makeup")
    titled = _redeem(conn, community, alice.id, star, local(1))
    carded = _redeem(conn, community, alice.id, card, local(1, 10))
    title = select(members.c.title).where(members.c.id == alice.id)
    cards = select(balances.c.makeup_cards).where(balances.c.member_id == alice.id)
    assert (conn.execute(title).scalar_one(), conn.execute(cards).scalar_one()) == ("Superstar", 1)
    redemptions.refund(conn, community.program, titled.redemption.id, at=local(2))
    redemptions.refund(conn, community.program, carded.redemption.id, at=local(2))
    assert (conn.execute(title).scalar_one(), conn.execute(cards).scalar_one()) == (None, 0)


def test_only_a_pending_gift_is_fulfilled(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    give(conn, alice, 1000)
    hoodie = _add(conn, community, kind="gift")
    ticket = _add(conn, community, kind="entry")
    gift = _redeem(conn, community, alice.id, hoodie, local(1)).redemption
    entry = _redeem(conn, community, alice.id, ticket, local(1, 10)).redemption
    assert [r.id for r in redemptions.pending_gifts(conn, community.id, 10)] == [gift.id]
    done = redemptions.fulfil(conn, community.id, gift.id, local(2))
    assert done.state == "fulfilled"
    with pytest.raises(UserError) as refused:
        redemptions.fulfil(conn, community.id, entry.id, local(2))
    assert refused.value.context == {"number": entry.id, "state": "delivered"}
    assert redemptions.pending_gifts(conn, community.id, 10) == []
    mine = redemptions.member_redemptions(conn, alice.id, 10)
    assert [(r.reward_name, r.state) for r in mine] == [("Mug", "delivered"), ("Mug", "fulfilled")]
