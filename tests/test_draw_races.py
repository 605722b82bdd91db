"""Lucky draws racing on one database: a member pressing Enter many times at once, many members
entering together, entries racing the close, two processes drawing one draw. Two engines (as
two bot processes would have) and many threads, each in its own transaction: one entry per
member, one fee, numbers without gaps or twins, every counted entry drawn among, one draw —
on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from threading import Barrier

import pytest
from sqlalchemy import Connection, Engine, select

from community import draw_admin, draw_closing, draw_entering
from community.audit import Actor
from community.communities import Community
from community.draw_options import Conditions, DrawSpec
from community.draws import Draw, draw_by_id
from community.members import Member
from loyalty import ledger
from loyalty.errors import UserError
from storage.draw_tables import draw_entries
from storage.schema import ledger as ledger_table
from tests.conftest import T0
from tests.domain.conftest import local
from tests.races import two_processes

MEMBERS = 60
WORKERS = 16


@dataclass
class Room:
    """The test community on two engines, its members, and two draws open until 20:00: one
    with an entry fee, one free (no fee's ledger key to stop a second entry)."""

    engines: tuple[Engine, Engine]
    community: Community
    members: list[Member]
    draw: Draw
    free: Draw


@pytest.fixture
def racing(db_url: str) -> Iterator[Room]:
    with two_processes(db_url, workers=WORKERS, members=MEMBERS) as (engines, community, members):
        with engines[0].begin() as conn:
            for member in members:
                ledger.post(
                    conn,
                    community_id=community.id,
                    member_id=member.id,
                    delta=100,
                    reason="award",
                    key=f"seed:{member.id}",
                    at=T0,
                )
            spec = DrawSpec("Mug", 3, local(1, 20), Conditions(cost=10), 50)
            boss = Actor(None, "console:boss")
            draw = draw_admin.start(conn, community, spec, actor=boss, at=local(1, 9)).draw
            free = DrawSpec("Pin", 1, local(1, 20), Conditions(), 0)
            other = draw_admin.start(conn, community, free, actor=boss, at=local(1, 9)).draw
        yield Room(engines, community, members, draw, other)


def _at_once(racing: Room, tries: list[Callable[[Connection], str]]) -> Counter[str]:
    """Run every try in its own transaction, all at once on both engines; counts the outcomes
    (what each returned, or the refusal's key)."""
    start = Barrier(min(WORKERS, len(tries)))

    def attempt(index: int) -> str:
        if index < WORKERS:
            start.wait(30)  # the first of each worker all begin together
        try:
            with racing.engines[index % 2].begin() as conn:
                return tries[index](conn)
        except UserError as refusal:
            return refusal.key

    with ThreadPoolExecutor(WORKERS) as pool:
        return Counter(pool.map(attempt, range(len(tries))))


def _enter(
    racing: Room, member: Member, hour: int = 10, minute: int = 0, draw: Draw | None = None
) -> Callable[..., str]:
    number = (draw or racing.draw).id

    def run(conn: Connection) -> str:
        draw_entering.enter(
            conn, racing.community, number, member=member, at=local(1, hour, minute)
        )
        return "entered"

    return run


def _close(racing: Room) -> Callable[..., str]:
    def run(conn: Connection) -> str:
        done = draw_closing.close(conn, racing.community, racing.draw.id, local(1, 20))
        return "drawn" if done is not None else "not drawn"

    return run


def test_a_member_pressing_enter_many_times_at_once_enters_once_and_pays_once(
    racing: Room,
) -> None:
    member = racing.members[0]
    presses = [_enter(racing, member)] * 32 + [_enter(racing, member, draw=racing.free)] * 32
    outcomes = _at_once(racing, presses)
    assert outcomes == {"entered": 2, "draw/already_entered": 62}
    with racing.engines[0].connect() as conn:
        assert ledger.balance(conn, member.id) == 90 == ledger.ledger_sum(conn, member.id)
        entries = conn.execute(select(draw_entries.c.draw_id, draw_entries.c.member_id)).all()
    assert sorted(entries) == [(racing.draw.id, member.id), (racing.free.id, member.id)]


def test_members_entering_together_get_every_number_once(racing: Room) -> None:
    outcomes = _at_once(racing, [_enter(racing, member) for member in racing.members])
    assert outcomes == {"entered": MEMBERS}
    with racing.engines[0].connect() as conn:
        numbers = conn.execute(
            select(draw_entries.c.number).where(draw_entries.c.draw_id == racing.draw.id)
        ).scalars()
        found = draw_by_id(conn, racing.community.id, racing.draw.id)
    assert sorted(numbers) == list(range(1, MEMBERS + 1))
    assert found is not None and found.entrants == MEMBERS


def test_entries_racing_the_close_are_either_drawn_among_or_refused(racing: Room) -> None:
    tries = [_enter(racing, member, 19, 59) for member in racing.members]
    tries.insert(MEMBERS // 3, _close(racing))
    tries.insert(MEMBERS // 2, _close(racing))
    outcomes = _at_once(racing, tries)
    assert outcomes["drawn"] == 1 and outcomes["not drawn"] == 1
    assert outcomes["entered"] + outcomes["draw/closed"] == MEMBERS
    with racing.engines[0].connect() as conn:
        entries = conn.execute(select(draw_entries.c.number, draw_entries.c.rank)).all()
        found = draw_by_id(conn, racing.community.id, racing.draw.id)
        paid = conn.execute(
            select(ledger_table.c.member_id).where(ledger_table.c.reason == "draw_prize")
        ).all()
    assert found is not None and found.state == "drawn"
    assert len(entries) == outcomes["entered"]
    # Every entry stored was drawn among: the published list recomputes the result.
    numbers = [number for number, _ in entries]
    expected = sorted(
        numbers, key=lambda n: hashlib.sha256(f"{found.seed}:{n}".encode()).hexdigest()
    )[:3]
    ranked = sorted((rank, number) for number, rank in entries if rank is not None)
    assert [number for _, number in ranked] == expected
    assert len(paid) == len(expected)
