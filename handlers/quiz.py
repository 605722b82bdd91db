"""/quiz: admins keep the question bank (题库) and run quizzes (有奖问答) in groups; members
answer each question with a button or in Telegram's own quiz poll (handlers/quiz_play.py)."""

from __future__ import annotations

import re
from collections.abc import Callable

from community import quiz_runs, quizzes
from community.jobs import SCHEDULE_CHANGED
from community.quiz_csv import category_name, read_csv, read_line
from community.quiz_results import letter
from handlers.actions import ACTION_WORDS, read_action
from handlers.paging import page_of
from handlers.parsing import parse_number, parse_numbered
from handlers.routes import Context, Param, ParamKind, Router
from handlers.types import Reply, Visibility

router = Router()

ACTIONS = ("start", "stop", "bank", "add", "import", "remove")
# The quiz's own words for its actions, besides those every command takes: its list is the bank.
_WORDS = {**ACTION_WORDS, "题库": "bank", "list": "bank", "列表": "bank"}
# A word /quiz start reads as a number of questions, though none it can take ("-1", "2.5",
# "+3"): answered with the limits, not searched for as a category.
_NUMBER_LIKE = re.compile(r"[-+−－＋]?[0-9０-９]+(?:[.,．][0-9０-９]*)?")
BANK_PAGE = 15  # questions per page of /quiz bank (each shows its options: a long message)
PROBLEMS_SHOWN = 10  # bad lines of a file named one by one; the rest are counted

QUIZ_PARAMS = (
    Param("action", ParamKind.CHOICE, required=False, choices=ACTIONS),
    Param("details", ParamKind.TEXT, required=False),
)


@router.command("quiz", admin=True, params=QUIZ_PARAMS, takes_files=True)
def quiz(ctx: Context) -> Reply:
    """/quiz start [N] [category], stop, bank [category] [page], add ..., import, remove N."""
    action, details = read_action(ctx.event.arg_text, _WORDS)
    handler = _ACTIONS.get(action)
    return Reply("quiz/usage") if handler is None else handler(ctx, details)


def _start(ctx: Context, details: str) -> Reply:
    chat = ctx.event.chat
    if chat.private:
        return Reply("quiz/in_a_group")
    count: int | None = None
    category = ""
    for word in details.split():
        number = parse_number(word)
        if number is not None and count is None:
            count = number
        elif number is None and _NUMBER_LIKE.fullmatch(word) and count is None:
            count = 0  # refused with the limits
        elif number is None and not category and category_name(word) is not None:
            category = word
        else:
            return Reply("quiz/usage")
    started = quiz_runs.start(
        ctx.conn,
        ctx.community,
        platform=chat.platform,
        chat_id=chat.chat_id,
        # In a server, the channel it was typed in: its questions come there.
        channel_id=ctx.event.channel_id if chat.needs_channel else None,
        count=count,
        category=category,
        actor=ctx.actor,
        at=ctx.now,
    )
    ctx.outbox_platforms.add(SCHEDULE_CHANGED)  # an alarm for the first question's end
    return started.reply


def _stop(ctx: Context, details: str) -> Reply:
    chat = ctx.event.chat
    if details:
        return Reply("quiz/usage")
    return quiz_runs.stop(
        ctx.conn,
        ctx.community,
        platform=chat.platform,
        chat_id=chat.chat_id,
        actor=ctx.actor,
        at=ctx.now,
    )


def _in_private(ctx: Context) -> bool:
    """Whether only the admin reads the answer: the bank's answers are no group's business."""
    return ctx.event.chat.private or ctx.event.private_reply


def _bank(ctx: Context, details: str) -> Reply:
    if not _in_private(ctx):
        return Reply("quiz/in_private")
    words = details.split()
    page = parse_number(words[-1]) if words else None
    if page is not None:
        words = words[:-1]
    if len(words) > 1:
        return Reply("quiz/usage")
    category = words[0].lstrip("#＃").casefold() if words else ""
    found = quizzes.bank(ctx.conn, ctx.community.id, category)
    shown = page_of(found, page, BANK_PAGE)
    counts = quizzes.categories(ctx.conn, ctx.community.id)
    return Reply(
        "quiz/bank",
        {
            "questions": [
                {
                    "id": q.id,
                    "question": q.question,
                    "options": [
                        {"letter": letter(i), "text": text} for i, text in enumerate(q.options)
                    ],
                    "letter": letter(q.correct),
                    "category": q.category,
                    "from_file": q.from_file,
                }
                for q in shown.items
            ],
            "categories": [{"name": name, "count": n} for name, n in counts.items()],
            "category": category,
            "total": len(found),
            "page": shown.number,
            "pages": shown.pages,
        },
        visibility=Visibility.PRIVATE,
    )


def _add(ctx: Context, details: str) -> Reply:
    if not _in_private(ctx):
        return Reply("quiz/in_private")
    if not details:
        return Reply("quiz/add_usage")
    draft = read_line(details)
    done = quizzes.add_questions(
        ctx.conn, ctx.community, [draft], actor=ctx.actor, at=ctx.now, source="typed"
    )
    return Reply(
        "quiz/imported",
        {"added": done.added, "already": done.already, "total": done.total},
        visibility=Visibility.PRIVATE,
    )


def _import(ctx: Context, details: str) -> Reply:
    event = ctx.event
    if event.file_refused:
        return Reply("quiz/file_refused", {"reason": event.file_refused})
    if not _in_private(ctx):
        return Reply("quiz/in_private")
    text = event.file_text or details
    if not text.strip():
        return Reply("quiz/import_usage")
    drafts, problems = read_csv(text)
    if problems:
        # All or none: an admin mends the file and sends it again, and no half of it is in
        # the bank meanwhile (nor twice, after the second try).
        shown = [
            {"line": p.line, "reason": p.reason} | p.details for p in problems[:PROBLEMS_SHOWN]
        ]
        return Reply(
            "quiz/import_refused",
            {"problems": shown, "more": len(problems) - len(shown), "good": len(drafts)},
            visibility=Visibility.PRIVATE,
        )
    if not drafts:
        return Reply("quiz/import_usage")
    done = quizzes.add_questions(
        ctx.conn,
        ctx.community,
        drafts,
        actor=ctx.actor,
        at=ctx.now,
        source=event.file_name or "typed",
    )
    return Reply(
        "quiz/imported",
        {"added": done.added, "already": done.already, "total": done.total},
        visibility=Visibility.PRIVATE,
    )


def _remove(ctx: Context, details: str) -> Reply:
    number = parse_numbered(details)
    if number is None:
        return Reply("quiz/usage")
    removed = quizzes.remove_question(ctx.conn, ctx.community, number, actor=ctx.actor, at=ctx.now)
    return Reply("quiz/removed", {"id": removed.id, "question": removed.question})


_ACTIONS: dict[str, Callable[[Context, str], Reply]] = {
    "start": _start,
    "stop": _stop,
    "bank": _bank,
    "add": _add,
    "import": _import,
    "remove": _remove,
}
