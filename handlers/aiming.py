"""Whom an admin's command names: a platform's mention at the start of its words, a typed
@handle, or the author of the message it replies to; the member behind each, and how an answer
names them beyond doubt. The pieces /award and /deduct, /birthday @member and /ambassador
share; each command keeps its own order of looking (an amount first, an admin check)."""

from __future__ import annotations

from community import members
from community.members import Member
from handlers.routes import Context
from handlers.text import strip_invisible
from handlers.types import AccountRef, Event, Reply


def leading_mention(event: Event, text: str) -> tuple[AccountRef, str] | None:
    """The account a platform's mention at the start of `text` stands for (a Telegram text
    mention, a Discord <@id>), and the words after it; None when the text starts with none."""
    for mention in event.mentions:
        shown = strip_invisible(mention.shown).strip()
        after = text[len(shown) :]
        if shown and text.startswith(shown) and (not after or after[0].isspace()):
            return mention.account, after.strip()
    return None


def typed_handle(text: str) -> tuple[str, str] | None:
    """The @handle the text starts with (a full-width ＠ read as @) and the words after it;
    None when the first word is no handle."""
    # Any whitespace ends the handle: Chinese keyboards type U+3000 between words.
    words = text.split(None, 1)
    if not words:
        return None
    first = "@" + words[0][1:] if words[0].startswith("＠") else words[0]
    if not first.startswith("@"):
        return None
    return first, words[1].strip() if len(words) > 1 else ""


def member_by_handle(ctx: Context, handle: str) -> tuple[Member, str] | Reply:
    """The member holding a typed handle on this platform, and the handle as the answer shows
    it; else the polite refusal."""
    found = members.find_by_handle(
        ctx.conn, community_id=ctx.community.id, handle=handle, platform=ctx.event.chat.platform
    )
    if found is None:
        return Reply("points/unknown_member", {"handle": handle})
    return found, f"@{members.username_key(handle)}"


def not_a_person(account: AccountRef) -> Reply | None:
    """The refusal for an account that is nobody to act on: a channel, a group speaking
    through an anonymous admin, a bot."""
    if account.anonymous or account.is_bot:
        return Reply("points/not_a_person", {"name": account.display_name, "bot": account.is_bot})
    return None


def vouched_member(ctx: Context, account: AccountRef) -> Member | Reply:
    """The member behind an account the platform named; a quiet member becomes a member now
    (the platform vouches for the account, unlike a typed handle, which names whoever holds
    it). The refusal for an account that is nobody."""
    refused = not_a_person(account)
    if refused is not None:
        return refused
    return members.identify(
        ctx.conn,
        community_id=ctx.community.id,
        platform=account.platform,
        user_id=account.user_id,
        display_name=account.display_name,
        username=account.username,
        at=ctx.now,
    )


def handle_of(account: AccountRef) -> str:
    """How an answer names an account beyond doubt: its handle, or with none its account id
    (as /me shows it)."""
    return f"@{members.username_key(account.username)}" if account.username else account.key
