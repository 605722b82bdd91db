"""questions and answers (and the platform messages that stand for a question, so a reply to
one answers it); a calendar entry may start a quiz

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Frozen here rather than imported: a revision must not change when the code does.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    with op.batch_alter_table("calendar_entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quiz", sa.JSON(), nullable=True))
    op.create_table(
        "questions",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column(
            "community_id", ID, _fk("questions", "community_id", "communities"), nullable=False
        ),
        sa.Column("member_id", ID, _fk("questions", "member_id", "members"), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("channel_id", sa.String(length=64), nullable=True),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("bounty", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("bounty_settled_at", WHEN, nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False, server_default="open"),
        sa.Column("accepted_answer_id", ID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("closed_at", WHEN, nullable=True),
        sa.Column("raised_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_questions"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_questions_member_id", "questions", ["member_id"])
    op.create_index("ix_questions_open", "questions", ["community_id", "state", "created_at"])
    op.create_table(
        "answers",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column(
            "community_id", ID, _fk("answers", "community_id", "communities"), nullable=False
        ),
        sa.Column("question_id", ID, _fk("answers", "question_id", "questions"), nullable=False),
        sa.Column("member_id", ID, _fk("answers", "member_id", "members"), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("accepted_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_answers"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_answers_question_id", "answers", ["question_id"])
    op.create_index("ix_answers_member_id", "answers", ["member_id"])
    op.create_table(
        "question_messages",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column(
            "question_id",
            ID,
            _fk("question_messages", "question_id", "questions"),
            nullable=False,
        ),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("outbox_id", ID, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_question_messages"),
    )
    op.create_index("ix_question_messages_question_id", "question_messages", ["question_id"])
    op.create_index(
        "ix_question_messages_message",
        "question_messages",
        ["platform", "chat_id", "message_id"],
    )


def downgrade() -> None:
    op.drop_table("question_messages")
    op.drop_table("answers")
    op.drop_table("questions")
    with op.batch_alter_table("calendar_entries", schema=None) as batch_op:
        batch_op.drop_column("quiz")
