"""the scheduler: a topic calendar, claims of firings, polls that close by themselves,
reminder opt-ins, group tags, and an index for member-day recaps

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Frozen here rather than imported: a revision must not change when the code does.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tags", sa.JSON(), nullable=True))
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reminders", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("polls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closes_at", WHEN, nullable=True))
        batch_op.add_column(sa.Column("channel_id", sa.String(length=64), nullable=True))
        batch_op.create_index("ix_polls_closes_at", ["closes_at"])
    op.create_index("ix_ledger_community_created", "ledger", ["community_id", "created_at"])
    op.create_table(
        "calendar_entries",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column(
            "community_id",
            ID,
            sa.ForeignKey("communities.id", name="fk_calendar_entries_community_id_communities"),
            nullable=False,
        ),
        sa.Column("schedule", sa.JSON(), nullable=False),
        sa.Column("when_text", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("poll", sa.JSON(), nullable=True),
        sa.Column("tag", sa.String(length=32), nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("file_key", sa.String(length=32), nullable=True),
        sa.Column(
            "created_by",
            ID,
            sa.ForeignKey("members.id", name="fk_calendar_entries_created_by_members"),
            nullable=True,
        ),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("since", WHEN, nullable=False),
        sa.Column("broken_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_calendar_entries"),
        # A removed topic's number is never given to a new one.
        sqlite_autoincrement=True,
    )
    op.create_index("ix_calendar_entries_community_id", "calendar_entries", ["community_id"])
    op.create_table(
        "job_runs",
        sa.Column("job", sa.String(length=100), nullable=False),
        sa.Column("scheduled_at", WHEN, nullable=False),
        sa.Column(
            "community_id",
            ID,
            sa.ForeignKey("communities.id", name="fk_job_runs_community_id_communities"),
            nullable=False,
        ),
        sa.Column("ran_at", WHEN, nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("job", "scheduled_at", name="pk_job_runs"),
    )


def downgrade() -> None:
    op.drop_table("job_runs")
    op.drop_index("ix_calendar_entries_community_id", table_name="calendar_entries")
    op.drop_table("calendar_entries")
    op.drop_index("ix_ledger_community_created", table_name="ledger")
    with op.batch_alter_table("polls", schema=None) as batch_op:
        batch_op.drop_index("ix_polls_closes_at")
        batch_op.drop_column("channel_id")
        batch_op.drop_column("closes_at")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("reminders")
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.drop_column("tags")
