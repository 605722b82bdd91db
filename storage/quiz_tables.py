"""Quizzes (issue 11): the question bank, each quiz run, its rounds and the members' answers. Part
of storage/schema.py's one MetaData (it imports this module), kept apart by feature.

A round is asked through a row of `polls` (its question and options, when it closes, the
platform's native poll): posting, native votes, the scheduler's alarms and the timed close are
the polls' own; the round adds what makes it a quiz question."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
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

from storage.schema_core import metadata
from storage.types import Id, UtcDateTime

__all__ = ["metadata", "quiz_answers", "quiz_questions", "quiz_rounds", "quiz_runs"]

quiz_questions = Table(
    # The bank (题库): what /quiz start draws from.
    "quiz_questions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("community_id", Id, ForeignKey("communities.id"), nullable=False),
    Column("question", String(300), nullable=False),
    Column("options", JSON, nullable=False),
    # The right option, counting from 0 (as polls count options).
    Column("correct", Integer, nullable=False),
    Column("explanation", String(200), nullable=False, server_default=""),
    Column("category", String(32), nullable=False, server_default=""),
    # "file:N" for the Nth [[quiz_bank]] question of community.toml; none when an admin added it.
    Column("file_key", String(32), nullable=True),
    Column("created_by", Id, ForeignKey("members.id"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    # Removed from the bank (/quiz remove, or gone from the file): kept for the rounds that
    # asked it, never drawn again.
    Column("removed_at", UtcDateTime, nullable=True),
    # Numbers are shown to admins (/quiz remove 12) and never reused.
    sqlite_autoincrement=True,
)
Index(
    "ix_quiz_questions_bank",
    quiz_questions.c.community_id,
    quiz_questions.c.removed_at,
    quiz_questions.c.category,
)

quiz_runs = Table(
    # One quiz in one chat: its questions are asked one round at a time.
    "quiz_runs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("community_id", Id, ForeignKey("communities.id"), nullable=False),
    Column("platform", String(16), nullable=False),
    Column("chat_id", String(64), nullable=False),
    # The channel of a server it was started in (Discord), where its questions go.
    Column("channel_id", String(64), nullable=True),
    # "platform:chat" while it runs, none once it ended: one quiz at a time per chat, kept by
    # the database even when two processes start one at the same moment.
    Column("live_chat", String(100), nullable=True, unique=True),
    # Names a start by the scheduler (a calendar firing in one group): it starts once.
    Column("key", String(200), nullable=True, unique=True),
    Column("category", String(32), nullable=False, server_default=""),
    Column("rounds", Integer, nullable=False),
    # Each question's time, fixed at the start (a settings change rewrites no quiz).
    Column("seconds", Integer, nullable=False),
    # The round being asked (1-based); moved on by the round's end, once.
    Column("position", Integer, nullable=False, server_default="1"),
    Column("started_by", Id, ForeignKey("members.id"), nullable=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    # Ended early by /quiz stop.
    Column("stopped", Boolean, nullable=False, server_default=false()),
    sqlite_autoincrement=True,
)
Index("ix_quiz_runs_community_id", quiz_runs.c.community_id)

quiz_rounds = Table(
    # One question of a quiz, as it was when the quiz started (the bank may change meanwhile).
    "quiz_rounds",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("run_id", Id, ForeignKey("quiz_runs.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("question_id", Id, ForeignKey("quiz_questions.id"), nullable=True, index=True),
    Column("question", String(300), nullable=False),
    Column("options", JSON, nullable=False),
    Column("correct", Integer, nullable=False),
    Column("explanation", String(200), nullable=False, server_default=""),
    # The poll it is asked through, once asked.
    Column("poll_id", Id, ForeignKey("polls.id"), nullable=True, unique=True),
    # Who answered it right first (set once: the claim of the first-right bonus).
    Column("first_member_id", Id, ForeignKey("members.id"), nullable=True, index=True),
    UniqueConstraint("run_id", "position", name="uq_quiz_rounds_run_position"),
)

quiz_answers = Table(
    # A member's answer to a round: the first one counts, there is no second.
    "quiz_answers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("round_id", Id, ForeignKey("quiz_rounds.id"), nullable=False),
    Column("member_id", Id, ForeignKey("members.id"), nullable=False, index=True),
    Column("option", Integer, nullable=False),
    Column("correct", Boolean, nullable=False),
    Column("first", Boolean, nullable=False, server_default=false()),
    # What it paid, after caps and multipliers (the leaderboard adds these up).
    Column("points", Integer, nullable=False, server_default="0"),
    Column("answered_at", UtcDateTime, nullable=False),
    UniqueConstraint("round_id", "member_id", name="uq_quiz_answers_round_member"),
)
