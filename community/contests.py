"""Contests (征集 / 摄影大赛): submissions tagged to a contest during its window, a vote on the
approved entries after the close, winners and prizes."""

from __future__ import annotations

from sqlalchemy import Column, Connection

# The columns of this activity's tables that point at a member: merge_members moves them when
# /link folds one member into another (tests/test_linking.py checks every such column is).
MEMBER_COLUMNS: tuple[Column[int], ...] = ()


def merge_members(conn: Connection, *, keep: int, absorb: int) -> None:
    """Fold `absorb`'s rows into `keep`'s."""
