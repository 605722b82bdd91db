"""Daily check-ins (签到): one a day in the community's timezone, streaks and their bonus, paid
through the earning path (community/earning.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, bindparam, insert, select

from community import earning
from community.communities import Community
from loyalty.errors import UserError
from storage.schema import checkins


@dataclass(frozen=True, slots=True)
class CheckinResult:
    """What a check-in earned."""

    day: date
    points: int  # with the streak bonus, multiplied on a member day
    streak: int
    bonus: bool
    balance: int
    multiplier: float = 1.0  # the member day's (or a campaign's), when one was on
    # The credits paid: the check-in's and, on a bonus day, the streak bonus's.
    credits: tuple[earning.Earned, ...] = ()


_LATEST_UP_TO = (
    select(checkins.c.day, checkins.c.streak)
    .where(checkins.c.member_id == bindparam("member"), checkins.c.day <= bindparam("day"))
    .order_by(checkins.c.day.desc())
    .limit(1)
)
_RECORD = insert(checkins)


def check_in(conn: Connection, community: Community, member_id: int, at: datetime) -> CheckinResult:
    """Check the member in for the community's day at `at`; a second time that day is refused."""
    day = community.local_day(at)
    latest = _latest_up_to(conn, member_id, day)
    if latest is not None and latest[0] == day:
        raise UserError(
            "checkin/already_done",
            line="checkin/already_done_line",
            streak=latest[1],
            tomorrow=day + timedelta(days=1),
        )
    continues = latest is not None and latest[0] == day - timedelta(days=1)
    streak = latest[1] + 1 if continues and latest is not None else 1
    cause = f"{community.id}:{member_id}:{day.isoformat()}"
    paid = earning.credit(
        conn, community, member_id=member_id, action="checkin", key=f"checkin:{cause}", at=at
    )
    earned = [paid]
    if community.rules.checkin.bonus_day(streak):
        earned.append(
            earning.credit(
                conn,
                community,
                member_id=member_id,
                action="streak_bonus",
                key=f"streak_bonus:{cause}",
                at=at,
            )
        )
    points = sum(e.paid for e in earned)
    conn.execute(
        _RECORD,
        {
            "community_id": community.id,
            "member_id": member_id,
            "day": day,
            "streak": streak,
            "points": points,
            "created_at": at,
        },
    )
    return CheckinResult(
        day,
        points,
        streak,
        len(earned) > 1 and earned[1].paid > 0,
        earned[-1].balance,
        _timed_factor(earned),
        tuple(earned),
    )


def _timed_factor(earned: list[earning.Earned]) -> float:
    """The member day's or campaign's multiplier the check-in earned under (1: none)."""
    for credit in earned:
        for multiplier in credit.multipliers:
            if multiplier.kind != "tier":
                return float(multiplier.factor)
    return 1.0


@dataclass(frozen=True, slots=True)
class StreakStatus:
    """Where a member's check-ins stand on a given day."""

    streak: int
    checked_in_today: bool


def streak_status(
    conn: Connection, community: Community, member_id: int, at: datetime
) -> StreakStatus:
    """The streak still alive at `at` (checked in today or yesterday, else 0), and today's state."""
    today = community.local_day(at)
    latest = _latest_up_to(conn, member_id, today)
    if latest is None or latest[0] < today - timedelta(days=1):
        return StreakStatus(0, False)
    return StreakStatus(latest[1], latest[0] == today)


def _latest_up_to(conn: Connection, member_id: int, day: date) -> tuple[date, int] | None:
    row = conn.execute(_LATEST_UP_TO, {"member": member_id, "day": day}).first()
    return None if row is None else (row.day, row.streak)
