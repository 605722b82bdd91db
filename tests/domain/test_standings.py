"""Standings rules: most points first; equal points share a rank, and the next rank skips."""

from __future__ import annotations

from sqlalchemy import Connection

from community import linking
from community.communities import Community, move_chat
from community.members import identify
from loyalty import standings
from loyalty.standings import Standing
from tests.domain.conftest import Join, give, local


def test_the_leaderboard_lists_most_points_first(
    conn: Connection, community: Community, join: Join
) -> None:
    alice, bob, carol = join("alice"), join("bob"), join("carol")
    give(conn, alice, 20)
    give(conn, bob, 50)
    give(conn, carol, 35)
    assert standings.top(conn, community.id) == [
        Standing(1, bob.id, "Bob", 50),
        Standing(2, carol.id, "Carol", 35),
        Standing(3, alice.id, "Alice", 20),
    ]


def test_equal_points_share_a_rank_and_the_next_rank_skips(
    conn: Connection, community: Community, join: Join
) -> None:
    alice, bob, carol, dave = join("alice"), join("bob"), join("carol"), join("dave")
    for member, points in ((alice, 50), (bob, 30), (carol, 30), (dave, 10)):
        give(conn, member, points)
    board = standings.top(conn, community.id)
    assert [(s.rank, s.points) for s in board] == [(1, 50), (2, 30), (2, 30), (4, 10)]


def test_among_equals_the_oldest_member_comes_first(
    conn: Connection, community: Community, join: Join
) -> None:
    older, newer = join("zoe", at=local(1)), join("adam", at=local(2))
    give(conn, newer, 30)
    give(conn, older, 30)
    assert [s.member_id for s in standings.top(conn, community.id)] == [older.id, newer.id]


def test_a_linked_member_shares_the_rank_of_their_equals(
    conn: Connection, community: Community, join: Join
) -> None:
    """Tied members share a rank whichever account a link kept; among them, by member number."""
    on_discord = join("alice", "discord", at=local(1))
    bob = join("bob", "telegram", at=local(2))
    on_telegram = join("alice", "telegram", at=local(3))
    code = linking.issue_code(
        conn, community, member_id=on_telegram.id, platform="telegram", at=local(3)
    ).code
    linking.redeem_code(
        conn,
        community,
        member_id=on_discord.id,
        platform="discord",
        code=code,
        at=local(3),
        account="discord:alice",
    )
    give(conn, on_telegram, 30)
    give(conn, bob, 30)
    board = standings.top(conn, community.id)
    assert sorted((s.display_name, s.rank) for s in board) == [("Alice", 1), ("Bob", 1)]
    assert [s.member_id for s in board] == sorted(s.member_id for s in board)


def test_members_without_points_are_not_on_the_leaderboard(
    conn: Connection, community: Community, join: Join
) -> None:
    alice, _bob = join("alice"), join("bob")
    give(conn, alice, 5)
    assert [s.member_id for s in standings.top(conn, community.id)] == [alice.id]


def test_the_leaderboard_stops_at_its_limit(
    conn: Connection, community: Community, join: Join
) -> None:
    for number in range(1, 6):
        give(conn, join(f"member{number}"), number * 10)
    board = standings.top(conn, community.id, limit=3)
    assert [s.points for s in board] == [50, 40, 30]


def test_a_rank_is_one_more_than_the_members_with_strictly_more_points(
    conn: Connection, community: Community, join: Join
) -> None:
    for name, points in (("alice", 50), ("bob", 30), ("carol", 30), ("dave", 10)):
        give(conn, join(name), points)
    ranks = [standings.rank_of(conn, community.id, p) for p in (60, 50, 30, 10, 0)]
    assert ranks == [1, 1, 2, 4, 5]


def test_another_communitys_members_are_not_ranked_here(
    conn: Connection, community: Community, join: Join
) -> None:
    other, _ = move_chat(
        conn,
        platform="telegram",
        chat_id="-100other",
        title="Other",
        slug="other",
        current=community,
        at=local(1),
    )
    stranger = identify(
        conn,
        community_id=other.id,
        platform="telegram",
        user_id="stranger",
        display_name="Stranger",
        username=None,
        at=local(1),
    )
    give(conn, stranger, 500)
    give(conn, join("alice"), 5)
    assert [s.display_name for s in standings.top(conn, community.id)] == ["Alice"]
    assert standings.rank_of(conn, community.id, 5) == 1
    assert standings.rank_of(conn, other.id, 5) == 2
