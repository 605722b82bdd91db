"""/ask, /answer and /questions: members ask (maybe with a bounty) and answer, by command or by
replying to a question's message; everyone reads the open questions; admins close one.
/accept: handlers/question_accept.py."""

from __future__ import annotations

from community import question_accepting, question_messages, questions
from community.jobs import SCHEDULE_CHANGED
from community.questions import Place, Question
from handlers.actions import ACTION_WORDS, read_action
from handlers.arguments import BadArgument, read_arguments
from handlers.parsing import parse_number, parse_numbered
from handlers.question_accept import ACCEPT_PARAMS, unhashed
from handlers.question_accept import accept as accept_answer
from handlers.routes import Context, Param, ParamKind, Router, admins_only
from handlers.types import Choice, Reply, Visibility
from loyalty.ledger import balance

router = Router()

ASK_PARAMS = (Param("question", ParamKind.TEXT),)
ANSWER_PARAMS = (
    Param("question", ParamKind.INTEGER, minimum=1),
    Param("answer", ParamKind.TEXT),
)
QUESTIONS_PARAMS = (Param("what", ParamKind.TEXT, required=False),)
# How a bounty is typed before the question: "--bounty 50", "--bounty=50", "--悬赏 50".
BOUNTY_FLAGS = ("--bounty", "--悬赏", "—bounty")
# /questions's one action, in the shared table of action words with its Chinese word.
_WORDS = {**ACTION_WORDS, "关闭": "close"}


class BadBounty(ValueError):
    """A bounty flag without a whole, positive number of points after it."""


def read_bounty(typed: str) -> tuple[int, str]:
    """The bounty typed before a question (0 when none) and the question's words."""
    text = typed.strip()
    flag = next((f for f in BOUNTY_FLAGS if text.casefold().startswith(f)), None)
    if flag is None:
        return 0, text
    rest = text[len(flag) :]
    if rest.startswith(("=", "＝")):
        rest = rest[1:]
    elif not rest[:1].isspace():
        raise BadBounty(text)
    words = rest.strip().split(None, 1)
    # Read long enough that a bounty of a trillion is "too big", not "not a number".
    amount = parse_number(words[0], max_digits=18) if words else None
    if amount is None or amount <= 0:
        raise BadBounty(text)
    return amount, words[1].strip() if len(words) > 1 else ""


@router.command("ask", params=ASK_PARAMS)
def ask(ctx: Context) -> Reply | None:
    """/ask [--bounty POINTS] <question> — open a numbered question in this group."""
    if ctx.event.chat.private:
        return Reply("questions/ask_in_group")
    return _ask(ctx, ctx.event.arg_text)


def _ask(ctx: Context, typed: str) -> Reply | None:
    rules = ctx.community.rules.questions
    try:
        bounty, text = read_bounty(typed)
    except BadBounty:
        # Where bounties are off, how to type one is beside the point.
        if rules.max_bounty == 0:
            return Reply("questions/no_bounties")
        return Reply("questions/bad_bounty", {"limit": rules.max_bounty})
    if not text:
        return Reply(
            "questions/ask_usage",
            {"minimum": rules.min_length, "limit": rules.max_length, "bounty": rules.max_bounty},
        )
    event, community, member = ctx.event, ctx.community, ctx.member
    chat = event.chat
    place = Place(chat.platform, chat.chat_id, event.channel_id, event.message_id)
    question = questions.ask(
        ctx.conn, community, member_id=member.id, text=text, bounty=bounty, place=place, at=ctx.now
    )
    # The Q&A sweep is listed while questions are pending: the scheduler reads its jobs anew.
    ctx.outbox_platforms.add(SCHEDULE_CHANGED)
    if event.message_id:
        question_messages.remember(
            ctx.conn, question.id, chat.platform, chat.chat_id, event.message_id
        )
    target = event.channel_id or (None if chat.needs_channel else chat.chat_id)
    if target is not None:
        post = Reply(
            "questions/posted",
            {
                "number": question.id,
                "name": ctx.display_name,
                "text": question.text,
                "bounty": bounty,
            },
        )
        question_messages.post(
            ctx.conn,
            community,
            question.id,
            post,
            platform=chat.platform,
            group_chat_id=chat.chat_id,
            target=target,
            reply_to=event.message_id or None,
            at=ctx.now,
        )
        ctx.outbox_platforms.add(chat.platform)
    if not event.answered_inline and target is not None:
        return None  # the post, quoting the asker's message, is the answer
    # An adapter that must answer at once (a Discord slash command, the console) says it is
    # posted; the post itself follows in the channel, where replies to it answer it.
    return Reply(
        "questions/asked",
        {
            "number": question.id,
            "bounty": bounty,
            "balance": balance(ctx.conn, member.id) if bounty else None,
        },
        visibility=Visibility.PRIVATE if event.private_reply else Visibility.CHAT,
    )


router.command("accept", params=ACCEPT_PARAMS, personal=False, shows_admin=True)(accept_answer)


@router.command("answer", params=ANSWER_PARAMS)
def answer(ctx: Context) -> Reply:
    """/answer N <text> — answer question N (from any platform of the community)."""
    try:
        typed = unhashed(ctx.event.arg_text, first_only=True)
        given = read_arguments(ANSWER_PARAMS, typed, ctx.community.rules)
    except BadArgument:
        return Reply("questions/answer_usage")
    number = given.numbers["question"]
    question = questions.question_by_id(ctx.conn, ctx.community.id, number)
    if question is None:
        return Reply("questions/unknown", {"number": number})
    return _answered(ctx, question, given.get("answer") or "")


