"""Standings: ranks and the leaderboard of a community, read from balances."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, func, select

from storage.schema import balances, members


@dataclass(frozen=True, slots=True)
class Standing:
    """One line of the leaderboard."""

    rank: int
    member_id: int
    display_name: str
    points: int


_AHEAD = (
    select(func.count())
    .select_from(balances)
    .where(
        balances.c.community_id == bindparam("community"),
        balances.c.points > bindparam("points"),
    )
)
_TOP = (
    select(balances.c.member_id, balances.c.points, members.c.display_name)
    .join(members, members.c.id == balances.c.member_id)
    .where(balances.c.community_id == bindparam("community"), balances.c.points > 0)
    # Among equals, by member number. Ordering them by first contact (which a linked member
    # carries over from their oldest account) cost the whole core 5-7 % in bench/core_bench.py
    # for an order members cannot see: tied members share their rank number anyway.
    .order_by(balances.c.points.desc(), balances.c.member_id)
    .limit(bindparam("limit"))
)


def rank_of(conn: Connection, community_id: int, points: int) -> int:
    """Competition rank ("1224"): one more than the members with strictly more points."""
    ahead = conn.execute(_AHEAD, {"community": community_id, "points": points}).scalar_one()
    return int(ahead) + 1


def top(conn: Connection, community_id: int, limit: int = 10) -> list[Standing]:
    """The community's leaders, most points first; ties share a rank, listed by member number."""
    rows = conn.execute(_TOP, {"community": community_id, "limit": limit}).all()
    standings: list[Standing] = []
    for position, row in enumerate(rows, start=1):
        tied = standings and standings[-1].points == row.points
        rank = standings[-1].rank if tied else position
        standings.append(Standing(rank, row.member_id, row.display_name, row.points))
    return standings
