"""an adoption remembers its adopter, and ends when they are no longer listed

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 03:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Groups adopted before this revision name no adopter, so their adoption ends here: a
    # listed admin re-adopts a group by running an admin command in it (/settings), as before.
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("adopted_by", sa.String(length=100), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("groups", schema=None) as batch_op:
        batch_op.drop_column("adopted_by")
