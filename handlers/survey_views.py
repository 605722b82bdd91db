"""What a member taking a survey is shown: the question they are at (its buttons: options, a
0-10 scale, ticks and "done" for multiple choice, "later"), the end, and where it is said: their
private chat with the bot, or a private answer where the platform gives one."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from community import survey_runs
from community.survey_delivery import send_privately
from community.survey_input import bounds
from community.survey_runs import Turn
from community.surveys import MULTIPLE, SCALE, SCALE_HIGH, SCALE_LOW, SINGLE, Survey
from handlers.routes import Context
from handlers.types import Choice, Reply, Visibility


def turn_reply(ctx: Context, turn: Turn) -> Reply:
    """The reply for a Turn: the end of the survey, or the question the member is at."""
    survey = turn.survey
    named = {"number": survey.id, "title": survey.title}
    if turn.done_before:
        return Reply("survey/already_done", named)
    if turn.earned is not None:
        earned = turn.earned
        paid = {
            "points": earned.paid,
            "balance": earned.balance,
            "limited_by": earned.limited_by,
        }
        return Reply("survey/finished", {**named, **paid})
    question = turn.question
    assert question is not None
    picked = set(turn.picked)
    context: dict[str, Any] = {
        **named,
        "position": turn.position + 1,
        "total": len(survey.questions),
        "text": question.text,
        "kind": question.kind,
        "options": [
            {"number": i + 1, "text": option, "picked": i in picked}
            for i, option in enumerate(question.options)
        ],
        "limit": ctx.community.rules.survey.text_max_length,
        "notice": turn.notice,
        "details": turn.details,
        **bounds(question),
    }
    return Reply("survey/question", context, choices=_buttons(survey, turn))


def _buttons(survey: Survey, turn: Turn) -> tuple[Choice, ...]:
    question = turn.question
    assert question is not None
    at = f"{survey.id} {turn.position}"
    # Each button names the question it answers by place and by mark (handlers/survey.py).
    mark = question.mark
    found: list[Choice] = []
    if question.kind == SINGLE:
        found = [
            Choice(
                "survey/option_button",
                f"/survey answer {at} {i} {mark}",
                {"number": i + 1, "text": option, "picked": False},
            )
            for i, option in enumerate(question.options)
        ]
    elif question.kind == MULTIPLE:
        found = [
            Choice(
                "survey/option_button",
                f"/survey pick {at} {i} {mark}",
                {"number": i + 1, "text": option, "picked": i in turn.picked},
            )
            for i, option in enumerate(question.options)
        ]
        found.append(
            Choice("survey/done_button", f"/survey done {at} {mark}", {"count": len(turn.picked)})
        )
    elif question.kind == SCALE:
        found = [
            Choice("survey/scale_button", f"/survey answer {at} {value} {mark}", {"value": value})
            for value in range(SCALE_LOW, SCALE_HIGH + 1)
        ]
    found.append(Choice("survey/pause_button", f"/survey pause {survey.id}"))
    return tuple(found)


def said(ctx: Context, reply: Reply) -> Reply:
    """`reply` where only the member reads it when the platform can do that here (their
    private chat; an ephemeral answer, a button's alert), else in the chat (a refusal a member
    caused by typing there)."""
    event = ctx.event
    if event.chat.private or not event.private_reply:
        return replace(reply, visibility=Visibility.CHAT)
    return replace(reply, visibility=Visibility.PRIVATE)


def shown(ctx: Context, reply: Reply, *, inline: bool) -> Reply:
    """A survey step for the member alone: in their private chat with the bot, said there; in
    a group, privately inline when `inline` and the platform answers the member alone here,
    else sent to their private chat, the group told only that it was (or how to start one)."""
    event = ctx.event
    if event.chat.private:
        return replace(reply, visibility=Visibility.CHAT)
    if inline and event.private_reply:
        return replace(reply, visibility=Visibility.PRIVATE)
    member = ctx.member
    sent = send_privately(ctx.conn, ctx.community, member.id, reply, ctx.now)
    reachable = sent is not None and sent.reachable
    if sent is not None:
        ctx.outbox_platforms.update(sent.platforms)
    if not reachable and reply.template == "survey/question":
        # Not shown: their first words in a new private chat must not answer a question
        # they never saw. /survey there shows it.
        survey_runs.pause(ctx.conn, ctx.community, member.id, int(reply.context["number"]))
    context = {
        "name": member.display_name,
        "title": reply.context.get("title", ""),
        "reachable": reachable,
        # Named only when it is not where the member asked (their linked account's platform).
        "platform": sent.platform
        if sent is not None and sent.platform != event.chat.platform
        else "",
    }
    return said(ctx, Reply("survey/sent_privately", context))
