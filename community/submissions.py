"""Content submissions (投稿 / UGC): members submit text, links and files in a category; they
wait in the review queue; /mysubmissions shows each one's state."""

from __future__ import annotations

from sqlalchemy import Column, Connection, delete, select, update

from storage.ugc_tables import reviewers, submissions

# The columns of this activity's tables that point at a member: merge_members moves them when
# /link folds one member into another (tests/test_linking.py checks every such column is).
MEMBER_COLUMNS: tuple[Column[int], ...] = (
    submissions.c.member_id,
    submissions.c.reviewer_member_id,
    submissions.c.reversed_by_member_id,
    reviewers.c.member_id,
    reviewers.c.added_by_member_id,
)


def merge_members(conn: Connection, *, keep: int, absorb: int) -> None:
    """Fold `absorb`'s rows into `keep`'s (a reviewer twice stays one reviewer)."""
    kept = select(reviewers.c.community_id).where(reviewers.c.member_id == keep).scalar_subquery()
    conn.execute(
        delete(reviewers).where(reviewers.c.member_id == absorb, reviewers.c.community_id.in_(kept))
    )
    for column in MEMBER_COLUMNS:
        conn.execute(update(column.table).where(column == absorb).values({column.name: keep}))
