"""Contests (issue 12): contests, the entries that went to their vote, and the votes. Part of
storage/schema.py's one MetaData (it imports this module), kept apart by feature.

A contest's entries are submissions (storage/ugc_tables.py, submissions.contest_id). At the
close the approved ones are written to contest_entries: the vote is on that list, fixed, and
an entry approved later does not join a vote already under way. An entry is named by its
submission's number, the one /mysubmissions shows."""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Table

from storage.schema_core import metadata
from storage.types import Id, UtcDateTime

contests = Table(
    "contests",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("community_id", Id, ForeignKey("communities.id"), nullable=False),
    Column("title", String(300), nullable=False),
    # The submissions category it takes ([[submissions.categories]] key); None: every one.
    Column("category", String(24), nullable=True),
    # One prize per place, in order: {"points": 300} or {"reward": 5, "name": "Mug"}.
    Column("prizes", JSON, nullable=False),
    # open (taking entries) -> voting -> ended; open | voting -> cancelled
    Column("state", String(12), nullable=False, server_default="open"),
    Column("opens_at", UtcDateTime, nullable=False),
    Column("closes_at", UtcDateTime, nullable=False),  # entries stop, the vote starts
    Column("vote_ends_at", UtcDateTime, nullable=True),  # set at the close
    Column("created_by_member_id", Id, ForeignKey("members.id"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime, nullable=True),
    Column("ended_at", UtcDateTime, nullable=True),
    Column("cancelled_at", UtcDateTime, nullable=True),
    sqlite_autoincrement=True,
)
Index("ix_contests_state", contests.c.community_id, contests.c.state)

contest_entries = Table(
    "contest_entries",
    metadata,
    Column("contest_id", Id, ForeignKey("contests.id"), primary_key=True),
    Column("submission_id", Id, ForeignKey("submissions.id"), primary_key=True),
    # The place it won (1 is first) once the vote ended; None: no place.
    Column("place", Integer, nullable=True),
    Column("votes", Integer, nullable=True),  # counted at the end
)

contest_votes = Table(
    "contest_votes",
    metadata,
    # One vote per member and contest: the key is what makes two presses at once count once.
    Column("contest_id", Id, ForeignKey("contests.id"), primary_key=True),
    Column("member_id", Id, ForeignKey("members.id"), primary_key=True),
    Column("submission_id", Id, ForeignKey("submissions.id"), nullable=False),
    Column("voted_at", UtcDateTime, nullable=False),
)
Index("ix_contest_votes_entry", contest_votes.c.contest_id, contest_votes.c.submission_id)
