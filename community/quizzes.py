"""Quizzes (有奖问答): the question bank, a quiz run one question at a time, fair pay."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Column, Connection

from community.communities import Community
from community.quiz_rules import QuizQuestionConfig

# The columns of this activity's tables that point at a member: merge_members moves them when
# /link folds one member into another (tests/test_linking.py checks every such column is).
MEMBER_COLUMNS: tuple[Column[int], ...] = ()


def merge_members(conn: Connection, *, keep: int, absorb: int) -> None:
    """Fold `absorb`'s rows into `keep`'s (one answer per member stays one)."""


def sync_file_bank(
    conn: Connection, community: Community, entries: Sequence[QuizQuestionConfig], at: datetime
) -> None:
    """Make the bank's file questions what community.toml says (a changed file was read)."""
