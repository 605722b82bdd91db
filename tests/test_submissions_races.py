"""Reviewers and members racing on one database: two engines (as two bot processes would
have), many threads, each decision or submission in its own transaction on its own connection.
Reviewers pressing at once on one submission decide it once and pay once; members submitting
the same link at once keep one submission — on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from threading import Barrier

import pytest
from sqlalchemy import Connection, Engine, func, select

from community import submissions
from community.audit import Actor
from community.communities import Community
from community.submission_content import checked
from community.submission_review import decide
from community.submissions import Where
from loyalty import ledger
from loyalty.errors import UserError
from storage.schema import audit_log
from storage.schema import ledger as ledger_table
from storage.ugc_tables import submissions as submissions_table
from tests.domain.conftest import local
from tests.races import two_processes

WORKERS = 12


@dataclass
class Queue:
    """The test community on two engines, its reviewers and its members."""

    engines: tuple[Engine, Engine]
    community: Community
    reviewers: list[int]
    authors: list[int]


@pytest.fixture
def racing(db_url: str) -> Iterator[Queue]:
    with two_processes(db_url, workers=WORKERS, members=2 * WORKERS) as (engines, community, found):
        people = [member.id for member in found]
        yield Queue(engines, community, people[:WORKERS], people[WORKERS:])


def _at_once(racing: Queue, work: Callable[[Connection, int], str], count: int) -> Counter[str]:
    """Run work(conn, index) for every index, all at once on both engines, each in its own
    transaction; counts the outcomes (what work returned, or the refusal's key)."""
    start = Barrier(count)

    def attempt(index: int) -> str:
        start.wait(30)
        try:
            with racing.engines[index % 2].begin() as conn:
                return work(conn, index)
        except UserError as refusal:
            return refusal.key

    with ThreadPoolExecutor(count) as pool:
        return Counter(pool.map(attempt, range(count)))


def _submitted(racing: Queue, author: int, text: str) -> int:
    with racing.engines[0].begin() as conn:
        rules = racing.community.rules.submissions
        return submissions.submit(
            conn,
            racing.community,
            member_id=author,
            category=rules.category("review"),
            content=checked(text, [], rules),
            where=Where("console", "group-1"),
            at=local(1, 10),
        ).id


def test_reviewers_pressing_at_once_decide_once_and_pay_once(racing: Queue) -> None:
    author = racing.authors[0]
    number = _submitted(racing, author, "A review worth 50 points")
    decisions = ["approve", "feature", "reject"]

    def press(conn: Connection, index: int) -> str:
        decision = decisions[index % 3]
        decide(
            conn,
            racing.community,
            number,
            decision,
            reviewer=Actor(racing.reviewers[index], f"console:m{index}"),
            at=local(1, 11),
            reason_key="rules",
        )
        return decision

    outcomes = _at_once(racing, press, WORKERS)
    assert sum(outcomes.values()) == WORKERS
    assert outcomes["ugc/already_decided"] == WORKERS - 1
    with racing.engines[0].connect() as conn:
        row = conn.execute(select(submissions_table).where(submissions_table.c.id == number)).one()
        won = next(key for key in outcomes if not key.startswith("ugc/"))
        assert row.state == ("rejected" if won == "reject" else "approved")
        decided = conn.execute(
            select(func.count()).where(audit_log.c.action.like("submission_%"))
        ).scalar_one()
        assert decided == 1
        paid = 0 if won == "reject" else 50
        assert ledger.balance(conn, author) == paid == ledger.ledger_sum(conn, author)
        entries = conn.execute(
            select(func.count()).where(ledger_table.c.member_id == author)
        ).scalar_one()
        assert entries == (0 if won == "reject" else 1)


def test_members_submitting_one_link_at_once_keep_one_submission(racing: Queue) -> None:
    rules = racing.community.rules.submissions

    def send(conn: Connection, index: int) -> str:
        submissions.submit(
            conn,
            racing.community,
            member_id=racing.authors[index],
            category=rules.category("post"),
            content=checked(f"look https://shop.example/p/9?utm_source={index}", [], rules),
            where=Where("console", "group-1"),
            at=local(1, 10),
        )
        return "submitted"

    outcomes = _at_once(racing, send, WORKERS)
    assert outcomes == {"submitted": 1, "ugc/duplicate": WORKERS - 1}
    with racing.engines[0].connect() as conn:
        kept = conn.execute(select(func.count()).select_from(submissions_table)).scalar_one()
    assert kept == 1
