"""content submissions: the files they carry (and the platforms' references for them), the
submissions, their marks of sameness, the reviewers

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 08:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

# Frozen here rather than imported: a revision must not change when the code does.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "media",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("community_id", ID, _fk("media", "community_id", "communities"), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("mime", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.UniqueConstraint("community_id", "sha256", name="uq_media_community_sha256"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "media_refs",
        sa.Column("media_id", ID, _fk("media_refs", "media_id", "media"), primary_key=True),
        sa.Column("platform", sa.String(length=16), primary_key=True),
        sa.Column("ref", sa.String(length=300), nullable=False),
    )
    op.create_table(
        "submissions",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column(
            "community_id", ID, _fk("submissions", "community_id", "communities"), nullable=False
        ),
        sa.Column("member_id", ID, _fk("submissions", "member_id", "members"), nullable=False),
        sa.Column("category", sa.String(length=24), nullable=False),
        sa.Column("contest_id", ID, nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=12), server_default="pending", nullable=False),
        sa.Column("featured", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("reason_key", sa.String(length=24), nullable=True),
        sa.Column("reason_text", sa.Text(), nullable=True),
        sa.Column(
            "reviewer_member_id",
            ID,
            _fk("submissions", "reviewer_member_id", "members"),
            nullable=True,
        ),
        sa.Column("decided_at", WHEN, nullable=True),
        sa.Column("points", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("reversed_at", WHEN, nullable=True),
        sa.Column(
            "reversed_by_member_id",
            ID,
            _fk("submissions", "reversed_by_member_id", "members"),
            nullable=True,
        ),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("announced_at", WHEN, nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_submissions_member_id", "submissions", ["member_id"])
    op.create_index("ix_submissions_contest_id", "submissions", ["contest_id"])
    op.create_index("ix_submissions_queue", "submissions", ["community_id", "state", "id"])
    op.create_table(
        "submission_files",
        sa.Column(
            "submission_id",
            ID,
            _fk("submission_files", "submission_id", "submissions"),
            primary_key=True,
        ),
        sa.Column("position", sa.Integer(), primary_key=True),
        sa.Column("media_id", ID, _fk("submission_files", "media_id", "media"), nullable=False),
    )
    op.create_table(
        "submission_marks",
        sa.Column(
            "community_id",
            ID,
            _fk("submission_marks", "community_id", "communities"),
            primary_key=True,
        ),
        sa.Column("mark", sa.String(length=64), primary_key=True),
        sa.Column(
            "submission_id",
            ID,
            _fk("submission_marks", "submission_id", "submissions"),
            nullable=False,
        ),
    )
    op.create_table(
        "reviewers",
        sa.Column(
            "community_id", ID, _fk("reviewers", "community_id", "communities"), primary_key=True
        ),
        sa.Column("member_id", ID, _fk("reviewers", "member_id", "members"), primary_key=True),
        sa.Column(
            "added_by_member_id",
            ID,
            _fk("reviewers", "added_by_member_id", "members"),
            nullable=True,
        ),
        sa.Column("added_at", WHEN, nullable=False),
    )


def downgrade() -> None:
    for table in ("reviewers", "submission_marks", "submission_files", "submissions"):
        op.drop_table(table)
    op.drop_table("media_refs")
    op.drop_table("media")
