"""Questions and answers (issue 11). Part of storage/schema.py's one MetaData, kept apart by
feature. Numbers are the rows' ids: one sequence for the deployment, so a question has the
same number on every platform of its community."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, String, Table, Text

from storage.schema_core import metadata
from storage.types import Id, UtcDateTime

questions = Table(
    "questions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("community_id", Id, ForeignKey("communities.id"), nullable=False),
    Column("member_id", Id, ForeignKey("members.id"), nullable=False, index=True),
    Column("text", Text, nullable=False),
    # Where it was asked: the asker's own message there (a reply to it answers the question).
    Column("platform", String(16), nullable=False),
    Column("chat_id", String(64), nullable=False),
    Column("channel_id", String(64), nullable=True),
    Column("message_id", String(64), nullable=True),
    # The points held from the asker's balance for the accepted answer (0: no bounty); the
    # hold itself is a ledger entry, this only says how much it was.
    Column("bounty", BigInteger, nullable=False, server_default="0"),
    # open -> accepted | expired (a bounty returned) | closed (by an admin)
    Column("state", String(12), nullable=False, server_default="open"),
    Column("accepted_answer_id", Id, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime, nullable=True),
    # When the admins were told nobody had answered it (once).
    Column("raised_at", UtcDateTime, nullable=True),
    # The outbox rows that posted it: a reply to one of those messages answers it.
    Column("post_ids", Text, nullable=True),
    sqlite_autoincrement=True,
)
Index("ix_questions_open", questions.c.community_id, questions.c.state, questions.c.created_at)

answers = Table(
    "answers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("community_id", Id, ForeignKey("communities.id"), nullable=False),
    Column("question_id", Id, ForeignKey("questions.id"), nullable=False, index=True),
    Column("member_id", Id, ForeignKey("members.id"), nullable=False, index=True),
    Column("text", Text, nullable=False),
    Column("platform", String(16), nullable=False),
    Column("chat_id", String(64), nullable=False),
    Column("message_id", String(64), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("accepted_at", UtcDateTime, nullable=True),
    sqlite_autoincrement=True,
)
