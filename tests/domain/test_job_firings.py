"""Which firings are due, which are too old, and the claim that makes each run once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, select

from community.communities import Community
from community.jobs import Firing, FiringContext, Job, claim, due_firings
from community.schedules import When
from storage.schema import job_runs
from tests.domain.conftest import SHANGHAI, local

HOUR = timedelta(hours=1)
DAILY_20 = When("daily", (), ((20, 0),))


def nothing(ctx: FiringContext) -> None:
    """A job's work; what it does is not what these tests are about."""


def job(
    community: Community,
    key: str = "topic:1",
    *,
    since_day: int = 1,
    when: When = DAILY_20,
    offset: timedelta = timedelta(),
) -> Job:
    return Job(key, community.id, when, SHANGHAI, nothing, local(since_day, 0, 0), offset)


def grace(minutes: int) -> Callable[[int], timedelta]:
    return lambda community_id: timedelta(minutes=minutes)


def test_after_downtime_a_firing_within_the_grace_runs_late_and_older_ones_are_missed(
    conn: Connection, community: Community
) -> None:
    due = due_firings(conn, [job(community)], now=local(3, 20, 30), swept_to=None, grace=grace(60))
    assert [f.at for f in due.run] == [local(3, 20)]
    assert [f.at for f in due.missed] == [local(1, 20), local(2, 20)]


def test_a_firing_older_than_the_grace_is_missed_even_if_it_was_today(
    conn: Connection, community: Community
) -> None:
    due = due_firings(conn, [job(community)], now=local(1, 21, 1), swept_to=None, grace=grace(60))
    assert (due.run, [f.at for f in due.missed]) == ([], [local(1, 20)])


def test_a_restart_looks_back_only_to_the_last_claim(
    conn: Connection, community: Community
) -> None:
    entry = job(community)
    assert claim(conn, Firing(entry, local(2, 20)), now=local(2, 20))
    due = due_firings(conn, [entry], now=local(3, 20, 5), swept_to=None, grace=grace(60))
    assert ([f.at for f in due.run], due.missed) == ([local(3, 20)], [])


def test_a_clock_moved_by_hand_runs_everything_since_the_last_sweep_in_order(
    conn: Connection, community: Community
) -> None:
    # The console's clock moved three days at once: nothing was "down", so all of it runs.
    morning = job(community, "topic:2", when=When("daily", (), ((9, 0),)))
    due = due_firings(
        conn,
        [job(community), morning],
        now=local(3, 23),
        swept_to=local(1, 0, 0),
        grace=grace(60),
        replay=True,
    )
    assert [(f.key, f.at) for f in due.run] == [
        ("topic:2", local(1, 9)),
        ("topic:1", local(1, 20)),
        ("topic:2", local(2, 9)),
        ("topic:1", local(2, 20)),
        ("topic:2", local(3, 9)),
        ("topic:1", local(3, 20)),
    ]
    assert due.missed == []


def test_claimed_firings_are_not_due_again(conn: Connection, community: Community) -> None:
    entry = job(community)
    first = due_firings(conn, [entry], now=local(1, 20), swept_to=local(1, 19), grace=grace(60))
    assert [f.at for f in first.run] == [local(1, 20)]
    assert claim(conn, first.run[0], now=local(1, 20))
    assert not claim(conn, first.run[0], now=local(1, 20, 1))  # a second claim loses
    again = due_firings(conn, [entry], now=local(1, 20, 2), swept_to=local(1, 20), grace=grace(60))
    assert again.run == []
    rows = conn.execute(select(job_runs.c.job, job_runs.c.outcome)).all()
    assert [tuple(row) for row in rows] == [("topic:1", "ran")]


def test_nothing_fires_before_a_job_existed(conn: Connection, community: Community) -> None:
    entry = job(community, since_day=3)
    due = due_firings(conn, [entry], now=local(3, 20, 10), swept_to=None, grace=grace(10_000))
    assert [f.at for f in due.run] == [local(3, 20)]


def test_a_shifted_job_fires_its_offset_before_the_schedule(
    conn: Connection, community: Community
) -> None:
    # A member day at 00:00 on day 3, announced 24 hours before.
    midnight = When("daily", (), ((0, 0),))
    announce = job(community, "memberday:1:announce", when=midnight, offset=-24 * HOUR)
    due = due_firings(conn, [announce], now=local(2, 0, 1), swept_to=local(1, 12), grace=grace(60))
    assert [f.at for f in due.run] == [local(2, 0)]
    # Its alarm: the next announcement, a day before the next midnight but one.
    assert announce.next_firing(local(2, 0, 1)) == local(3, 0, 0)


def test_a_zero_grace_runs_only_what_is_due_this_instant(
    conn: Connection, community: Community
) -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai on day 1
    due = due_firings(conn, [job(community)], now=now, swept_to=None, grace=grace(0))
    assert ([f.at for f in due.run], due.missed) == ([], [Firing(job(community), now)])


def test_a_job_a_year_old_that_never_ran_still_fires_today(
    conn: Connection, community: Community
) -> None:
    # Walking a year of six-times-a-day firings from the job's start would stop at the
    # sweep's limit long before today: a start looks back a week at most.
    often = When("daily", (), tuple((hour, 0) for hour in range(8, 20, 2)))
    old = Job("topic:9", community.id, often, SHANGHAI, nothing, local(1) - 365 * 24 * HOUR)
    due = due_firings(conn, [old], now=local(1, 18, 30), swept_to=None, grace=grace(60))
    assert [f.at for f in due.run] == [local(1, 18)]
    assert min(f.at for f in due.missed) >= local(1, 18) - timedelta(days=7, hours=1)


def test_a_process_frozen_for_days_keeps_to_the_grace(
    conn: Connection, community: Community
) -> None:
    # A suspended machine or a stalled loop is downtime too: days-old posts are not sent now.
    due = due_firings(
        conn, [job(community)], now=local(3, 20, 30), swept_to=local(1, 0, 0), grace=grace(60)
    )
    assert [f.at for f in due.run] == [local(3, 20)]
    assert [f.at for f in due.missed] == [local(1, 20), local(2, 20)]


def test_a_clock_moved_a_year_is_walked_in_stretches_in_order(
    conn: Connection, community: Community
) -> None:
    # More firings than one look lists: what is found is complete up to `through` only, and
    # another job's later firings wait for the next stretch, so the order holds.
    often = When("daily", (), ((9, 0), (21, 0)))
    jobs = [job(community), job(community, "topic:2", when=often)]
    due = due_firings(
        conn,
        jobs,
        now=local(1) + 365 * 24 * HOUR,
        swept_to=local(1, 0, 0),
        grace=grace(60),
        replay=True,
    )
    assert due.through is not None and len(due.run) < 3 * 365
    assert all(f.at <= due.through for f in due.run)
    assert due.run == sorted(due.run, key=lambda f: (f.at, f.key))


def test_of_firings_due_at_one_moment_the_lower_rank_runs_first(
    conn: Connection, community: Community
) -> None:
    # "memberday:1:open" sorts before "memberday:1:recap": the rank, not the name, decides.
    midnight = When("daily", (), ((0, 0),))
    opening = job(community, "memberday:1:open", when=midnight)
    recap = Job("memberday:1:recap", community.id, midnight, SHANGHAI, nothing, local(1), rank=0)
    due = due_firings(
        conn, [opening, recap], now=local(2, 0, 1), swept_to=local(1, 23), grace=grace(60)
    )
    assert [f.key for f in due.run] == ["memberday:1:recap", "memberday:1:open"]
