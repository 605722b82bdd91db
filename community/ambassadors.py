"""The brand ambassador programme (品牌大使 / KOC): the roster and levels, monthly tasks and
their evaluation at month end, the multiplier on approved content."""

from __future__ import annotations

from sqlalchemy import Column, Connection

from community.communities import Community
from loyalty.earning import Multiplier

# The columns of this activity's tables that point at a member: merge_members moves them when
# /link folds one member into another (tests/test_linking.py checks every such column is).
MEMBER_COLUMNS: tuple[Column[int], ...] = ()


def merge_members(conn: Connection, *, keep: int, absorb: int) -> None:
    """Fold `absorb`'s rows into `keep`'s."""


def standing_multiplier(
    conn: Connection, community: Community, member_id: int
) -> tuple[Multiplier, ...]:
    """What an approved submission of the member is multiplied by for being an ambassador:
    their level's multiplier (kind "ambassador", the level's key as ref); () for others."""
    return ()
