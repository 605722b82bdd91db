"""Birthdays: a member gives theirs once ("MM-DD", no year); admins may correct it (audited).
On the day the scheduler pays the tier's birthday bonus (community/birthday_jobs.py)."""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, bindparam, select, update

from community import audit
from community.communities import Community
from community.members import Member
from loyalty.errors import UserError
from storage.schema import balances, members

# "12-24", "12/24", "12.24", "1224", "12月24日" / "12月24号" (NFKC folds full-width digits).
_NUMERIC = re.compile(r"(\d{1,2})\s*[-/.]\s*(\d{1,2})")
_PACKED = re.compile(r"(\d{2})(\d{2})")
_CHINESE = re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?")
_LEAP_YEAR = 2000  # any leap year: Feb 29 is a birthday too

_BIRTHDAY = select(members.c.birthday).where(members.c.id == bindparam("member"))
# Set once: a second /birthday (or a race of two) finds it set and changes nothing.
_SET_ONCE = (
    update(members)
    .where(members.c.id == bindparam("member"), members.c.birthday.is_(None))
    .values(birthday=bindparam("birthday"))
)


@dataclass(frozen=True, slots=True)
class Celebrated:
    """A member whose birthday is today, and their tier (which sizes the bonus)."""

    member_id: int
    display_name: str
    tier: int


def parse_birthday(text: str) -> str | None:
    """A birthday as "MM-DD" from what a member typed; None when it is no day of the year."""
    typed = unicodedata.normalize("NFKC", text).strip()
    for pattern in (_NUMERIC, _CHINESE, _PACKED):
        match = pattern.fullmatch(typed)
        if match is not None:
            month, day = int(match.group(1)), int(match.group(2))
            try:
                date(_LEAP_YEAR, month, day)
            except ValueError:
                return None
            return f"{month:02d}-{day:02d}"
    return None


def shown(birthday: str) -> dict[str, int]:
    """A stored "MM-DD" as templates show it: {"month": 12, "day": 24}."""
    month, _, day = birthday.partition("-")
    return {"month": int(month or 0), "day": int(day or 0)}


def birthday_of(conn: Connection, member_id: int) -> str | None:
    """The member's birthday as "MM-DD", if they gave it."""
    found = conn.execute(_BIRTHDAY, {"member": member_id}).scalar_one_or_none()
    return None if found is None else str(found)


def set_own(conn: Connection, member: Member, text: str) -> str:
    """Record the member's own birthday, once. Raises UserError: "birthday/bad_date" for no
    day of the year, "birthday/already_set" (with the date given before) for a second try."""
    birthday = parse_birthday(text)
    if birthday is None:
        raise UserError("birthday/bad_date", given=text)
    changed = conn.execute(_SET_ONCE, {"member": member.id, "birthday": birthday}).rowcount
    if changed != 1:
        before = shown(birthday_of(conn, member.id) or "")
        raise UserError("birthday/already_set", month=before["month"], day=before["day"])
    return birthday


def correct(
    conn: Connection,
    community: Community,
    *,
    actor: audit.Actor,
    target: Member,
    text: str,
    at: datetime,
) -> tuple[str | None, str]:
    """An admin sets (or corrects) a member's birthday; audited. Returns (before, after)."""
    birthday = parse_birthday(text)
    if birthday is None:
        raise UserError("birthday/bad_date", given=text)
    before = birthday_of(conn, target.id)
    conn.execute(update(members).where(members.c.id == target.id).values(birthday=birthday))
    audit.record(
        conn,
        community_id=community.id,
        actor=actor,
        action="birthday",
        at=at,
        target_member_id=target.id,
        before=before,
        birthday=birthday,
    )
    return before, birthday


def celebrated_on(conn: Connection, community_id: int, day: date) -> list[Celebrated]:
    """The members whose birthday is `day` (in a year without Feb 29, those born on it are
    celebrated on Feb 28), with their tiers."""
    wanted = [f"{day.month:02d}-{day.day:02d}"]
    if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
        wanted.append("02-29")
    rows = conn.execute(
        select(members.c.id, members.c.display_name, balances.c.tier)
        .outerjoin(balances, balances.c.member_id == members.c.id)
        .where(members.c.community_id == community_id, members.c.birthday.in_(wanted))
        .order_by(members.c.id)
    )
    return [Celebrated(row.id, row.display_name, int(row.tier or 0)) for row in rows]
