"""/accept ANSWER [QUESTION]: the asker (or an admin) accepts an answer, typed or with the
button under /questions N's answer list; the author earns, the asker is thanked, a bounty goes
to the author (community/question_accepting.py says who earns what). Registered on
handlers/questions.py's router, the feature's one."""

from __future__ import annotations

import re

from community import question_accepting
from handlers.arguments import BadArgument, read_arguments
from handlers.routes import Context, Param, ParamKind
from handlers.types import EventKind, Reply, Visibility
from loyalty.errors import UserError
from storage.sql import savepoint

ACCEPT_PARAMS = (
    Param("answer", ParamKind.INTEGER, minimum=1),
    # The question the answer should belong to: buttons name it, so an old or forged button
    # accepts nothing of another question.
    Param("question", ParamKind.INTEGER, minimum=1, required=False),
)
# The bot writes numbers as "#3", and members copy them: "/accept #3" is "/accept 3".
_HASH = re.compile(r"(?:(?<=\s)|^)[#＃](?=\w)")
_FIRST_HASH = re.compile(r"^(\s*)[#＃](?=\w)")


def unhashed(words: str, first_only: bool = False) -> str:
    """`words` without the "#" before their numbers (before the first word only, if asked:
    what follows /answer N is the answer, as typed)."""
    return _FIRST_HASH.sub(r"\1", words) if first_only else _HASH.sub("", words)


def accept(ctx: Context) -> Reply:
    """/accept ANSWER — accept answer ANSWER to your question (admins: to any question)."""
    pressed = ctx.event.kind is EventKind.BUTTON
    # A refused press concerns the presser alone; the group need not read it.
    where = Visibility.PRIVATE if pressed else Visibility.CHAT
    try:
        given = read_arguments(ACCEPT_PARAMS, unhashed(ctx.event.arg_text), ctx.community.rules)
    except BadArgument:
        return Reply("questions/accept_usage", visibility=where)
    try:
        with savepoint(ctx.conn):
            done = question_accepting.accept(
                ctx.conn,
                ctx.community,
                answer_id=given.numbers["answer"],
                question_id=given.numbers.get("question"),
                actor=ctx.actor,
                is_admin=ctx.is_admin,
                at=ctx.now,
            )
    except UserError as refusal:
        return Reply(refusal.key, refusal.context, visibility=where)
    ctx.outbox_platforms.update(done.platforms)
    return Reply(
        "questions/accepted",
        {
            "question": done.question.id,
            "answer": done.answer.id,
            "author": done.answer.author,
            "by": ctx.display_name,
            "points": done.points,
            "thanks": done.thanks,
            "bounty_paid": done.bounty_paid,
            "bounty_returned": done.bounty_returned,
            "own": ctx.acting_member is not None and ctx.acting_member.id == done.answer.member_id,
        },
    )
