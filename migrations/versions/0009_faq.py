"""the FAQ: entries, automatic answers and their feedback

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Frozen here rather than imported: a revision must not change when the code does.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "faq_entries",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column(
            "community_id", ID, _fk("faq_entries", "community_id", "communities"), nullable=False
        ),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("keywords", sa.JSON(), nullable=False),
        sa.Column("file_key", sa.String(length=32), nullable=True),
        sa.Column("question_id", ID, _fk("faq_entries", "question_id", "questions"), nullable=True),
        sa.Column("created_by", ID, _fk("faq_entries", "created_by", "members"), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.Column("removed_at", WHEN, nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False, server_default="1"),
        sa.PrimaryKeyConstraint("id", name="pk_faq_entries"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_faq_entries_version", "faq_entries", ["community_id", "revision"])
    op.create_index("ix_faq_entries_created_by", "faq_entries", ["created_by"])
    op.create_table(
        "faq_answers",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column(
            "community_id", ID, _fk("faq_answers", "community_id", "communities"), nullable=False
        ),
        sa.Column("entry_id", ID, _fk("faq_answers", "entry_id", "faq_entries"), nullable=False),
        sa.Column("member_id", ID, _fk("faq_answers", "member_id", "members"), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_faq_answers"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_faq_answers_member_id", "faq_answers", ["member_id"])
    op.create_index(
        "ix_faq_answers_recent", "faq_answers", ["entry_id", "platform", "chat_id", "created_at"]
    )
    op.create_index("ix_faq_answers_community", "faq_answers", ["community_id", "created_at"])
    op.create_table(
        "faq_votes",
        sa.Column("answer_id", ID, _fk("faq_votes", "answer_id", "faq_answers"), nullable=False),
        sa.Column("member_id", ID, _fk("faq_votes", "member_id", "members"), nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("voted_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("answer_id", "member_id", name="pk_faq_votes"),
    )
    op.create_index("ix_faq_votes_member_id", "faq_votes", ["member_id"])


def downgrade() -> None:
    op.drop_table("faq_votes")
    op.drop_table("faq_answers")
    op.drop_table("faq_entries")
