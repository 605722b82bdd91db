"""Quizzes (有奖问答): the question bank. Questions come from community.toml's [[quiz_bank]]
("file:N", following the file) and from admins (/quiz add, an attached CSV: staying when the
file changes). A removed question is kept for the quizzes that asked it, never drawn again.
Running a quiz: quiz_runs.py; answering: quiz_answers.py."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection, delete, func, insert, select, update

from community import audit
from community.communities import Community
from community.config import ConfigError
from community.quiz_csv import Draft, check
from community.quiz_rules import QuizQuestionConfig
from loyalty.errors import UserError
from storage.quiz_tables import quiz_answers, quiz_questions, quiz_rounds, quiz_runs
from storage.sql import lock_until_commit

# The columns of this activity's tables that point at a member: merge_members moves them when
# /link folds one member into another (tests/test_linking.py checks every such column is).
MEMBER_COLUMNS: tuple[Column[int], ...] = (
    quiz_answers.c.member_id,
    quiz_rounds.c.first_member_id,
    quiz_runs.c.started_by,
    quiz_questions.c.created_by,
)


@dataclass(frozen=True, slots=True)
class Question:
    """A question of the bank."""

    id: int
    question: str
    options: tuple[str, ...]
    correct: int  # from 0
    explanation: str
    category: str
    from_file: bool


@dataclass(frozen=True, slots=True)
class Imported:
    """What an import added, and what it left out as already in the bank."""

    added: int
    already: int
    total: int  # questions in the bank now


def merge_members(conn: Connection, *, keep: int, absorb: int) -> None:
    """Fold `absorb`'s rows into `keep`'s. One answer per member and round stays one: where both
    answered a round, the kept member's answer stands (its points were paid to them)."""
    kept = select(quiz_answers.c.round_id).where(quiz_answers.c.member_id == keep)
    conn.execute(
        delete(quiz_answers).where(
            quiz_answers.c.member_id == absorb, quiz_answers.c.round_id.in_(kept.scalar_subquery())
        )
    )
    for column in MEMBER_COLUMNS:
        conn.execute(update(column.table).where(column == absorb).values({column.name: keep}))


def bank(conn: Connection, community_id: int, category: str = "") -> list[Question]:
    """The bank's questions (of one category, if given), by category and number."""
    query = select(quiz_questions).where(
        quiz_questions.c.community_id == community_id, quiz_questions.c.removed_at.is_(None)
    )
    if category:
        query = query.where(quiz_questions.c.category == category.casefold())
    rows = conn.execute(query.order_by(quiz_questions.c.category, quiz_questions.c.id))
    return [_question(row) for row in rows]


def categories(conn: Connection, community_id: int) -> dict[str, int]:
    """How many questions each category has ("" for those without one)."""
    rows = conn.execute(
        select(quiz_questions.c.category, func.count())
        .where(quiz_questions.c.community_id == community_id, quiz_questions.c.removed_at.is_(None))
        .group_by(quiz_questions.c.category)
        .order_by(quiz_questions.c.category)
    )
    return {row[0]: int(row[1]) for row in rows}


def _lock(conn: Connection, community: Community) -> None:
    """Changes to one community's bank take turns, across processes too (as the FAQ's do):
    two imports at once would both pass the duplicate check and the bank's limit."""
    lock_until_commit(conn, f"quiz_questions:{community.id}")


def add_questions(
    conn: Connection,
    community: Community,
    drafts: Sequence[Draft],
    *,
    actor: audit.Actor,
    at: datetime,
    source: str,
) -> Imported:
    """Add questions to the bank (audited); one already there (the same question) is left
    out. All or none: over the bank's limit, UserError and nothing is added."""
    _lock(conn, community)
    live = {q.question.casefold() for q in bank(conn, community.id)}
    fresh: list[Draft] = []
    for draft in drafts:
        if draft.question.casefold() not in live:
            live.add(draft.question.casefold())
            fresh.append(draft)
    limit = community.rules.quiz.max_bank
    if len(live) > limit:
        raise UserError("quiz/bank_full", limit=limit, room=max(0, limit - len(live) + len(fresh)))
    if fresh:
        conn.execute(
            insert(quiz_questions),
            [
                _values(draft)
                | {"community_id": community.id, "file_key": None}
                | {"created_by": actor.member_id, "created_at": at}
                for draft in fresh
            ],
        )
        audit.record(
            conn,
            community_id=community.id,
            actor=actor,
            action="quiz_questions_add",
            at=at,
            added=len(fresh),
            source=source,
        )
    return Imported(len(fresh), len(drafts) - len(fresh), len(live))


