"""/submit and /mysubmissions: members submit content to the review queue.

/submit [category] <text or link>, as a photo's (video's, file's) caption, or as a reply to
one's own message that holds the content. With no category typed: where only one category
takes the content (a video, where only Video takes videos), it goes there without a question;
otherwise it is kept as a draft and the member picks the category with a button. Asking them
to send it all again with a category word would lose the photo they just sent; guessing
between "Review" and "Post" would put it in the wrong queue.
"""

from __future__ import annotations

from community import submissions
from community.jobs import SCHEDULE_CHANGED
from community.submission_content import File, checked, fitting, read_category, shown_kind
from community.submission_rules import SubmissionCategory
from community.submissions import DRAFT, Submission, Where, category_names
from handlers.paging import page_of
from handlers.parsing import parse_number, parse_numbered
from handlers.routes import Context, Param, ParamKind, Router
from handlers.text import strip_invisible
from handlers.types import Choice, IncomingFile, Reply, Visibility
from loyalty.errors import UserError

router = Router()

SUBMIT_PARAMS = (
    Param("category", ParamKind.TEXT, required=False),
    Param("content", ParamKind.TEXT, required=False),
    Param("file", ParamKind.FILE, required=False),
)
CHOOSE_PARAMS = (
    Param("submission", ParamKind.INTEGER, minimum=1),
    Param("category", ParamKind.TEXT),
)
MINE_PARAMS = (Param("page", ParamKind.INTEGER, required=False, minimum=1),)


@router.command("submit", words=("投稿",), params=SUBMIT_PARAMS)
def submit(ctx: Context) -> Reply:
    """/submit [category] <text or link> (or with a photo, video or file, or replying to one's
    own message): a numbered submission, pending review."""
    event = ctx.event
    rules = ctx.community.rules.submissions
    category, typed = read_category(event.arg_text, rules.categories)
    own_files = [f for f in event.media if not f.from_reply]
    parts = [typed]
    files = own_files
    if event.target is not None:
        if event.target.key == event.actor.key:
            # The command's own words are read without invisible characters; the replied
            # message's must be too, or a zero-width space alone would be "content".
            parts.insert(0, strip_invisible(event.replied_text))
            files = [*own_files, *(f for f in event.media if f.from_reply)]
        elif not typed and not own_files:
            # Someone else's message: only its author may submit it.
            return Reply("ugc/not_your_message")
    text = "\n".join(part.strip() for part in parts if part.strip())
    if not text and not files:
        return _usage(ctx, category)
    content = checked(text, [_file(f) for f in files], rules)
    if category is None:
        fit = fitting(rules.categories, content.kinds)
        if not fit:
            return _usage(ctx, None, needs_file=True)
        if len(fit) == 1:
            category = rules.category(fit[0])
    where = Where(event.chat.platform, event.chat.chat_id, event.message_id)
    try:
        made = submissions.submit(
            ctx.conn,
            ctx.community,
            member_id=ctx.member.id,
            category=category,
            content=content,
            where=where,
            at=ctx.now,
        )
    except UserError as refusal:
        draft = refusal.context.get("draft")
        if refusal.key != "ugc/duplicate" or not draft:
            raise
        # Sent again before its category was chosen: placed where the member now says, else
        # asked again, rather than refused.
        found = submissions.submission_by_id(ctx.conn, ctx.community.id, refusal.context["number"])
        assert found is not None
        if category is None:
            return _ask_category(ctx, found)
        made = submissions.choose_category(ctx.conn, ctx.community, found, category)
        return _submitted(ctx, made, len(submissions.files_of(ctx.conn, made.id)))
    if made.state == DRAFT:
        return _ask_category(ctx, made)
    return _submitted(ctx, made, len(content.files))


def _file(given: IncomingFile) -> File:
    return File(
        given.kind, given.name, given.mime, given.size, given.data, given.refused, given.ref
    )


