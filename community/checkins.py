"""Daily check-ins (签到): one a day in the community's timezone, streaks and their bonus."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, insert, select

from community.communities import Community
from loyalty import ledger
from loyalty.errors import UserError
from storage.schema import checkins


@dataclass(frozen=True, slots=True)
class CheckinResult:
    """What a check-in earned."""

    day: date
    points: int
    streak: int
    bonus: bool
    balance: int


def check_in(conn: Connection, community: Community, member_id: int, at: datetime) -> CheckinResult:
    """Check the member in for the community's day at `at`; a second time that day is refused."""
    day = community.local_day(at)
    done_today = conn.execute(
        select(checkins.c.streak).where(checkins.c.member_id == member_id, checkins.c.day == day)
    ).scalar_one_or_none()
    if done_today is not None:
        raise UserError("checkin/already_done", streak=done_today, tomorrow=day + timedelta(days=1))
    previous = _last_before(conn, member_id, day)
    streak = previous[1] + 1 if previous and previous[0] == day - timedelta(days=1) else 1
    points, bonus = community.rules.checkin.points_for(streak)
    conn.execute(
        insert(checkins).values(
            community_id=community.id,
            member_id=member_id,
            day=day,
            streak=streak,
            points=points,
            created_at=at,
        )
    )
    if points == 0:
        return CheckinResult(day, 0, streak, False, ledger.balance(conn, member_id))
    posting = ledger.post(
        conn,
        community_id=community.id,
        member_id=member_id,
        delta=points,
        reason="checkin_bonus" if bonus else "checkin",
        key=f"checkin:{community.id}:{member_id}:{day.isoformat()}",
        at=at,
    )
    return CheckinResult(day, points, streak, bonus, posting.balance)


def current_streak(conn: Connection, community: Community, member_id: int, at: datetime) -> int:
    """The streak still alive at `at`: checked in today or yesterday, else 0."""
    today = community.local_day(at)
    last = _last_before(conn, member_id, today + timedelta(days=1))
    if last is None or last[0] < today - timedelta(days=1):
        return 0
    return last[1]


def checked_in_on(conn: Connection, member_id: int, day: date) -> bool:
    """Whether the member has checked in on `day`."""
    found = conn.execute(
        select(checkins.c.id).where(checkins.c.member_id == member_id, checkins.c.day == day)
    ).first()
    return found is not None


def _last_before(conn: Connection, member_id: int, day: date) -> tuple[date, int] | None:
    row = conn.execute(
        select(checkins.c.day, checkins.c.streak)
        .where(checkins.c.member_id == member_id, checkins.c.day < day)
        .order_by(checkins.c.day.desc())
        .limit(1)
    ).first()
    return None if row is None else (row.day, row.streak)
