"""What passes between discord.py and the core, without I/O: messages (and their edits), joins
and poll votes in as platform-neutral Events (interactions: discord_interactions.py), and the
escaping of what goes out. The adapter looks up what needs the network (the usernames behind
<@id> mentions, who voted) and passes it in."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import discord

from bot.rendering import plain_text
from handlers.parsing import event_from_text
from handlers.types import AccountRef, ChatRef, Event, EventKind

PLATFORM = "discord"
# <@123> and the older nickname form <@!123>; ids are snowflakes (at most 20 digits).
MENTION = re.compile(r"<@!?(\d{1,20})>")
MENTION_LOOKUPS = 10  # most distinct mentions in one message that are looked up by the adapter
# The one string option every slash command took before commands declared their parameters:
# Discord keeps sending it for commands an older version synced.
TEXT_OPTION = "text"
_PING = re.compile(r"@(everyone|here)")
# What a user's message may be: ordinary text, or a reply to another message.
_USER_MESSAGES = (discord.MessageType.default, discord.MessageType.reply)


def event_id(snowflake: int) -> str:
    """The event id of a Discord message or interaction."""
    return f"{PLATFORM}:{snowflake}"


def guild_chat(guild_id: int, name: str | None) -> ChatRef:
    """A server as the core sees it: one server is one group, whatever channel is used."""
    return ChatRef(PLATFORM, str(guild_id), title=name or str(guild_id), needs_channel=True)


def dm_chat(user: discord.abc.User) -> ChatRef:
    """The private conversation with one user."""
    return ChatRef(PLATFORM, f"dm:{user.id}", title=user.name, private=True)


def account_ref(user: discord.abc.User, *, is_admin: bool = False) -> AccountRef:
    """A Discord user as the core sees them; their username is their @handle."""
    return AccountRef(
        PLATFORM,
        str(user.id),
        user.display_name or user.name,
        username=user.name,
        is_platform_admin=is_admin,
        is_bot=user.bot,
    )


def manages_guild(user: discord.abc.User) -> bool:
    """Whether a message's author has Manage Server (what "admin" means on Discord)."""
    return isinstance(user, discord.Member) and user.guild_permissions.manage_guild


def mentioned_ids(text: str) -> list[int]:
    """The distinct user ids mentioned in `text` as <@id>, first ones first, a bounded few."""
    found = dict.fromkeys(int(match) for match in MENTION.findall(text))
    return list(found)[:MENTION_LOOKUPS]


def with_handles(text: str, handles: Mapping[int, str]) -> str:
    """`text` with every <@id> of a known user written as @username, the way the core finds
    members; unknown ids are left as they are."""

    def handle(match: re.Match[str]) -> str:
        name = handles.get(int(match.group(1)))
        return f"@{name}" if name else match.group(0)

    return MENTION.sub(handle, text)


def message_event(
    message: discord.Message,
    *,
    handles: Mapping[int, str],
    bot_username: str | None,
    bot_id: int | None = None,
) -> Event | None:
    """The event a message in a channel or DM is; None for what the bot does not act on
    (bots, itself included, webhooks, system messages, empty messages). It is addressed to the
    bot when it mentions the bot or replies to one of its messages."""
    shown = _shown(message, handles)
    if shown is None:
        return None
    event = event_from_text(
        event_id=event_id(message.id),
        chat=shown.chat,
        actor=shown.actor,
        text=shown.text,
        occurred_at=message.created_at,
        bot_username=bot_username,
    )
    # In a DM only the sender reads the answer; in a channel everybody does. It answers in the
    # message's channel, quoting it.
    return replace(
        event,
        attachments=shown.attachments,
        quoted=shown.forwarded,
        private_reply=shown.chat.private,
        addressed=event.addressed or (bot_id is not None and _speaks_to(message, bot_id)),
        message_id=str(message.id),
        channel_id=str(message.channel.id),
        replied_id=_replied_id(message),
    )


