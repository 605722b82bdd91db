"""Caps and cooldowns of the earning rules: how much of an action a member may still earn now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Insert, bindparam, case, select
from sqlalchemy.dialects import postgresql, sqlite

from loyalty.periods import first_day
from loyalty.rules import ActionRule
from storage.schema import balances, earn_tallies

_TALLIES = select(
    earn_tallies.c.period,
    earn_tallies.c.period_start,
    earn_tallies.c.points,
    earn_tallies.c.last_at,
).where(
    earn_tallies.c.member_id == bindparam("member"), earn_tallies.c.action == bindparam("action")
)


_LOCK_MEMBER = (
    select(balances.c.member_id)
    .where(balances.c.member_id == bindparam("member"))
    .with_for_update()
)


@dataclass(frozen=True, slots=True)
class Allowance:
    """How many of the asked base points may be paid, and what held back the rest."""

    points: int
    # "day", "week" or "month" (a cap was reached), "cooldown", or None: nothing held back.
    limited_by: str | None
    # When the member may earn from this action again, where a limit says.
    again_at: datetime | None = None


def period_start(period: str, day: date) -> date:
    """The first day of the day, week (Monday) or month `day` is in ("all": the ever-tally)."""
    return first_day(period, day) or date.min


def _period_end(period: str, start: date, timezone: ZoneInfo) -> datetime:
    if period == "week":
        end = start + timedelta(days=7)
    elif period == "month":
        end = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    else:
        end = start + timedelta(days=1)
    return datetime.combine(end, datetime.min.time(), timezone)


def allowance(
    conn: Connection,
    rule: ActionRule,
    *,
    member_id: int,
    action: str,
    asked: int,
    at: datetime,
    timezone: ZoneInfo,
) -> Allowance:
    """What of `asked` base points the caps and cooldown of `rule` let the member earn at `at`."""
    if conn.dialect.name == "postgresql":
        # Two processes crediting the member at once: the second waits here for the first to
        # commit, then reads its tally (every credit locks this row anyway, only later).
        conn.execute(_LOCK_MEMBER, {"member": member_id})
    tallies = {
        row.period: row for row in conn.execute(_TALLIES, {"member": member_id, "action": action})
    }
    if rule.cooldown_minutes:
        last = tallies.get("all")
        if last is not None:
            again = last.last_at + timedelta(minutes=rule.cooldown_minutes)
            if at < again:
                return Allowance(0, "cooldown", again)
    today = at.astimezone(timezone).date()
    points, limited_by, again_at = asked, None, None
    for period, cap in rule.caps():
        start = period_start(period, today)
        row = tallies.get(period)
        used = int(row.points) if row is not None and row.period_start == start else 0
        room = max(cap - used, 0)
        if room < points:
            points, limited_by = room, period
            again_at = _period_end(period, start, timezone)
    return Allowance(points, limited_by, again_at)


def count(
    conn: Connection,
    rule: ActionRule,
    *,
    member_id: int,
    action: str,
    points: int,
    at: datetime,
    timezone: ZoneInfo,
) -> None:
    """Add a paid credit's base points to the member's tallies of `action`."""
    periods = [period for period, _ in rule.caps()]
    if rule.cooldown_minutes:
        periods.append("all")
    if not periods:
        return
    today = at.astimezone(timezone).date()
    conn.execute(
        _upsert(conn.dialect.name),
        [
            {
                "member_id": member_id,
                "action": action,
                "period": period,
                "period_start": period_start(period, today),
                "points": points,
                "last_at": at,
            }
            for period in periods
        ],
    )


@cache
def _upsert(dialect_name: str) -> Insert:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(earn_tallies)
    new = statement.excluded
    # A new period starts the tally again; the same period adds to it.
    same_period = earn_tallies.c.period_start == new.period_start
    upsert: Insert = statement.on_conflict_do_update(
        index_elements=["member_id", "action", "period"],
        set_={
            "points": case((same_period, earn_tallies.c.points + new.points), else_=new.points),
            "period_start": new.period_start,
            "last_at": new.last_at,
        },
    )
    return upsert