def remove_question(
    conn: Connection, community: Community, number: int, *, actor: audit.Actor, at: datetime
) -> Question:
    """Take a question out of the bank (audited); the quizzes that asked it keep it."""
    row = conn.execute(
        select(quiz_questions).where(
            quiz_questions.c.id == number,
            quiz_questions.c.community_id == community.id,
            quiz_questions.c.removed_at.is_(None),
        )
    ).first()
    if row is None:
        raise UserError("quiz/no_such_question", number=number)
    conn.execute(update(quiz_questions).where(quiz_questions.c.id == row.id).values(removed_at=at))
    audit.record(
        conn,
        community_id=community.id,
        actor=actor,
        action="quiz_question_remove",
        at=at,
        question_id=row.id,
        question=row.question,
    )
    return _question(row)


def pick(
    conn: Connection,
    community_id: int,
    count: int,
    category: str = "",
    rng: random.Random | None = None,
) -> list[Question]:
    """Up to `count` questions for a quiz: those the community's quizzes asked least come first
    (a weekly quiz does not repeat last week's while others wait), in random order."""
    found = bank(conn, community_id, category)
    if not found:
        return []
    asked: dict[int, int] = dict(
        conn.execute(
            select(quiz_rounds.c.question_id, func.count())
            .where(quiz_rounds.c.question_id.in_([q.id for q in found]))
            .where(quiz_rounds.c.poll_id.is_not(None))
            .group_by(quiz_rounds.c.question_id)
        ).all()
    )
    shuffled = list(found)
    (rng or random.Random()).shuffle(shuffled)
    shuffled.sort(key=lambda q: asked.get(q.id, 0))  # stable: random among equals
    return shuffled[:count]


def sync_file_bank(
    conn: Connection, community: Community, entries: Sequence[QuizQuestionConfig], at: datetime
) -> None:
    """Make the bank's file questions ("file:1", "file:2", ... in the file's order) what
    community.toml says: new ones added, changed ones updated (and back in the bank if an admin
    had removed them), those gone from the file removed. Questions admins added stay.
    ConfigError says what is wrong with an entry."""
    drafts = []
    for number, config in enumerate(entries, start=1):
        try:
            drafts.append(
                check(
                    config.question,
                    list(config.options),
                    config.correct - 1,
                    config.explanation,
                    config.category,
                )
            )
        except UserError as error:
            raise ConfigError(f"quiz_bank[{number}]: {error.context.get('reason')}") from None
    _lock(conn, community)
    stored = {
        row.file_key: row
        for row in conn.execute(
            select(quiz_questions).where(
                quiz_questions.c.community_id == community.id,
                quiz_questions.c.file_key.is_not(None),
            )
        )
    }
    admins = conn.execute(
        select(func.count()).where(
            quiz_questions.c.community_id == community.id,
            quiz_questions.c.file_key.is_(None),
            quiz_questions.c.removed_at.is_(None),
        )
    ).scalar_one()
    if admins + len(drafts) > community.rules.quiz.max_bank:
        raise ConfigError(
            f"quiz_bank: {len(drafts)} questions, and {admins} added by admins: more than"
            f" quiz.max_bank ({community.rules.quiz.max_bank})"
        )
    wanted: set[str] = set()
    for number, draft in enumerate(drafts, start=1):
        key = f"file:{number}"
        wanted.add(key)
        values = _values(draft)
        row = stored.get(key)
        if row is None:
            conn.execute(
                insert(quiz_questions),
                values | {"community_id": community.id, "file_key": key, "created_at": at},
            )
        elif any(getattr(row, name) != value for name, value in values.items()):
            changed = update(quiz_questions).where(quiz_questions.c.id == row.id)
            conn.execute(changed.values(values | {"removed_at": None}))
    gone = [row.id for key, row in stored.items() if key not in wanted and row.removed_at is None]
    if gone:
        conn.execute(
            update(quiz_questions).where(quiz_questions.c.id.in_(gone)).values(removed_at=at)
        )


def _values(draft: Draft) -> dict[str, Any]:
    return {
        "question": draft.question,
        "options": list(draft.options),
        "correct": draft.correct,
        "explanation": draft.explanation,
        "category": draft.category,
    }


def _question(row: Any) -> Question:
    return Question(
        id=row.id,
        question=row.question,
        options=tuple(row.options),
        correct=row.correct,
        explanation=row.explanation,
        category=row.category,
        from_file=row.file_key is not None,
    )
