"""Q&A's scheduled work: raising unanswered questions to the admins, returning bounties."""

from __future__ import annotations

from sqlalchemy import Connection

from community.communities import Community
from community.jobs import Job


def jobs(conn: Connection, community: Community) -> list[Job]:
    """The community's Q&A jobs."""
    return []
