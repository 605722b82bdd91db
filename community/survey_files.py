"""Surveys as written down: community.toml's [[surveys]] (kept in step with the file), and a
file an admin attaches to /survey add, in the same TOML shape or as a CSV table.

A TOML file holds [[surveys]] entries exactly as community.toml does, or one survey: a
`title` and its [[questions]]. A CSV file holds one survey, a question per row: the question,
its kind (single, multiple, scale, text; 单选, 多选, 评分, 文本) and its options separated by
"|" (a header row, blank lines and a tab-separated paste are fine); its title is typed after
/survey add, else the file's name. A file is taken whole or not at all: a survey missing a
question would ask something else than its author meant.
"""

from __future__ import annotations

import csv
import io
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, case, select, update

from community.communities import Community
from community.config import ConfigError
from community.polls import OPTION_LIMIT
from community.survey_rules import SurveyConfig, SurveyQuestionConfig
from community.surveys import (
    CLOSED,
    MULTIPLE,
    SCALE,
    SINGLE,
    TEXT,
    Question,
    Survey,
    answered_count,
    delete_unanswered,
    find_survey,
    insert_survey,
)
from loyalty.errors import UserError
from storage.survey_tables import survey_runs, surveys

# Characters that show nothing: words made only of these (and spaces) are empty.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
# "|" and the full-width "｜" Chinese keyboards type both separate options.
_SEPARATOR = re.compile("[|｜]")
# What a header row's first cell says: such a row names the columns and is no question.
_HEADERS = frozenset({"question", "questions", "text", "题目", "问题", "题干"})
_KINDS = {
    "single": SINGLE,
    "单选": SINGLE,
    "multiple": MULTIPLE,
    "多选": MULTIPLE,
    "scale": SCALE,
    "nps": SCALE,
    "评分": SCALE,
    "打分": SCALE,
    "text": TEXT,
    "文本": TEXT,
    "填空": TEXT,
}
# pydantic's error types, as the few reasons an admin is told (templates/*/survey/_problem.j2).
_REASONS = {
    "missing": "missing",
    "extra_forbidden": "unknown_field",
    "string_too_long": "too_long",
    "too_long": "too_long",
    "string_too_short": "empty",
    "too_short": "empty",
    "literal_error": "bad_kind",
    "value_error": "options",
}

Draft = tuple[str, tuple[Question, ...]]


@dataclass(frozen=True, slots=True)
class FileProblem:
    """What is wrong in a survey file: where (a TOML path or a CSV line) and why."""

    where: str
    line: int
    reason: str
    details: Mapping[str, Any]


def read_file(name: str, text: str, title: str) -> list[Draft]:
    """The surveys an attached file defines (a CSV by its name, else TOML); `title` names a
    CSV's survey. UserError("survey/bad_file", ...) says what is wrong, and where."""
    text = text.lstrip("\ufeff").replace("\x00", "")
    if name.casefold().endswith((".csv", ".tsv", ".txt")):
        return [_read_csv(text, _title(title if title.strip() else PurePath(name).stem, "title"))]
    return _read_toml(text)


def _bad(problem: FileProblem) -> UserError:
    return UserError(
        "survey/bad_file",
        where=problem.where,
        row=problem.line,
        reason=problem.reason,
        details=dict(problem.details),
    )


def _read_toml(text: str) -> list[Draft]:
    try:
        parsed = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _bad(FileProblem("", 0, "toml", {"error": str(error)})) from None
    if "surveys" in parsed:
        entries = parsed["surveys"]
        if not isinstance(entries, list) or set(parsed) != {"surveys"}:
            raise _bad(FileProblem("surveys", 0, "bad_type", {}))
        prefixes = [f"surveys[{n}]." for n in range(1, len(entries) + 1)]
    else:
        entries, prefixes = [parsed], [""]
    if not entries:
        raise _bad(FileProblem("surveys", 0, "empty", {}))
    drafts = []
    for prefix, entry in zip(prefixes, entries, strict=True):
        try:
            config = SurveyConfig.model_validate(entry)
        except ValidationError as error:
            raise _bad(_problem(error, prefix)) from None
        title = _title(config.title, f"{prefix}title")
        drafts.append((title, _checked(config.questions, prefix)))
    return drafts


