"""Daily check-ins (签到): one a day in the community's timezone, streaks and their bonus, paid
through the earning path (community/earning.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, bindparam, insert, select

from community import earning, invitations
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
    campaign: bool = False  # the multiplier was a /campaign's, not the member day's
    # The credits paid: the check-in's and, on a bonus day, the streak bonus's.
    credits: tuple[earning.Earned, ...] = ()
    # The platform a note to the member's inviter was queued for, when this check-in paid them.
    inviter_told: str | None = None


_LATEST_UP_TO = (
    select(checkins.c.day, checkins.c.streak, checkins.c.card)
    .where(checkins.c.member_id == bindparam("member"), checkins.c.day <= bindparam("day"))
    .order_by(checkins.c.day.desc())
    .limit(1)
)
_RECORD = insert(checkins)


def check_in(
    conn: Connection,
    community: Community,
    member_id: int,
    at: datetime,
    *,
    tier: int | None = None,
) -> CheckinResult:
    """Check the member in for the community's day at `at`; a second time that day is refused.
    `tier`: the member's tier, if the caller read it with them (Member.tier)."""
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
        conn,
        community,
        member_id=member_id,
        action="checkin",
        key=f"checkin:{cause}",
        at=at,
        tier=tier,
    )
    earned = [paid]
    if community.rules.checkin.bonus_day(streak):
        if paid.upgrade is not None:  # the check-in itself took them up a tier
            tier = paid.upgrade.new
        earned.append(
            earning.credit(
                conn,
                community,
                member_id=member_id,
                action="streak_bonus",
                key=f"streak_bonus:{cause}",
                at=at,
                tier=tier,
            )
        )
    points = sum(e.paid for e in earned)
    # A member's first own check-in (days filled with make-up cards are none) pays whoever
    # invited them.
    invited = None
    if latest is None or latest[2] is not None:
        invited = invitations.reward_inviter(conn, community, member_id, at)
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
        *_timed(earned),
        tuple(earned),
        invited,
    )


def _timed(earned: list[earning.Earned]) -> tuple[float, bool]:
    """The member day's or campaign's multiplier the check-in earned under (1: none), and
    whether it was a campaign's."""
    for credit in earned:
        for multiplier in credit.multipliers:
            if multiplier.kind != "tier":
                return float(multiplier.factor), multiplier.kind == "campaign"
    return 1.0, False


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


def _latest_up_to(
    conn: Connection, member_id: int, day: date
) -> tuple[date, int, str | None] | None:
    row = conn.execute(_LATEST_UP_TO, {"member": member_id, "day": day}).first()
    return None if row is None else (row.day, row.streak, row.card)
