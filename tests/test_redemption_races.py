"""Redemptions racing on one database: many members after the last items, one member pressing
many buttons at once. Two engines (as two bot processes would have) and many threads, each
redemption in its own transaction on its own connection: nothing is oversold, no code is given
twice, no limit is passed, a double press pays once — on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from threading import Barrier

import pytest
from sqlalchemy import Engine, func, select

from community import shop
from community.communities import Community, apply_config
from community.config import parse_config
from community.members import identify
from loyalty import ledger
from loyalty.errors import UserError
from loyalty.reward_rules import RewardConfig
from loyalty.rewards import add_reward, import_codes
from storage.engine import make_engine
from storage.schema import coupon_codes, redemptions, rewards
from tests.conftest import T0, TEST_COMMUNITY
from tests.domain.conftest import local

MEMBERS = 200
ITEMS = 10
WORKERS = 16


@dataclass
class Shop:
    """The test community on two engines, its members and a reward of ITEMS."""

    engines: tuple[Engine, Engine]
    community: Community
    member_ids: list[int]


@pytest.fixture
def racing(db_url: str) -> Iterator[Shop]:
    engines = (
        make_engine(db_url, writer=True, pool_size=WORKERS),
        make_engine(db_url, writer=True, pool_size=WORKERS),
    )
    config, digest = parse_config(TEST_COMMUNITY)
    with engines[0].begin() as conn:
        community = apply_config(
            conn, config, digest, default_timezone="UTC", default_locale="en", at=T0
        )
        member_ids = []
        for number in range(MEMBERS):
            member = identify(
                conn,
                community_id=community.id,
                platform="console",
                user_id=f"m{number}",
                display_name=f"M{number}",
                username=None,
                at=T0,
            )
            ledger.post(
                conn,
                community_id=community.id,
                member_id=member.id,
                delta=1000,
                reason="award",
                key=f"seed:{member.id}",
                at=T0,
            )
            member_ids.append(member.id)
    yield Shop(engines, community, member_ids)
    for engine in engines:
        engine.dispose()


def _add(racing: Shop, config: RewardConfig, codes: int = 0) -> int:
    with racing.engines[0].begin() as conn:
        reward = add_reward(conn, racing.community.id, config, at=T0, max_rewards=100)
        if codes:
            found = [f"CODE-{n}" for n in range(codes)]
            import_codes(conn, racing.community.id, reward.id, found, at=T0, limit=1000)
        return reward.id


def _at_once(racing: Shop, tries: list[tuple[int, int, int]]) -> Counter[str]:
    """Redeem (member, reward, issued) for every try, all at once on both engines; counts
    the outcomes ("redeemed", "again", or the refusal's key)."""
    start = Barrier(WORKERS)

    def attempt(index: int) -> str:
        member_id, reward_id, issued = tries[index]
        if index < WORKERS:
            start.wait(30)  # the first of each worker all begin together
        engine = racing.engines[index % 2]
        try:
            with engine.begin() as conn:
                done = shop.redeem(
                    conn,
                    racing.community,
                    member_id=member_id,
                    reward_id=reward_id,
                    issued=issued,
                    at=local(1, 10),
                )
                return "again" if done.again else "redeemed"
        except UserError as refusal:
            return refusal.key

    with ThreadPoolExecutor(WORKERS) as pool:
        return Counter(pool.map(attempt, range(len(tries))))


def test_two_hundred_members_after_the_last_ten_items_get_exactly_ten(racing: Shop) -> None:
    reward_id = _add(racing, RewardConfig(name="Mug", cost=100, stock=ITEMS))
    outcomes = _at_once(racing, [(m, reward_id, 1) for m in racing.member_ids])
    assert outcomes == {"redeemed": ITEMS, "rewards/out_of_stock": MEMBERS - ITEMS}
    with racing.engines[0].connect() as conn:
        stock = conn.execute(select(rewards.c.stock).where(rewards.c.id == reward_id))
        assert stock.scalar_one() == 0
        sold = conn.execute(select(func.count()).select_from(redemptions)).scalar_one()
        assert sold == ITEMS
        for member_id in racing.member_ids:
            assert ledger.balance(conn, member_id) == ledger.ledger_sum(conn, member_id)
        spent = sum(1000 - ledger.balance(conn, m) for m in racing.member_ids)
    assert spent == ITEMS * 100


def test_each_coupon_code_goes_to_exactly_one_redemption(racing: Shop) -> None:
    reward_id = _add(racing, RewardConfig(name="Voucher", cost=50, kind="coupon"), codes=ITEMS)
    outcomes = _at_once(racing, [(m, reward_id, 1) for m in racing.member_ids[:60]])
    assert outcomes == {"redeemed": ITEMS, "rewards/out_of_stock": 60 - ITEMS}
    with racing.engines[0].connect() as conn:
        claimed = conn.execute(select(coupon_codes.c.redemption_id)).scalars().all()
        given = conn.execute(select(redemptions.c.id)).scalars().all()
    assert sorted(claimed) == sorted(given) and len(set(claimed)) == ITEMS


def test_one_member_pressing_many_buttons_at_once_stays_within_the_limit(racing: Shop) -> None:
    reward_id = _add(racing, RewardConfig(name="Pin", cost=10, per_member=2, per_period="day"))
    member = racing.member_ids[0]
    outcomes = _at_once(racing, [(member, reward_id, issued) for issued in range(1, 41)])
    assert outcomes == {"redeemed": 2, "rewards/limit_reached": 38}
    with racing.engines[0].connect() as conn:
        assert ledger.balance(conn, member) == 980 == ledger.ledger_sum(conn, member)


def test_a_double_press_from_two_processes_pays_once(racing: Shop) -> None:
    reward_id = _add(racing, RewardConfig(name="Cap", cost=100))
    member = racing.member_ids[0]
    outcomes = _at_once(racing, [(member, reward_id, 7)] * 32)
    assert outcomes == {"redeemed": 1, "again": 31}
    with racing.engines[0].connect() as conn:
        assert ledger.balance(conn, member) == 900 == ledger.ledger_sum(conn, member)
