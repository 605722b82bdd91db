"""contests, the entries that went to their vote, and the votes

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Frozen here rather than imported: a revision must not change when the code does.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "contests",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column(
            "community_id", ID, _fk("contests", "community_id", "communities"), nullable=False
        ),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("category", sa.String(length=24), nullable=True),
        sa.Column("prizes", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=12), server_default="open", nullable=False),
        sa.Column("opens_at", WHEN, nullable=False),
        sa.Column("closes_at", WHEN, nullable=False),
        sa.Column("vote_ends_at", WHEN, nullable=True),
        sa.Column(
            "created_by_member_id",
            ID,
            _fk("contests", "created_by_member_id", "members"),
            nullable=True,
        ),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("closed_at", WHEN, nullable=True),
        sa.Column("ended_at", WHEN, nullable=True),
        sa.Column("cancelled_at", WHEN, nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_contests_state", "contests", ["community_id", "state"])
    op.create_table(
        "contest_entries",
        sa.Column(
            "contest_id", ID, _fk("contest_entries", "contest_id", "contests"), primary_key=True
        ),
        sa.Column(
            "submission_id",
            ID,
            _fk("contest_entries", "submission_id", "submissions"),
            primary_key=True,
        ),
        sa.Column("place", sa.Integer(), nullable=True),
        sa.Column("votes", sa.Integer(), nullable=True),
    )
    op.create_table(
        "contest_votes",
        sa.Column(
            "contest_id", ID, _fk("contest_votes", "contest_id", "contests"), primary_key=True
        ),
        sa.Column("member_id", ID, _fk("contest_votes", "member_id", "members"), primary_key=True),
        sa.Column(
            "submission_id",
            ID,
            _fk("contest_votes", "submission_id", "submissions"),
            nullable=False,
        ),
        sa.Column("voted_at", WHEN, nullable=False),
    )
    op.create_index("ix_contest_votes_entry", "contest_votes", ["contest_id", "submission_id"])


def downgrade() -> None:
    op.drop_index("ix_contest_votes_entry", table_name="contest_votes")
    op.drop_table("contest_votes")
    op.drop_table("contest_entries")
    op.drop_index("ix_contests_state", table_name="contests")
    op.drop_table("contests")
