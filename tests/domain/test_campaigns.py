"""Campaigns: a time-boxed multiplier on chosen actions. It multiplies what they earn while it
runs; with a member day the larger of the two applies; the tier's multiplier comes on top."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import Connection, func, select, update

from community.checkins import check_in
from community.communities import Community, community_by_id
from community.config import MemberDayRules
from loyalty import campaigns
from loyalty.campaigns import Campaign
from loyalty.errors import UserError
from storage.schema import balances
from storage.schema import campaigns as campaign_rows
from tests.domain.conftest import BASE_POINTS, Join, local

TUESDAY = 2  # day 2 is Tuesday 2026-11-24


def plan(
    conn: Connection,
    community: Community,
    factor: str,
    actions: tuple[str, ...] = ("checkin",),
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    at: datetime | None = None,
) -> Campaign:
    """A campaign over day 2 (Tuesday), planned on day 1."""
    return campaigns.add(
        conn,
        community.program,
        factor=Decimal(factor),
        actions=actions,
        starts_at=start or local(TUESDAY, 0),
        ends_at=end or local(TUESDAY + 1, 0),
        created_by=None,
        at=at or local(1),
    )


def as_read(conn: Connection, community: Community) -> Community:
    """The community as the next event reads it (with campaigns_until as /campaign left it)."""
    return community_by_id(conn, community.id)


def with_member_day_on_tuesdays(community: Community, multiplier: float = 2) -> Community:
    member_day = MemberDayRules(enabled=True, when="tue 00:00", hours=24, multiplier=multiplier)
    return replace(community, rules=community.rules.model_copy(update={"member_day": member_day}))


def stored(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(campaign_rows)).scalar_one())


def test_a_campaign_multiplies_a_checkin_only_while_it_runs(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    plan(conn, community, "3")
    community = as_read(conn, community)
    paid = [check_in(conn, community, alice.id, local(day)).points for day in (1, 2, 3)]
    assert paid == [BASE_POINTS, 3 * BASE_POINTS, BASE_POINTS]
    assert check_in(conn, community, join("bob").id, local(2, 23, 59)).points == 3 * BASE_POINTS


def test_member_day_and_campaign_do_not_stack_the_larger_applies(
    conn: Connection, community: Community, join: Join
) -> None:
    alice, bob = join("alice"), join("bob")
    plan(conn, community, "3", ("vote",))
    plan(conn, community, "1.5")
    member_day = with_member_day_on_tuesdays(as_read(conn, community), 2)
    # x1.5 campaign against a x2 member day: x2, not x3.
    done = check_in(conn, member_day, alice.id, local(TUESDAY))
    assert (done.points, done.multiplier) == (2 * BASE_POINTS, 2)
    plan(conn, community, "3")
    member_day = with_member_day_on_tuesdays(as_read(conn, community), 2)
    # Now a x3 campaign too: x3, not x6.
    done = check_in(conn, member_day, bob.id, local(TUESDAY))
    assert (done.points, done.multiplier) == (3 * BASE_POINTS, 3)


def test_the_tier_multiplier_stacks_on_a_campaign(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    conn.execute(update(balances).where(balances.c.member_id == alice.id).values(tier=1))
    plan(conn, community, "2")
    # Silver's x1.1 times the campaign's x2, rounded down once.
    assert check_in(conn, as_read(conn, community), alice.id, local(TUESDAY)).points == 22


def test_a_campaign_on_other_actions_or_cancelled_multiplies_nothing(
    conn: Connection, community: Community, join: Join
) -> None:
    alice, bob = join("alice"), join("bob")
    plan(conn, community, "2", ("vote", "submission"))
    assert check_in(conn, as_read(conn, community), alice.id, local(TUESDAY)).points == BASE_POINTS
    cancelled = plan(conn, community, "2")
    campaigns.cancel(conn, community.program, cancelled.number, local(TUESDAY, 8))
    assert check_in(conn, as_read(conn, community), bob.id, local(TUESDAY, 9)).points == BASE_POINTS
    with pytest.raises(UserError, match="earning/no_campaign"):
        campaigns.cancel(conn, community.program, cancelled.number, local(TUESDAY, 10))


def test_all_means_every_action_a_campaign_may_multiply_stored_between_commas(
    conn: Connection, community: Community
) -> None:
    campaign = plan(conn, community, "1.25", ("all",))
    assert "award" not in campaign.actions and "birthday" not in campaign.actions
    assert campaign.actions == campaigns.MULTIPLIABLE
    row = conn.execute(select(campaign_rows)).one()
    assert row.percent == 125
    assert row.actions == "," + ",".join(campaigns.MULTIPLIABLE) + ","


@pytest.mark.parametrize(
    ("factor", "actions", "start", "end", "refusal"),
    [
        ("1", ("checkin",), None, None, "earning/bad_factor"),
        ("10.5", ("checkin",), None, None, "earning/bad_factor"),
        ("1.555", ("checkin",), None, None, "earning/bad_factor"),
        ("2", ("award",), None, None, "earning/bad_action"),
        ("2", ("checkin", "dance"), None, None, "earning/bad_action"),
        ("2", (), None, None, "earning/bad_action"),
        ("2", ("checkin",), local(3), local(2), "earning/end_before_start"),
        ("2", ("checkin",), local(1, 0), local(1, 8), "earning/already_over"),
        ("2", ("checkin",), local(2), local(93), "earning/too_long"),
    ],
)
def test_refusals_store_nothing(
    conn: Connection,
    community: Community,
    factor: str,
    actions: tuple[str, ...],
    start: datetime | None,
    end: datetime | None,
    refusal: str,
) -> None:
    with pytest.raises(UserError) as refused:
        plan(conn, community, factor, actions, start=start, end=end)
    assert refused.value.key == refusal
    assert stored(conn) == 0


def test_ten_times_and_ninety_days_are_the_most(conn: Connection, community: Community) -> None:
    plan(conn, community, "10", start=local(2), end=local(92))
    assert stored(conn) == 1


def test_planned_lists_running_and_coming_campaigns_soonest_first(
    conn: Connection, community: Community
) -> None:
    later = plan(conn, community, "2", start=local(5), end=local(6))
    sooner = plan(conn, community, "3")
    gone = plan(conn, community, "1.5", start=local(1, 10), end=local(1, 12))
    cancelled = plan(conn, community, "4", start=local(3), end=local(4))
    campaigns.cancel(conn, community.program, cancelled.number, local(1, 11))
    assert [c.number for c in campaigns.planned(conn, community.program, local(1, 11))] == [
        gone.number,
        sooner.number,
        later.number,
    ]
    shown = campaigns.planned(conn, community.program, local(2, 12))
    assert [(c.number, c.running(local(2, 12))) for c in shown] == [
        (sooner.number, True),
        (later.number, False),
    ]
