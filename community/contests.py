"""Contests (征集 / 摄影大赛): submissions tagged to a contest during its window, a vote on the
approved entries after the close, winners and prizes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Connection

from community.communities import Community

# The columns of this activity's tables that point at a member: merge_members moves them when
# /link folds one member into another (tests/test_linking.py checks every such column is).
MEMBER_COLUMNS: tuple[Column[int], ...] = ()


def merge_members(conn: Connection, *, keep: int, absorb: int) -> None:
    """Fold `absorb`'s rows into `keep`'s."""


def contest_for(conn: Connection, community: Community, category: str, at: datetime) -> int | None:
    """The contest a submission of `category` made at `at` is entered in: the newest one
    taking entries then whose category it is (a contest without one takes every category);
    None when no contest is open."""
    return None
