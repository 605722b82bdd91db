"""(being written)"""

from __future__ import annotations

from sqlalchemy import Connection

from community.communities import Community
from community.jobs import Job


def jobs(conn: Connection, community: Community) -> list[Job]:
    """This community's scheduled jobs of this feature."""
    return []
