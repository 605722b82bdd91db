"""/export survey N: a survey's answers as a CSV file, one row per member who answered, audited.

Rows name respondents by a number only. Platform ids ("telegram:12345") and names are written
only when the admin asks (--ids): an id names one person on the whole platform, for good, and
free-text answers are candid; an export travels (mail, shared drives), so by default it can be
shared without exposing who said what.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, or_, select

from community import audit
from community.communities import Community
from community.exports import safe_cell, to_csv
from community.surveys import CHOICE_KINDS, SCALE, Survey, survey_by_id
from loyalty import history
from storage.schema import members
from storage.survey_tables import survey_answers, survey_runs

COLUMNS = ("respondent", "started_at", "completed_at")
ID_COLUMNS = ("member_id", "member_name", "accounts")


@dataclass(frozen=True, slots=True)
class SurveyExport:
    """A finished survey export: its file, how many rows it holds, whether rows were left out."""

    survey: Survey
    name: str
    content: bytes
    rows: int
    cut: bool
    max_rows: int
    ids: bool


def export_survey(
    conn: Connection,
    community: Community,
    number: int,
    *,
    ids: bool,
    actor: audit.Actor,
    at: datetime,
) -> SurveyExport:
    """Build the CSV of survey `number` (with members' ids and names when `ids`) and audit
    that it was taken. At most points.export_max_rows rows, and what a reply's file may
    weigh."""
    survey = survey_by_id(conn, community, number)
    most = community.rules.points.export_max_rows
    runs = conn.execute(
        select(
            survey_runs.c.member_id,
            survey_runs.c.started_at,
            survey_runs.c.completed_at,
            members.c.display_name,
        )
        .join(members, members.c.id == survey_runs.c.member_id)
        .where(
            survey_runs.c.survey_id == survey.id,
            or_(survey_runs.c.position > 0, survey_runs.c.state == "done"),
        )
        .order_by(survey_runs.c.id)
        .limit(most + 1)
    ).all()
    given: dict[tuple[int, int], Any] = {}
    for row in conn.execute(
        select(
            survey_answers.c.member_id,
            survey_answers.c.question,
            survey_answers.c.options,
            survey_answers.c.score,
            survey_answers.c.text,
        ).where(survey_answers.c.survey_id == survey.id)
    ):
        given[(row.member_id, row.question)] = _cell(survey, row)
    keys = history.account_keys(conn, community.id) if ids and runs else {}
    lines: list[list[Any]] = []
    for respondent, run in enumerate(runs[:most], start=1):
        line: list[Any] = [respondent]
        if ids:
            line += [run.member_id, run.display_name, " ".join(keys.get(run.member_id, ()))]
        line += [_local(community, run.started_at), _local(community, run.completed_at)]
        line += [given.get((run.member_id, q)) for q in range(len(survey.questions))]
        lines.append(line)
    header = [*COLUMNS[:1], *(ID_COLUMNS if ids else ()), *COLUMNS[1:]]
    header += [safe_cell(f"Q{n} {question.text}") for n, question in enumerate(survey.questions, 1)]
    content, held = to_csv(header, lines)
    cut = len(runs) > held
    audit.record(
        conn,
        community_id=community.id,
        actor=actor,
        action="export",
        at=at,
        kind="survey",
        survey=survey.id,
        rows=held,
        cut=cut,
        ids=ids,
    )
    return SurveyExport(survey, f"survey-{survey.id}.csv", content, held, cut, most, ids)


def _cell(survey: Survey, row: Any) -> Any:
    """An answer as a cell: the chosen options' words ("; " between), the score, the text."""
    if not 0 <= row.question < len(survey.questions):
        return None
    question = survey.questions[row.question]
    if question.kind in CHOICE_KINDS and row.options is not None:
        options = question.options
        return "; ".join(options[i] for i in row.options if 0 <= i < len(options))
    if question.kind == SCALE:
        return row.score
    return row.text


def _local(community: Community, moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(community.timezone).isoformat(timespec="seconds")
