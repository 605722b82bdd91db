"""Surveys and NPS (问卷 / 满意度): what a survey is, stored and read back. Admins keep them
(add from a file, start with an invitation in the groups, stop, remove):
community/survey_keeping.py; a member answers one privately, one question at a time:
survey_runs.py; the results: survey_results.py; the file formats and community.toml's
[[surveys]]: survey_files.py."""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection, Row, delete, func, insert, select, update

from community.communities import Community
from community.survey_rules import SurveyConfig
from loyalty.errors import UserError
from storage.survey_tables import survey_answers, survey_runs, surveys

# The columns of this activity's tables that point at a member: merge_members moves them when
# /link folds one member into another (tests/test_linking.py checks every such column is).
MEMBER_COLUMNS: tuple[Column[int], ...] = (
    surveys.c.created_by,
    survey_runs.c.member_id,
    survey_answers.c.member_id,
)

DRAFT, OPEN, CLOSED = "draft", "open", "closed"
SINGLE, MULTIPLE, SCALE, TEXT = "single", "multiple", "scale", "text"
CHOICE_KINDS = (SINGLE, MULTIPLE)
# The NPS question's 0-10 scale: the definition of the Net Promoter Score, not a rule to set.
SCALE_LOW, SCALE_HIGH = 0, 10
# A question's mark (see Question.mark) is a number below this: short enough for a button's
# data (Telegram's 64 bytes), long enough that a changed question rarely keeps its mark.
MARKS = 100_000


@dataclass(frozen=True, slots=True)
class Question:
    """One question: its words, its kind (single, multiple, scale, text), its options."""

    text: str
    kind: str
    options: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "kind": self.kind, "options": list(self.options)}

    @property
    def mark(self) -> int:
        """A number that changes when the question's words, kind or options do: its buttons
        carry it, so a button of a question since changed in community.toml (reordered,
        reworded, another kind) answers nothing rather than the question now in its place."""
        words = json.dumps(self.to_json(), ensure_ascii=False, sort_keys=True)
        return zlib.crc32(words.encode()) % MARKS


@dataclass(frozen=True, slots=True)
class Survey:
    """A survey as stored; its number is its id."""

    id: int
    community_id: int
    title: str
    questions: tuple[Question, ...]
    state: str
    file_key: str | None
    created_at: datetime
    opened_at: datetime | None = None
    closed_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.state == OPEN


@dataclass(frozen=True, slots=True)
class Listed:
    """A survey in /survey list: how many finished it, how many are on their way."""

    survey: Survey
    completed: int
    in_progress: int


def questions_of(config: SurveyConfig) -> tuple[Question, ...]:
    """A [[surveys]] entry's questions as stored."""
    return tuple(Question(q.text, q.kind, tuple(q.options)) for q in config.questions)


def _survey(row: Row[Any]) -> Survey:
    m = row._mapping
    return Survey(
        id=int(m["id"]),
        community_id=int(m["community_id"]),
        title=m["title"],
        questions=tuple(
            Question(q["text"], q["kind"], tuple(q.get("options") or ())) for q in m["questions"]
        ),
        state=m["state"],
        file_key=m["file_key"],
        created_at=m["created_at"],
        opened_at=m["opened_at"],
        closed_at=m["closed_at"],
    )


def find_survey(
    conn: Connection, community_id: int, number: int, *, lock: bool = False
) -> Survey | None:
    """Survey `number` of the community; None when there is no such survey there. `lock`: as
    it stays until this transaction ends (on PostgreSQL, a change of its questions by another
    process waits for it, and this waits for one under way)."""
    query = select(surveys).where(surveys.c.id == number, surveys.c.community_id == community_id)
    row = conn.execute(query.with_for_update(read=True) if lock else query).first()
    return None if row is None else _survey(row)


def survey_by_id(conn: Connection, community: Community, number: int) -> Survey:
    """Survey `number` of the community; UserError("survey/unknown") when there is none."""
    found = find_survey(conn, community.id, number)
    if found is None:
        raise UserError("survey/unknown", number=number)
    return found


