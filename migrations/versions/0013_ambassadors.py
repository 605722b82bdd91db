"""the brand ambassador programme: the roster, each month's evaluation, and the index that
counts a month's answers

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Frozen here rather than imported: a revision must not change when the code does.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "ambassadors",
        sa.Column(
            "community_id", ID, _fk("ambassadors", "community_id", "communities"), primary_key=True
        ),
        sa.Column("member_id", ID, _fk("ambassadors", "member_id", "members"), primary_key=True),
        sa.Column("level", sa.String(length=24), nullable=False),
        sa.Column("appointed_at", WHEN, nullable=False),
        sa.Column(
            "appointed_by_member_id",
            ID,
            _fk("ambassadors", "appointed_by_member_id", "members"),
            nullable=True,
        ),
        sa.Column("removed_at", WHEN, nullable=True),
        sa.Column(
            "removed_by_member_id",
            ID,
            _fk("ambassadors", "removed_by_member_id", "members"),
            nullable=True,
        ),
    )
    op.create_table(
        "ambassador_months",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column(
            "community_id",
            ID,
            _fk("ambassador_months", "community_id", "communities"),
            nullable=False,
        ),
        sa.Column(
            "member_id", ID, _fk("ambassador_months", "member_id", "members"), nullable=False
        ),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("level", sa.String(length=24), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("partial", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("submissions", sa.Integer(), nullable=False),
        sa.Column("featured", sa.Integer(), nullable=False),
        sa.Column("answers", sa.Integer(), nullable=False),
        sa.Column("reward", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("demoted_to", sa.String(length=24), nullable=True),
        sa.Column("proposed_level", sa.String(length=24), nullable=True),
        sa.Column("promoted_at", WHEN, nullable=True),
        sa.Column(
            "promoted_by_member_id",
            ID,
            _fk("ambassador_months", "promoted_by_member_id", "members"),
            nullable=True,
        ),
        sa.Column("evaluated_at", WHEN, nullable=False),
        sa.UniqueConstraint(
            "community_id", "member_id", "month", name="uq_ambassador_months_member"
        ),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_answers_member_created", "answers", ["member_id", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_answers_member_created", table_name="answers")
    op.drop_table("ambassador_months")
    op.drop_table("ambassadors")
