"""/faq: search, and admins' add, edit, remove, list, promote; the automatic answer's buttons."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from community import faq, faq_answers
from community.faq import Entry
from handlers.actions import ACTION_WORDS, read_action
from handlers.arguments import BadArgument, read_arguments
from handlers.paging import page_of
from handlers.parsing import parse_number, parse_numbered
from handlers.routes import Context, Param, ParamKind, Router, admins_only
from handlers.types import Choice, Reply, Visibility

router = Router()

ADMIN_ACTIONS = ("add", "edit", "remove", "list", "promote", "stats")
# The FAQ's own words for its actions, besides those every command takes.
_WORDS = {**ACTION_WORDS, "管理": "list", "转为": "promote", "收录": "promote", "数据": "stats"}
LIST_PAGE = 20  # entries per page of /faq list and of the members' list
PREVIEW = 80  # characters of a question or answer shown in lists

FAQ_PARAMS = (Param("words", ParamKind.TEXT, required=False),)
VOTE_PARAMS = (
    Param("answer", ParamKind.INTEGER, minimum=1),
    Param("helpful", ParamKind.INTEGER, minimum=0, maximum=1),
)


@router.command("faq", words=("常见问题",), shows_admin=True, personal=False, params=FAQ_PARAMS)
def faq_command(ctx: Context) -> Reply:
    """/faq [words | N]: the questions, an entry, or a search; admins: add, edit, remove N,
    list, promote N, stats."""
    if not ctx.event.arg_text.strip():
        return _questions(ctx)
    action, details = read_action(ctx.event.arg_text, _WORDS)
    if action in ADMIN_ACTIONS:
        if ctx.is_admin:
            return _ADMIN[action](ctx, details)
        if action == "list" and (not details or parse_number(details) is not None):
            return _questions(ctx, details)  # a member's "/faq list" is the list they may see
        if _looks_like(action, details):
            return admins_only(ctx, f"faq {ctx.event.arg_text.split()[0]}")
        # "/faq delete my account", "/faq add to cart": a member searching, not an admin.
    number = parse_numbered(ctx.event.arg_text)
    if number is not None:
        entry = faq.entry_by_id(ctx.conn, ctx.community.id, number)
        return Reply("faq/entry", _shown(entry))
    return _search(ctx, ctx.event.arg_text.strip())


def _looks_like(action: str, details: str) -> bool:
    """Whether a member's "/faq ACTION ..." is shaped like the admins' command (so they are
    told it is the admins'), rather than a search that starts with the same word."""
    if action in ("add", "edit"):
        return not details or "|" in details or "｜" in details
    return not details or parse_numbered(details) is not None


def _questions(ctx: Context, details: str = "") -> Reply:
    """The questions the FAQ answers, a page at a time (/faq list N shows page N)."""
    page = page_of(faq.live_entries(ctx.conn, ctx.community.id), parse_numbered(details), LIST_PAGE)
    return Reply(
        "faq/questions",
        {
            "entries": [_shown(entry) for entry in page.items],
            "more": page.more,
            "page": page.number,
            "pages": page.pages,
        },
    )


def _search(ctx: Context, words: str) -> Reply:
    found = faq_answers.search(ctx.conn, ctx.community, words)
    if not found:
        return Reply("faq/no_results", {"words": words})
    best, others = found[0], found[1:]
    return Reply(
        "faq/results", {"best": _shown(best.entry), "others": [_shown(f.entry) for f in others]}
    )


def _add(ctx: Context, details: str) -> Reply:
    if not details:
        return Reply("faq/usage")
    entry = faq.add_entry(ctx.conn, ctx.community, details, actor=ctx.actor, at=ctx.now)
    return Reply("faq/saved", {"change": "add", "entry": _shown(entry)})


def _edit(ctx: Context, details: str) -> Reply:
    number_text, _, line = details.partition(" ")
    number = parse_numbered(number_text)
    if number is None or not line.strip():
        return Reply("faq/usage")
    entry = faq.edit_entry(ctx.conn, ctx.community, number, line, actor=ctx.actor, at=ctx.now)
    return Reply("faq/saved", {"change": "edit", "entry": _shown(entry)})


def _remove(ctx: Context, details: str) -> Reply:
    number = parse_numbered(details)
    if number is None:
        return Reply("faq/usage")
    entry = faq.remove_entry(ctx.conn, ctx.community, number, actor=ctx.actor, at=ctx.now)
    return Reply("faq/saved", {"change": "remove", "entry": _shown(entry)})


def _promote(ctx: Context, details: str) -> Reply:
    number = parse_numbered(details)
    if number is None:
        return Reply("faq/usage")
    entry = faq.promote(ctx.conn, ctx.community, number, actor=ctx.actor, at=ctx.now)
    return Reply("faq/saved", {"change": "promote", "entry": _shown(entry), "question": number})


def _list(ctx: Context, details: str) -> Reply:
    """One page of the entries, each with its answers given and 👍/👎, the poorly rated marked."""
    rules = ctx.community.rules.faq
    entries = faq.live_entries(ctx.conn, ctx.community.id)
    page = page_of(entries, parse_numbered(details), LIST_PAGE)
    counts = faq_answers.feedback(ctx.conn, ctx.community.id)
    shown = []
    for entry in page.items:
        counted = counts.get(entry.id, faq_answers.Feedback())
        shown.append(
            {
                **_shown(entry),
                "given": counted.given,
                "helpful": counted.helpful,
                "unhelpful": counted.unhelpful,
                "flagged": counted.flagged(rules.unhelpful_share, rules.min_votes),
            }
        )
    flagged = sum(
        1
        for entry in entries
        if counts.get(entry.id, faq_answers.Feedback()).flagged(
            rules.unhelpful_share, rules.min_votes
        )
    )
    return Reply(
        "faq/list",
        {
            "entries": shown,
            "page": page.number,
            "pages": page.pages,
            "total": len(entries),
            "flagged": flagged,
            "auto_answer": rules.auto_answer,
            "threshold": f"{rules.threshold:g}",
        },
    )


def _stats(ctx: Context, details: str) -> Reply:
    """The share of questions the FAQ answered without a human: ever, or in the last N days."""
    days = parse_number(details) if details else None
    if details and not days:
        return Reply("faq/usage")
    try:
        since = None if days is None else ctx.now - timedelta(days=days)
    except OverflowError:  # more days than the calendar holds: since it began, then
        since = None
    share = faq_answers.answered_share(ctx.conn, ctx.community.id, since)
    return Reply(
        "faq/stats",
        {
            "days": days,
            "given": share.given,
            "rejected": share.rejected,
            "answered": share.answered,
            "questions": share.questions,
            "percent": share.percent,
            "entries": len(faq.live_entries(ctx.conn, ctx.community.id)),
        },
    )


_ADMIN: dict[str, Callable[[Context, str], Reply]] = {
    "add": _add,
    "edit": _edit,
    "remove": _remove,
    "list": _list,
    "promote": _promote,
    "stats": _stats,
}


def _shown(entry: Entry) -> dict[str, Any]:
    """An entry as the answers show it."""
    return {
        "number": entry.id,
        "question": entry.question,
        "answer": entry.answer,
        "keywords": list(entry.keywords),
        "preview": _preview(entry.question),
        "answer_preview": _preview(entry.answer),
        "from_file": entry.file_key is not None,
    }


def _preview(text: str) -> str:
    line = text.strip().split("\n", 1)[0].rstrip()
    if len(line) <= PREVIEW and line == text.strip():
        return line
    return line[: PREVIEW - 1].rstrip() + "…"


# The automatic answer and its buttons ----------------------------------------------------------


def on_message(ctx: Context) -> Reply | None:
    """A plain message this feature answers (see handlers/chat_messages.py); None: not ours.

    Only in groups, only when [faq] auto_answer is on, and never to: an admin (they answer
    themselves), someone who speaks for a chat (an anonymous admin, a channel's post: no
    member asks there), a reply to another message (people talking with each other, or with an
    admin, whom the bot does not interrupt), the bot's own posts (adapters never pass them on)."""
    event = ctx.event
    if event.chat.private or event.replied_id or ctx.is_admin or ctx.acting_member is None:
        return None
    if not ctx.community.rules.faq.auto_answer or not event.text.strip():
        return None
    given = faq_answers.answer_unasked(
        ctx.conn,
        ctx.community,
        event.text,
        member_id=ctx.acting_member.id,
        platform=event.chat.platform,
        chat_id=event.chat.chat_id,
        message_id=event.message_id,
        at=ctx.now,
    )
    if given is None:
        return None
    return Reply(
        "faq/auto_answer",
        _shown(given.entry),
        choices=(
            Choice("faq/helpful_button", f"/faqvote {given.answer_id} 1"),
            Choice("faq/unhelpful_button", f"/faqvote {given.answer_id} 0"),
        ),
    )


@router.command("faqvote", hidden=True, private=True, params=VOTE_PARAMS)
def vote_button(ctx: Context) -> Reply:
    """What an automatic answer's 👍/👎 send: /faqvote ANSWER 1|0."""
    try:
        pressed = read_arguments(VOTE_PARAMS, ctx.event.arg_text, ctx.community.rules)
    except BadArgument:
        return Reply("faq/vote_gone", visibility=Visibility.PRIVATE)
    chat = ctx.event.chat
    voted = faq_answers.vote(
        ctx.conn,
        ctx.community,
        pressed.numbers["answer"],
        member_id=ctx.member.id,
        helpful=pressed.numbers["helpful"] == 1,
        platform=chat.platform,
        chat_id=chat.chat_id,
        at=ctx.now,
    )
    return Reply(
        "faq/voted",
        {"helpful": voted.helpful, "changed": voted.changed, "number": voted.entry.id},
        visibility=Visibility.PRIVATE,
    )
