"""The one earning path: every credit of every action is paid here, by the community's rules.

In order: the action's base points (or the amount given), the caps per member per day, week
and month, the cooldown, then the multipliers: the largest time-boxed one (a member day, a
campaign; they do not stack) times the member's tier multiplier, rounded down once. The ledger
entry records the base, the multipliers and the rule version, so /history can say why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Decimal

from sqlalchemy import Connection, bindparam, func, select

from loyalty import caps, ledger, lots, tiers
from loyalty.rules import GIVEN_ACTIONS, Program, factor_text
from storage.schema import balances, campaigns


@dataclass(frozen=True, slots=True)
class Multiplier:
    """One factor a credit was multiplied by: a member day, a campaign, a tier."""

    kind: str  # "member_day", "campaign", "tier", "ambassador" (the level's key in ref)
    factor: Decimal
    ref: str = ""  # the campaign's number, the tier's index

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "factor": factor_text(self.factor), "ref": self.ref}


@dataclass(frozen=True, slots=True)
class Earned:
    """What a credit paid, and why."""

    action: str
    paid: int
    asked: int  # the base points before caps
    base: int  # after caps: what the multipliers multiplied
    multipliers: tuple[Multiplier, ...]
    balance: int
    # Paid by this call (False: nothing to pay, or the cause was paid before).
    applied: bool
    # What held points back: "day", "week", "month" (a cap), "cooldown"; None if nothing.
    limited_by: str | None = None
    again_at: datetime | None = None
    upgrade: tiers.TierChange | None = None

    @property
    def factor(self) -> Decimal:
        """All multipliers together (1 when none applied)."""
        total = Decimal(1)
        for multiplier in self.multipliers:
            total *= multiplier.factor
        return total


# The largest campaign on for the action, read only while the community has one planned.
_CAMPAIGN = select(func.max(campaigns.c.percent)).where(
    campaigns.c.community_id == bindparam("community"),
    campaigns.c.starts_at <= bindparam("at"),
    campaigns.c.ends_at > bindparam("at"),
    campaigns.c.cancelled_at.is_(None),
    campaigns.c.actions.like(bindparam("action_like")),
)
_TIER = select(balances.c.tier).where(balances.c.member_id == bindparam("member"))


def earn(
    conn: Connection,
    program: Program,
    *,
    member_id: int,
    action: str,
    key: str,
    at: datetime,
    base: int | None = None,
    timed: Sequence[Multiplier] = (),
    standing: Sequence[Multiplier] = (),
    note: str = "",
    actor_member_id: int | None = None,
    tier: int | None = None,
    campaigns_on: bool = True,
) -> Earned:
    """Pay `action` to the member for the cause `key` (paid once, however often called).

    `base` replaces the action's base points (a purchase's amount, an award, a birthday
    bonus); `timed` are the time-boxed multipliers the caller knows of (the member day);
    `standing` ones apply on top of every other (an ambassador's level on approved content).
    `tier` is the member's tier where the caller read it already (None: read here);
    `campaigns_on` False says the community has no campaign planned at `at` (none is read)."""
    rule = program.earning.rule(action)
    asked = rule.points if base is None else base
    given = action in GIVEN_ACTIONS
    allowed = caps.Allowance(asked, None)
    if not given and (rule.caps() or rule.cooldown_minutes) and asked > 0:
        allowed = caps.allowance(
            conn,
            rule,
            member_id=member_id,
            action=action,
            asked=asked,
            at=at,
            timezone=program.timezone,
        )
    multipliers: tuple[Multiplier, ...] = ()
    if allowed.points > 0 and not given:
        if tier is None:
            tier = int(conn.execute(_TIER, {"member": member_id}).scalar_one_or_none() or 0)
        campaign = _campaign(conn, program, action, at) if campaigns_on else None
        multipliers = _multipliers(program, tier, timed, campaign, standing)
    paid = _times(allowed.points, multipliers)
    if paid <= 0:
        return Earned(
            action,
            0,
            asked,
            allowed.points,
            multipliers,
            ledger.balance(conn, member_id),
            False,
            allowed.limited_by,
            allowed.again_at,
        )
    posting = ledger.post(
        conn,
        community_id=program.community_id,
        member_id=member_id,
        delta=paid,
        reason=action,
        key=key,
        at=at,
        note=note,
        actor_member_id=actor_member_id,
        lot=ledger.Lot(lots.expiry_of(at, program.timezone, program.expiry.months), True),
        why=ledger.Why(allowed.points, [m.to_json() for m in multipliers], program.version),
    )
    if not posting.applied:
        return Earned(action, 0, asked, allowed.points, multipliers, posting.balance, False)
    if not given and (rule.caps() or rule.cooldown_minutes):
        caps.count(
            conn,
            rule,
            member_id=member_id,
            action=action,
            points=allowed.points,
            at=at,
            timezone=program.timezone,
        )
    upgrade = tiers.after_credit(
        conn, program, member_id, tier=posting.tier, growth=posting.growth, at=at
    )
    return Earned(
        action,
        paid,
        asked,
        allowed.points,
        multipliers,
        posting.balance,
        True,
        allowed.limited_by,
        allowed.again_at,
        upgrade,
    )


def _campaign(conn: Connection, program: Program, action: str, at: datetime) -> Multiplier | None:
    """The largest campaign on for `action` at `at`, if any."""
    percent = conn.execute(
        _CAMPAIGN, {"community": program.community_id, "at": at, "action_like": f"%,{action},%"}
    ).scalar_one_or_none()
    if percent is None or percent <= 100:
        return None
    return Multiplier("campaign", Decimal(int(percent)) / 100)


def _multipliers(
    program: Program,
    tier: int,
    timed: Sequence[Multiplier],
    campaign: Multiplier | None,
    standing: Sequence[Multiplier] = (),
) -> tuple[Multiplier, ...]:
    offers = [m for m in timed if m.factor > 1]
    if campaign is not None:
        offers.append(campaign)
    chosen: list[Multiplier] = []
    if offers:  # time-boxed multipliers do not stack: the largest applies
        chosen.append(max(offers, key=lambda m: m.factor))
    factor = Decimal(str(program.tiers.level(tier).multiplier))
    if factor > 1:
        chosen.append(Multiplier("tier", factor, str(tier)))
    chosen.extend(m for m in standing if m.factor > 1)
    return tuple(chosen)


def _times(points: int, multipliers: Sequence[Multiplier]) -> int:
    total = Decimal(points)
    for multiplier in multipliers:
        total *= multiplier.factor
    return int(total.to_integral_value(rounding=ROUND_FLOOR))