def _usage(ctx: Context, category: SubmissionCategory | None, needs_file: bool = False) -> Reply:
    rules = ctx.community.rules.submissions
    return Reply(
        "ugc/usage",
        {
            "categories": [_category(c) for c in rules.categories],
            "category": None if category is None else _category(category),
            "needs_file": needs_file,
            "per_day": rules.per_day,
        },
    )


def _category(category: SubmissionCategory) -> dict[str, object]:
    return {
        "key": category.key,
        "en": category.names.en,
        "zh_CN": category.names.zh_CN,
        "points": category.points,
        "needs": category.needs,
    }


def _ask_category(ctx: Context, draft: Submission) -> Reply:
    kinds = [shown_kind(item.kind, item.mime) for item in submissions.files_of(ctx.conn, draft.id)]
    offered = [
        category
        for category in ctx.community.rules.submissions.categories
        if category.key in fitting(ctx.community.rules.submissions.categories, kinds)
    ]
    choices = tuple(
        Choice(
            "ugc/category_button",
            f"/submitas {draft.id} {category.key}",
            {"category": _category(category)},
        )
        for category in offered
    )
    return Reply(
        "ugc/choose_category",
        {"number": draft.id, "categories": [_category(c) for c in offered]},
        choices=choices,
    )


def _submitted(ctx: Context, made: Submission, files: int) -> Reply:
    # The digest job is listed while submissions wait untold: the scheduler reads its jobs anew.
    ctx.outbox_platforms.add(SCHEDULE_CHANGED)
    return Reply(
        "ugc/submitted",
        {
            "number": made.id,
            "category": category_names(ctx.community, made.category),
            "links": len(made.links),
            "files": files,
            "contest": made.contest_id,
        },
    )


@router.command("submitas", hidden=True, params=CHOOSE_PARAMS)
def submit_as(ctx: Context) -> Reply:
    """/submitas N <category> (the buttons under a draft): the author chooses its category."""
    number_word, _, rest = ctx.event.arg_text.strip().partition(" ")
    number = parse_numbered(number_word)
    rules = ctx.community.rules.submissions
    category, left = read_category(rest, rules.categories)
    if number is None or category is None or left:
        return _usage(ctx, None)
    found = submissions.submission_by_id(ctx.conn, ctx.community.id, number)
    if found is None or found.member_id != ctx.member.id:
        # Pressed by someone else (a draft's buttons sit in the group): theirs to choose.
        return Reply("ugc/not_your_draft", {"number": number}, visibility=Visibility.PRIVATE)
    if found.state != DRAFT:
        return Reply("ugc/category_chosen", {"number": number})
    made = submissions.choose_category(ctx.conn, ctx.community, found, category)
    return _submitted(ctx, made, len(submissions.files_of(ctx.conn, made.id)))


@router.command("mysubmissions", words=("我的投稿",), params=MINE_PARAMS)
def my_submissions(ctx: Context) -> Reply:
    """/mysubmissions [page]: the member's submissions, newest first, with their states."""
    words = ctx.event.args
    asked = parse_number(words[0]) if len(words) == 1 else None
    if words and asked is None:
        return Reply("ugc/mine_usage")
    found = submissions.of_member(ctx.conn, ctx.community.id, ctx.member.id)
    page = page_of(found, asked, ctx.community.rules.submissions.list_entries)
    return Reply(
        "ugc/mine",
        {
            "submissions": [_mine(ctx, s) for s in page.items],
            "page": page.number,
            "pages": page.pages,
            "more": page.more,
            "total": len(found),
        },
        # Only the member sees it where the platform allows (a private chat, an ephemeral
        # answer); in a Telegram group it is said there, as /points is.
        visibility=Visibility.PRIVATE if ctx.event.private_reply else Visibility.CHAT,
    )


def _mine(ctx: Context, found: Submission) -> dict[str, object]:
    return {
        "number": found.id,
        "category": category_names(ctx.community, found.category) if found.category else None,
        "state": found.state,
        "featured": found.featured,
        "reason_key": found.reason_key,
        "reason_text": found.reason_text,
        "points": found.points,
        "reversed": found.reversed,
        "at": found.created_at.astimezone(ctx.community.timezone),
    }
