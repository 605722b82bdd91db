"""The brand ambassador programme (issue 12): the roster and each month's evaluation. Part of
storage/schema.py's one MetaData (it imports this module), kept apart by feature.

An ambassador's output of a month is not stored as it happens: it is counted from the
submissions (approved, featured) and answers tables when asked for (community/
ambassador_counts.py). What is stored is the roster and, once a month is over, what it came to
for each ambassador: the evaluation that pays the reward once and remembers the streaks."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    false,
)

from storage.qa_tables import answers
from storage.schema_core import metadata
from storage.types import Id, UtcDateTime

__all__ = ["ambassador_months", "ambassadors", "metadata"]

# One row per member who was ever appointed: removing one keeps the row (removed_at), and
# appointing them again reopens it, so a member is on the roster at most once.
ambassadors = Table(
    "ambassadors",
    metadata,
    Column("community_id", Id, ForeignKey("communities.id"), primary_key=True),
    Column("member_id", Id, ForeignKey("members.id"), primary_key=True),
    Column("level", String(24), nullable=False),  # an [[ambassadors.levels]] key
    Column("appointed_at", UtcDateTime, nullable=False),
    Column("appointed_by_member_id", Id, ForeignKey("members.id"), nullable=True),
    Column("removed_at", UtcDateTime, nullable=True),  # None: on the roster
    Column("removed_by_member_id", Id, ForeignKey("members.id"), nullable=True),
)

# One row per ambassador and month evaluated: written before the reward is paid, so a retried
# or duplicated month-end firing finds it and pays nothing twice. Its id numbers a promotion
# proposal (/ambassador promote N).
ambassador_months = Table(
    "ambassador_months",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("community_id", Id, ForeignKey("communities.id"), nullable=False),
    Column("member_id", Id, ForeignKey("members.id"), nullable=False),
    Column("month", String(7), nullable=False),  # "2026-11", the community's calendar month
    Column("level", String(24), nullable=False),  # the level the month was judged at
    Column("outcome", String(10), nullable=False),  # met, missed or exceeded
    # Appointed after the month began: a miss then is not held against them.
    Column("partial", Boolean, nullable=False, server_default=false()),
    Column("submissions", Integer, nullable=False),  # approved in the month
    Column("featured", Integer, nullable=False),  # of which featured
    Column("answers", Integer, nullable=False),  # questions of others answered
    Column("reward", BigInteger, nullable=False, server_default="0"),  # points paid for it
    # The level the month moved them to on its own (a demotion), if any.
    Column("demoted_to", String(24), nullable=True),
    # A move up proposed to the admins, and its confirmation.
    Column("proposed_level", String(24), nullable=True),
    Column("promoted_at", UtcDateTime, nullable=True),
    Column("promoted_by_member_id", Id, ForeignKey("members.id"), nullable=True),
    Column("evaluated_at", UtcDateTime, nullable=False),
    UniqueConstraint("community_id", "member_id", "month", name="uq_ambassador_months_member"),
    sqlite_autoincrement=True,
)

# What counting a month reads (community/ambassador_counts.py): a member's answers by when they
# were given; without it every count reads every answer the roster ever gave. (Submissions are
# read by their member_id index: a member's submissions, of every month, are few.)
Index("ix_answers_member_created", answers.c.member_id, answers.c.created_at)
