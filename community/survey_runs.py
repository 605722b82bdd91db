"""A member's run through a survey: taken (or resumed), answered one question at a time with a
button or typed words, paused, finished once (the completion points paid once).

One answer per member and question, kept as given: a button from an old message, a second run
through or a repeated press answers nothing twice. Each step says what the member sees next
(a Turn): the question they are at, with a notice about what just happened, or the end.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, bindparam, select, update

from community import earning
from community.communities import Community
from community.survey_input import Given, check_given
from community.surveys import MULTIPLE, Question, Survey, find_survey
from loyalty.errors import UserError
from storage.sql import fit_text, insert_if_absent
from storage.survey_tables import survey_answers, survey_runs

ACTIVE, PAUSED, DONE = "active", "paused", "done"


@dataclass(frozen=True, slots=True)
class Run:
    """Where a member is in a survey."""

    id: int
    survey_id: int
    member_id: int
    state: str
    position: int
    picked: tuple[int, ...]
    asked_at: datetime


@dataclass(frozen=True, slots=True)
class Turn:
    """What the member sees next: the question at `position` (none once the survey is done),
    with a notice about what just happened ("" none, "saved", "resumed", or why nothing was
    taken: see templates/*/survey/_notice.j2), or the end of the survey."""

    survey: Survey
    position: int
    picked: tuple[int, ...] = ()
    notice: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    # Just finished: what finishing paid. Finished before: done_before.
    earned: earning.Earned | None = None
    done_before: bool = False

    @property
    def question(self) -> Question | None:
        """The question to show (None: the survey is done)."""
        questions = self.survey.questions
        return questions[self.position] if 0 <= self.position < len(questions) else None

    @property
    def finished(self) -> bool:
        return self.earned is not None or self.done_before


_RUN = select(survey_runs).where(
    survey_runs.c.survey_id == bindparam("survey"), survey_runs.c.member_id == bindparam("member")
)
_RUN_LOCKED = _RUN.with_for_update()
_ACTIVE = (
    select(survey_runs)
    .where(survey_runs.c.member_id == bindparam("member"), survey_runs.c.state == ACTIVE)
    .order_by(survey_runs.c.asked_at.desc())
    .limit(1)
)


def _run(row: Row[Any]) -> Run:
    return Run(
        id=int(row.id),
        survey_id=int(row.survey_id),
        member_id=int(row.member_id),
        state=row.state,
        position=int(row.position),
        picked=tuple(row.picked or ()),
        asked_at=row.asked_at,
    )


def run_of(conn: Connection, survey_id: int, member_id: int) -> Run | None:
    """The member's run through the survey, if they took it."""
    row = conn.execute(_RUN, {"survey": survey_id, "member": member_id}).first()
    return None if row is None else _run(row)


def active_run(conn: Connection, member_id: int) -> Run | None:
    """The survey the member is answering now, if any (one at a time)."""
    row = conn.execute(_ACTIVE, {"member": member_id}).first()
    return None if row is None else _run(row)


def answer_window(community: Community) -> timedelta:
    """How long after a question is shown typed words answer it."""
    hours = community.rules.survey.answer_hours
    return timedelta(hours=int(hours))


def _must_be_open(survey: Survey) -> None:
    if not survey.is_open:
        raise UserError("survey/not_open", number=survey.id, title=survey.title, state=survey.state)


def _activate(conn: Connection, run: Run, at: datetime, **values: Any) -> None:
    """Make `run` the one the member answers now (any other they were on waits, paused)."""
    conn.execute(
        update(survey_runs)
        .where(
            survey_runs.c.member_id == run.member_id,
            survey_runs.c.state == ACTIVE,
            survey_runs.c.id != run.id,
        )
        .values(state=PAUSED)
    )
    conn.execute(
        update(survey_runs)
        .where(survey_runs.c.id == run.id)
        .values(state=ACTIVE, asked_at=at, **values)
    )


def take(conn: Connection, survey: Survey, member_id: int, at: datetime) -> Turn:
    """Start the survey, or go back to where the member was; one they finished says so.
    UserError when it is not open."""
    _must_be_open(survey)
    insert_if_absent(
        conn,
        survey_runs,
        {
            "survey_id": survey.id,
            "member_id": member_id,
            "state": ACTIVE,
            "position": 0,
            "started_at": at,
            "asked_at": at,
        },
    )
    run = run_of(conn, survey.id, member_id)
    assert run is not None
    if run.state == DONE:
        return Turn(survey, run.position, done_before=True)
    _activate(conn, run, at)
    notice = "resumed" if run.position or run.picked else ""
    return Turn(survey, run.position, run.picked, notice=notice)


def _current(
    conn: Connection, survey: Survey, member_id: int, question: int, mark: int | None
) -> tuple[Survey, Run | Turn]:
    """The survey as it is now and the member's run, when `question` is the one they are at;
    else the Turn saying why a press or a message for it changes nothing. Both rows are held
    to the end of the transaction (on PostgreSQL another process's press of the same member
    waits, and so does a change of the survey's questions: no tick is lost, no answer lands
    on a question swapped meanwhile)."""
    locked = find_survey(conn, survey.community_id, survey.id, lock=True)
    if locked is None:
        raise UserError("survey/unknown", number=survey.id)
    survey = locked
    _must_be_open(survey)
    row = conn.execute(_RUN_LOCKED, {"survey": survey.id, "member": member_id}).first()
    run = None if row is None else _run(row)
    if run is None:
        raise UserError("survey/not_taken", number=survey.id, title=survey.title)
    if run.state == DONE:
        return survey, Turn(survey, run.position, done_before=True)
    if question != run.position:
        # A button of a question answered already (or a message from before): nothing changes.
        notice = "already_answered" if question < run.position else "stale"
        return survey, Turn(survey, run.position, run.picked, notice, {"answered": question + 1})
    asked = survey.questions[question] if question < len(survey.questions) else None
    if mark is not None and (asked is None or asked.mark != mark):
        # Its question changed in community.toml since the button was sent: show the new one.
        return survey, Turn(survey, run.position, run.picked, "changed")
    return survey, run


def answer(
    conn: Connection,
    community: Community,
    survey: Survey,
    *,
    member_id: int,
    question: int,
    given: Given | None,
    at: datetime,
    tier: int | None = None,
    mark: int | None = None,
) -> Turn:
    """Record the member's answer to question `question` (from 0) and move on; the last one
    finishes the survey and pays `survey` points, once. An answer that does not fit the
    question, or to a question not the member's current one, changes nothing (the Turn's
    notice says why). `given` None: the options ticked so far (a multiple choice's "done").
    `mark`: the question's mark on the button pressed (None: typed)."""
    survey, current = _current(conn, survey, member_id, question, mark)
    if isinstance(current, Turn):
        return current
    if given is None:
        given = Given(options=current.picked)
    asked = survey.questions[question]
    problem = check_given(asked, given, community.rules.survey.text_max_length)
    if problem is not None:
        reason, details = problem
        return Turn(survey, question, current.picked, reason, details)
    stored = insert_if_absent(
        conn,
        survey_answers,
        {
            "survey_id": survey.id,
            "member_id": member_id,
            "question": question,
            "options": list(given.options) if given.options is not None else None,
            "score": given.score,
            "text": None if given.text is None else fit_text(given.text.strip(), len(given.text)),
            "answered_at": at,
        },
    )
    if not stored:
        return Turn(survey, current.position, (), "already_answered", {"answered": question + 1})
    following = question + 1
    if following < len(survey.questions):
        _activate(conn, current, at, position=following, picked=None)
        return Turn(survey, following, notice="saved")
    conn.execute(
        update(survey_runs)
        .where(survey_runs.c.id == current.id)
        .values(state=DONE, position=following, picked=None, completed_at=at)
    )
    earned = earning.credit(
        conn,
        community,
        member_id=member_id,
        action="survey",
        key=f"survey:{survey.id}:{member_id}",
        at=at,
        note=f"#{survey.id}",
        tier=tier,
    )
    return Turn(survey, following, earned=earned)


def toggle(
    conn: Connection,
    survey: Survey,
    *,
    member_id: int,
    question: int,
    option: int,
    at: datetime,
    mark: int | None = None,
) -> Turn:
    """Tick (or untick) an option of the multiple-choice question the member is at."""
    survey, current = _current(conn, survey, member_id, question, mark)
    if isinstance(current, Turn):
        return current
    asked = survey.questions[question]
    if asked.kind != MULTIPLE or not 0 <= option < len(asked.options):
        return Turn(survey, question, current.picked, "stale", {"answered": question + 1})
    picked = set(current.picked) ^ {option}
    ordered = tuple(sorted(picked))
    _activate(conn, current, at, picked=list(ordered))
    return Turn(survey, question, ordered)


def pause(conn: Connection, community: Community, member_id: int, number: int | None) -> Survey:
    """Stop answering for now (survey `number`, or the one being answered): the member's
    words in private are their own again until they resume. UserError when there is none."""
    run = active_run(conn, member_id) if number is None else run_of(conn, number, member_id)
    survey = None if run is None else find_survey(conn, community.id, run.survey_id)
    if run is None or survey is None or run.state != ACTIVE:
        raise UserError("survey/nothing_to_pause")
    conn.execute(update(survey_runs).where(survey_runs.c.id == run.id).values(state=PAUSED))
    return survey


def resumable(conn: Connection, community: Community, member_id: int) -> Survey | None:
    """The open survey the member was answering last and has not finished, if any."""
    row = conn.execute(
        select(survey_runs.c.survey_id)
        .where(survey_runs.c.member_id == member_id, survey_runs.c.state != DONE)
        .order_by(survey_runs.c.asked_at.desc())
    ).scalars()
    for survey_id in row:
        survey = find_survey(conn, community.id, survey_id)
        if survey is not None and survey.is_open:
            return survey
    return None