def listing(conn: Connection, community: Community, *, everything: bool) -> list[Listed]:
    """The community's surveys, oldest first, with their runs counted: every survey (for
    admins) or only the open ones."""
    done = func.count().filter(survey_runs.c.state == "done")
    going = func.count().filter(survey_runs.c.state != "done", survey_runs.c.position > 0)
    counted = (
        select(survey_runs.c.survey_id, done.label("done"), going.label("going"))
        .group_by(survey_runs.c.survey_id)
        .subquery()
    )
    query = (
        select(surveys, counted.c.done, counted.c.going)
        .outerjoin(counted, counted.c.survey_id == surveys.c.id)
        .where(surveys.c.community_id == community.id)
        .order_by(surveys.c.id)
    )
    if not everything:
        query = query.where(surveys.c.state == OPEN)
    return [
        Listed(_survey(row), int(row.done or 0), int(row.going or 0)) for row in conn.execute(query)
    ]


def answered_count(conn: Connection, survey_id: int) -> int:
    """How many answers the survey holds (any member, any question)."""
    query = select(func.count()).where(survey_answers.c.survey_id == survey_id)
    return int(conn.execute(query).scalar_one())


# Keeping surveys ---------------------------------------------------------------------------


def insert_survey(
    conn: Connection,
    community: Community,
    title: str,
    questions: Sequence[Question],
    *,
    at: datetime,
    file_key: str | None = None,
    created_by: int | None = None,
) -> Survey:
    """Store a new survey (a draft: nobody is invited until /survey start)."""
    number = conn.execute(
        insert(surveys).returning(surveys.c.id),
        {
            "community_id": community.id,
            "title": title,
            "questions": [q.to_json() for q in questions],
            "state": DRAFT,
            "file_key": file_key,
            "created_by": created_by,
            "created_at": at,
        },
    ).scalar_one()
    found = find_survey(conn, community.id, int(number))
    assert found is not None
    return found


def delete_unanswered(conn: Connection, survey_id: int) -> None:
    """Delete a survey nobody answered, with the runs of those who opened it."""
    conn.execute(delete(survey_runs).where(survey_runs.c.survey_id == survey_id))
    conn.execute(delete(surveys).where(surveys.c.id == survey_id))


def sync_file_surveys(
    conn: Connection, community: Community, entries: Sequence[SurveyConfig], at: datetime
) -> None:
    """Make the file's surveys what community.toml says (a changed file was read)."""
    # Imported here: the file's reading builds on this module's storing.
    from community import survey_files

    survey_files.sync(conn, community, entries, at)


# Linking -----------------------------------------------------------------------------------


def merge_members(conn: Connection, *, keep: int, absorb: int) -> None:
    """Fold `absorb`'s rows into `keep`'s. Where both went through the same survey, the run
    further along stays (a finished one first) with its answers, and the other goes: one run
    and one answer per member and question stay one, and nobody finishes a survey twice."""
    runs = conn.execute(
        select(survey_runs.c.survey_id, survey_runs.c.member_id, survey_runs.c.state)
        .add_columns(survey_runs.c.position)
        .where(survey_runs.c.member_id.in_((keep, absorb)))
    ).all()
    by_survey: dict[int, dict[int, tuple[bool, int]]] = {}
    for row in runs:
        by_survey.setdefault(row.survey_id, {})[row.member_id] = (row.state == "done", row.position)
    for survey_id, both in by_survey.items():
        if len(both) < 2:
            continue
        loser = keep if both[absorb] > both[keep] else absorb
        for table in (survey_answers, survey_runs):
            conn.execute(
                delete(table).where(table.c.survey_id == survey_id, table.c.member_id == loser)
            )
    for column in MEMBER_COLUMNS:
        conn.execute(update(column.table).where(column == absorb).values({column.name: keep}))
    # One survey is being answered at a time: the one shown last.
    active = conn.execute(
        select(survey_runs.c.id)
        .where(survey_runs.c.member_id == keep, survey_runs.c.state == "active")
        .order_by(survey_runs.c.asked_at.desc(), survey_runs.c.id.desc())
    ).scalars()
    older = list(active)[1:]
    if older:
        conn.execute(update(survey_runs).where(survey_runs.c.id.in_(older)).values(state="paused"))