def _replied_id(message: discord.Message) -> str:
    """The id of the message this one replies to ("" for none, and for a forward, which
    carries a reference too but answers nothing)."""
    reference = message.reference
    if message.type is not discord.MessageType.reply or reference is None:
        return ""
    return "" if reference.message_id is None else str(reference.message_id)


def edited_event(
    raw: discord.RawMessageUpdateEvent,
    *,
    handles: Mapping[int, str],
    bot_id: int | None = None,
) -> Event | None:
    """The event an edit of a message is: what the message now shows, never run as a command
    (an edit runs nothing). None for what is no edit of its words by a person: bots, webhooks,
    system messages, and updates without content or without an edit time (Discord also sends
    MESSAGE_UPDATE when links unfurl into embeds, or a message is pinned).

    Each edit is an event of its own (its edit time tells it apart); a later update that leaves
    the edit time as it was (embeds resolving after the edit) has the same id, and changes
    nothing a second time."""
    data: Mapping[str, Any] = raw.data
    stamp = data.get("edited_timestamp")
    message = raw.message
    if "content" not in data or not stamp or message.edited_at is None:
        return None
    shown = _shown(message, handles)
    if shown is None:
        return None
    chat = shown.chat
    return Event(
        f"{PLATFORM}:edit:{message.id}:{stamp}",
        chat,
        shown.actor,
        message.edited_at,
        EventKind.EDITED,
        shown.text,
        attachments=shown.attachments,
        quoted=shown.forwarded,
        private_reply=chat.private,
        addressed=chat.private or (bot_id is not None and _speaks_to(message, bot_id)),
        message_id=str(message.id),
        channel_id=str(message.channel.id),
    )


@dataclass(frozen=True, slots=True)
class _Shown:
    """What a person's message shows, where and by whom, as the core reads it."""

    chat: ChatRef
    actor: AccountRef
    text: str  # mentions of known users as @username
    attachments: tuple[str, ...]
    # A forwarded message's words: shown to everyone here, though no command of this one.
    forwarded: str = ""


def _shown(message: discord.Message, handles: Mapping[int, str]) -> _Shown | None:
    """None for what the bot does not act on: bots (itself included), webhooks, system
    messages, messages outside any chat it can tell, empty messages."""
    author = message.author
    if author.bot or message.webhook_id is not None or message.type not in _USER_MESSAGES:
        return None
    chat = message_chat(message)
    if chat is None:
        return None
    text = with_handles(message.content, handles)
    attachments = tuple(_attachment(item) for item in message.attachments)
    # A forward (one click) carries the original's words in its snapshots, not its content.
    forwarded = "\n".join(snapshot.content for snapshot in message.message_snapshots)
    if not text.strip() and not attachments and not forwarded.strip():
        return None
    actor = account_ref(author, is_admin=not chat.private and manages_guild(author))
    return _Shown(chat, actor, text, attachments, forwarded)


def _speaks_to(message: discord.Message, user_id: int) -> bool:
    """Whether a message mentions the user or replies to one of their messages (a reply that
    pings its author lists them among the mentions as well; one that does not, only here)."""
    if any(user.id == user_id for user in message.mentions):
        return True
    reference = message.reference
    if reference is None:
        return False
    replied = reference.resolved or reference.cached_message
    return isinstance(replied, discord.Message) and replied.author.id == user_id


def message_chat(message: discord.Message) -> ChatRef | None:
    """The chat a message was posted in; None when it cannot be told (no guild, no DM)."""
    if message.guild is not None:
        return guild_chat(message.guild.id, message.guild.name)
    if isinstance(message.channel, discord.DMChannel):
        return dm_chat(message.author)
    # A server the client has no cache of: the channel still knows its server's id.
    guild_id = getattr(message.channel, "guild_id", None)
    return guild_chat(guild_id, None) if isinstance(guild_id, int) else None


