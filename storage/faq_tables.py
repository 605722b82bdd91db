"""The FAQ (issue 11): entries, the automatic answers given and the 👍/👎 on them. Part of
storage/schema.py's one MetaData (it imports this module), kept apart by feature."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from storage.qa_tables import questions
from storage.schema_core import metadata
from storage.types import Id, UtcDateTime

__all__ = ["faq_answers", "faq_entries", "faq_votes", "metadata"]

# An entry's number is its id: one sequence for the deployment, never reused (a removed entry
# stays, marked, so the answers it gave and their votes keep naming it).
faq_entries = Table(
    "faq_entries",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("community_id", Id, ForeignKey("communities.id"), nullable=False),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("keywords", JSON, nullable=False),  # a list of words or phrases
    # "file:N": the Nth [[faq_entries]] of community.toml (follows the file); None: an admin's.
    Column("file_key", String(32), nullable=True),
    # The question whose accepted answer it was made from (/faq promote).
    Column("question_id", Id, ForeignKey(questions.c.id), nullable=True),
    Column("created_by", Id, ForeignKey("members.id"), nullable=True, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("removed_at", UtcDateTime, nullable=True),
    # Counts the entry's changes: the community's matching index is rebuilt when the sum moves.
    Column("revision", Integer, nullable=False, server_default="1"),
    sqlite_autoincrement=True,
)
# The entries of a community, and their version (community/faq.py `version`) read from the index
# alone: every group question reads it.
Index("ix_faq_entries_version", faq_entries.c.community_id, faq_entries.c.revision)

# Each answer the FAQ gave by itself: to whom, where, when. What the share of questions answered
# without a human is computed from, and what 👍/👎 are counted against.
faq_answers = Table(
    "faq_answers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("community_id", Id, ForeignKey("communities.id"), nullable=False),
    Column("entry_id", Id, ForeignKey("faq_entries.id"), nullable=False),
    Column("member_id", Id, ForeignKey("members.id"), nullable=False, index=True),
    Column("platform", String(16), nullable=False),
    Column("chat_id", String(64), nullable=False),
    Column("message_id", String(64), nullable=True),  # the member's message it answered
    Column("score", Float, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    sqlite_autoincrement=True,
)
Index(
    "ix_faq_answers_recent",
    faq_answers.c.entry_id,
    faq_answers.c.platform,
    faq_answers.c.chat_id,
    faq_answers.c.created_at,
)
Index("ix_faq_answers_community", faq_answers.c.community_id, faq_answers.c.created_at)

# One vote per member per answer given; pressing the other button changes it.
faq_votes = Table(
    "faq_votes",
    metadata,
    Column("answer_id", Id, ForeignKey("faq_answers.id"), primary_key=True),
    Column("member_id", Id, ForeignKey("members.id"), primary_key=True, index=True),
    Column("helpful", Boolean, nullable=False),
    Column("voted_at", UtcDateTime, nullable=False),
)