def _problem(error: ValidationError, prefix: str, line: int = 0) -> FileProblem:
    first = error.errors()[0]
    where = prefix + "".join(
        f"[{part + 1}]" if isinstance(part, int) else f".{part}" for part in first["loc"]
    ).lstrip(".")
    context = first.get("ctx") or {}
    limit = context.get("max_length")
    details = {"limit": limit} if isinstance(limit, int) else {}
    reason = _REASONS.get(first["type"], "bad_type" if first["type"].endswith("_type") else "")
    return FileProblem(where.rstrip("."), line, reason or "invalid", details)


def _checked(
    questions: Sequence[SurveyQuestionConfig], prefix: str, line: int = 0
) -> tuple[Question, ...]:
    """The questions as stored, once what the model cannot say is checked: each option
    something, fitting on a button, and different from the others."""
    for number, question in enumerate(questions, start=1):
        if _blank(question.text):
            where = "" if line else f"{prefix}questions[{number}].text"
            raise _bad(FileProblem(where, line, "empty", {}))
        where = "" if line else f"{prefix}questions[{number}].options"
        options = [option.strip() for option in question.options]
        if any(_blank(option) for option in options):
            raise _bad(FileProblem(where, line, "empty_option", {}))
        if any(len(option) > OPTION_LIMIT for option in options):
            raise _bad(FileProblem(where, line, "option_too_long", {"limit": OPTION_LIMIT}))
        if len({option.casefold() for option in options}) != len(options):
            raise _bad(FileProblem(where, line, "duplicate_options", {}))
    return tuple(
        Question(q.text.strip(), q.kind, tuple(o.strip() for o in q.options)) for q in questions
    )


def _blank(words: str) -> bool:
    """Whether `words` show nothing (spaces, or characters with no glyph)."""
    return not words.translate(_INVISIBLE).strip()


def _title(title: str, where: str) -> str:
    """A survey's title as stored; UserError when it shows nothing."""
    if _blank(title):
        raise _bad(FileProblem(where, 0, "empty", {}))
    return title.strip()


def _read_csv(text: str, title: str) -> Draft:
    first = next((line for line in text.splitlines() if line.strip()), "")
    # A paste from a spreadsheet is tab-separated, its questions often with a comma in them;
    # a comma-separated file rarely has a tab in a cell.
    delimiter = "\t" if "\t" in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    questions: list[Question] = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if not questions and cells[0].strip().casefold() in _HEADERS:
                continue
            questions.append(_csv_question(cells, line))
    except csv.Error:
        # An unclosed quote swallows the rest of the file: say where it broke.
        raise _bad(FileProblem("", reader.line_num, "quotes", {})) from None
    try:
        SurveyConfig.model_validate({"title": title, "questions": [q.to_json() for q in questions]})
    except ValidationError as error:
        raise _bad(_problem(error, "")) from None
    return title, tuple(questions)


def _csv_question(cells: Sequence[str], line: int) -> Question:
    text = cells[0].strip()
    kind_cell = cells[1].strip().casefold() if len(cells) > 1 else ""
    options = [o.strip() for o in _SEPARATOR.split(cells[2])] if len(cells) > 2 else []
    while options and not options[-1]:
        options.pop()  # "A | B |": a separator too many at the end
    kind = _KINDS.get(kind_cell) if kind_cell else (SINGLE if options else TEXT)
    if kind is None:
        raise _bad(FileProblem("", line, "bad_kind", {}))
    try:
        config = SurveyQuestionConfig.model_validate(
            {"text": text, "kind": kind, "options": options}
        )
    except ValidationError as error:
        problem = _problem(error, "")
        raise _bad(FileProblem("", line, problem.reason, problem.details)) from None
    return _checked([config], "", line)[0]


# community.toml --------------------------------------------------------------------------------


