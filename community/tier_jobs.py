"""The tier review (on the 1st of every `review_months`-th month, at review_at local time) and
the reminder `remind_days_before` days before it. Both fire monthly; a firing in a month that
is no review month does nothing. Claims (community/jobs.py) make each run once."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from sqlalchemy import Connection

from community import tier_notices
from community.communities import Community
from community.jobs import FiringContext, Job
from community.schedules import When
from loyalty import tier_reviews

# A reminder firing finds its review within this much of `remind_days_before` days later: a
# daylight saving change between them moves the wall clock by an hour.
_SLACK = timedelta(hours=3)


def jobs(conn: Connection, community: Community) -> list[Job]:
    """The review ("tiers:<community>:review") and, unless remind_days_before is 0, the
    reminder before it ("tiers:<community>:remind")."""
    rules = community.rules.tiers
    hour, minute = (int(part) for part in community.rules.tiers.review_at.split(":"))
    when = When("monthly", days=(1,), times=((hour, minute),))
    key, since = f"tiers:{community.id}", community.created_at
    found = [Job(f"{key}:review", community.id, when, community.timezone, run_review, since)]
    if rules.remind_days_before > 0:
        before = timedelta(days=rules.remind_days_before)
        found.append(
            Job(
                f"{key}:remind",
                community.id,
                when,
                community.timezone,
                partial(send_reminders, before),
                since,
                -before,
            )
        )
    return found


def run_review(ctx: FiringContext) -> int:
    """Review the community's tiered members if this is a review day; tell those moved down.
    Returns how many were moved down."""
    community = ctx.community
    if not tier_reviews.is_review_day(community.rules.tiers, community.local_day(ctx.scheduled_at)):
        return 0
    outcome = tier_reviews.review(ctx.conn, community.program, ctx.scheduled_at)
    ctx.platforms.update(
        tier_notices.downgraded(ctx.conn, community, outcome.downgraded, ctx.scheduled_at)
    )
    return len(outcome.downgraded)


def send_reminders(before: timedelta, ctx: FiringContext) -> int:
    """Remind the members the coming review would move down what to earn by then; returns
    how many were reminded."""
    community = ctx.community
    expected = ctx.scheduled_at + before
    review = tier_reviews.next_review(community.program, expected - _SLACK)
    if abs(review - expected) > _SLACK:
        return 0  # the month after this firing is no review month
    risks = tier_reviews.at_risk(ctx.conn, community.program, review, ctx.scheduled_at)
    ctx.platforms.update(tier_notices.reminded(ctx.conn, community, risks, review, ctx.now))
    return len(risks)
