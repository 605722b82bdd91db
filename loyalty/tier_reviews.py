"""Tier reviews: downgrades happen only here, on the 1st of every `review_months`-th month, after
`grace_periods` reviews a member fell short at. Also when reviews are, what a member must earn
to keep their tier, and who to remind before the review that would move them down.

Built for communities of 100,000 tiered members: one grouped sum over the lots, batched updates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, func, select, update

from loyalty.rules import Program, TierRules
from loyalty.tiers import TierChange, growth_value, tier_for
from storage.schema import balances, lots

_BATCH = 1000  # members per UPDATE ... IN (...): far below any parameter limit

_TIERED = (
    select(balances.c.member_id, balances.c.tier, balances.c.short_since)
    .where(balances.c.community_id == bindparam("community"), balances.c.tier > 0)
    .order_by(balances.c.member_id)
)
# Growth value of every tiered member of a community: one grouped pass over their lots.
_TIERED_GROWTH = (
    select(lots.c.member_id, func.sum(lots.c.amount).label("growth"))
    .join(balances, balances.c.member_id == lots.c.member_id)
    .where(
        balances.c.community_id == bindparam("community"),
        balances.c.tier > 0,
        lots.c.community_id == bindparam("community"),
        lots.c.growth.is_(True),
        lots.c.earned_at > bindparam("since"),
        lots.c.earned_at <= bindparam("at"),
    )
    .group_by(lots.c.member_id)
)
# Updates by lists of members (IN, expanding): a thousand rows per statement on both databases.
_MOVE_DOWN = (
    update(balances)
    .where(balances.c.member_id.in_(bindparam("ids", expanding=True)))
    .values(tier=bindparam("tier"), tier_since=bindparam("at"), short_since=None)
)
_SET_SHORT = (
    update(balances)
    .where(balances.c.member_id.in_(bindparam("ids", expanding=True)))
    .values(short_since=bindparam("day"))
)
_CLEAR_SHORT = (
    update(balances)
    .where(balances.c.member_id.in_(bindparam("ids", expanding=True)))
    .values(short_since=None)
)
_STATE = select(balances.c.tier, balances.c.short_since).where(
    balances.c.member_id == bindparam("member")
)


@dataclass(frozen=True, slots=True)
class ReviewOutcome:
    """What one review did."""

    day: date  # the review's local date (what short_since records)
    reviewed: int  # tiered members looked at
    downgraded: tuple[TierChange, ...] = ()
    fell_short: int = 0  # newly short: they keep their tier through the grace periods
    recovered: int = 0  # were short, are back above their tier's threshold


@dataclass(frozen=True, slots=True)
class AtRisk:
    """A member the coming review would move down unless they earn `needed` more by it."""

    member_id: int
    tier: int
    needed: int
    growth: int  # what still counts at the review, earning nothing more


@dataclass(frozen=True, slots=True)
class Standing:
    """Where a member stands (/tier): tier, growth value, the next tier, what keeps this one."""

    tier: int
    growth: int
    next_tier: int | None  # None at the top
    to_next: int  # growth value still needed for the next tier
    next_review: datetime
    # The review that matters for keeping the tier (for a short member the one that would move
    # them down, else the next), and the growth value to earn by then to be above the threshold.
    keep_by: datetime
    keep_needed: int
    short_since: date | None = None


# When reviews are ----------------------------------------------------------------------------


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def is_review_day(rules: TierRules, day: date) -> bool:
    """Whether `day` (local) is a review day: the 1st of every `review_months`-th month,
    counted from January of year 0, so the months are the same every year when 12 divides."""
    return day.day == 1 and _month_index(day) % rules.review_months == 0


def review_moment(program: Program, day: date) -> datetime:
    """When the review of `day` runs (at tiers.review_at, local time)."""
    hour, minute = (int(part) for part in program.tiers.review_at.split(":"))
    return datetime.combine(day, time(hour, minute), program.timezone)


def next_review(program: Program, at: datetime) -> datetime:
    """The first review after `at`."""
    local = at.astimezone(program.timezone).date()
    index = _month_index(local)
    for step in range(13):
        month = index + step
        if month % program.tiers.review_months:
            continue
        moment = review_moment(program, date(month // 12, month % 12 + 1, 1))
        if moment > at:
            return moment
    raise AssertionError("a review comes within 13 months")  # review_months <= 12


def reviews_since(rules: TierRules, first: date, day: date) -> int:
    """How many reviews lie between the review of `first` and the review of `day`."""
    return max(0, (_month_index(day) - _month_index(first)) // rules.review_months)


def downgrade_review(program: Program, short_since: date | None, at: datetime) -> datetime:
    """The review that would move a member down who is short at every review from now on:
    the first at least grace_periods reviews after the one they first fell short at."""
    rules = program.tiers
    first = next_review(program, at)
    if short_since is None:
        if rules.grace_periods == 0:
            return first
        short_since = first.date()
    month = _month_index(short_since) + rules.grace_periods * rules.review_months
    due = review_moment(program, date(month // 12, month % 12 + 1, 1))
    return max(due, first)


# The review ----------------------------------------------------------------------------------


def review(conn: Connection, program: Program, at: datetime) -> ReviewOutcome:
    """Review every tiered member of the community at `at`: note who fell short, clear who
    recovered, move down who stayed short through the grace periods. Running it again at the
    same moment changes nothing more."""
    rules = program.tiers
    day = at.astimezone(program.timezone).date()
    top = len(rules.levels) - 1
    params = {"community": program.community_id, "at": at}
    since = at - timedelta(days=rules.window_days)
    growth = {
        row.member_id: int(row.growth)
        for row in conn.execute(_TIERED_GROWTH, {**params, "since": since})
    }
    moved: list[TierChange] = []
    short: list[int] = []
    cleared: list[int] = []
    reviewed = 0
    for member_id, stored, short_since in conn.execute(_TIERED, params):
        reviewed += 1
        tier = min(int(stored), top)  # a tier the rules no longer have counts as the top one
        value = int(growth.get(member_id, 0))
        if value >= rules.level(tier).threshold:
            if short_since is not None:
                cleared.append(member_id)
            continue
        if rules.grace_periods > 0:
            if short_since is None:
                short.append(member_id)
                continue
            if reviews_since(rules, short_since, day) < rules.grace_periods:
                continue
        moved.append(TierChange(member_id, tier, tier_for(rules, value), value))
    _in_batches(conn, _SET_SHORT, short, day=day)
    _in_batches(conn, _CLEAR_SHORT, cleared)
    # balances.growth stays: an upper bound of the growth value is all it must be.
    for new in sorted({change.new for change in moved}):
        ids = [change.member_id for change in moved if change.new == new]
        _in_batches(conn, _MOVE_DOWN, ids, tier=new, at=at)
    return ReviewOutcome(day, reviewed, tuple(moved), len(short), len(cleared))


def _in_batches(conn: Connection, statement: Any, ids: Sequence[int], **values: Any) -> None:
    for start in range(0, len(ids), _BATCH):
        conn.execute(statement, {"ids": list(ids[start : start + _BATCH]), **values})


# Before a review -----------------------------------------------------------------------------


def at_risk(conn: Connection, program: Program, review: datetime, now: datetime) -> list[AtRisk]:
    """The tiered members the review at `review` would move down if they earned nothing more
    (short at it, and short long enough before), with what they must earn by then: their
    tier's threshold minus the growth value that still counts at the review."""
    rules = program.tiers
    day = review.astimezone(program.timezone).date()
    top = len(rules.levels) - 1
    params = {"community": program.community_id, "at": now}
    since = review - timedelta(days=rules.window_days)
    growth = {
        row.member_id: int(row.growth)
        for row in conn.execute(_TIERED_GROWTH, {**params, "since": since})
    }
    found = []
    for member_id, stored, short_since in conn.execute(_TIERED, params):
        tier = min(int(stored), top)
        value = int(growth.get(member_id, 0))
        needed = rules.level(tier).threshold - value
        if needed <= 0:
            continue
        if rules.grace_periods > 0 and (
            short_since is None or reviews_since(rules, short_since, day) < rules.grace_periods
        ):
            continue
        found.append(AtRisk(member_id, tier, needed, value))
    return found


def standing(conn: Connection, program: Program, member_id: int, at: datetime) -> Standing:
    """The member's tier, growth value, the way to the next tier and what keeps this one."""
    rules = program.tiers
    row = conn.execute(_STATE, {"member": member_id}).first()
    tier = 0 if row is None else min(int(row.tier), len(rules.levels) - 1)
    short_since = None if row is None else row.short_since
    value = growth_value(conn, rules, member_id, at)
    upper = tier + 1 if tier + 1 < len(rules.levels) else None
    to_next = 0 if upper is None else max(0, rules.levels[upper].threshold - value)
    coming = next_review(program, at)
    # Short: the review that would move them down; else the next one, to stay above at it.
    keep_by = coming if short_since is None else downgrade_review(program, short_since, at)
    still = growth_value(conn, rules, member_id, at, counted_at=keep_by)
    keep_needed = max(0, rules.level(tier).threshold - still) if tier > 0 else 0
    return Standing(tier, value, upper, to_next, coming, keep_by, keep_needed, short_since)
