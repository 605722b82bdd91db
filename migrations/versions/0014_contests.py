"""contests and the votes on their entries

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa

# Frozen here rather than imported: a revision must not change when the code does.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
