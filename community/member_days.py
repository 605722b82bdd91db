"""Member days (会员日): one scheduled object that is announced, opens, multiplies the points
earned in its window, and ends with a recap."""

from __future__ import annotations

from datetime import datetime, timedelta
from math import floor
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from community.communities import Community
from community.config import MemberDayRules
from community.jobs import Job
from community.schedules import When, firings, parse_when


def schedule_of(rules: MemberDayRules) -> When:
    """When the member day starts (its `when`, read as community.toml's check guaranteed)."""
    return parse_when(rules.when, time_required=False)[0]


def occurrence_at(rules: MemberDayRules, tz: ZoneInfo, at: datetime) -> datetime | None:
    """The start of the member day `at` falls in, if it falls in one that is not skipped.

    Decided by the moment itself in the community's timezone: a check-in at 23:59:59 on the
    day counts, one at 00:00:00 the next day does not (the window is [start, start + hours)).
    """
    if not rules.enabled:
        return None
    length = timedelta(hours=rules.hours)
    # Starts in (at - length, at]: the window [start, start + length) holds `at`.
    starts = firings(schedule_of(rules), tz, at - length, at, limit=1000)
    for start in reversed(starts):
        if start.astimezone(tz).date().isoformat() not in rules.skipped:
            return start
    return None


def multiplier_at(community: Community, at: datetime) -> float:
    """The points multiplier at `at`: the member day's inside its window, else 1."""
    rules = community.rules.member_day
    if rules.multiplier == 1 or occurrence_at(rules, community.timezone, at) is None:
        return 1.0
    return rules.multiplier


def multiplied(community: Community, points: int, at: datetime) -> int:
    """Points earned at `at`, multiplied on a member day (rounded down: 3 x 1.5 is 4)."""
    if points <= 0:
        return points
    return floor(points * multiplier_at(community, at))


def jobs(conn: Connection, community: Community) -> list[Job]:
    """The member day's jobs: its announcement, its opening and its recap."""
    return []
