"""Credits as the community pays them: the loyalty engine's one earning path, told of the
member day (which the community schedules) and of what an upgrade says to the member."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy import Connection

from community import member_days
from community.communities import Community
from loyalty import earning
from loyalty.earning import Earned, Multiplier

__all__ = ["Earned", "credit"]


def credit(
    conn: Connection,
    community: Community,
    *,
    member_id: int,
    action: str,
    key: str,
    at: datetime,
    base: int | None = None,
    note: str = "",
    actor_member_id: int | None = None,
    tier: int | None = None,
    standing: Sequence[Multiplier] = (),
) -> Earned:
    """Pay `action` to the member for the cause `key`, once (loyalty/earning.py says how).
    `tier`: the member's tier if the caller has it (Member.tier), saving a read; `standing`:
    what the member's standing multiplies it by (an ambassador's level on approved content)."""
    timed: tuple[Multiplier, ...] = ()
    if action in community.rules.member_day.actions:
        factor = member_days.multiplier_at(community, at)
        if factor > 1:
            timed = (Multiplier("member_day", Decimal(str(factor))),)
    earned = earning.earn(
        conn,
        community.program,
        member_id=member_id,
        action=action,
        key=key,
        at=at,
        base=base,
        timed=timed,
        standing=standing,
        note=note,
        actor_member_id=actor_member_id,
        tier=tier,
        # Campaigns are read only while one is planned (communities.campaigns_until).
        campaigns_on=community.campaigns_until is not None and at < community.campaigns_until,
    )
    if earned.upgrade is not None:
        _upgraded(conn, community, earned, at)
    return earned


def _upgraded(conn: Connection, community: Community, earned: Earned, at: datetime) -> None:
    # Imported here: the notice is the tiers feature's, which reads members to reach them.
    from community import tier_notices

    assert earned.upgrade is not None
    tier_notices.upgraded(conn, community, earned.upgrade, at)
