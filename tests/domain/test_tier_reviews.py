"""Tier reviews: a member below their tier's threshold keeps it for the grace periods, then the
review moves them down (and tells them); one back above is clear again. The reminder before the
review that would move them down says what to earn, counting only what will still count.

The test community's reviews: the 1st of every month at 00:30 in Shanghai, grace 1 review."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Connection, event, insert, select

from community.communities import Community
from community.jobs import FiringContext
from community.members import Member
from community.schedules import When
from community.tier_jobs import jobs, run_review, send_reminders
from loyalty import ledger as loyalty_ledger
from loyalty import tier_reviews
from loyalty.tier_reviews import review, review_moment
from storage.schema import balances, ledger, lots, members
from tests.domain.conftest import SHANGHAI, Join, local
from tests.domain.test_tiers import award, messages, with_tiers

DEC1 = datetime(2026, 12, 1, 0, 30, tzinfo=SHANGHAI)  # the first review after DAY1
JAN1 = datetime(2027, 1, 1, 0, 30, tzinfo=SHANGHAI)
FEB1 = datetime(2027, 2, 1, 0, 30, tzinfo=SHANGHAI)
LONG_AGO = local(1) - timedelta(days=370)  # earned then: out of the 365-day window by now


def state(conn: Connection, member: Member) -> tuple[int, date | None]:
    row = conn.execute(
        select(balances.c.tier, balances.c.short_since).where(balances.c.member_id == member.id)
    ).one()
    return int(row.tier), row.short_since


def fire(conn: Connection, community: Community, work: Any, at: datetime) -> set[str]:
    platforms: set[str] = set()
    work(FiringContext(conn, community, at, at, platforms))
    return platforms


def silver_long_ago(conn: Connection, community: Community, join: Join, name: str) -> Member:
    """A member who reached Silver more than a year ago and earned nothing since."""
    member = join(name)
    award(conn, community, member, 500, LONG_AGO, f"{name}:old")
    assert state(conn, member) == (1, None)
    return member


def test_the_review_and_its_reminder_are_monthly_jobs(
    conn: Connection, community: Community
) -> None:
    review_job, remind_job = jobs(conn, community)
    assert review_job.key == f"tiers:{community.id}:review"
    assert review_job.when == When("monthly", days=(1,), times=((0, 30),))
    assert review_job.firings(local(1), local(41)) == [DEC1, JAN1]
    assert review_moment(community.program, date(2026, 12, 1)) == DEC1
    assert remind_job.key == f"tiers:{community.id}:remind"
    assert remind_job.firings(local(1), local(41)) == [
        DEC1 - timedelta(days=7),
        JAN1 - timedelta(days=7),
    ]
    assert [j.key for j in jobs(conn, with_tiers(community, remind_days_before=0))] == [
        review_job.key
    ]


def test_a_short_member_keeps_the_tier_through_the_grace_period_then_moves_down(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = silver_long_ago(conn, community, join, "alice")
    first = review(conn, community.program, DEC1)
    assert (first.reviewed, first.fell_short, first.downgraded) == (1, 1, ())
    assert state(conn, alice) == (1, date(2026, 12, 1))
    assert fire(conn, community, run_review, JAN1) == {"telegram"}
    assert state(conn, alice) == (0, None)
    ((chat, template, context),) = messages(conn)[1:]  # after the congratulation of long ago
    assert (chat, template) == ("alice", "tiers/downgraded")
    assert (context["old"]["en"], context["tier"]["en"]) == ("Silver", "Member")
    assert (context["growth"], context["threshold"]) == (0, 500)


def test_with_no_grace_the_first_short_review_moves_down_to_the_tier_growth_reaches(
    conn: Connection, community: Community, join: Join
) -> None:
    strict = with_tiers(community, grace_periods=0)
    bob = join("bob")
    award(conn, strict, bob, 2000, LONG_AGO, "old")  # Gold, long ago
    award(conn, strict, bob, 700, local(2), "recent")
    outcome = review(conn, strict.program, DEC1)
    assert [(c.old, c.new, c.growth) for c in outcome.downgraded] == [(2, 1, 700)]
    assert state(conn, bob) == (1, None)


def test_a_member_back_above_the_threshold_is_clear_again(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = silver_long_ago(conn, community, join, "alice")
    review(conn, community.program, DEC1)
    award(conn, community, alice, 500, local(12), "back")
    outcome = review(conn, community.program, JAN1)
    assert (outcome.recovered, outcome.downgraded) == (1, ())
    assert state(conn, alice) == (1, None)


def test_redeeming_is_no_reason_to_move_down(
    conn: Connection, community: Community, join: Join
) -> None:
    carol = join("carol")
    award(conn, community, carol, 600, local(2), "a")
    loyalty_ledger.post(
        conn,
        community_id=community.id,
        member_id=carol.id,
        delta=-600,
        reason="redeem",
        key="r",
        at=local(3),
    )
    for at in (DEC1, JAN1, FEB1):
        assert review(conn, community.program, at).downgraded == ()
    assert state(conn, carol) == (1, None)


def test_a_review_run_again_changes_and_says_nothing_more(
    conn: Connection, community: Community, join: Join
) -> None:
    silver_long_ago(conn, community, join, "alice")
    review(conn, community.program, DEC1)
    fire(conn, community, run_review, JAN1)
    assert fire(conn, community, run_review, JAN1) == set()
    assert [t for _, t, _ in messages(conn)] == ["tiers/upgraded", "tiers/downgraded"]


def test_reviews_come_only_every_review_months_th_month(
    conn: Connection, community: Community, join: Join
) -> None:
    quarterly = with_tiers(community, review_months=3, grace_periods=0)
    alice = silver_long_ago(conn, quarterly, join, "alice")
    assert fire(conn, quarterly, run_review, DEC1) == set()  # December: no review month
    assert state(conn, alice) == (1, None)
    fire(conn, quarterly, run_review, JAN1)
    assert state(conn, alice) == (0, None)
    assert tier_reviews.next_review(quarterly.program, JAN1) == datetime(
        2027, 4, 1, 0, 30, tzinfo=SHANGHAI
    )


def test_the_reminder_says_what_to_earn_by_the_review_that_would_move_down(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = silver_long_ago(conn, community, join, "alice")
    # Counts at the December review and when reminded, but has dropped out by January's.
    award(conn, community, alice, 100, JAN1 - timedelta(days=365, hours=1), "fading")
    safe = join("bob")
    award(conn, community, safe, 800, local(2), "b")  # Silver, well above
    newly_short = silver_long_ago(conn, community, join, "carol")
    review(conn, community.program, DEC1)
    conn.execute(  # Carol fell short only now: not at risk at the next review (grace)
        balances.update().where(balances.c.member_id == newly_short.id).values(short_since=None)
    )
    award(conn, community, alice, 300, local(20), "recent")
    reminded_at = JAN1 - timedelta(days=7)
    fire(conn, community, partial(send_reminders, timedelta(days=7)), reminded_at)
    reminders = [m for m in messages(conn) if m[1] == "tiers/keep_reminder"]
    assert [(chat, c["needed"], c["growth"], c["threshold"]) for chat, _, c in reminders] == [
        ("alice", 200, 300, 500)
    ]
    assert datetime.fromisoformat(reminders[0][2]["by"]) == JAN1
    assert reminders[0][2]["tier"]["en"] == "Silver"
    # Sent once per review, whoever fires it again.
    fire(conn, community, partial(send_reminders, timedelta(days=7)), reminded_at)
    assert len([m for m in messages(conn) if m[1] == "tiers/keep_reminder"]) == 1


def test_no_reminder_in_a_month_before_no_review(
    conn: Connection, community: Community, join: Join
) -> None:
    quarterly = with_tiers(community, review_months=3, grace_periods=0)
    silver_long_ago(conn, quarterly, join, "alice")
    before_feb = FEB1 - timedelta(days=7)
    assert fire(conn, quarterly, partial(send_reminders, timedelta(days=7)), before_feb) == set()
    before_jan = JAN1 - timedelta(days=7)
    assert fire(conn, quarterly, partial(send_reminders, timedelta(days=7)), before_jan) == {
        "telegram"
    }


def test_the_review_of_many_members_is_a_few_statements(
    conn: Connection, community: Community
) -> None:
    count = 1200
    at = local(1)
    conn.execute(
        insert(members),
        [
            {
                "community_id": community.id,
                "display_name": f"m{n}",
                "created_at": at,
                "last_seen_at": at,
            }
            for n in range(count)
        ],
    )
    ids = list(conn.execute(select(members.c.id).order_by(members.c.id)).scalars())
    conn.execute(
        insert(balances),
        [
            {
                "member_id": i,
                "community_id": community.id,
                "points": 600,
                "updated_at": at,
                "growth": 600,
                "tier": 1,
                "short_since": date(2026, 11, 1) if i % 2 else None,
            }
            for i in ids
        ],
    )
    conn.execute(
        insert(ledger),
        [
            {
                "community_id": community.id,
                "member_id": i,
                "delta": 600,
                "reason": "award",
                "idempotency_key": f"k{i}",
                "created_at": at,
            }
            for i in ids
        ],
    )
    entries = {
        row.member_id: row.id for row in conn.execute(select(ledger.c.member_id, ledger.c.id))
    }
    conn.execute(
        insert(lots),
        [
            {
                "community_id": community.id,
                "member_id": i,
                "ledger_id": entries[i],
                "amount": 600 if i % 3 else 100,
                "remaining": 600,
                "earned_at": at,
                "growth": True,
            }
            for i in ids
        ],
    )
    statements: list[str] = []

    def seen(*args: Any) -> None:
        statements.append(args[2])

    event.listen(conn, "before_cursor_execute", seen)
    try:
        outcome = review(conn, community.program, DEC1)
    finally:
        event.remove(conn, "before_cursor_execute", seen)
    short = [i for i in ids if i % 3 == 0]
    assert outcome.reviewed == count
    assert len(outcome.downgraded) == len([i for i in short if i % 2])
    assert outcome.fell_short == len([i for i in short if not i % 2])
    assert len(statements) <= 8  # two reads, then updates in batches of a thousand
