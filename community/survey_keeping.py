"""Admins keeping the community's surveys: adding them from a file (as drafts), starting one
(an invitation with a button to take it, posted in every group), stopping and removing one;
each audited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select, update

from community import audit
from community.communities import Community
from community.messages import Choice, Reply
from community.outbox import Broadcast, broadcast
from community.surveys import (
    CLOSED,
    OPEN,
    Question,
    Survey,
    answered_count,
    delete_unanswered,
    insert_survey,
    survey_by_id,
)
from loyalty.errors import UserError
from storage.sql import lock_until_commit
from storage.survey_tables import surveys


@dataclass(frozen=True, slots=True)
class Started:
    """What /survey start did: the survey (open now), whether it was open already (the
    invitation is posted again), and where the invitation went."""

    survey: Survey
    again: bool
    sent: Broadcast


def check_limits(community: Community, questions: Sequence[Question]) -> None:
    """UserError("survey/too_many_questions") for a survey longer than the rules allow."""
    limit = community.rules.survey.max_questions
    if len(questions) > limit:
        raise UserError("survey/too_many_questions", count=len(questions), limit=limit)


def kept_count(conn: Connection, community_id: int) -> int:
    """The community's surveys that count against survey.max_surveys: all but those kept only
    for their results after leaving community.toml."""
    query = select(func.count()).where(
        surveys.c.community_id == community_id,
        func.coalesce(surveys.c.file_key, "").not_like("gone:%"),
    )
    return int(conn.execute(query).scalar_one())


def add_surveys(
    conn: Connection,
    community: Community,
    drafts: Sequence[tuple[str, tuple[Question, ...]]],
    *,
    actor: audit.Actor,
    at: datetime,
) -> list[Survey]:
    """Store surveys an admin's file defines, as drafts (audited); UserError when one is too
    long or they would be more than survey.max_surveys."""
    for _, questions in drafts:
        check_limits(community, questions)
    # Two files added at once (two processes) would both pass the limit: they take turns.
    lock_until_commit(conn, f"surveys:{community.id}")
    limit = community.rules.survey.max_surveys
    if kept_count(conn, community.id) + len(drafts) > limit:
        raise UserError("survey/too_many_surveys", limit=limit)
    added = []
    for title, questions in drafts:
        survey = insert_survey(conn, community, title, questions, at=at, created_by=actor.member_id)
        audit.record(
            conn,
            community_id=community.id,
            actor=actor,
            action="survey_add",
            at=at,
            survey=survey.id,
            title=title,
            questions=len(questions),
        )
        added.append(survey)
    return added


def invitation(community: Community, survey: Survey) -> Reply:
    """The post that invites a group's members to a survey, with the button to take it."""
    return Reply(
        "survey/invitation",
        {
            "number": survey.id,
            "title": survey.title,
            "questions": len(survey.questions),
            "points": community.rules.earning.survey.points,
        },
        choices=(Choice("survey/take_button", f"/survey take {survey.id}"),),
    )


def start_survey(
    conn: Connection,
    community: Community,
    number: int,
    *,
    actor: audit.Actor,
    at: datetime,
    key: str,
    tag: str | None = None,
) -> Started:
    """Open survey `number` (a closed one opens again) and post its invitation in every group
    of the community (or those tagged `tag`); an open one's invitation is posted again. `key`
    names this start: a repeat of it posts nothing twice. Audited."""
    survey = survey_by_id(conn, community, number)
    again = survey.is_open
    if not again:
        conn.execute(
            update(surveys)
            .where(surveys.c.id == survey.id)
            .values(state=OPEN, opened_at=survey.opened_at or at, closed_at=None)
        )
        survey = survey_by_id(conn, community, number)
    sent = broadcast(
        conn,
        community.id,
        invitation(community, survey),
        key=f"survey:{survey.id}:{key}",
        at=at,
        tag=tag,
    )
    audit.record(
        conn,
        community_id=community.id,
        actor=actor,
        action="survey_start",
        at=at,
        survey=survey.id,
        again=again,
        groups=sent.queued,
        tag=tag,
    )
    return Started(survey, again, sent)


def stop_survey(
    conn: Connection, community: Community, number: int, *, actor: audit.Actor, at: datetime
) -> Survey:
    """Close survey `number`: no more answers, its results stay (audited). UserError when it
    is not open."""
    survey = survey_by_id(conn, community, number)
    if not survey.is_open:
        raise UserError("survey/not_open", number=survey.id, title=survey.title, state=survey.state)
    conn.execute(
        update(surveys).where(surveys.c.id == survey.id).values(state=CLOSED, closed_at=at)
    )
    audit.record(
        conn, community_id=community.id, actor=actor, action="survey_stop", at=at, survey=survey.id
    )
    return survey_by_id(conn, community, number)


def remove_survey(
    conn: Connection, community: Community, number: int, *, actor: audit.Actor, at: datetime
) -> Survey:
    """Delete survey `number`, added by mistake: only one an admin added (community.toml's
    follow the file) that nobody has answered (results are never thrown away). Audited."""
    survey = survey_by_id(conn, community, number)
    if survey.file_key is not None:
        raise UserError("survey/not_removable", number=survey.id, reason="file")
    if answered_count(conn, survey.id):
        raise UserError("survey/not_removable", number=survey.id, reason="answered")
    delete_unanswered(conn, survey.id)
    audit.record(
        conn,
        community_id=community.id,
        actor=actor,
        action="survey_remove",
        at=at,
        survey=survey.id,
        title=survey.title,
    )
    return survey