def joined_event(member: discord.Member, *, now: datetime) -> Event | None:
    """The event a newcomer to a server is; None for bots. They are greeted in the server's
    system channel (where Discord says they joined), else in its posting channel."""
    if member.bot:
        return None
    at = member.joined_at or now
    # A join has no snowflake of its own; who, where and when make it one.
    guild = member.guild
    key = f"{PLATFORM}:joined:{guild.id}:{member.id}:{int(at.timestamp())}"
    greeted = guild.system_channel
    return Event(
        key,
        guild_chat(guild.id, guild.name),
        account_ref(member),
        at,
        EventKind.JOINED,
        "",
        channel_id=str(greeted.id) if greeted is not None else "",
    )


def vote_event(
    raw: discord.RawPollVoteActionEvent,
    *,
    actor: AccountRef,
    guild_name: str | None,
    added: bool,
    at: datetime,
    stamp: int,
) -> Event:
    """The event a vote in a native poll is (the poll's message id is its native id). Our polls
    are single-choice: an added vote is that answer, a removed one withdraws the vote.

    Vote events carry no id of their own, and the same vote can be cast, withdrawn and cast
    again: `stamp` (a fresh number per event received) keeps those apart. Nothing needs it to
    match a redelivery: Discord does not dispatch an event again once a session received it.
    """
    action = "add" if added else "remove"
    key = f"{PLATFORM}:vote:{raw.message_id}:{raw.user_id}:{raw.answer_id}:{action}:{stamp}"
    if raw.guild_id is not None:
        chat = guild_chat(raw.guild_id, guild_name)
    else:
        chat = ChatRef(PLATFORM, f"dm:{raw.user_id}", title=actor.username or "", private=True)
    return Event(
        key,
        chat,
        actor,
        at,
        EventKind.VOTE,
        "",
        poll_ref=str(raw.message_id),
        options=(raw.answer_id - 1,) if added else (),  # Discord numbers answers from 1
    )


def payload_account(data: Mapping[str, Any]) -> AccountRef:
    """A member (or user) as the REST API sends them, as the core sees them."""
    user: Mapping[str, Any] = data.get("user") or data
    name = str(user["username"])
    shown = data.get("nick") or user.get("global_name") or name
    return AccountRef(
        PLATFORM, str(user["id"]), str(shown), username=name, is_bot=bool(user.get("bot"))
    )


def _attachment(item: discord.Attachment) -> str:
    kind = (item.content_type or "").partition("/")[0]
    label = {"image": "photo", "video": "video"}.get(kind, "document")
    return f"{label}:{item.url}"


# Out: escaping ------------------------------------------------------------------------------


# What Discord's Markdown acts on, each shown as typed by a backslash before it. Anywhere: the
# inline markers, a backslash itself, [ ] and ( (a masked link "[a](https://x)" forms even
# across an escaped "]", with a "[" the template wrote), and < ("<@123>", "<#1>", "<t:1>"
# render as pills). At the start of a line (a value may begin one): quotes, headings, -#
# subtext, list items, and "2023." (Discord would number it, and renumber "1." after "1.").
# discord.utils.escape_markdown misses the last ones and escapes "[a](b) [c](d)" once, leaving
# the second link active. Links stay as typed: nothing formats inside one, and a backslash
# would break it.
_MARKDOWN = re.compile(
    r"(?P<link>https?://[^\s<]+[^<.,:;\"')\]\s])|(?P<char>[\\*_`~|\[\](<])"
    r"|^(?P<indent>[ \t]*)(?:(?P<digits>\d+)\.(?=\s|$)|(?P<start>[>#-]))",
    re.MULTILINE,
)


def _escape_markdown(found: re.Match[str]) -> str:
    if found["link"]:
        return found["link"]
    if found["char"]:
        return "\\" + found["char"]
    if found["digits"]:
        return f"{found['indent']}{found['digits']}\\."
    return f"{found['indent']}\\{found['start']}"


def discord_markdown(value: str) -> str:
    """Escaping for Discord Markdown: plain_text (what is never shown goes), then Markdown and
    mention syntax shown as typed. allowed_mentions already stops pings; @everyone/@here get a
    zero-width space as well (after plain_text dropped any typed one), so they do not even
    look like one."""
    escaped = _MARKDOWN.sub(_escape_markdown, plain_text(value))
    return _PING.sub("@\u200b\\1", escaped)
