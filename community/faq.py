"""The FAQ: entries (from community.toml or admins), search, and the answers it gives by itself."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Column, Connection

from community.communities import Community
from community.faq_rules import FaqEntryConfig

# The columns of this activity's tables that point at a member: merge_members moves them when
# /link folds one member into another (tests/test_linking.py checks every such column is).
MEMBER_COLUMNS: tuple[Column[int], ...] = ()


def merge_members(conn: Connection, *, keep: int, absorb: int) -> None:
    """Fold `absorb`'s rows into `keep`'s (one answer per member stays one)."""


def sync_file_entries(
    conn: Connection, community: Community, entries: Sequence[FaqEntryConfig], at: datetime
) -> None:
    """Make the FAQ's file entries what community.toml says (a changed file was read)."""
