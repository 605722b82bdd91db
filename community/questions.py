"""Questions and answers (问答): asking, answering, accepting, bounties held in the ledger."""

from __future__ import annotations

from sqlalchemy import Column, Connection, update

from storage.qa_tables import answers, questions

# The columns of this activity's tables that point at a member: merge_members moves them when
# /link folds one member into another (tests/test_linking.py checks every such column is).
MEMBER_COLUMNS: tuple[Column[int], ...] = (questions.c.member_id, answers.c.member_id)


def merge_members(conn: Connection, *, keep: int, absorb: int) -> None:
    """Fold `absorb`'s questions and answers into `keep`'s."""
    for column in MEMBER_COLUMNS:
        conn.execute(update(column.table).where(column == absorb).values({column.name: keep}))
