"""access rules leave the communities; anonymous admins act without a member

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 02:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_communities = sa.table("communities", sa.column("id"), sa.column("rules", sa.JSON))
# Who is an admin is the deployment's (community.toml, read at every start), no longer a copy
# kept in each community: a copy is what kept removed admins in communities made later.
_ACCESS_KEYS = ("admins", "platform_admins")


def upgrade() -> None:
    conn = op.get_bind()
    for row in conn.execute(sa.select(_communities.c.id, _communities.c.rules)).all():
        rules = dict(row.rules or {})
        if any(key in rules for key in _ACCESS_KEYS):
            for key in _ACCESS_KEYS:
                rules.pop(key, None)
            conn.execute(
                sa.update(_communities).where(_communities.c.id == row.id).values(rules=rules)
            )
    # An anonymous group admin (or a channel) is no member: its admin actions are audited with
    # the account it spoke as, and the polls it opens have no member behind them.
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.alter_column(
            "actor_member_id",
            existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        )
    with op.batch_alter_table("polls", schema=None) as batch_op:
        batch_op.alter_column(
            "created_by",
            existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("polls", schema=None) as batch_op:
        batch_op.alter_column(
            "created_by",
            existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.alter_column(
            "actor_member_id",
            existing_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=False,
        )