def sync(
    conn: Connection, community: Community, entries: Sequence[SurveyConfig], at: datetime
) -> None:
    """Make the file's surveys ("file:1", "file:2", ... in the file's order) what the file
    says. A survey is known by its title wherever it moves in the file (a new title in an
    entry's place whose old title left the file is a rename). Questions change in place until
    someone answered; after that the answered survey is kept closed, for its results, and
    the new questions become a new survey (a draft, started anew). One that leaves the file is
    deleted, or kept closed for its results if it has answers. ConfigError says what is
    wrong."""
    rules = community.rules.survey
    if len(entries) > rules.max_surveys:
        raise ConfigError(
            f"surveys: {len(entries)} surveys, more than survey.max_surveys ({rules.max_surveys})"
        )
    drafts: list[Draft] = []
    seen: dict[str, int] = {}
    for number, entry in enumerate(entries, start=1):
        if len(entry.questions) > rules.max_questions:
            raise ConfigError(
                f"surveys[{number}]: {len(entry.questions)} questions, more than"
                f" survey.max_questions ({rules.max_questions})"
            )
        try:
            title = _title(entry.title, f"surveys[{number}].title")
            drafts.append((title, _checked(entry.questions, f"surveys[{number}].")))
        except UserError as error:
            context = error.context
            raise ConfigError(
                f"{context['where']}: {context['reason']} {context['details']}"
            ) from None
        # Told apart by title (what _match follows): "Feedback" and "Feedback " are one.
        if title in seen:
            raise ConfigError(f"surveys[{number}]: the same title as surveys[{seen[title]}]")
        seen[title] = number
    # Held to the end: an answer being saved meanwhile (another process) is counted below, and
    # one saved after waits and then finds the questions as they are now.
    stored = [
        survey
        for number in conn.execute(
            select(surveys.c.id)
            .where(surveys.c.community_id == community.id, surveys.c.file_key.like("file:%"))
            .order_by(surveys.c.id)
            .with_for_update()
        ).scalars()
        if (survey := find_survey(conn, community.id, number)) is not None
    ]
    matched = _match(stored, drafts)
    for number, (title, questions) in enumerate(drafts, start=1):
        key = f"file:{number}"
        found = matched.get(number)
        if found is None:
            insert_survey(conn, community, title, questions, at=at, file_key=key)
            continue
        if found.questions != questions and answered_count(conn, found.id):
            _retire(conn, found, at)
            insert_survey(conn, community, title, questions, at=at, file_key=key)
            continue
        values: dict[str, Any] = {}
        if found.title != title:
            values["title"] = title
        if found.questions != questions:
            values["questions"] = [q.to_json() for q in questions]
            # Options ticked in the old questions mean nothing in the new ones, and words typed
            # now would answer a question the member has not seen: each run waits, paused,
            # until /survey shows the new one (old buttons answer nothing: their mark).
            conn.execute(
                update(survey_runs)
                .where(survey_runs.c.survey_id == found.id)
                .values(
                    picked=None,
                    state=case(
                        (survey_runs.c.state == "active", "paused"), else_=survey_runs.c.state
                    ),
                )
            )
        if found.file_key != key:
            values["file_key"] = key
        if values:
            conn.execute(update(surveys).where(surveys.c.id == found.id).values(values))
    kept = {survey.id for survey in matched.values()}
    for survey in stored:
        if survey.id in kept:
            continue
        if answered_count(conn, survey.id):
            _retire(conn, survey, at)
        else:
            delete_unanswered(conn, survey.id)


def _match(stored: Sequence[Survey], drafts: Sequence[Draft]) -> dict[int, Survey]:
    """Which stored survey each of the file's entries (numbered from 1) is, if any: the one
    with its title, else the one in its place whose title left the file (renamed)."""
    by_title = {survey.title: survey for survey in stored}
    in_place = {survey.file_key: survey for survey in stored}
    titles = {title for title, _ in drafts}
    matched: dict[int, Survey] = {}
    for number, (title, _) in enumerate(drafts, start=1):
        if title in by_title:
            matched[number] = by_title[title]
    used = {survey.id for survey in matched.values()}
    for number in range(1, len(drafts) + 1):
        here = in_place.get(f"file:{number}")
        if number in matched or here is None or here.id in used or here.title in titles:
            continue
        matched[number] = here
        used.add(here.id)
    return matched


def _retire(conn: Connection, survey: Survey, at: datetime) -> None:
    """Keep an answered survey for its results only: closed, out of the file's numbering."""
    values: dict[str, Any] = {"file_key": f"gone:{survey.id}"}
    if survey.state != CLOSED:
        values |= {"state": CLOSED, "closed_at": at}
    conn.execute(update(surveys).where(surveys.c.id == survey.id).values(values))
