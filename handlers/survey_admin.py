"""/survey for admins: add surveys from an attached file, show one, start (the invitation is
posted in the groups), stop, remove, read the results; and /export survey N (a CSV)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from community import survey_export, survey_keeping, survey_results, surveys
from community.messages import Document
from community.survey_files import read_file
from community.surveys import Survey
from handlers.parsing import parse_numbered
from handlers.routes import Context
from handlers.types import Reply, Visibility
from loyalty.errors import UserError

ACTIONS = ("add", "show", "start", "stop", "results", "remove")


def run(ctx: Context, action: str, args: Sequence[str]) -> Reply:
    """Run an admin's /survey ACTION; refusals are answered with their reason."""
    try:
        if action == "add":
            return _add(ctx, args)
        number = _one_number(args, most=2 if action == "start" else 1)
        if number is None:
            return Reply("survey/usage", {"is_admin": True})
        return _BY_NUMBER[action](ctx, number, args[1:])
    except UserError as refusal:
        return Reply(refusal.key, refusal.context)


def _one_number(args: Sequence[str], most: int = 1) -> int | None:
    if not 1 <= len(args) <= most:
        return None
    return parse_numbered(args[0])


def described(survey: Survey) -> dict[str, Any]:
    """A survey as the admin templates show it."""
    return {
        "number": survey.id,
        "title": survey.title,
        "state": survey.state,
        "file": survey.file_key is not None,
        "questions": [
            {"position": n, "text": q.text, "kind": q.kind, "options": list(q.options)}
            for n, q in enumerate(survey.questions, start=1)
        ],
    }


def _add(ctx: Context, args: Sequence[str]) -> Reply:
    """/survey add [title] with a file attached: its surveys, saved as drafts."""
    event = ctx.event
    if event.file_refused:
        return Reply("survey/file_refused", {"reason": event.file_refused})
    if not event.file_text:
        return Reply("survey/add_usage")
    title = " ".join(args)
    drafts = read_file(event.file_name, event.file_text, title)
    added = survey_keeping.add_surveys(ctx.conn, ctx.community, drafts, actor=ctx.actor, at=ctx.now)
    return Reply(
        "survey/added",
        {"surveys": [{**described(s), "questions": len(s.questions)} for s in added]},
    )


def _show(ctx: Context, number: int, rest: Sequence[str]) -> Reply:
    survey = surveys.survey_by_id(ctx.conn, ctx.community, number)
    return Reply("survey/shown", described(survey))


def _start(ctx: Context, number: int, rest: Sequence[str]) -> Reply:
    """/survey start N [tag]: open it and invite every group (or those tagged `tag`)."""
    tag = rest[0].casefold() if rest else None
    started = survey_keeping.start_survey(
        ctx.conn,
        ctx.community,
        number,
        actor=ctx.actor,
        at=ctx.now,
        key=ctx.event.event_id,
        tag=tag,
    )
    ctx.outbox_platforms.update(started.sent.platforms)
    sent = started.sent
    return Reply(
        "survey/started",
        {
            "number": started.survey.id,
            "title": started.survey.title,
            "again": started.again,
            "groups": sent.queued,
            "inactive": sent.inactive,
            "no_channel": sent.no_channel,
            "tag": tag or "",
        },
    )


def _stop(ctx: Context, number: int, rest: Sequence[str]) -> Reply:
    stopped = survey_keeping.stop_survey(
        ctx.conn, ctx.community, number, actor=ctx.actor, at=ctx.now
    )
    completed, _ = survey_results.completion(ctx.conn, stopped.id)
    return Reply(
        "survey/stopped", {"number": stopped.id, "title": stopped.title, "completed": completed}
    )


def _remove(ctx: Context, number: int, rest: Sequence[str]) -> Reply:
    removed = survey_keeping.remove_survey(
        ctx.conn, ctx.community, number, actor=ctx.actor, at=ctx.now
    )
    return Reply("survey/removed", {"number": removed.id, "title": removed.title})


def _results(ctx: Context, number: int, rest: Sequence[str]) -> Reply:
    survey = surveys.survey_by_id(ctx.conn, ctx.community, number)
    shown = ctx.community.rules.survey.results_texts
    found = survey_results.results(ctx.conn, survey, int(shown))
    questions = []
    for result in found.questions:
        question = result.question
        item: dict[str, Any] = {
            "position": result.position + 1,
            "text": question.text,
            "kind": question.kind,
            "answered": result.answered,
            "options": [
                {"text": text, "count": count, "percent": _percent(count, result.answered)}
                for text, count in zip(question.options, result.counts, strict=False)
            ],
            "texts": list(result.texts),
        }
        if result.nps is not None:
            nps = result.nps
            item["nps"] = {
                "score": nps.score,
                "average": str(nps.average),
                "promoters": nps.promoters,
                "passives": nps.passives,
                "detractors": nps.detractors,
            }
        questions.append(item)
    return Reply(
        "survey/results",
        {
            "number": survey.id,
            "title": survey.title,
            "state": survey.state,
            "completed": found.completed,
            "in_progress": found.in_progress,
            "questions": questions,
        },
        # Members answered privately, free text above all: the results are for the admin
        # alone (asked in a group, the answer says to ask in private).
        visibility=Visibility.PRIVATE,
    )


def _percent(count: int, total: int) -> int:
    """A whole percentage, rounded half up; 0 of nobody."""
    return (200 * count + total) // (2 * total) if total else 0


_BY_NUMBER: dict[str, Callable[[Context, int, Sequence[str]], Reply]] = {
    "show": _show,
    "start": _start,
    "stop": _stop,
    "remove": _remove,
    "results": _results,
}


def export(ctx: Context, args: Sequence[str]) -> Reply:
    """/export survey N [--ids]: the survey's answers as a CSV, one row per member; members'
    platform ids and names only with --ids."""
    words = [word.casefold() for word in args]
    ids = "--ids" in words or "—ids" in words
    rest = [word for word in words if word not in ("--ids", "—ids")]
    number = _one_number(rest)
    if number is None:
        return Reply("survey/export_usage")
    try:
        done = survey_export.export_survey(
            ctx.conn, ctx.community, number, ids=ids, actor=ctx.actor, at=ctx.now
        )
    except UserError as refusal:
        return Reply(refusal.key, refusal.context)
    context = {
        "number": done.survey.id,
        "title": done.survey.title,
        "rows": done.rows,
        "cut": done.cut,
        "max_rows": done.max_rows,
        "file": done.name,
        "ids": done.ids,
    }
    return Reply("survey/exported", context, document=Document(done.name, done.content))
