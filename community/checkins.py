"""Daily check-ins (签到): one a day in the community's timezone, streaks and their bonus,
multiplied on a member day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, bindparam, insert, select

from community import member_days
from community.communities import Community
from loyalty import ledger
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
    multiplier: float = 1.0  # the member day's, when the check-in fell in one


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
    earned, bonus = community.rules.checkin.points_for(streak)
    # Decided by the check-in's own moment: 23:59:59 on the member day still counts.
    multiplier = member_days.multiplier_at(community, at) if earned else 1.0
    points = member_days.scaled(earned, multiplier)
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
    if points == 0:
        return CheckinResult(day, 0, streak, False, ledger.balance(conn, member_id), multiplier)
    posting = ledger.post(
        conn,
        community_id=community.id,
        member_id=member_id,
        delta=points,
        reason="checkin_bonus" if bonus else "checkin",
        key=f"checkin:{community.id}:{member_id}:{day.isoformat()}",
        at=at,
    )
    return CheckinResult(day, points, streak, bonus, posting.balance, multiplier)


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
