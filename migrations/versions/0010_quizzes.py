"""quizzes: the question bank, runs, rounds and answers

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Frozen here rather than imported: a revision must not change when the code does.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "quiz_questions",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column(
            "community_id",
            ID,
            _fk("quiz_questions", "community_id", "communities"),
            nullable=False,
        ),
        sa.Column("question", sa.String(length=300), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("correct", sa.Integer(), nullable=False),
        sa.Column("explanation", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("category", sa.String(length=32), nullable=False, server_default=""),
        sa.Column("file_key", sa.String(length=32), nullable=True),
        sa.Column("created_by", ID, _fk("quiz_questions", "created_by", "members"), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("removed_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_quiz_questions"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_quiz_questions_bank", "quiz_questions", ["community_id", "removed_at", "category"]
    )
    op.create_table(
        "quiz_runs",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column(
            "community_id", ID, _fk("quiz_runs", "community_id", "communities"), nullable=False
        ),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=True),
        sa.Column("live_chat", sa.String(length=100), nullable=True),
        sa.Column("key", sa.String(length=200), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False, server_default=""),
        sa.Column("rounds", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("started_by", ID, _fk("quiz_runs", "started_by", "members"), nullable=True),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("finished_at", WHEN, nullable=True),
        sa.Column("stopped", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("id", name="pk_quiz_runs"),
        sa.UniqueConstraint("live_chat", name="uq_quiz_runs_live_chat"),
        sa.UniqueConstraint("key", name="uq_quiz_runs_key"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_quiz_runs_community_id", "quiz_runs", ["community_id"])
    op.create_table(
        "quiz_rounds",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("run_id", ID, _fk("quiz_rounds", "run_id", "quiz_runs"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "question_id", ID, _fk("quiz_rounds", "question_id", "quiz_questions"), nullable=True
        ),
        sa.Column("question", sa.String(length=300), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("correct", sa.Integer(), nullable=False),
        sa.Column("explanation", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("poll_id", ID, _fk("quiz_rounds", "poll_id", "polls"), nullable=True),
        sa.Column(
            "first_member_id", ID, _fk("quiz_rounds", "first_member_id", "members"), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name="pk_quiz_rounds"),
        sa.UniqueConstraint("poll_id", name="uq_quiz_rounds_poll_id"),
        sa.UniqueConstraint("run_id", "position", name="uq_quiz_rounds_run_position"),
    )
    op.create_index("ix_quiz_rounds_question_id", "quiz_rounds", ["question_id"])
    op.create_index("ix_quiz_rounds_first_member_id", "quiz_rounds", ["first_member_id"])
    op.create_table(
        "quiz_answers",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("round_id", ID, _fk("quiz_answers", "round_id", "quiz_rounds"), nullable=False),
        sa.Column("member_id", ID, _fk("quiz_answers", "member_id", "members"), nullable=False),
        sa.Column("option", sa.Integer(), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("first", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("points", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("answered_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_quiz_answers"),
        sa.UniqueConstraint("round_id", "member_id", name="uq_quiz_answers_round_member"),
    )
    op.create_index("ix_quiz_answers_member_id", "quiz_answers", ["member_id"])


def downgrade() -> None:
    op.drop_table("quiz_answers")
    op.drop_table("quiz_rounds")
    op.drop_table("quiz_runs")
    op.drop_table("quiz_questions")
