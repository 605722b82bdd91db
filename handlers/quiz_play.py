"""A member's answer to a quiz question: a press of its button (Discord, the console, Telegram
when its quiz poll could not be posted) or a vote in Telegram's own quiz poll. The answer is
said to the presser alone; a native vote's goes nowhere (Telegram shows it in the poll)."""

from __future__ import annotations

from community import polls, quiz_answers
from community.quiz_results import Round, letter
from handlers.routes import Context
from handlers.types import EventKind, Reply, Visibility
from loyalty.errors import UserError
from storage.sql import savepoint


def answered(ctx: Context, poll: polls.Poll, asked: Round, options: tuple[int, ...]) -> Reply:
    """Record the answer (one option) and say what it was worth."""
    if len(options) != 1:
        # A retracted native vote (Telegram's quiz polls allow none) or a forged button.
        return Reply("quiz/unknown_option", visibility=Visibility.PRIVATE)
    try:
        with savepoint(ctx.conn):
            done = quiz_answers.answer(
                ctx.conn,
                ctx.community,
                poll,
                asked,
                member_id=ctx.member.id,
                option=options[0],
                at=ctx.now,
                tier=ctx.member.tier,
                native=ctx.event.kind is EventKind.VOTE,
            )
    except UserError as refusal:
        return Reply(refusal.key, refusal.context, visibility=Visibility.PRIVATE)
    return Reply(
        "quiz/answered",
        {
            "number": asked.position,
            "correct": done.correct,
            "first": done.first,
            "points": done.points,
            "balance": done.balance,
            "capped": done.capped,
            "letter": letter(asked.correct),
            "answer": asked.answer,
            "explanation": asked.explanation,
        },
        visibility=Visibility.PRIVATE,
    )
