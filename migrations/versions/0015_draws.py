"""lucky draws and their entries

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Frozen here rather than imported: a revision must not change when the code does.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "draws",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("community_id", ID, _fk("draws", "community_id", "communities"), nullable=False),
        sa.Column("prize", sa.String(length=300), nullable=False),
        sa.Column("winners", sa.Integer(), nullable=False),
        sa.Column("points", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("checkin", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("min_tier", sa.Integer(), nullable=True),
        sa.Column("cost", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("commitment", sa.String(length=64), nullable=False),
        sa.Column("entries", sa.Integer(), server_default="0", nullable=False),
        sa.Column("state", sa.String(length=12), server_default="open", nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("closes_at", WHEN, nullable=False),
        sa.Column("closed_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_draws"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_draws_open", "draws", ["community_id", "state", "closes_at"])
    op.create_table(
        "draw_entries",
        sa.Column("draw_id", ID, _fk("draw_entries", "draw_id", "draws"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("member_id", ID, _fk("draw_entries", "member_id", "members"), nullable=False),
        sa.Column("fee", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("fee_entry_id", ID, nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("withdrawn", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("draw_id", "number", name="pk_draw_entries"),
    )
    op.create_index("ix_draw_entries_member", "draw_entries", ["member_id", "draw_id"])


def downgrade() -> None:
    op.drop_table("draw_entries")
    op.drop_table("draws")
