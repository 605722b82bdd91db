"""Campaigns: time-boxed earning multipliers (/campaign add x2 checkin,vote 2026-12-12 ...).

loyalty/earning.py applies the largest campaign running for an action at a credit; it does not
stack with the member day (the larger of the two applies), the tier multiplier does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, select, update

from loyalty.errors import UserError
from loyalty.rules import ACTIONS, GIVEN_ACTIONS, Program
from storage.schema import campaigns, communities
from storage.sql import insert_id_if_absent

# The actions a campaign may multiply: a given amount (an award, a birthday bonus) never is.
MULTIPLIABLE = tuple(action for action in ACTIONS if action not in GIVEN_ACTIONS)
MAX_FACTOR = Decimal(10)


@dataclass(frozen=True, slots=True)
class Campaign:
    """One campaign as stored."""

    number: int
    percent: int  # 200: x2
    actions: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime  # exclusive
    cancelled_at: datetime | None

    @property
    def factor(self) -> Decimal:
        """The multiplier: 2, 1.5."""
        return (Decimal(self.percent) / 100).normalize()

    def running(self, at: datetime) -> bool:
        return self.cancelled_at is None and self.starts_at <= at < self.ends_at


_COLUMNS = (
    campaigns.c.id,
    campaigns.c.percent,
    campaigns.c.actions,
    campaigns.c.starts_at,
    campaigns.c.ends_at,
    campaigns.c.cancelled_at,
)
_PLANNED = (
    select(*_COLUMNS)
    .where(
        campaigns.c.community_id == bindparam("community"),
        campaigns.c.ends_at > bindparam("at"),
        campaigns.c.cancelled_at.is_(None),
    )
    .order_by(campaigns.c.starts_at, campaigns.c.id)
    .limit(bindparam("limit"))
)
_ONE = select(*_COLUMNS).where(
    campaigns.c.id == bindparam("number"), campaigns.c.community_id == bindparam("community")
)
_CANCEL = (
    update(campaigns)
    .where(campaigns.c.id == bindparam("number"), campaigns.c.cancelled_at.is_(None))
    .values(cancelled_at=bindparam("at"))
)


def stored_actions(actions: Sequence[str]) -> str:
    """Actions as the campaigns table keeps them: each between commas (",checkin,vote,")."""
    return "," + ",".join(actions) + ","


def check_factor(factor: Decimal) -> int:
    """The factor in percent; UserError("earning/bad_factor") unless 1 < factor <= 10 in
    hundredths."""
    percent = factor * 100
    if not (1 < factor <= MAX_FACTOR) or percent != percent.to_integral_value():
        raise UserError("earning/bad_factor", factor=str(factor), most=int(MAX_FACTOR))
    return int(percent)


def check_actions(actions: Sequence[str]) -> tuple[str, ...]:
    """Actions a campaign may multiply, in /rules' order; "all" means every one."""
    named = tuple(dict.fromkeys(actions))
    if "all" in named:
        return MULTIPLIABLE
    for action in named:
        if action not in MULTIPLIABLE:
            raise UserError("earning/bad_action", action=action[:40], actions=list(MULTIPLIABLE))
    if not named:
        raise UserError("earning/bad_action", action="", actions=list(MULTIPLIABLE))
    return tuple(action for action in MULTIPLIABLE if action in named)


def add(
    conn: Connection,
    program: Program,
    *,
    factor: Decimal,
    actions: Sequence[str],
    starts_at: datetime,
    ends_at: datetime,
    created_by: int | None,
    at: datetime,
) -> Campaign:
    """Plan a campaign; refusals (UserError "earning/...") store nothing."""
    percent = check_factor(factor)
    chosen = check_actions(actions)
    if ends_at <= starts_at:
        raise UserError("earning/end_before_start")
    if ends_at <= at:
        raise UserError("earning/already_over")
    limits = program.campaigns
    if ends_at - starts_at > timedelta(days=limits.max_days):
        raise UserError("earning/too_long", max_days=limits.max_days)
    if len(planned(conn, program, at, limit=limits.max_planned)) >= limits.max_planned:
        raise UserError("earning/too_many", most=limits.max_planned)
    number = insert_id_if_absent(
        conn,
        campaigns,
        {
            "community_id": program.community_id,
            "percent": percent,
            "actions": stored_actions(chosen),
            "starts_at": starts_at,
            "ends_at": ends_at,
            "created_by": created_by,
            "created_at": at,
        },
    )
    assert number is not None  # a new row: no conflict to skip
    refresh_horizon(conn, program.community_id)
    return Campaign(number, percent, chosen, starts_at, ends_at, None)


def planned(
    conn: Connection, program: Program, at: datetime, *, limit: int | None = None
) -> list[Campaign]:
    """Campaigns running at `at` or to come, soonest first (cancelled ones are gone)."""
    most = program.campaigns.max_planned if limit is None else limit
    found = conn.execute(_PLANNED, {"community": program.community_id, "at": at, "limit": most})
    return [_campaign(row) for row in found]


def cancel(conn: Connection, program: Program, number: int, at: datetime) -> Campaign:
    """Call campaign `number` off from `at`; UserError("earning/no_campaign") if this community
    has no such campaign still planned."""
    row = conn.execute(_ONE, {"number": number, "community": program.community_id}).first()
    if row is None or row.cancelled_at is not None or row.ends_at <= at:
        raise UserError("earning/no_campaign", number=number)
    conn.execute(_CANCEL, {"number": number, "at": at})
    refresh_horizon(conn, program.community_id)
    return _campaign(row)


def _campaign(row: Row[Any, Any, Any, Any, Any, Any]) -> Campaign:
    actions = tuple(action for action in row.actions.split(",") if action)
    return Campaign(row.id, int(row.percent), actions, row.starts_at, row.ends_at, row.cancelled_at)


def refresh_horizon(conn: Connection, community_id: int) -> None:
    """Keep communities.campaigns_until at the end of the last campaign still planned: the
    earning path looks campaigns up only before it."""
    last = (
        select(func.max(campaigns.c.ends_at))
        .where(campaigns.c.community_id == community_id, campaigns.c.cancelled_at.is_(None))
        .scalar_subquery()
    )
    conn.execute(
        update(communities).where(communities.c.id == community_id).values(campaigns_until=last)
    )
