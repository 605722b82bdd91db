"""Birthdays: given once in the forms people type, corrected by admins (audited), celebrated on
the day with the tier's bonus at most once a year (Feb 29 on Feb 28 in other years)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, select, update

from community import birthdays
from community.audit import Actor
from community.birthday_jobs import celebrate, jobs
from community.communities import Community
from community.jobs import FiringContext
from community.outbox import decode_reply
from loyalty import ledger
from loyalty.errors import UserError
from storage.schema import audit_log, balances, members, outbox
from tests.domain.conftest import Join

SHANGHAI = ZoneInfo("Asia/Shanghai")


def nine(year: int, month: int, day: int) -> datetime:
    """09:00 (the default [birthdays] at) on a date in the community's clock."""
    return datetime.combine(date(year, month, day), time(9), SHANGHAI)


def fire(conn: Connection, community: Community, at: datetime) -> int:
    return int(celebrate(FiringContext(conn, community, at, at, set())))


def congratulated(conn: Connection) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for row in conn.execute(select(outbox).order_by(outbox.c.id)):
        reply = decode_reply(row.payload, "en")
        if reply.template == "birthday/congratulations":
            found.append((row.chat_id, dict(reply.context)))
    return found


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("12-24", "12-24"),
        ("1-5", "01-05"),
        ("12/24", "12-24"),
        ("12.24", "12-24"),
        ("1224", "12-24"),
        ("12月24日", "12-24"),
        ("3月8号", "03-08"),
        ("１２－２４", "12-24"),  # full-width, as Chinese keyboards type
        ("02-29", "02-29"),
        (" 2月29日 ", "02-29"),
    ],
)
def test_a_birthday_is_read_in_the_forms_people_type(typed: str, stored: str) -> None:
    assert birthdays.parse_birthday(typed) == stored


@pytest.mark.parametrize(
    "typed", ["", "13-01", "02-30", "04-31", "00-10", "12", "12-24-1990", "tomorrow", "122"]
)
def test_what_is_no_day_of_the_year_is_refused(typed: str) -> None:
    assert birthdays.parse_birthday(typed) is None


def test_a_member_gives_a_birthday_once(conn: Connection, join: Join) -> None:
    alice = join("alice")
    assert birthdays.set_own(conn, alice, "12月24日") == "12-24"
    with pytest.raises(UserError) as refused:
        birthdays.set_own(conn, alice, "01-01")
    assert (refused.value.key, refused.value.context) == (
        "birthday/already_set",
        {"month": 12, "day": 24},
    )
    assert birthdays.birthday_of(conn, alice.id) == "12-24"


def test_a_bad_date_saves_nothing(conn: Connection, join: Join) -> None:
    alice = join("alice")
    with pytest.raises(UserError) as refused:
        birthdays.set_own(conn, alice, "31-12")
    assert refused.value.key == "birthday/bad_date"
    assert birthdays.birthday_of(conn, alice.id) is None


def test_an_admin_corrects_a_birthday_and_the_audit_log_says_so(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    alice = join("alice")
    birthdays.set_own(conn, alice, "12-24")
    changed = birthdays.correct(
        conn, community, actor=boss, target=alice, text="12-25", at=nine(2026, 12, 1)
    )
    assert changed == ("12-24", "12-25")
    row = conn.execute(select(audit_log).where(audit_log.c.action == "birthday")).one()
    assert row.target_member_id == alice.id
    assert row.details == {"by": "console:boss", "before": "12-24", "birthday": "12-25"}


def test_the_bonus_is_paid_on_the_day_by_tier_and_once_a_year(
    conn: Connection, community: Community, join: Join
) -> None:
    alice, bob, carol = join("alice"), join("bob"), join("carol")
    birthdays.set_own(conn, alice, "12-24")
    birthdays.set_own(conn, bob, "12-24")
    birthdays.set_own(conn, carol, "12-25")
    conn.execute(update(balances).where(balances.c.member_id == bob.id).values(tier=2))  # Gold
    assert fire(conn, community, nine(2026, 12, 23)) == 0
    assert fire(conn, community, nine(2026, 12, 24)) == 2
    assert ledger.balance(conn, alice.id) == 20  # the default Member bonus
    assert ledger.balance(conn, bob.id) == 100  # the default Gold bonus
    assert ledger.balance(conn, carol.id) == 0
    assert [(chat, ctx["points"]) for chat, ctx in congratulated(conn)] == [
        ("alice", 20),
        ("bob", 100),
    ]
    # The same day again (a rerun), or the birthday corrected to a later day that year.
    assert fire(conn, community, nine(2026, 12, 24)) == 0
    conn.execute(update(members).where(members.c.id == alice.id).values(birthday="12-26"))
    assert fire(conn, community, nine(2026, 12, 26)) == 0
    assert ledger.balance(conn, alice.id) == 20
    # Next year it is paid again.
    assert fire(conn, community, nine(2027, 12, 26)) == 1
    assert ledger.balance(conn, alice.id) == 40


def test_born_on_feb_29_is_celebrated_on_feb_28_in_other_years(
    conn: Connection, community: Community, join: Join
) -> None:
    leap = join("leap")
    birthdays.set_own(conn, leap, "2月29日")
    assert fire(conn, community, nine(2027, 2, 28)) == 1
    assert fire(conn, community, nine(2027, 3, 1)) == 0
    assert fire(conn, community, nine(2028, 2, 28)) == 0
    assert fire(conn, community, nine(2028, 2, 29)) == 1
    assert ledger.balance(conn, leap.id) == 40


def test_the_run_is_daily_at_the_configured_time(conn: Connection, community: Community) -> None:
    (job,) = jobs(conn, community)
    assert job.key == f"birthday:{community.id}"
    after = nine(2026, 12, 1)
    assert job.firings(after, nine(2026, 12, 3)) == [nine(2026, 12, 2), nine(2026, 12, 3)]
