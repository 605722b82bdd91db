"""Reads of the ledger for people: a member's history with why each credit paid what it did,
and a community's ledger and redemptions over a period, for exports."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select

from loyalty.rules import factor_text
from storage.schema import accounts, ledger, members, redemptions, rewards


@dataclass(frozen=True, slots=True)
class Factor:
    """One multiplier a credit was paid with: a member day, a campaign, a tier (ref: its
    campaign number or tier index)."""

    kind: str
    factor: str  # as people write it: "2", "1.1"
    ref: str = ""


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One ledger entry as /history shows it."""

    id: int
    delta: int
    reason: str
    note: str
    created_at: datetime
    base: int | None  # None: no earning (a deduction, a redemption, an older entry)
    multipliers: tuple[Factor, ...]


@dataclass(frozen=True, slots=True)
class LedgerLine:
    """One ledger entry of a community, for an export."""

    id: int
    created_at: datetime
    member_id: int
    member_name: str
    delta: int
    reason: str
    base: int | None
    multipliers: Any  # the stored JSON list, or None
    rule_version: str | None
    note: str
    actor_member_id: int | None


@dataclass(frozen=True, slots=True)
class RedemptionLine:
    """One redemption of a community with its reward, for an export."""

    id: int
    created_at: datetime
    member_id: int
    member_name: str
    reward_id: int
    reward_name: str
    cost: int
    state: str
    fulfilled_at: datetime | None
    refunded_at: datetime | None
    note: str


_LATEST = (
    select(
        ledger.c.id,
        ledger.c.delta,
        ledger.c.reason,
        ledger.c.note,
        ledger.c.created_at,
        ledger.c.base,
        ledger.c.multipliers,
    )
    .where(ledger.c.member_id == bindparam("member"))
    .order_by(ledger.c.id.desc())
    .limit(bindparam("limit"))
)
_LEDGER = (
    select(
        ledger.c.id,
        ledger.c.created_at,
        ledger.c.member_id,
        members.c.display_name,
        ledger.c.delta,
        ledger.c.reason,
        ledger.c.base,
        ledger.c.multipliers,
        ledger.c.rule_version,
        ledger.c.note,
        ledger.c.actor_member_id,
    )
    .join(members, members.c.id == ledger.c.member_id)
    .where(
        ledger.c.community_id == bindparam("community"),
        ledger.c.created_at >= bindparam("start"),
        ledger.c.created_at < bindparam("end"),
    )
    .order_by(ledger.c.created_at, ledger.c.id)
    .limit(bindparam("limit"))
)
_REDEMPTIONS = (
    select(
        redemptions.c.id,
        redemptions.c.created_at,
        redemptions.c.member_id,
        members.c.display_name,
        redemptions.c.reward_id,
        rewards.c.name,
        redemptions.c.cost,
        redemptions.c.state,
        redemptions.c.fulfilled_at,
        redemptions.c.refunded_at,
        redemptions.c.note,
    )
    .join(members, members.c.id == redemptions.c.member_id)
    .join(rewards, rewards.c.id == redemptions.c.reward_id)
    .where(
        redemptions.c.community_id == bindparam("community"),
        redemptions.c.created_at >= bindparam("start"),
        redemptions.c.created_at < bindparam("end"),
    )
    .order_by(redemptions.c.created_at, redemptions.c.id)
    .limit(bindparam("limit"))
)
_ACCOUNTS = (
    select(accounts.c.member_id, accounts.c.platform, accounts.c.platform_user_id)
    .where(accounts.c.community_id == bindparam("community"))
    .order_by(accounts.c.id)
)


def factors(stored: Any) -> tuple[Factor, ...]:
    """The multipliers column as Factors (an entry without any: none)."""
    if not isinstance(stored, Sequence):
        return ()
    return tuple(
        Factor(str(m.get("kind", "")), factor_text(m.get("factor", 1)), str(m.get("ref") or ""))
        for m in stored
        if isinstance(m, dict)
    )


def latest(conn: Connection, member_id: int, limit: int) -> list[HistoryEntry]:
    """The member's newest `limit` entries, newest first."""
    rows = conn.execute(_LATEST, {"member": member_id, "limit": limit})
    return [
        HistoryEntry(
            int(r.id),
            int(r.delta),
            r.reason,
            r.note,
            r.created_at,
            None if r.base is None else int(r.base),
            factors(r.multipliers),
        )
        for r in rows
    ]


def ledger_lines(
    conn: Connection, community_id: int, start: datetime, end: datetime, limit: int
) -> list[LedgerLine]:
    """The community's entries made in [start, end), oldest first, at most `limit`."""
    values = {"community": community_id, "start": start, "end": end, "limit": limit}
    return [
        LedgerLine(
            int(r.id),
            r.created_at,
            int(r.member_id),
            r.display_name,
            int(r.delta),
            r.reason,
            None if r.base is None else int(r.base),
            r.multipliers,
            r.rule_version,
            r.note,
            None if r.actor_member_id is None else int(r.actor_member_id),
        )
        for r in conn.execute(_LEDGER, values)
    ]


def redemption_lines(
    conn: Connection, community_id: int, start: datetime, end: datetime, limit: int
) -> list[RedemptionLine]:
    """The community's redemptions made in [start, end), oldest first, at most `limit`."""
    values = {"community": community_id, "start": start, "end": end, "limit": limit}
    return [
        RedemptionLine(
            int(r.id),
            r.created_at,
            int(r.member_id),
            r.display_name,
            int(r.reward_id),
            r.name,
            int(r.cost),
            r.state,
            r.fulfilled_at,
            r.refunded_at,
            r.note,
        )
        for r in conn.execute(_REDEMPTIONS, values)
    ]


def account_keys(conn: Connection, community_id: int) -> dict[int, list[str]]:
    """Each member's accounts as "platform:user id", oldest first."""
    keys: dict[int, list[str]] = {}
    for row in conn.execute(_ACCOUNTS, {"community": community_id}):
        keys.setdefault(int(row.member_id), []).append(f"{row.platform}:{row.platform_user_id}")
    return keys
