"""Accepting an answer (the asker or an admin), closing a question (an admin), and where a
bounty goes: to the accepted answer's author, else back to the asker.

Nobody earns by their own decision: an answer accepted by its own author (the asker who found
it themselves, an admin whose answer is the official one) is accepted, so it can feed the FAQ,
but pays nothing, and a bounty then goes back to the asker. Answering one's own question earns
nothing either, whoever accepts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update

from community import audit, earning
from community.communities import Community
from community.messages import Reply, Visibility
from community.questions import (
    ACCEPTED,
    BOUNTY_RETURNED,
    BOUNTY_WON,
    CLOSED,
    OPEN,
    Answer,
    Question,
    answer_by_id,
    bounty_key,
    question_by_id,
    tell,
)
from loyalty import ledger, lots
from loyalty.errors import UserError
from storage.qa_tables import answers, questions
from storage.schema import ledger as ledger_table


@dataclass(frozen=True, slots=True)
class Accepted:
    """An acceptance and what it paid."""

    question: Question
    answer: Answer
    points: int  # the answer's author earned (accepted_answer)
    thanks: int  # the asker earned (question_thanks)
    bounty_paid: int  # to the answer's author
    bounty_returned: int  # to the asker
    platforms: frozenset[str]  # where notices were queued


def accept(
    conn: Connection,
    community: Community,
    *,
    answer_id: int,
    question_id: int | None,
    actor: audit.Actor,
    is_admin: bool,
    at: datetime,
) -> Accepted:
    """Accept answer `answer_id` (of question `question_id`, when the command names it).
    Raises UserError for an unknown answer, one of another question, an actor who is neither
    the asker nor an admin, and a question accepted or closed already (a race included)."""
    found = answer_by_id(conn, community.id, answer_id)
    if found is None:
        raise UserError("questions/unknown_answer", number=answer_id)
    if question_id is not None and found.question_id != question_id:
        raise UserError(
            "questions/answer_elsewhere",
            answer=answer_id,
            question=question_id,
            actual=found.question_id,
        )
    question = question_by_id(conn, community.id, found.question_id)
    assert question is not None
    by_asker = actor.member_id == question.member_id
    if not by_asker and not is_admin:
        raise UserError("questions/not_yours", number=question.id)
    _still_open(question)
    # The guard against a second acceptance, in one statement: of two at once, one changes
    # the row and the other (on PostgreSQL, after waiting for it) finds it accepted.
    changed = conn.execute(
        update(questions)
        .where(questions.c.id == question.id, questions.c.state == OPEN)
        .values(state=ACCEPTED, accepted_answer_id=found.id, closed_at=at)
        .returning(questions.c.id)
    ).first()
    if changed is None:
        now = question_by_id(conn, community.id, question.id)
        assert now is not None
        _still_open(now)
    conn.execute(update(answers).where(answers.c.id == found.id).values(accepted_at=at))
    # Nobody earns by their own decision, nor for answering their own question.
    pays = found.member_id not in (actor.member_id, question.member_id)
    points = thanks = paid = returned = 0
    if pays:
        points = _earn(conn, community, found.member_id, "accepted_answer", found.id, at)
        if by_asker:
            thanks = _earn(conn, community, question.member_id, "question_thanks", question.id, at)
    if question.bounty_held:
        if pays:
            paid = _pay_bounty(conn, community, question, found.member_id, at)
        else:
            returned = return_bounty(conn, community, question, at)
    if not by_asker:
        audit.record(
            conn,
            community_id=community.id,
            actor=actor,
            action="answer_accept",
            at=at,
            target_member_id=found.member_id,
            question=question.id,
            answer=found.id,
        )
    platforms: set[str] = set()
    if found.member_id != actor.member_id:
        notice = Reply(
            "questions/accepted_notice",
            {
                "question": question.id,
                "text": question.text,
                "answer": found.id,
                "points": points,
                "bounty": paid,
            },
            visibility=Visibility.PRIVATE,
        )
        platforms = tell(conn, community, found.member_id, notice, f"accepted:{found.id}", at)
    return Accepted(question, found, points, thanks, paid, returned, frozenset(platforms))


def _still_open(question: Question) -> None:
    if question.state == ACCEPTED:
        raise UserError(
            "questions/already_accepted", number=question.id, answer=question.accepted_answer_id
        )
    if question.state != OPEN:
        raise UserError("questions/closed", number=question.id)


def _earn(
    conn: Connection, community: Community, member_id: int, action: str, cause: int, at: datetime
) -> int:
    earned = earning.credit(
        conn, community, member_id=member_id, action=action, key=f"{action}:{cause}", at=at
    )
    return earned.paid


def _pay_bounty(
    conn: Connection, community: Community, question: Question, member_id: int, at: datetime
) -> int:
    """The held points to the accepted answer's author: points passed from member to member,
    so they expire as earned points do but count to no tier (two friends passing a bounty back
    and forth must not climb). 0 when the hold was settled meanwhile: the hourly return, in
    another process, may have given it back after this acceptance read the question."""
    if not _settled(conn, question.id, at):
        return 0
    program = community.program
    posted = ledger.post(
        conn,
        community_id=community.id,
        member_id=member_id,
        delta=question.bounty,
        reason=BOUNTY_WON,
        key=f"{BOUNTY_WON}:{question.id}",
        at=at,
        note=f"#{question.id}",
        lot=ledger.Lot(lots.expiry_of(at, program.timezone, program.expiry.months), False),
    )
    return question.bounty if posted.applied else 0


def return_bounty(conn: Connection, community: Community, question: Question, at: datetime) -> int:
    """Give a question's held bounty back to the asker, into the lots it was taken from; the
    points returned (0: none held, or returned already)."""
    if not question.bounty_held or not _settled(conn, question.id, at):
        return 0
    hold = conn.execute(
        select(ledger_table.c.id).where(ledger_table.c.idempotency_key == bounty_key(question.id))
    ).scalar()
    program = community.program
    posted = ledger.post(
        conn,
        community_id=community.id,
        member_id=question.member_id,
        delta=question.bounty,
        reason=BOUNTY_RETURNED,
        key=f"{BOUNTY_RETURNED}:{question.id}",
        at=at,
        note=f"#{question.id}",
        restores=None if hold is None else int(hold),
        # What a lot that expired during the hold cannot take back expires as if earned now,
        # not never.
        lot=ledger.Lot(lots.expiry_of(at, program.timezone, program.expiry.months), False),
    )
    return question.bounty if posted.applied else 0


def _settled(conn: Connection, question_id: int, at: datetime) -> bool:
    """Mark the bounty as gone from the hold (paid or returned); False if it was already."""
    changed = conn.execute(
        update(questions)
        .where(questions.c.id == question_id, questions.c.bounty_settled_at.is_(None))
        .values(bounty_settled_at=at)
        .returning(questions.c.id)
    ).first()
    return changed is not None


def close(
    conn: Connection, community: Community, *, number: int, actor: audit.Actor, at: datetime
) -> tuple[Question, int]:
    """An admin closes an open question (no more answers; any bounty back to the asker);
    audited. Returns the question and the bounty returned."""
    question = question_by_id(conn, community.id, number)
    if question is None:
        raise UserError("questions/unknown", number=number)
    _still_open(question)
    changed = conn.execute(
        update(questions)
        .where(questions.c.id == question.id, questions.c.state == OPEN)
        .values(state=CLOSED, closed_at=at)
        .returning(questions.c.id)
    ).first()
    if changed is None:
        now = question_by_id(conn, community.id, number)
        assert now is not None
        _still_open(now)
    returned = return_bounty(conn, community, question, at)
    audit.record(
        conn,
        community_id=community.id,
        actor=actor,
        action="question_close",
        at=at,
        target_member_id=question.member_id,
        question=question.id,
        bounty_returned=returned,
    )
    return question, returned
