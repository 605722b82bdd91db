"""/review and /reviewer: reviewers decide on pending submissions privately (approve, feature,
reject with a reason); admins add reviewers and reverse a decision once.

/review shows the oldest pending submission with its buttons; each button names the
submission it decides, so an old one decides that one or says it was decided already. After
a decision the next one is shown, under a line saying what was done."""

from __future__ import annotations

from typing import Any

from community import admins, members, submission_reviewers, submissions
from community.members import Member
from community.submission_review import (
    APPROVE,
    FEATURE,
    REJECT,
    Decided,
    decide,
    read_reason,
    reverse,
)
from community.submissions import Submission, category_names
from handlers.actions import ACTION_WORDS, read_action
from handlers.parsing import parse_numbered
from handlers.routes import Context, Param, ParamKind, Router, admins_only
from handlers.text import strip_invisible
from handlers.types import Choice, Reply, Visibility

router = Router()

REVIEW_ACTIONS = ("next", APPROVE, FEATURE, REJECT, "reverse")
REVIEW_PARAMS = (
    Param("action", ParamKind.CHOICE, required=False, choices=REVIEW_ACTIONS),
    Param("submission", ParamKind.INTEGER, required=False, minimum=1),
    Param("reason", ParamKind.TEXT, required=False),
)
REVIEWER_ACTIONS = ("add", "remove", "list")
REVIEWER_PARAMS = (
    Param("action", ParamKind.CHOICE, choices=REVIEWER_ACTIONS),
    Param("member", ParamKind.MEMBER, required=False),
)
# What reviewers type besides the English words (通过 = approve, 精选 = feature, 驳回 = reject).
_WORDS = {
    **ACTION_WORDS,
    "通过": APPROVE,
    "批准": APPROVE,
    "精选": FEATURE,
    "拒绝": REJECT,
    "驳回": REJECT,
    "撤销": "reverse",
    "撤回": "reverse",
    "下一个": "next",
    "下一条": "next",
}


@router.command("review", words=("审核",), private=True, params=REVIEW_PARAMS)
def review(ctx: Context) -> Reply:
    """/review: the next pending submission; /review approve|feature N, /review reject N
    reason; admins: /review reverse N [reason]."""
    action, rest = read_action(ctx.event.arg_text, _WORDS)
    if action == "reverse":
        return _reverse(ctx, rest)
    if action not in ("", "next", APPROVE, FEATURE, REJECT):
        return Reply("ugc/review_usage", {"admin": ctx.is_admin})
    if not submission_reviewers.may_review(
        ctx.conn, ctx.community.id, ctx.member.id, admin=ctx.is_admin
    ):
        return Reply("ugc/not_reviewer", visibility=Visibility.PRIVATE)
    if action in ("", "next"):
        return _next(ctx, None)
    number, words = _numbered(rest)
    if number is None:
        return Reply("ugc/review_usage", {"admin": ctx.is_admin})
    reason_key, reason_text = read_reason(words) if action == REJECT else (None, None)
    decided = decide(
        ctx.conn,
        ctx.community,
        number,
        action,
        reviewer=ctx.actor,
        at=ctx.now,
        reason_key=reason_key,
        reason_text=reason_text,
    )
    ctx.outbox_platforms.update(decided.platforms)
    return _next(ctx, _done(decided, action))


def _numbered(rest: str) -> tuple[int | None, str]:
    """A submission's number and the words after it, whatever space parts them (a reason
    typed on the next line, after a full-width space)."""
    number_word, *words = rest.split(maxsplit=1) or [""]
    return parse_numbered(number_word), "".join(words)


def _done(decided: Decided, action: str) -> dict[str, Any]:
    found = decided.submission
    return {
        "number": found.id,
        "decision": action,
        "author": found.author,
        "points": decided.paid,
        "groups": decided.groups,
    }


def _next(ctx: Context, done: dict[str, Any] | None) -> Reply:
    found = submissions.next_pending(ctx.conn, ctx.community.id, ctx.member.id)
    if found is None:
        return Reply("ugc/queue_empty", {"done": done})
    return _card(ctx, found, done)


