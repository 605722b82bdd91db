"""Fixtures of the domain tier: members on a platform, and a fixed clock in the community's time.

Every test gets `conn` (a connection in an open transaction on a fresh migrated database: an
SQLite file, and PostgreSQL where TEST_DATABASE_URL is set) and `community` (Acme, in
Asia/Shanghai, 10 points a day, a bonus of 20 every 7th day, max_award 1000) from
tests/conftest.py. Time never comes from the wall clock: tests name their moments with `local`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection

from community.audit import Actor
from community.communities import Community
from community.members import Member, identify
from loyalty import ledger

SHANGHAI = ZoneInfo("Asia/Shanghai")  # the test community's timezone
DAY1 = date(2026, 11, 23)  # the first day of every story told here (a Monday)
BASE_POINTS, BONUS_EVERY, BONUS_POINTS = 10, 7, 20  # the test community's check-in rules
MAX_AWARD = 1000  # the test community's [points] max_award
VOTE_POINTS = 2  # the default [earning.vote] points

Join = Callable[..., Member]


def local(day: int, hour: int = 9, minute: int = 0) -> datetime:
    """The moment `hour:minute` on day number `day` (1 is DAY1) in Shanghai, as a UTC datetime."""
    wall = datetime.combine(DAY1 + timedelta(days=day - 1), time(hour, minute), SHANGHAI)
    return wall.astimezone(UTC)


def on_day(day: int) -> date:
    """The calendar date of day number `day`."""
    return DAY1 + timedelta(days=day - 1)


def give(conn: Connection, member: Member, points: int, key: str | None = None) -> None:
    """Pay a member points for some cause (one cause per member unless `key` names another)."""
    ledger.post(
        conn,
        community_id=member.community_id,
        member_id=member.id,
        delta=points,
        reason="award",
        key=key or f"give:{member.id}",
        at=local(1),
    )


@pytest.fixture
def join(conn: Connection, community: Community) -> Join:
    """Bring a person into the community through identify(), as their first message would."""

    def join(name: str, platform: str = "telegram", *, at: datetime | None = None) -> Member:
        return identify(
            conn,
            community_id=community.id,
            platform=platform,
            user_id=name,
            display_name=name.title(),
            username=name,
            at=at or local(1, 8),
        )

    return join


@pytest.fixture
def boss(join: Join) -> Actor:
    """An admin of the community (listed as test:boss), as actions record them."""
    return Actor(join("boss", "console").id, "console:boss")
