"""What members are told when their tier changes (being written: issue 10)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from community.communities import Community
from loyalty.tiers import TierChange


def upgraded(conn: Connection, community: Community, change: TierChange, at: datetime) -> None:
    """Congratulate the member privately (and in the group, if the community wants it)."""
