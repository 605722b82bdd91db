"""Tiers by growth value (成长值): the points earned in a rolling window, never reduced by
spending. Upgrades come at once; downgrades only at a review (loyalty/tier_reviews.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from loyalty.rules import Program, TierRules, factor_text
from storage.schema import balances, lots


@dataclass(frozen=True, slots=True)
class TierChange:
    """A member moved from one tier to another (indexes into tiers.levels)."""

    member_id: int
    old: int
    new: int
    growth: int

    @property
    def up(self) -> bool:
        return self.new > self.old


_GROWTH = select(func.coalesce(func.sum(lots.c.amount), 0)).where(
    lots.c.member_id == bindparam("member"),
    lots.c.growth.is_(True),
    lots.c.earned_at > bindparam("since"),
    lots.c.earned_at <= bindparam("at"),
)
_STATE = select(balances.c.tier, balances.c.growth).where(
    balances.c.member_id == bindparam("member")
)
_SET_GROWTH = (
    update(balances)
    .where(balances.c.member_id == bindparam("member"))
    .values(growth=bindparam("growth"))
)
_UPGRADE = (
    update(balances)
    .where(balances.c.member_id == bindparam("member"))
    .values(tier=bindparam("tier"), tier_since=bindparam("at"), short_since=None)
)


def tier_for(rules: TierRules, growth: int) -> int:
    """The highest tier whose threshold `growth` reaches."""
    reached = 0
    for index, tier in enumerate(rules.levels):
        if growth >= tier.threshold:
            reached = index
    return reached


def growth_value(
    conn: Connection,
    rules: TierRules,
    member_id: int,
    at: datetime,
    *,
    counted_at: datetime | None = None,
) -> int:
    """Points the member earned in the window of `rules.window_days` up to `at`; with
    `counted_at` (a later moment), what of them will still count then: earnings older than
    `counted_at` minus the window have dropped out by then."""
    since = (counted_at or at) - timedelta(days=rules.window_days)
    return int(conn.execute(_GROWTH, {"member": member_id, "since": since, "at": at}).scalar_one())


def tier_of(conn: Connection, member_id: int, known: int | None = None) -> int:
    """The member's tier now (0 for one the ledger has not seen); `known`, if the caller read
    it already (Member.tier), saves the read."""
    if known is not None:
        return known
    row = conn.execute(_STATE, {"member": member_id}).first()
    return 0 if row is None else int(row.tier)


def after_credit(
    conn: Connection, program: Program, member_id: int, *, tier: int, growth: int, at: datetime
) -> TierChange | None:
    """Upgrade the member at once if a credit took their growth value over the next threshold.

    `growth` is the stored upper bound (balances.growth): below the next threshold, nothing to
    count. Above it, the window is summed, and the exact value stored for the next credit."""
    levels = program.tiers.levels
    if tier + 1 >= len(levels) or growth < levels[tier + 1].threshold:
        return None
    exact = growth_value(conn, program.tiers, member_id, at)
    conn.execute(_SET_GROWTH, {"member": member_id, "growth": exact})
    reached = tier_for(program.tiers, exact)
    if reached <= tier:
        return None
    conn.execute(_UPGRADE, {"member": member_id, "tier": reached, "at": at})
    return TierChange(member_id, tier, reached, exact)


def names_of(rules: TierRules, index: int) -> dict[str, str]:
    """A tier's name in each language ({"en": ..., "zh_CN": ...}): the template picks its own."""
    level = rules.level(index)
    return level.names.model_dump()


def benefits_of(rules: TierRules, index: int) -> dict[str, Any]:
    """What a tier gives, as templates show it."""
    level = rules.level(index)
    return {
        "multiplier": factor_text(level.multiplier),
        "boosted": level.multiplier > 1,
        "birthday_bonus": level.birthday_bonus,
        "makeup_cards": level.makeup_cards,
    }
