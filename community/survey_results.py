"""A survey's results: how many finished, each question's counts, the average and the Net
Promoter Score of its 0-10 questions, the latest free-text answers. Every answer given counts,
also those of members who have not finished (each question says how many answered it)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Connection, func, select

from community.surveys import CHOICE_KINDS, SCALE, TEXT, Question, Survey
from storage.survey_tables import survey_answers, survey_runs

# The Net Promoter Score's own bands: 9-10 promote, 7-8 are passive, 0-6 detract.
PROMOTER_FROM, DETRACTOR_UPTO = 9, 6


@dataclass(frozen=True, slots=True)
class Nps:
    """A 0-10 question's answers summed up: the bands, the score (share of promoters minus
    share of detractors, a whole number from -100 to 100) and the average score."""

    count: int
    promoters: int
    passives: int
    detractors: int
    score: int
    average: Decimal


@dataclass(frozen=True, slots=True)
class QuestionResult:
    """One question's results: how many answered it, each option's count (choices), the NPS
    (0-10 scale) or the latest words (free text), newest first."""

    position: int
    question: Question
    answered: int
    counts: tuple[int, ...] = ()
    nps: Nps | None = None
    texts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Results:
    """A survey's results: members who finished it, who are on their way, and per question."""

    survey: Survey
    completed: int
    in_progress: int
    questions: tuple[QuestionResult, ...]


def _whole(value: Decimal) -> int:
    """Rounded half away from zero, as people round (-12.5 is -13, 12.5 is 13)."""
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def nps(scores: Iterable[int]) -> Nps | None:
    """The Net Promoter Score of 0-10 answers; None when there are none."""
    given = list(scores)
    if not given:
        return None
    promoters = sum(1 for score in given if score >= PROMOTER_FROM)
    detractors = sum(1 for score in given if score <= DETRACTOR_UPTO)
    count = len(given)
    share = Decimal(100 * (promoters - detractors)) / count
    average = (Decimal(sum(given)) / count).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    passives = count - promoters - detractors
    return Nps(count, promoters, passives, detractors, _whole(share), average)


def choice_counts(question: Question, answers: Iterable[Sequence[int]]) -> tuple[int, ...]:
    """How many chose each option (a multiple-choice answer counts for each option in it)."""
    counts = [0] * len(question.options)
    for chosen in answers:
        for index in set(chosen):
            if 0 <= index < len(counts):
                counts[index] += 1
    return tuple(counts)


def results(conn: Connection, survey: Survey, latest_texts: int) -> Results:
    """The survey's results, with at most `latest_texts` free-text answers per question."""
    options: dict[int, list[Sequence[int]]] = {}
    scores: dict[int, list[int]] = {}
    answered: dict[int, int] = {}
    rows = conn.execute(
        select(survey_answers.c.question, survey_answers.c.options, survey_answers.c.score).where(
            survey_answers.c.survey_id == survey.id
        )
    )
    for question, chosen, score in rows:
        answered[question] = answered.get(question, 0) + 1
        if chosen is not None:
            options.setdefault(question, []).append(chosen)
        if score is not None:
            scores.setdefault(question, []).append(score)
    found = []
    for position, question in enumerate(survey.questions):
        result = QuestionResult(position, question, answered.get(position, 0))
        if question.kind in CHOICE_KINDS:
            counts = choice_counts(question, options.get(position, ()))
            result = QuestionResult(position, question, result.answered, counts=counts)
        elif question.kind == SCALE:
            result = QuestionResult(
                position, question, result.answered, nps=nps(scores.get(position, ()))
            )
        elif question.kind == TEXT and latest_texts > 0:
            texts = conn.execute(
                select(survey_answers.c.text)
                .where(
                    survey_answers.c.survey_id == survey.id,
                    survey_answers.c.question == position,
                )
                .order_by(survey_answers.c.id.desc())
                .limit(latest_texts)
            ).scalars()
            result = QuestionResult(
                position, question, result.answered, texts=tuple(t for t in texts if t)
            )
        found.append(result)
    completed, in_progress = completion(conn, survey.id)
    return Results(survey, completed, in_progress, tuple(found))


def completion(conn: Connection, survey_id: int) -> tuple[int, int]:
    """How many members finished the survey, and how many answered part of it so far."""
    done = func.count().filter(survey_runs.c.state == "done")
    going = func.count().filter(survey_runs.c.state != "done", survey_runs.c.position > 0)
    completed, in_progress = conn.execute(
        select(done, going).where(survey_runs.c.survey_id == survey_id)
    ).one()
    return int(completed or 0), int(in_progress or 0)
