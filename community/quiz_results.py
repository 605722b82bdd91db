"""What a quiz says as it goes: each question (with the answer to the one before), and at the
end its leaderboard and the right answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, func, select

from community.communities import Community
from community.messages import Choice, PollSpec, Reply
from storage.quiz_tables import quiz_answers, quiz_rounds
from storage.schema import members

_LETTERS = "ABCDEFGHIJ"  # what an option is called on its button and in the answers


@dataclass(frozen=True, slots=True)
class Round:
    """One question of a quiz as asked."""

    id: int
    run_id: int
    position: int
    question: str
    options: tuple[str, ...]
    correct: int  # from 0
    explanation: str
    poll_id: int | None
    first_member_id: int | None

    @property
    def answer(self) -> str:
        """The right option's words."""
        return self.options[self.correct]


def round_from_row(row: Any) -> Round:
    """A round as the quiz_rounds table holds it."""
    return Round(
        id=row.id,
        run_id=row.run_id,
        position=row.position,
        question=row.question,
        options=tuple(row.options),
        correct=row.correct,
        explanation=row.explanation,
        poll_id=row.poll_id,
        first_member_id=row.first_member_id,
    )


def letter(index: int) -> str:
    """An option's letter: A for the first."""
    return _LETTERS[index] if 0 <= index < len(_LETTERS) else str(index + 1)


def question_reply(
    community: Community,
    asked: Round,
    *,
    rounds: int,
    seconds: int,
    closes_at: datetime,
    previous: dict[str, Any] | None = None,
    intro: bool = False,
) -> Reply:
    """A question as posted: Telegram's own quiz poll (after the words before it), elsewhere
    its words with a button per option. `previous`: the answer to the question before it."""
    assert asked.poll_id is not None
    earning = community.rules.earning
    return Reply(
        "quiz/question",
        {
            "number": asked.position,
            "rounds": rounds,
            "seconds": seconds,
            "question": asked.question,
            "options": [
                {"letter": letter(index), "text": text} for index, text in enumerate(asked.options)
            ],
            "intro": {"points": earning.quiz_answer.points, "first": earning.quiz_first.points}
            if intro
            else None,
            "previous": previous,
        },
        choices=tuple(
            Choice(
                "quiz/option",
                f"/vote {asked.poll_id} {index}",
                {"letter": letter(index), "text": text},
            )
            for index, text in enumerate(asked.options)
        ),
        poll=PollSpec(
            asked.poll_id,
            asked.question,
            asked.options,
            closes_at=closes_at,
            correct=asked.correct,
            explanation=asked.explanation,
        ),
    )


def reveal(conn: Connection, asked: Round) -> dict[str, Any]:
    """The answer to a question once it closed: how many answered, how many right, who first."""
    answered, right = conn.execute(
        select(func.count(), func.count().filter(quiz_answers.c.correct.is_(True))).where(
            quiz_answers.c.round_id == asked.id
        )
    ).one()
    first = None
    if asked.first_member_id is not None:
        first = conn.execute(
            select(members.c.display_name).where(members.c.id == asked.first_member_id)
        ).scalar_one_or_none()
    return {
        "number": asked.position,
        "question": asked.question,
        "letter": letter(asked.correct),
        "answer": asked.answer,
        "explanation": asked.explanation,
        "answered": int(answered),
        "right": int(right),
        "first": first,
    }


def standings(conn: Connection, run_id: int, limit: int) -> tuple[list[dict[str, Any]], int]:
    """The quiz's leaderboard (those with a right answer: most right, then most points, then
    the quickest) and how many took part. Equals share a rank, as on /top."""
    right = func.sum(case((quiz_answers.c.correct.is_(True), 1), else_=0))
    points = func.sum(quiz_answers.c.points)
    rows = conn.execute(
        select(members.c.display_name, right.label("right"), points.label("points"))
        .select_from(quiz_answers)
        .join(quiz_rounds, quiz_rounds.c.id == quiz_answers.c.round_id)
        .join(members, members.c.id == quiz_answers.c.member_id)
        .where(quiz_rounds.c.run_id == run_id)
        .group_by(quiz_answers.c.member_id, members.c.display_name)
        .order_by(
            right.desc(),
            points.desc(),
            func.min(quiz_answers.c.answered_at),
            quiz_answers.c.member_id,
        )
    ).all()
    leaders: list[dict[str, Any]] = []
    scored = [row for row in rows if row.right]
    for place, row in enumerate(scored[:limit], start=1):
        score = (int(row.right), int(row.points or 0))
        tied = leaders and (leaders[-1]["right"], leaders[-1]["points"]) == score
        rank = leaders[-1]["rank"] if tied else place
        leaders.append(
            {"rank": rank, "name": row.display_name, "right": score[0]} | {"points": score[1]}
        )
    return leaders, len(rows)


def finished_reply(
    conn: Connection,
    run_id: int,
    *,
    rounds: int,
    limit: int,
    stopped: bool,
    last: Round | None,
    ends_poll: str | None = None,
) -> Reply:
    """The end of a quiz: the answer to its last question, its leaderboard and every right
    answer of the questions it asked."""
    asked = [
        round_from_row(row)
        for row in conn.execute(
            select(quiz_rounds)
            .where(quiz_rounds.c.run_id == run_id, quiz_rounds.c.poll_id.is_not(None))
            .order_by(quiz_rounds.c.position)
        )
    ]
    leaders, players = standings(conn, run_id, limit)
    return Reply(
        "quiz/finished",
        {
            "stopped": stopped,
            "asked": len(asked),
            "rounds": rounds,
            "previous": None if last is None else reveal(conn, last),
            "leaders": leaders,
            "players": players,
            "answers": [
                {
                    "number": one.position,
                    "question": one.question,
                    "letter": letter(one.correct),
                    "answer": one.answer,
                }
                for one in asked
            ],
        },
        ends_poll=ends_poll,
    )
