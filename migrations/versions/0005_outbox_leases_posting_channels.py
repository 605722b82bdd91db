"""an outbox for every message the bot sends, leases for its senders, posting channels

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 19:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Frozen here rather than imported: a revision must not change when the code does.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("posting_channel", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("refusals", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("inactive_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("private", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("needs_channel", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # Private chats seen so far, by their platform's own spelling: never a broadcast's target.
    op.execute(
        "UPDATE groups SET private = TRUE WHERE (platform = 'telegram' AND chat_id NOT LIKE '-%')"
        " OR (platform = 'discord' AND chat_id LIKE 'dm:%')"
    )
    # Discord servers: a post needs one of their channels.
    op.execute(
        "UPDATE groups SET needs_channel = TRUE"
        " WHERE platform = 'discord' AND chat_id NOT LIKE 'dm:%'"
    )
    op.create_table(
        "outbox",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column(
            "community_id",
            ID,
            sa.ForeignKey("communities.id", name="fk_outbox_community_id_communities"),
            nullable=False,
        ),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("group_chat_id", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reply_to", sa.String(length=64), nullable=True),
        sa.Column("edits", sa.String(length=64), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("key", sa.String(length=200), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False, server_default="pending"),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sent_ids", sa.String(length=200), nullable=True),
        sa.Column("failure", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("key", name="uq_outbox_key"),
    )
    op.create_index("ix_outbox_pending", "outbox", ["platform", "state", "not_before"])
    op.create_table(
        "delivery_leases",
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", name="pk_delivery_leases"),
    )


def downgrade() -> None:
    op.drop_table("delivery_leases")
    op.drop_index("ix_outbox_pending", table_name="outbox")
    op.drop_table("outbox")
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.drop_column("needs_channel")
        batch_op.drop_column("private")
        batch_op.drop_column("inactive_since")
        batch_op.drop_column("refusals")
        batch_op.drop_column("posting_channel")
