"""Tiers by growth value (成长值): an upgrade comes with the credit that crosses the threshold,
the new tier's multiplier pays the next credits, spending never lowers growth value, and points
earned longer ago than the window no longer count. Default thresholds: 0 / 500 / 2000 / 6000."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select

from community.communities import Community
from community.earning import credit
from community.members import Member
from community.outbox import decode_reply
from loyalty import ledger
from loyalty.rules import TierRules
from loyalty.tiers import growth_value, tier_of
from storage.schema import balances, groups, outbox
from tests.domain.conftest import Join, local


def award(
    conn: Connection, community: Community, member: Member, points: int, at: datetime, key: str
) -> Any:
    """Points for a cause through the one earning path (an award: no multiplier)."""
    return credit(conn, community, member_id=member.id, action="award", key=key, at=at, base=points)


def checkin(conn: Connection, community: Community, member: Member, day: int) -> Any:
    return credit(
        conn,
        community,
        member_id=member.id,
        action="checkin",
        key=f"checkin:{member.id}:{day}",
        at=local(day),
    )


def messages(conn: Connection, kind: str = "direct") -> list[tuple[str, str, dict[str, Any]]]:
    """(chat, template, context) of each outbox message of a kind, in order."""
    return [
        (row.chat_id, decode_reply(row.payload, "en").template, dict(row.payload["context"]))
        for row in conn.execute(select(outbox).order_by(outbox.c.id))
        if row.kind == kind
    ]


def with_tiers(community: Community, **changes: Any) -> Community:
    """The community with other tier rules (both as its rules and as its programme)."""
    tiers = community.rules.tiers.model_copy(update=changes)
    rules = community.rules.model_copy(update={"tiers": tiers})
    return replace(community, rules=rules)


def test_crossing_500_upgrades_to_silver_at_once_and_congratulates_privately(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    before = award(conn, community, alice, 499, local(1), "a")
    assert before.upgrade is None and tier_of(conn, alice.id) == 0
    crossing = award(conn, community, alice, 1, local(1, 10), "b")
    assert crossing.upgrade is not None and crossing.upgrade.up
    assert (crossing.upgrade.old, crossing.upgrade.new, crossing.upgrade.growth) == (0, 1, 500)
    assert tier_of(conn, alice.id) == 1
    ((chat, template, context),) = messages(conn)
    assert (chat, template) == ("alice", "tiers/upgraded")
    assert context["tier"] == {"en": "Silver", "zh_CN": "银卡会员"}
    assert (context["multiplier"], context["makeup_cards"]) == ("1.1", 1)
    assert messages(conn, "post") == []  # announce_upgrades is off by default


def test_one_credit_may_jump_several_tiers(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    jump = award(conn, community, alice, 2500, local(1), "a")
    assert jump.upgrade is not None and (jump.upgrade.old, jump.upgrade.new) == (0, 2)


def test_silver_multiplies_later_credits_by_1_1(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    assert checkin(conn, community, alice, 1).paid == 10
    award(conn, community, alice, 490, local(1, 10), "a")
    second = checkin(conn, community, alice, 2)
    assert second.paid == 11  # 10 × 1.1
    assert [m.kind for m in second.multipliers] == ["tier"]


def test_redeeming_never_demotes(conn: Connection, community: Community, join: Join) -> None:
    alice = join("alice")
    award(conn, community, alice, 600, local(1), "a")
    ledger.post(
        conn,
        community_id=community.id,
        member_id=alice.id,
        delta=-550,
        reason="redeem",
        key="redeem:1",
        at=local(2),
    )
    assert ledger.balance(conn, alice.id) == 50
    assert tier_of(conn, alice.id) == 1
    assert growth_value(conn, community.rules.tiers, alice.id, local(3)) == 600


def test_points_earned_366_days_ago_no_longer_count(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    award(conn, community, alice, 450, local(1) - timedelta(days=366), "old")
    award(conn, community, alice, 40, local(1) - timedelta(days=364), "newer")
    rules = community.rules.tiers
    assert growth_value(conn, rules, alice.id, local(1)) == 40
    # The stored upper bound says 510, but the exact sum decides: no upgrade.
    assert award(conn, community, alice, 20, local(1), "now").upgrade is None
    assert tier_of(conn, alice.id) == 0
    assert conn.execute(select(balances.c.growth)).scalar_one() == 60
    # What will still count at a later moment: the 40 drops out two days later.
    assert growth_value(conn, rules, alice.id, local(1), counted_at=local(3)) == 20


def test_legacy_points_that_are_no_growth_do_not_count(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    ledger.post(
        conn,
        community_id=community.id,
        member_id=alice.id,
        delta=5000,
        reason="import",
        key="legacy",
        at=local(1),
    )
    assert growth_value(conn, community.rules.tiers, alice.id, local(1)) == 0
    assert award(conn, community, alice, 10, local(1, 10), "a").upgrade is None


def test_an_upgrade_is_announced_in_the_groups_when_the_community_wants_it(
    conn: Connection, community: Community, join: Join
) -> None:
    conn.execute(
        insert(groups).values(
            platform="telegram", chat_id="-100", community_id=community.id, created_at=local(1)
        )
    )
    announcing = with_tiers(community, announce_upgrades=True)
    alice = join("alice")
    award(conn, announcing, alice, 500, local(1), "a")
    ((chat, template, context),) = messages(conn, "post")
    assert (chat, template) == ("-100", "tiers/announce")
    assert (context["name"], context["tier"]["en"]) == ("Alice", "Silver")
    assert [m[1] for m in messages(conn)] == ["tiers/upgraded"]


def test_a_tier_past_the_levels_left_after_an_edit_is_read_as_the_highest() -> None:
    """A member reached Diamond; the operator cut the tiers to three: they are Gold now, and
    nothing that reads their tier fails."""
    three = TierRules(levels=TierRules().levels[:3])
    assert three.level(3) == three.levels[2]
    assert three.level(-1) == three.levels[0]
