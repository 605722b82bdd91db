"""The catalogue: rewards added and changed, coupon codes imported, community.toml's
[[rewards]] kept in step with the file."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import Connection

from community import shop
from community.communities import Community
from community.config import ConfigError
from loyalty import rewards
from loyalty.errors import UserError
from loyalty.reward_rules import RewardConfig
from tests.domain.conftest import Join, give, local

MUG = RewardConfig(name="Mug", cost=200, stock=5)
VOUCHER = RewardConfig(name="Voucher", cost=100, kind="coupon")


def _catalogue(conn: Connection, community: Community) -> list[tuple[str, int | None, bool]]:
    found = rewards.list_rewards(conn, community.id, hidden=True)
    return [(r.name, r.stock, r.hidden) for r in found]


def test_a_reward_config_is_checked_strictly() -> None:
    with pytest.raises(ValidationError):
        RewardConfig(name="Mug", cost=0)
    with pytest.raises(ValidationError):
        RewardConfig(name="Mug", cost=10, kind="car")
    with pytest.raises(ValidationError):
        RewardConfig(name="Mug", cost=10, per_period="fortnight")
    with pytest.raises(ValidationError):
        RewardConfig.model_validate({"name": "Mug", "cost": "10"})
    assert RewardConfig(name="Mug", cost=10).stock is None  # omitted: unlimited


def test_the_catalogue_has_a_limit(conn: Connection, community: Community) -> None:
    for _ in range(3):
        rewards.add_reward(conn, community.id, MUG, at=local(1), max_rewards=3)
    with pytest.raises(UserError) as refused:
        rewards.add_reward(conn, community.id, MUG, at=local(1), max_rewards=3)
    assert refused.value.key == "rewards/too_many"


def test_a_coupons_stock_is_its_free_codes(conn: Connection, community: Community) -> None:
    voucher = rewards.add_reward(conn, community.id, VOUCHER, at=local(1), max_rewards=10)
    assert voucher.stock == 0
    codes = rewards.read_codes("Code,Amount\r\nA1,5\r\n\r\n A2 ,5\r\nA1,5\r\n")
    assert codes == ["A1", "", "A2", "A1"]
    done = rewards.import_codes(conn, community.id, voucher.id, codes, at=local(1), limit=10)
    assert (done.added, done.skipped, done.stock) == (2, 2, 2)
    again = rewards.import_codes(
        conn, community.id, voucher.id, ["A2", "A3"], at=local(1), limit=10
    )
    assert (again.added, again.skipped, again.stock) == (1, 1, 3)
    with pytest.raises(UserError) as too_many:
        rewards.import_codes(conn, community.id, voucher.id, ["x"] * 11, at=local(1), limit=10)
    assert too_many.value.key == "rewards/too_many_codes"
    with pytest.raises(UserError) as by_hand:
        rewards.set_stock(conn, community.id, voucher.id, 50)
    assert by_hand.value.key == "rewards/coupon_stock"
    _, edited = rewards.edit_reward(conn, community.id, voucher.id, {"cost": 90})
    assert (edited.cost, edited.stock) == (90, 3)


def test_a_plain_list_of_codes_needs_no_header() -> None:
    assert rewards.read_codes("X-1\nX-2\n") == ["X-1", "X-2"]
    assert rewards.read_codes("\ufeffcode\nX-1") == ["X-1"]


def test_editing_refuses_what_is_out_of_bounds(conn: Connection, community: Community) -> None:
    mug = rewards.add_reward(conn, community.id, MUG, at=local(1), max_rewards=10)
    with pytest.raises(UserError) as refused:
        rewards.edit_reward(conn, community.id, mug.id, {"cost": -5})
    assert refused.value.key == "rewards/bad_setting"
    assert refused.value.context == {"setting": "cost"}
    with pytest.raises(UserError) as unknown:
        rewards.edit_reward(conn, community.id, 999, {"cost": 5})
    assert unknown.value.key == "rewards/unknown"


def test_the_files_rewards_follow_the_file(conn: Connection, community: Community) -> None:
    shop.sync_file_rewards(conn, community, [MUG, VOUCHER], local(1))
    chat_added = rewards.add_reward(conn, community.id, MUG, at=local(1), max_rewards=10)
    first = rewards.list_rewards(conn, community.id)[0]
    rewards.set_stock(conn, community.id, first.id, 2)  # two sold since
    changed = RewardConfig(name="Big mug", cost=250, stock=5)
    shop.sync_file_rewards(conn, community, [changed], local(2))
    assert _catalogue(conn, community) == [
        ("Big mug", 2, False),  # same number, the stock as it is now
        ("Voucher", 0, True),  # gone from the file: hidden, its redemptions keep it
        ("Mug", 5, False),  # added in chat: the file leaves it be
    ]
    assert chat_added.file_key is None
    shop.sync_file_rewards(conn, community, [changed, VOUCHER], local(3))
    assert _catalogue(conn, community)[1] == ("Voucher", 0, False)


def test_a_file_with_too_many_rewards_is_refused(conn: Connection, community: Community) -> None:
    limit = community.rules.shop.max_rewards
    with pytest.raises(ConfigError, match="max_rewards"):
        shop.sync_file_rewards(conn, community, [MUG] * (limit + 1), local(1))


def test_the_catalogue_shows_a_reward_over_its_limit_as_taken_as_redeem_would_refuse_it(
    conn: Connection, community: Community, join: Join
) -> None:
    """/rewards and /redeem decide by one function: what one offers, the other redeems."""
    alice = join("alice")
    give(conn, alice, 100)
    limited = RewardConfig(name="Mug", cost=10, kind="gift", per_member=1, per_period="month")
    mug = rewards.add_reward(conn, community.id, limited, at=local(1), max_rewards=10)
    assert [o.blocked for o in shop.offers(conn, community, alice.id, 100, local(1))] == [""]
    issued = int(local(1).timestamp())
    shop.redeem(conn, community, member_id=alice.id, reward_id=mug.id, issued=issued, at=local(1))
    assert [o.blocked for o in shop.offers(conn, community, alice.id, 90, local(1))] == ["limit"]
    with pytest.raises(UserError, match="rewards/limit_reached"):
        shop.redeem(
            conn, community, member_id=alice.id, reward_id=mug.id, issued=issued + 1, at=local(1)
        )
