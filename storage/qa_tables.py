"""Questions and answers (issue 11). Part of storage/schema.py's one MetaData, kept apart by
feature. Numbers are the rows' ids: one sequence for the deployment, so a question has the
same number on every platform of its community.

Time to a first answer (for the insight work) is the earliest answers.created_at of a question
minus its questions.created_at; an accepted answer has answers.accepted_at and is named by
questions.accepted_answer_id (what /faq promote reads)."""

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
    # Where it was asked (the group, its channel on Discord, the asker's own message there).
    Column("platform", String(16), nullable=False),
    Column("chat_id", String(64), nullable=False),
    Column("channel_id", String(64), nullable=True),
    Column("message_id", String(64), nullable=True),
    # The points held from the asker's balance for the accepted answer (0: no bounty); the
    # hold itself is a ledger entry, this only says how much it was.
    Column("bounty", BigInteger, nullable=False, server_default="0"),
    # When the held bounty left the hold: paid to the accepted answer's author, or given back
    # to the asker (nobody's answer accepted in time, the question closed, an answer accepted
    # by its own author). A question whose bounty went back stays open for answers.
    Column("bounty_settled_at", UtcDateTime, nullable=True),
    # open -> accepted (an answer accepted) | closed (by an admin)
    Column("state", String(12), nullable=False, server_default="open"),
    Column("accepted_answer_id", Id, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime, nullable=True),
    # When the admins were told nobody had answered it (once).
    Column("raised_at", UtcDateTime, nullable=True),
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

question_messages = Table(
    # The platform messages that stand for a question, so that a reply to one answers it: the
    # asker's own message, and the bot's posts of it. A post is known by its outbox row until
    # the platform's id for it is read from there (community/question_messages.py).
    "question_messages",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("question_id", Id, ForeignKey("questions.id"), nullable=False, index=True),
    Column("platform", String(16), nullable=False),
    # The group as events name it (a Discord server, not its channel: message ids there are
    # unique across channels; Telegram's are unique within a chat).
    Column("chat_id", String(64), nullable=False),
    Column("message_id", String(64), nullable=True),
    # No foreign key: delivered outbox rows are forgotten after a week, this row is not.
    Column("outbox_id", Id, nullable=True),
)
Index(
    "ix_question_messages_message",
    question_messages.c.platform,
    question_messages.c.chat_id,
    question_messages.c.message_id,
)
