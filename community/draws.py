"""Lucky draws (抽奖): members enter with a button if they meet the condition; winners are
drawn fairly and verifiably from a seed committed to when the draw opened."""

from __future__ import annotations

from sqlalchemy import Column, Connection

# The columns of this activity's tables that point at a member: merge_members moves them when
# /link folds one member into another (tests/test_linking.py checks every such column is).
MEMBER_COLUMNS: tuple[Column[int], ...] = ()


def merge_members(conn: Connection, *, keep: int, absorb: int) -> None:
    """Fold `absorb`'s rows into `keep`'s."""
