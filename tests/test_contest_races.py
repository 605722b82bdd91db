"""Contest votes racing on one database: one member pressing vote buttons many times at once
(two processes' engines, many threads, each vote in its own transaction) counts one vote; and
a contest's end run twice at once pays its winners once — on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from threading import Barrier

import pytest
from sqlalchemy import Engine, func, insert, select

from community import contest_runs, contest_voting
from community.audit import Actor
from community.communities import Community
from community.contest_terms import read_terms
from loyalty.errors import UserError
from storage.contest_tables import contest_votes
from storage.schema import ledger
from storage.ugc_tables import submissions
from tests.conftest import T0
from tests.races import two_processes

WORKERS = 8
VOTERS = 6


@dataclass
class Vote:
    """A contest in its vote on two engines: the voters and the entries."""

    engines: tuple[Engine, Engine]
    community: Community
    voters: list[int]
    entries: list[int]


@pytest.fixture
def voting(db_url: str) -> Iterator[Vote]:
    with two_processes(db_url, workers=WORKERS, members=VOTERS + 2) as (engines, community, found):
        people = [member.id for member in found]
        with engines[0].begin() as conn:
            terms = read_terms(
                "Photos --until 11-25",
                community.rules.contests,
                community.rules.submissions.categories,
                community.timezone,
                T0,
            )
            contest = contest_runs.start(
                conn, community, terms, actor=Actor(None, "console:boss"), at=T0
            ).contest
            entries = [
                conn.execute(
                    insert(submissions).returning(submissions.c.id),
                    {
                        "community_id": community.id,
                        "member_id": author,
                        "category": "purchase",
                        "contest_id": contest.id,
                        "text": "photo",
                        "links": [],
                        "platform": "console",
                        "chat_id": "group-1",
                        "state": "approved",
                        "decided_at": T0,
                        "created_at": T0,
                    },
                ).scalar_one()
                for author in people[:2]
            ]
            contest_voting.close(conn, community, contest.id, terms.closes_at)
        yield Vote(engines, community, people[2:], entries)


def test_one_member_pressing_many_times_at_once_votes_once(voting: Vote) -> None:
    member, at = voting.voters[0], T0 + timedelta(days=3)
    gate = Barrier(WORKERS)

    def press(n: int) -> str:
        engine = voting.engines[n % 2]
        gate.wait(10)
        try:
            with engine.begin() as conn:
                contest_voting.vote(
                    conn, voting.community, 1, voting.entries[n % 2], member_id=member, at=at
                )
            return "counted"
        except UserError as refusal:
            return refusal.key

    with ThreadPoolExecutor(WORKERS) as pool:
        outcomes = list(pool.map(press, range(WORKERS)))
    assert outcomes.count("counted") == 1
    assert set(outcomes) == {"counted", "contest/already_voted"}
    with voting.engines[0].connect() as conn:
        assert conn.execute(select(func.count()).select_from(contest_votes)).scalar_one() == 1


def test_the_end_run_twice_at_once_pays_once(voting: Vote) -> None:
    at = T0 + timedelta(days=3)
    with voting.engines[0].begin() as conn:
        for voter in voting.voters:
            contest_voting.vote(
                conn, voting.community, 1, voting.entries[0], member_id=voter, at=at
            )
    end = at + timedelta(days=3)
    gate = Barrier(WORKERS)

    def finish(n: int) -> None:
        gate.wait(10)
        with voting.engines[n % 2].begin() as conn:
            contest_voting.finish(conn, voting.community, 1, end)

    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(finish, range(WORKERS)))
    with voting.engines[0].connect() as conn:
        paid = conn.execute(
            select(ledger.c.delta, ledger.c.idempotency_key).where(
                ledger.c.reason == "contest_prize"
            )
        ).all()
    assert [tuple(row) for row in paid] == [(300, "contest_prize:1:1")]
