"""Answering a quiz question: the first answer of each member counts, once, and only while the
question is open. A right answer earns quiz_answer; the first right one of a question earns
quiz_first on top. Each credit's key names its round and member: nothing is paid twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, select, update

from community import earning
from community.communities import Community
from community.polls import Poll
from community.quiz_results import Round, letter
from loyalty import ledger
from loyalty.errors import UserError
from storage.quiz_tables import quiz_answers, quiz_rounds
from storage.schema import polls
from storage.sql import insert_if_absent


@dataclass(frozen=True, slots=True)
class Answered:
    """What an answer did."""

    asked: Round
    option: int
    correct: bool
    first: bool  # the first right answer to the question
    points: int  # paid for it, after caps and multipliers
    balance: int
    capped: bool  # a cap held (some of) its points back


def answer(
    conn: Connection,
    community: Community,
    poll: Poll,
    asked: Round,
    *,
    member_id: int,
    option: int,
    at: datetime,
    tier: int | None = None,
    native: bool = False,
) -> Answered:
    """Record a member's answer and pay it if right. UserError: the question closed (or its
    time is up), the option is none of its options, or the member answered it already.

    `native`: an answer in the platform's own quiz poll (Telegram's), which keeps the question's
    time itself (its countdown, stopped at the question's end): one it took was given in time,
    though it may reach the bot after the question closed here (a slow network, the bot down a
    while, its backlog read after the catch-up sweep). It counts if it comes within the
    scheduler's grace of the question's end; the leaderboard said by then does not show it."""
    # Lock the question's poll row (PostgreSQL; SQLite's one writer needs none): an answer and
    # the end of the question (or /quiz stop) are serialised, so an answer counted is in the
    # question's results, and one after the close is refused.
    closed_at = conn.execute(
        select(polls.c.closed_at).where(polls.c.id == poll.id).with_for_update()
    ).scalar_one()
    if native and poll.closes_at is not None:
        late = at >= poll.closes_at + timedelta(minutes=community.rules.schedule.grace_minutes)
    else:
        late = closed_at is not None or (poll.closes_at is not None and at >= poll.closes_at)
    if late:
        raise UserError("quiz/too_late", number=asked.position, question=asked.question)
    if not 0 <= option < len(asked.options):
        raise UserError("quiz/unknown_option")
    correct = option == asked.correct
    if not insert_if_absent(
        conn,
        quiz_answers,
        {
            "round_id": asked.id,
            "member_id": member_id,
            "option": option,
            "correct": correct,
            "first": False,
            "points": 0,
            "answered_at": at,
        },
    ):
        earlier = conn.execute(
            select(quiz_answers.c.option).where(
                quiz_answers.c.round_id == asked.id, quiz_answers.c.member_id == member_id
            )
        ).scalar_one()
        raise UserError(
            "quiz/already_answered",
            number=asked.position,
            letter=letter(earlier),
            choice=asked.options[earlier],
        )
    if not correct:
        return Answered(asked, option, False, False, 0, ledger.balance(conn, member_id), False)
    paid = earning.credit(
        conn,
        community,
        member_id=member_id,
        action="quiz_answer",
        key=f"quiz:{asked.id}:{member_id}",
        at=at,
        tier=tier,
    )
    points, balance, capped = paid.paid, paid.balance, paid.limited_by is not None
    # The claim of the first right answer: of two at one moment, one UPDATE changes the row.
    first = bool(
        conn.execute(
            update(quiz_rounds)
            .where(quiz_rounds.c.id == asked.id, quiz_rounds.c.first_member_id.is_(None))
            .values(first_member_id=member_id)
        ).rowcount
    )
    if first:
        bonus = earning.credit(
            conn,
            community,
            member_id=member_id,
            action="quiz_first",
            key=f"quiz_first:{asked.id}:{member_id}",
            at=at,
            tier=tier,
        )
        points, balance = points + bonus.paid, bonus.balance
        capped = capped or bonus.limited_by is not None
    conn.execute(
        update(quiz_answers)
        .where(quiz_answers.c.round_id == asked.id, quiz_answers.c.member_id == member_id)
        .values(first=first, points=points)
    )
    return Answered(asked, option, True, first, points, balance, capped)