def _answered(ctx: Context, question: Question, text: str) -> Reply:
    event = ctx.event
    place = Place(event.chat.platform, event.chat.chat_id, event.channel_id, event.message_id)
    given = questions.answer(
        ctx.conn,
        ctx.community,
        question,
        member_id=ctx.member.id,
        author=ctx.display_name,
        text=text,
        place=place,
        at=ctx.now,
    )
    ctx.outbox_platforms.update(given.platforms)
    context = {
        "question": question.id,
        "answer": given.answer.id,
        "questioner": question.asker,
        "own": question.member_id == ctx.member.id,
    }
    return Reply("questions/answered", context, line="questions/answered_line")


def on_message(ctx: Context) -> Reply | None:
    """A plain message this feature answers (see handlers/chat_messages.py); None: not ours.

    A reply to a question's message (its post, or the asker's own message) answers it; with
    [questions] prefix_questions, a message starting with a prefix ("问:", "Q:") asks one.
    Anything else costs no read at all."""
    event = ctx.event
    if event.chat.private or ctx.acting_member is None:
        return None
    if event.replied_id and event.text.strip():
        chat = event.chat
        number = question_messages.question_replied_to(
            ctx.conn, ctx.community.id, chat.platform, chat.chat_id, event.replied_id
        )
        question = None
        if number is not None:
            question = questions.question_by_id(ctx.conn, ctx.community.id, number)
        # The asker replying under their own question adds to it ("anyone?", "thanks"); they
        # answer it themselves with /answer.
        if question is not None and question.member_id != ctx.acting_member.id:
            return _answered(ctx, question, event.text)
    rules = ctx.community.rules.questions
    if rules.prefix_questions:
        asked = _after_prefix(event.text, rules.prefixes)
        if asked is not None:
            return _ask(ctx, asked)
    return None


def _after_prefix(text: str, prefixes: tuple[str, ...]) -> str | None:
    """The words after a question prefix the message starts with (any case), else None."""
    stripped = text.lstrip()
    folded = stripped.casefold()
    for prefix in prefixes:
        if prefix and folded.startswith(prefix.casefold()):
            return stripped[len(prefix) :]
    return None


@router.command("questions", params=QUESTIONS_PARAMS, personal=False, shows_admin=True)
def list_questions(ctx: Context) -> Reply:
    """/questions — the open questions; /questions N — one with its answers; admins:
    /questions close N."""
    if not ctx.event.arg_text.strip():
        return _open_list(ctx)
    shown = parse_numbered(ctx.event.arg_text)
    if shown is not None:
        return _shown(ctx, shown)
    action, rest = read_action(ctx.event.arg_text, _WORDS)
    number = parse_numbered(rest) if rest and len(rest.split()) == 1 else None
    if action == "close" and number is not None:
        if not ctx.is_admin:
            return admins_only(ctx, "questions close")
        question, returned = question_accepting.close(
            ctx.conn, ctx.community, number=number, actor=ctx.actor, at=ctx.now
        )
        return Reply("questions/closed_now", {"number": question.id, "returned": returned})
    return Reply("questions/usage", {"is_admin": ctx.is_admin})


def _open_list(ctx: Context) -> Reply:
    rules = ctx.community.rules.questions
    found, total = questions.open_questions(ctx.conn, ctx.community.id, rules.list_entries)
    return Reply(
        "questions/list",
        {
            "questions": [
                {
                    "number": q.id,
                    # One line each: a question's own line breaks must not make lines that
                    # pass for other questions.
                    "text": " ".join(q.text.split()),
                    "asker": q.asker,
                    "answers": q.answers,
                    "bounty": q.bounty_held,
                    "asked_at": q.created_at.astimezone(ctx.community.timezone),
                }
                for q in found
            ],
            "total": total,
        },
    )


def _shown(ctx: Context, number: int) -> Reply:
    question = questions.question_by_id(ctx.conn, ctx.community.id, number)
    if question is None:
        return Reply("questions/unknown", {"number": number})
    shown = questions.answers_of(ctx.conn, question, ctx.community.rules.questions.answers_shown)
    zone = ctx.community.timezone
    member = ctx.acting_member
    may_accept = question.is_open and (
        ctx.is_admin or (member is not None and member.id == question.member_id)
    )
    choices = tuple(
        Choice(
            "questions/accept_button",
            f"/accept {a.id} {question.id}",
            {"answer": a.id, "author": a.author},
        )
        for a in shown
        if may_accept
    )
    return Reply(
        "questions/question",
        {
            "number": question.id,
            "text": question.text,
            "asker": question.asker,
            "state": question.state,
            "bounty": question.bounty_held,
            "asked_at": question.created_at.astimezone(zone),
            "answers": [
                {
                    "number": a.id,
                    "author": a.author,
                    "text": a.text,
                    "platform": a.platform,
                    "accepted": a.accepted_at is not None,
                    "at": a.created_at.astimezone(zone),
                }
                for a in shown
            ],
            "total": question.answers,
            "can_accept": may_accept,
        },
        choices=choices,
    )
