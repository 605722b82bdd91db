"""The birthday run: daily at [birthdays] at, every member whose birthday it is gets their
tier's birthday bonus (once a local year, whatever the key) and a private congratulation."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Connection, bindparam, exists, select

from community import birthdays, earning
from community.communities import Community
from community.jobs import FiringContext, Job
from community.messages import Reply, Visibility
from community.reminders import direct, recipients
from community.schedules import When
from storage.schema import ledger

# Paid this (local) year: by any key, so an account merged by /link (whose bonus has its own
# key) or a corrected birthday never pays twice.
_PAID_THIS_YEAR = select(
    exists().where(
        ledger.c.member_id == bindparam("member"),
        ledger.c.reason == "birthday",
        ledger.c.created_at >= bindparam("start"),
        ledger.c.created_at <= bindparam("end"),
    )
)


def jobs(conn: Connection, community: Community) -> list[Job]:
    """The birthday run ("birthday:<community>"), daily at [birthdays] at."""
    hour, minute = community.rules.birthdays.at.split(":")
    return [
        Job(
            f"birthday:{community.id}",
            community.id,
            When("daily", times=((int(hour), int(minute)),)),
            community.timezone,
            celebrate,
            community.created_at,
        )
    ]


def birthday_key(member_id: int, year: int) -> str:
    """The ledger key of a member's birthday bonus in a year: paid once, whatever reruns."""
    return f"birthday:{member_id}:{year}"


def celebrate(ctx: FiringContext) -> int:
    """Pay and congratulate the members whose birthday is the firing's local day; returns how
    many were congratulated."""
    community, conn = ctx.community, ctx.conn
    day = community.local_day(ctx.scheduled_at)
    found = birthdays.celebrated_on(conn, community.id, day)
    if not found:
        return 0
    year = {
        "start": datetime.combine(date(day.year, 1, 1), time.min, community.timezone),
        "end": datetime.combine(date(day.year, 12, 31), time.max, community.timezone),
    }
    targets = recipients(conn, community.id, [member.member_id for member in found])
    sent = 0
    for member in found:
        bonus = community.rules.tiers.level(member.tier).birthday_bonus
        paid = 0
        if conn.execute(_PAID_THIS_YEAR, {"member": member.member_id, **year}).scalar():
            continue
        if bonus > 0:
            earned = earning.credit(
                conn,
                community,
                member_id=member.member_id,
                action="birthday",
                key=birthday_key(member.member_id, day.year),
                at=ctx.scheduled_at,
                base=bonus,
            )
            if not earned.applied:
                continue  # paid this year already (the birthday was corrected since)
            paid = earned.paid
        reply = Reply(
            "birthday/congratulations",
            {"name": member.display_name, "points": paid, "community": community.name},
            visibility=Visibility.PRIVATE,
        )
        sent += direct(ctx, targets.get(member.member_id), reply, member.display_name)
    return sent