def _card(ctx: Context, found: Submission, done: dict[str, Any] | None) -> Reply:
    files = submissions.files_of(ctx.conn, found.id)
    number = found.id
    reasons = ctx.community.rules.submissions.reject_reasons
    choices = (
        Choice("ugc/approve_button", f"/review approve {number}", {"number": number}),
        Choice("ugc/feature_button", f"/review feature {number}", {"number": number}),
        *(
            Choice("ugc/reject_button", f"/review reject {number} {key}", {"reason": key})
            for key in reasons
        ),
    )
    return Reply(
        "ugc/review_item",
        {
            "done": done,
            "number": number,
            "author": found.author,
            "category": category_names(ctx.community, found.category),
            "contest": found.contest_id,
            "text": found.text,
            "links": list(found.links),
            "files": len(files),
            "at": found.created_at.astimezone(ctx.community.timezone),
            "waiting": submissions.pending_count(ctx.conn, ctx.community.id),
        },
        choices=choices,
        media=files,
    )


def _reverse(ctx: Context, rest: str) -> Reply:
    admin = ctx.is_admin or admins.is_admin(ctx.conn, ctx.community.id, ctx.member.id)
    if not admin:
        return admins_only(ctx, "review reverse")
    number, reason = _numbered(rest)
    if number is None:
        return Reply("ugc/review_usage", {"admin": True})
    done = reverse(ctx.conn, ctx.community, number, admin=ctx.actor, at=ctx.now, reason=reason)
    ctx.outbox_platforms.update(done.platforms)
    return Reply(
        "ugc/reversed",
        {
            "number": number,
            "author": done.submission.author,
            "state": done.submission.state,
            "points": abs(done.delta),
            "owed": done.owed,
        },
    )


# /reviewer -----------------------------------------------------------------------------------


@router.command("reviewer", admin=True, params=REVIEWER_PARAMS)
def reviewer(ctx: Context) -> Reply:
    """/reviewer add @member, /reviewer remove @member, /reviewer list."""
    action, rest = read_action(ctx.event.arg_text)
    if action == "list" and not rest:
        found = submission_reviewers.listing(ctx.conn, ctx.community.id)
        return Reply(
            "ugc/reviewers",
            {"reviewers": [{"name": r.name, "added_at": r.added_at} for r in found]},
        )
    if action not in ("add", "remove"):
        return Reply("ugc/reviewer_usage")
    aimed = _aimed(ctx, rest)
    if isinstance(aimed, Reply):
        return aimed
    change = submission_reviewers.add if action == "add" else submission_reviewers.remove
    changed = change(ctx.conn, ctx.community.id, aimed.id, actor=ctx.actor, at=ctx.now)
    return Reply(
        "ugc/reviewer_changed", {"name": aimed.display_name, "action": action, "changed": changed}
    )


def _aimed(ctx: Context, rest: str) -> Member | Reply:
    """The member a /reviewer names: a person the platform linked in the words, a typed
    @handle, or the author of the message the command replies to."""
    event = ctx.event
    words = rest.strip()
    account = None
    for mention in event.mentions:
        if strip_invisible(mention.shown).strip() == words:
            account = mention.account
    if account is None and not words and event.target is not None:
        account = event.target
    if account is not None:
        if account.anonymous or account.is_bot:
            return Reply(
                "points/not_a_person", {"name": account.display_name, "bot": account.is_bot}
            )
        found = members.find_by_account(
            ctx.conn,
            community_id=ctx.community.id,
            platform=account.platform,
            user_id=account.user_id,
        )
        if found is None:
            return Reply("points/unknown_member", {"handle": account.display_name})
        return found
    if not words or len(words.split()) > 1:
        return Reply("ugc/reviewer_usage")
    found = members.find_by_handle(
        ctx.conn, community_id=ctx.community.id, handle=words, platform=event.chat.platform
    )
    if found is None:
        return Reply("points/unknown_member", {"handle": words})
    return found
