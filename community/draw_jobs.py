"""A lucky draw's close and its winners, as the scheduler draws them (see community/jobs.py)."""

from __future__ import annotations

from sqlalchemy import Connection

from community.communities import Community
from community.jobs import Job


def jobs(conn: Connection, community: Community) -> list[Job]:
    """This activity's jobs for the community (none while nothing is due)."""
    return []
