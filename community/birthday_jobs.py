"""(being written: issue 10, loyalty engine)"""

from __future__ import annotations

from sqlalchemy import Connection

from community.communities import Community
from community.jobs import Job


def jobs(conn: Connection, community: Community) -> list[Job]:
    """This feature's scheduled jobs of the community."""
    return []
