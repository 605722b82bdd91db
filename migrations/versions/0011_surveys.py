"""surveys: surveys, members' runs through them and their answers

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Frozen here rather than imported: a revision must not change when the code does.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column(
            "community_id", ID, _fk("surveys", "community_id", "communities"), nullable=False
        ),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False, server_default="draft"),
        sa.Column("file_key", sa.String(length=32), nullable=True),
        sa.Column("created_by", ID, _fk("surveys", "created_by", "members"), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("opened_at", WHEN, nullable=True),
        sa.Column("closed_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_surveys"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_surveys_community_id", "surveys", ["community_id"])
    op.create_table(
        "survey_runs",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("survey_id", ID, _fk("survey_runs", "survey_id", "surveys"), nullable=False),
        sa.Column("member_id", ID, _fk("survey_runs", "member_id", "members"), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False, server_default="active"),
        sa.Column("position", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("picked", sa.JSON(), nullable=True),
        sa.Column("started_at", WHEN, nullable=False),
        sa.Column("asked_at", WHEN, nullable=False),
        sa.Column("completed_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_survey_runs"),
        sa.UniqueConstraint("survey_id", "member_id", name="uq_survey_runs_survey_member"),
    )
    op.create_index("ix_survey_runs_member_state", "survey_runs", ["member_id", "state"])
    op.create_table(
        "survey_answers",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("survey_id", ID, _fk("survey_answers", "survey_id", "surveys"), nullable=False),
        sa.Column("member_id", ID, _fk("survey_answers", "member_id", "members"), nullable=False),
        sa.Column("question", sa.Integer(), nullable=False),
        sa.Column("options", sa.JSON(), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("answered_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_survey_answers"),
        sa.UniqueConstraint("survey_id", "member_id", "question", name="uq_survey_answers_one"),
    )
    op.create_index("ix_survey_answers_member_id", "survey_answers", ["member_id"])


def downgrade() -> None:
    op.drop_table("survey_answers")
    op.drop_table("survey_runs")
    op.drop_table("surveys")
