"""Surveys and NPS (issue 11): the surveys, each member's run through one and their answers. Part
of storage/schema.py's one MetaData (it imports this module), kept apart by feature. A survey's
number is its row's id: one sequence for the deployment, never reused (sqlite_autoincrement)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from storage.schema_core import metadata
from storage.types import Id, UtcDateTime

__all__ = ["metadata", "survey_answers", "survey_runs", "surveys"]

surveys = Table(
    "surveys",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("community_id", Id, ForeignKey("communities.id"), nullable=False, index=True),
    Column("title", String(100), nullable=False),
    # [{"text": ..., "kind": "single|multiple|scale|text", "options": [...]}, ...]: fixed once
    # anyone answered (answers name a question by its place in this list).
    Column("questions", JSON, nullable=False),
    # draft (defined, nobody invited yet) -> open (/survey start) -> closed (/survey stop)
    Column("state", String(8), nullable=False, server_default="draft"),
    # "file:N": the file's N-th [[surveys]] entry; "gone:ID": it left the file with answers
    # (kept for its results); None: added by an admin with a file attached to /survey add.
    Column("file_key", String(32), nullable=True),
    Column("created_by", Id, ForeignKey("members.id"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("opened_at", UtcDateTime, nullable=True),
    Column("closed_at", UtcDateTime, nullable=True),
    sqlite_autoincrement=True,
)

survey_runs = Table(
    "survey_runs",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("survey_id", Id, ForeignKey("surveys.id"), nullable=False),
    Column("member_id", Id, ForeignKey("members.id"), nullable=False),
    # active (answering: the member's typed words in private are read as answers) -> paused
    # (stopped for now; /survey resumes) -> done (answered to the end, paid once)
    Column("state", String(8), nullable=False, server_default="active"),
    # The question the member is at (0 first); the number of questions once done.
    Column("position", Integer, nullable=False, server_default="0"),
    # The options ticked so far in a multiple-choice question, until "done" saves them.
    Column("picked", JSON, nullable=True),
    Column("started_at", UtcDateTime, nullable=False),
    # When the current question was last shown: typed answers count for a while after it.
    Column("asked_at", UtcDateTime, nullable=False),
    Column("completed_at", UtcDateTime, nullable=True),
    UniqueConstraint("survey_id", "member_id", name="uq_survey_runs_survey_member"),
    Index("ix_survey_runs_member_state", "member_id", "state"),
)

survey_answers = Table(
    "survey_answers",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("survey_id", Id, ForeignKey("surveys.id"), nullable=False),
    Column("member_id", Id, ForeignKey("members.id"), nullable=False, index=True),
    Column("question", Integer, nullable=False),  # its place in the survey's list, from 0
    # One of these, by the question's kind: the chosen options' indexes (single: one), the
    # 0-10 score, the free text.
    Column("options", JSON, nullable=True),
    Column("score", Integer, nullable=True),
    Column("text", Text, nullable=True),
    Column("answered_at", UtcDateTime, nullable=False),
    # One answer per member and question: a second run through answers nothing twice.
    UniqueConstraint("survey_id", "member_id", "question", name="uq_survey_answers_one"),
)
