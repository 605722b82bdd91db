"""/poll, /closepoll and votes: admins ask, members answer with a button or a native poll."""

from __future__ import annotations

from typing import Any

from community import polls, quiz_runs
from community.jobs import SCHEDULE_CHANGED
from handlers import quiz_play
from handlers.arguments import BadArgument, read_arguments
from handlers.routes import Context, Param, ParamKind, Router
from handlers.types import EventKind, Reply, Visibility
from loyalty.errors import UserError
from storage.sql import savepoint

router = Router()
# What a press of a button for a poll we cannot find gets (shown to the presser alone).
_GONE = Reply("polls/gone", visibility=Visibility.PRIVATE)


@router.command("poll", admin=True, params=(Param("question", ParamKind.TEXT),))
def poll(ctx: Context) -> Reply:
    """/poll [--for 2h | --until 18:00] Question? | option | option ... — open a poll in this
    chat (closing by itself at its end, if given one)."""
    opened = polls.open_poll(
        ctx.conn,
        ctx.community,
        platform=ctx.event.chat.platform,
        chat_id=ctx.event.chat.chat_id,
        text=ctx.event.arg_text,
        actor=ctx.actor,
        at=ctx.now,
        # In a server, the channel it was typed in: its results come back there at its end.
        channel_id=ctx.event.channel_id if ctx.event.chat.needs_channel else None,
    )
    if opened.closes_at is not None:
        ctx.outbox_platforms.add(SCHEDULE_CHANGED)  # the scheduler sets an alarm for its end
    return polls.posted(opened, ctx.community.timezone)


CLOSEPOLL_PARAMS = (Param("poll", ParamKind.POLL, required=False),)
VOTE_PARAMS = (Param("poll", ParamKind.POLL), Param("option", ParamKind.INTEGER, minimum=0))


@router.command("closepoll", admin=True, params=CLOSEPOLL_PARAMS)
def close(ctx: Context) -> Reply:
    """/closepoll [poll number] — close the newest open poll here (or that one) and count it."""
    chat = ctx.event.chat
    try:
        wanted = read_arguments(CLOSEPOLL_PARAMS, ctx.event.arg_text, ctx.community.rules)
    except BadArgument:
        return Reply("polls/close_usage")
    if "poll" in wanted.numbers:
        found = polls.poll_by_id(ctx.conn, ctx.community.id, wanted.numbers["poll"])
    else:
        found = polls.latest_open_poll(
            ctx.conn, ctx.community.id, platform=chat.platform, chat_id=chat.chat_id
        )
    if found is None:
        return Reply("polls/none_open")
    if quiz_runs.round_of_poll(ctx.conn, found.id) is not None:
        return Reply("quiz/not_a_poll")  # a quiz question: /quiz stop ends the quiz
    tally = polls.close_poll(ctx.conn, found, actor=ctx.actor, at=ctx.now)
    # A native poll's message id means something only in the chat it was posted in.
    here = (found.platform, found.chat_id) == (chat.platform, chat.chat_id)
    return Reply(
        "polls/results",
        polls.results(tally),
        ends_poll=polls.native_message_of(ctx.conn, found.id) if here else None,
    )


@router.command(
    "vote",
    hidden=True,
    private=True,
    params=VOTE_PARAMS,
)
def vote_button(ctx: Context) -> Reply:
    """What a poll's button sends: /vote POLL OPTION. It counts only from the poll's own chat:
    poll numbers are easy to guess, and a vote typed in a private chat must not reach a poll
    in a group the voter is not in."""
    try:
        pressed = read_arguments(VOTE_PARAMS, ctx.event.arg_text, ctx.community.rules)
    except BadArgument:
        return _GONE
    poll_id, option = pressed.numbers["poll"], pressed.numbers["option"]
    found = polls.poll_by_id(ctx.conn, ctx.community.id, poll_id)
    if found is None:
        return _GONE
    chat = ctx.event.chat
    if (found.platform, found.chat_id) != (chat.platform, chat.chat_id):
        return _refused("polls/not_here", question=found.question)
    return _voted(ctx, found, (option,))


@router.on(EventKind.VOTE)
def vote_native(ctx: Context) -> Reply:
    """A vote in a native poll (the platform sends the chosen option numbers)."""
    found = polls.poll_by_native(ctx.conn, ctx.event.chat.platform, ctx.event.poll_ref)
    if found is None:
        return _GONE
    return _voted(ctx, found, ctx.event.options)


def _voted(ctx: Context, found: polls.Poll, options: tuple[int, ...]) -> Reply:
    asked = quiz_runs.round_of_poll(ctx.conn, found.id)
    if asked is not None:
        return quiz_play.answered(ctx, found, asked, options)
    try:
        with savepoint(ctx.conn):
            result = polls.vote(
                ctx.conn,
                found,
                community=ctx.community,
                member_id=ctx.member.id,
                options=options,
                at=ctx.now,
                tier=ctx.member.tier,
            )
    except UserError as refusal:
        return _refused(refusal.key, **refusal.context)
    return Reply(
        "polls/voted",
        {
            "question": found.question,
            "choices": [found.options[index] for index in result.options],
            "points": result.points,
            "balance": result.balance,
        },
        visibility=Visibility.PRIVATE,
    )


def _refused(key: str, **context: Any) -> Reply:
    # Whoever pressed a button alone needs to know why it did nothing; posting every refused
    # press (a closed poll, an old button) to the whole group would only be noise.
    return Reply(key, context, visibility=Visibility.PRIVATE)
