"""/survey: members take a survey privately, one question at a time (buttons, or words typed
in their private chat with the bot), stop and resume; admins add, start, stop surveys and read
their results (handlers/survey_admin.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from community import survey_runs
from community.survey_input import Given, read_typed
from community.survey_runs import Turn
from community.surveys import MULTIPLE, SCALE, SINGLE, Survey, find_survey, listing, survey_by_id
from handlers import survey_admin
from handlers.actions import ACTION_WORDS
from handlers.parsing import parse_numbered
from handlers.routes import Context, Param, ParamKind, Router, admins_only
from handlers.survey_views import said, shown, turn_reply
from handlers.types import Choice, Reply
from loyalty.errors import UserError

router = Router()

# What members type (the rest are the buttons' own words) and what admins do.
MEMBER_ACTIONS = ("list", "take", "pause")
# The survey's own words for its actions, besides those every command takes ("继续": go on
# with the survey one was answering, what /survey alone does; a survey is added from a file).
_WORDS = {
    **ACTION_WORDS,
    "查看": "show",
    "结果": "results",
    "参与": "take",
    "作答": "take",
    "继续": "",
    "导入": "add",
}
SURVEY_PARAMS = (
    Param(
        "action",
        ParamKind.CHOICE,
        required=False,
        choices=(*MEMBER_ACTIONS, *survey_admin.ACTIONS),
    ),
    Param("survey", ParamKind.INTEGER, required=False, minimum=1),
)


@router.command("survey", shows_admin=True, personal=False, params=SURVEY_PARAMS, takes_files=True)
def survey(ctx: Context) -> Reply:
    """/survey [action] [N]: members resume or take a survey, admins keep them."""
    args = ctx.event.args
    action = _WORDS.get(args[0].casefold(), args[0].casefold()) if args else ""
    if action in survey_admin.ACTIONS:
        if not ctx.is_admin:
            return said(ctx, admins_only(ctx, f"survey {action}"))
        return survey_admin.run(ctx, action, args[1:])
    if ctx.acting_member is None:
        # Answers belong to people: an anonymous admin or a channel has none to give.
        return said(ctx, Reply("common/post_as_yourself", {"command": "survey"}))
    step = _MEMBER.get(action)
    if step is None:
        number = parse_numbered(action)
        if number is None or len(args) > 1:
            return said(ctx, Reply("survey/usage", {"is_admin": ctx.is_admin}))
        step, args = _take, ("take", *args)
    try:
        return step(ctx, args[1:])
    except UserError as refusal:
        return said(ctx, Reply(refusal.key, refusal.context))


def _numbers(args: Sequence[str], count: int) -> list[int] | None:
    if len(args) != count:
        return None
    found = [parse_numbered(word) for word in args]
    return None if any(n is None for n in found) else [n for n in found if n is not None]


def _survey(ctx: Context, number: int) -> Survey:
    return survey_by_id(ctx.conn, ctx.community, number)


def _resume(ctx: Context, args: Sequence[str]) -> Reply:
    """/survey: back to the survey the member was answering, else the open ones to take."""
    if args:
        return said(ctx, Reply("survey/usage", {"is_admin": ctx.is_admin}))
    going = survey_runs.resumable(ctx.conn, ctx.community, ctx.member.id)
    if going is not None:
        turn = survey_runs.take(ctx.conn, going, ctx.member.id, ctx.now)
        return shown(ctx, turn_reply(ctx, turn), inline=False)
    return _list(ctx, ())


def _list(ctx: Context, args: Sequence[str]) -> Reply:
    """The open surveys (every survey, for admins), each with a button to take it."""
    everything = ctx.is_admin
    found = listing(ctx.conn, ctx.community, everything=everything)
    finished = (
        set()
        if ctx.acting_member is None
        else {
            item.survey.id
            for item in found
            if (run := survey_runs.run_of(ctx.conn, item.survey.id, ctx.member.id)) is not None
            and run.state == survey_runs.DONE
        }
    )
    surveys = [
        {
            "number": item.survey.id,
            "title": item.survey.title,
            "state": item.survey.state,
            "questions": len(item.survey.questions),
            "completed": item.completed,
            "in_progress": item.in_progress,
            "file": item.survey.file_key is not None,
            "done": item.survey.id in finished,
        }
        for item in found
    ]
    choices = tuple(
        Choice(
            "survey/take_button",
            f"/survey take {s['number']}",
            {"number": s["number"], "title": s["title"]},
        )
        for s in surveys
        if s["state"] == "open" and not s["done"]
    )
    context = {"surveys": surveys, "admin": everything}
    return said(ctx, Reply("survey/list", context, choices=choices))


def _take(ctx: Context, args: Sequence[str]) -> Reply:
    """/survey take N (the invitation's button): start survey N, or go back to where the
    member was in it."""
    numbers = _numbers(args, 1)
    if numbers is None:
        return said(ctx, Reply("survey/usage", {"is_admin": ctx.is_admin}))
    turn = survey_runs.take(ctx.conn, _survey(ctx, numbers[0]), ctx.member.id, ctx.now)
    if turn.done_before:
        return said(ctx, turn_reply(ctx, turn))  # nothing to send privately
    return shown(ctx, turn_reply(ctx, turn), inline=False)


def _pause(ctx: Context, args: Sequence[str]) -> Reply:
    """/survey pause [N] (the "later" button): stop answering for now."""
    number = _numbers(args, 1) if args else None
    if args and number is None:
        return said(ctx, Reply("survey/usage", {"is_admin": ctx.is_admin}))
    paused = survey_runs.pause(
        ctx.conn, ctx.community, ctx.member.id, number[0] if number else None
    )
    return said(ctx, Reply("survey/paused", {"number": paused.id, "title": paused.title}))


def _marked(args: Sequence[str], count: int) -> tuple[list[int], int | None] | None:
    """A button's numbers, and the mark of the question it was sent for (buttons carry it
    last; a command typed by hand may leave it out, meaning the question there now)."""
    numbers = _numbers(args, count) or _numbers(args, count + 1)
    if numbers is None:
        return None
    return numbers[:count], numbers[count] if len(numbers) > count else None


def _answer(ctx: Context, args: Sequence[str]) -> Reply:
    """A button's answer: /survey answer SURVEY QUESTION VALUE [MARK] (an option, or a 0-10
    score)."""
    marked = _marked(args, 3)
    if marked is None:
        return said(ctx, Reply("common/stale_button"))
    (number, question, value), mark = marked
    survey = _survey(ctx, number)
    if not 0 <= question < len(survey.questions):
        return said(ctx, Reply("common/stale_button"))
    kind = survey.questions[question].kind
    if kind == SCALE:
        given = Given(score=value)
    elif kind == SINGLE:
        given = Given(options=(value,))
    else:
        given = Given()  # no button gives a typed answer: an old message's, as "stale"
    return _answered(ctx, survey, question, given, mark)


def _pick(ctx: Context, args: Sequence[str]) -> Reply:
    """A multiple-choice option's button: /survey pick SURVEY QUESTION OPTION [MARK] ticks
    it."""
    marked = _marked(args, 3)
    if marked is None:
        return said(ctx, Reply("common/stale_button"))
    (number, question, option), mark = marked
    turn = survey_runs.toggle(
        ctx.conn,
        _survey(ctx, number),
        member_id=ctx.member.id,
        question=question,
        option=option,
        at=ctx.now,
        mark=mark,
    )
    return shown(ctx, turn_reply(ctx, turn), inline=True)


def _done(ctx: Context, args: Sequence[str]) -> Reply:
    """A multiple-choice question's "done": /survey done SURVEY QUESTION [MARK] saves the
    ticks."""
    marked = _marked(args, 2)
    if marked is None:
        return said(ctx, Reply("common/stale_button"))
    (number, question), mark = marked
    survey = _survey(ctx, number)
    if not 0 <= question < len(survey.questions) or survey.questions[question].kind != MULTIPLE:
        return said(ctx, Reply("common/stale_button"))
    return _answered(ctx, survey, question, None, mark)


def _answered(
    ctx: Context, survey: Survey, question: int, given: Given | None, mark: int | None = None
) -> Reply:
    turn = survey_runs.answer(
        ctx.conn,
        ctx.community,
        survey,
        member_id=ctx.member.id,
        question=question,
        given=given,
        at=ctx.now,
        tier=ctx.member.tier,
        mark=mark,
    )
    return shown(ctx, turn_reply(ctx, turn), inline=True)


_MEMBER: dict[str, Callable[[Context, Sequence[str]], Reply]] = {
    "": _resume,
    "list": _list,
    "take": _take,
    "pause": _pause,
    "answer": _answer,
    "pick": _pick,
    "done": _done,
}


def on_message(ctx: Context) -> Reply | None:
    """Words a member types where only they read the answer (their private chat with the bot)
    while answering a survey: the answer to the question they are at. None otherwise, at no
    cost in a group (no statement is run there)."""
    if not ctx.event.private_reply or ctx.acting_member is None:
        return None
    run = survey_runs.active_run(ctx.conn, ctx.acting_member.id)
    if run is None or ctx.now - run.asked_at > survey_runs.answer_window(ctx.community):
        return None
    found = find_survey(ctx.conn, ctx.community.id, run.survey_id)
    if found is None or not 0 <= run.position < len(found.questions):
        return None
    if not found.is_open:
        # Closed while they were on it: said once, then their words are their own again.
        survey_runs.pause(ctx.conn, ctx.community, ctx.acting_member.id, found.id)
        context = {"number": found.id, "title": found.title, "state": found.state}
        return said(ctx, Reply("survey/not_open", context))
    asked = found.questions[run.position]
    typed = read_typed(asked, ctx.event.text)
    if isinstance(typed, tuple):
        reason, details = typed
        turn = Turn(found, run.position, run.picked, reason, details)
        return shown(ctx, turn_reply(ctx, turn), inline=True)
    # Read as this question asks: it must still be the one there when the answer is saved.
    return _answered(ctx, found, run.position, typed, asked.mark)
