"""The ambassador programme's month-end evaluation, as the scheduler runs it (see
community/jobs.py): on the 1st of each month at [ambassadors] evaluate_at, local time, the
month just ended is evaluated (community/ambassador_evaluation.py).

The same job fires at that time every day of the month: a firing is skipped when the bot was
down for longer than the grace period ([schedule] grace_minutes), and the next one that runs
evaluates whoever the missed ones would have, however many days the bot was down. For those
already evaluated it does nothing (the evaluated months are kept per ambassador, and one
cheap query says whether anyone is left), so a month is paid once however many firings see
it. Listed only while the community has ever had an ambassador."""

from __future__ import annotations

from sqlalchemy import Connection, exists, select

from community.ambassador_evaluation import evaluate_month
from community.ambassador_months import Month
from community.ambassador_report import Evaluated
from community.communities import Community
from community.jobs import FiringContext, Job
from community.schedules import When
from storage.ambassador_tables import ambassadors


def jobs(conn: Connection, community: Community) -> list[Job]:
    """The month-end evaluation ("ambassadors:<community>:month_end"), while there is a
    roster."""
    roster = conn.execute(
        select(exists().where(ambassadors.c.community_id == community.id))
    ).scalar()
    if not roster:
        return []
    hour, minute = (int(part) for part in community.rules.ambassadors.evaluate_at.split(":"))
    return [
        Job(
            f"ambassadors:{community.id}:month_end",
            community.id,
            # Daily: the 1st evaluates, the other days catch up what a firing missed.
            When("daily", times=((hour, minute),)),
            community.timezone,
            run_month_end,
            community.created_at,
        )
    ]


def run_month_end(ctx: FiringContext) -> Evaluated:
    """Evaluate the month before the firing's (local) month for whoever is not evaluated yet."""
    month = Month.of(ctx.scheduled_at, ctx.community.timezone).previous()
    done = evaluate_month(ctx.conn, ctx.community, month, at=ctx.now, admins=ctx.admins)
    ctx.platforms.update(done.platforms)
    return done
