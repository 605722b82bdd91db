"""What passes between discord.py and the core, without I/O: messages, interactions, joins and
poll votes in as platform-neutral Events; escaping, buttons, native polls and the slash command
menu out. The adapter looks up what needs the network (the usernames behind <@id> mentions, who
voted) and passes it in."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import TranslationContextLocation, TranslationContextTypes, locale_str

from bot.rendering import Renderer, plain_text
from handlers.parsing import event_from_button, event_from_text
from handlers.types import AccountRef, ChatRef, Event, EventKind, PollSpec, Reply

PLATFORM = "discord"
# <@123> and the older nickname form <@!123>; ids are snowflakes (at most 20 digits).
MENTION = re.compile(r"<@!?(\d{1,20})>")
MENTION_LOOKUPS = 10  # most distinct mentions in one message that are looked up by the adapter
TEXT_OPTION = "text"  # the one string option every slash command takes
CUSTOM_ID_LIMIT = 100
LABEL_LIMIT = 80
DESCRIPTION_LIMIT = 100
BUTTONS_LIMIT = 25  # five rows of five
# Discord's limits for a native poll; one that does not fit goes out as text with buttons.
POLL_QUESTION_LIMIT, POLL_ANSWER_LIMIT, POLL_ANSWERS_LIMIT = 300, 55, 10
# Discord wants every poll to end by itself, after 1 to 768 hours; ours stay open until /closepoll.
# A day is Discord's own default and what members expect of a chat poll; one an admin forgets
# then stops by itself instead of lingering for a month, and /closepoll still counts it later.
POLL_HOURS = 24
# Discord's locales for the command descriptions, per locale of ours.
MENU_LOCALES: Mapping[str, tuple[discord.Locale, ...]] = {
    "en": (discord.Locale.american_english, discord.Locale.british_english),
    "zh_CN": (discord.Locale.chinese,),
}
_PING = re.compile(r"@(everyone|here)")
# What a user's message may be: ordinary text, or a reply to another message.
_USER_MESSAGES = (discord.MessageType.default, discord.MessageType.reply)


def event_id(snowflake: int) -> str:
    """The event id of a Discord message or interaction."""
    return f"{PLATFORM}:{snowflake}"


def guild_chat(guild_id: int, name: str | None) -> ChatRef:
    """A server as the core sees it: one server is one group, whatever channel is used."""
    return ChatRef(PLATFORM, str(guild_id), title=name or str(guild_id))


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
    message: discord.Message, *, handles: Mapping[int, str], bot_username: str | None
) -> Event | None:
    """The event a message in a channel or DM is; None for what the bot does not act on
    (bots, itself included, webhooks, system messages, empty messages)."""
    author = message.author
    if author.bot or message.webhook_id is not None or message.type not in _USER_MESSAGES:
        return None
    chat = message_chat(message)
    if chat is None:
        return None
    text = with_handles(message.content, handles)
    attachments = tuple(_attachment(item) for item in message.attachments)
    if not text.strip() and not attachments:
        return None
    event = event_from_text(
        event_id=event_id(message.id),
        chat=chat,
        actor=account_ref(author, is_admin=not chat.private and manages_guild(author)),
        text=text,
        occurred_at=message.created_at,
        bot_username=bot_username,
    )
    # In a DM only the sender reads the answer; in a channel everybody does.
    return replace(event, attachments=attachments, private_reply=chat.private)


def message_chat(message: discord.Message) -> ChatRef | None:
    """The chat a message was posted in; None when it cannot be told (no guild, no DM)."""
    if message.guild is not None:
        return guild_chat(message.guild.id, message.guild.name)
    if isinstance(message.channel, discord.DMChannel):
        return dm_chat(message.author)
    # A server the client has no cache of: the channel still knows its server's id.
    guild_id = getattr(message.channel, "guild_id", None)
    return guild_chat(guild_id, None) if isinstance(guild_id, int) else None


def interaction_chat(interaction: discord.Interaction[Any]) -> ChatRef:
    """Where an interaction happened: its server (known to the client or not), else a DM."""
    if interaction.guild_id is not None:
        guild = interaction.guild
        return guild_chat(interaction.guild_id, guild.name if guild is not None else None)
    return dm_chat(interaction.user)


def interaction_actor(interaction: discord.Interaction[Any]) -> AccountRef:
    """Who used a command or pressed a button; Discord sends their resolved permissions."""
    in_guild = interaction.guild_id is not None
    return account_ref(interaction.user, is_admin=in_guild and interaction.permissions.manage_guild)


def slash_name(interaction: discord.Interaction[Any]) -> str:
    """The name of the slash command an interaction runs."""
    data: Mapping[str, Any] = interaction.data or {}
    return str(data.get("name", "")).lower()


def slash_text(interaction: discord.Interaction[Any]) -> str:
    """The value of a slash command's text option ("" when it was left out)."""
    data: Mapping[str, Any] = interaction.data or {}
    options: Sequence[Mapping[str, Any]] = data.get("options") or ()
    strings = [o for o in options if isinstance(o.get("value"), str)]
    chosen = next((o for o in strings if o.get("name") == TEXT_OPTION), None)
    if chosen is None and strings:
        chosen = strings[0]  # an option renamed since the last sync still carries the words
    return str(chosen["value"]).strip() if chosen is not None else ""


def resolved_handles(interaction: discord.Interaction[Any]) -> dict[int, str]:
    """Usernames Discord resolved with an interaction (for user options; mentions typed into a
    text option usually come without them, and the adapter looks those up)."""
    data: Mapping[str, Any] = interaction.data or {}
    resolved: Mapping[str, Any] = data.get("resolved") or {}
    users: Mapping[str, Mapping[str, Any]] = resolved.get("users") or {}
    return {
        int(user_id): str(user["username"])
        for user_id, user in users.items()
        if user_id.isdecimal() and user.get("username")
    }


def slash_event(
    interaction: discord.Interaction[Any], *, name: str, text: str, chat: ChatRef
) -> Event:
    """The event a slash command is: `/name text`, answered to the user alone when asked."""
    line = f"/{name} {text}".strip()
    return Event(
        event_id(interaction.id),
        chat,
        interaction_actor(interaction),
        interaction.created_at,
        EventKind.COMMAND,
        line,
        # Always a command, even a name the core no longer knows: it answers that politely.
        command=name,
        args=tuple(text.split()),
        arg_text=text,
        # Interactions can be answered ephemerally, so secrets may be shown.
        private_reply=True,
    )


def button_event(interaction: discord.Interaction[Any], *, chat: ChatRef) -> Event:
    """The event a pressed button is: its custom_id is the command line it sends."""
    custom_id = interaction.data.get("custom_id", "") if interaction.data else ""
    return event_from_button(
        event_id=event_id(interaction.id),
        chat=chat,
        actor=interaction_actor(interaction),
        data=str(custom_id),
        occurred_at=interaction.created_at,
    )


def joined_event(member: discord.Member, *, now: datetime) -> Event | None:
    """The event a newcomer to a server is; None for bots."""
    if member.bot:
        return None
    at = member.joined_at or now
    # A join has no snowflake of its own; who, where and when make it one.
    key = f"{PLATFORM}:joined:{member.guild.id}:{member.id}:{int(at.timestamp())}"
    return Event(
        key,
        guild_chat(member.guild.id, member.guild.name),
        account_ref(member),
        at,
        EventKind.JOINED,
        "",
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
    return AccountRef(PLATFORM, str(user["id"]), str(shown), username=name)


def _attachment(item: discord.Attachment) -> str:
    kind = (item.content_type or "").partition("/")[0]
    label = {"image": "photo", "video": "video"}.get(kind, "document")
    return f"{label}:{item.url}"


# Out: escaping, buttons, the command menu ----------------------------------------------------


def discord_markdown(value: str) -> str:
    """Escaping for Discord Markdown: control characters out, Markdown and mention syntax
    shown as typed. allowed_mentions already stops pings; @everyone/@here get a zero-width
    space as well, so they do not even look like one."""
    escaped = discord.utils.escape_markdown(plain_text(value))
    # "<@123>", "<#123>", "<t:...>" would render as pills; a backslash shows them as text.
    escaped = escaped.replace("<", "\\<")
    return _PING.sub("@\u200b\\1", escaped)


def reply_view(reply: Reply, labels: Renderer) -> discord.ui.View | None:
    """A reply's choices as buttons (labels rendered plain); each custom_id is the command line
    the button sends. Choices Discord cannot carry (too long, repeated, past 25) are left out."""
    if not reply.choices:
        return None
    view = discord.ui.View(timeout=None)
    seen: set[str] = set()
    for choice in reply.choices:
        custom_id = choice.command
        if len(custom_id) > CUSTOM_ID_LIMIT or custom_id in seen or len(seen) == BUTTONS_LIMIT:
            continue
        seen.add(custom_id)
        words = labels.render(Reply(choice.label, choice.context, reply.locale))
        label = shorten(" ".join(words.split()), LABEL_LIMIT) or custom_id[:LABEL_LIMIT]
        style = discord.ButtonStyle.secondary
        view.add_item(discord.ui.Button(label=label, custom_id=custom_id, style=style))
    return view if seen else None


def native_poll(spec: PollSpec) -> discord.Poll | None:
    """A poll as Discord's own (single choice, POLL_HOURS long); None when it does not fit
    Discord's limits (an option longer than 55 characters), so it goes out with buttons."""
    question, answers = plain_text(spec.question), [plain_text(o) for o in spec.options]
    fits = 0 < len(question) <= POLL_QUESTION_LIMIT and 0 < len(answers) <= POLL_ANSWERS_LIMIT
    if not fits or not all(0 < len(answer) <= POLL_ANSWER_LIMIT for answer in answers):
        return None
    poll = discord.Poll(question, timedelta(hours=POLL_HOURS), multiple=False)
    for answer in answers:
        poll.add_answer(text=answer)
    return poll


def poll_message_ref(channel_id: int, message_id: int) -> str:
    """What the core keeps as a native poll's message: its channel too, to end it from anywhere."""
    return f"{channel_id}/{message_id}"


def poll_message(ref: str) -> tuple[int, int] | None:
    """The (channel id, message id) of a poll_message_ref; None for anything else."""
    channel, _, message = ref.partition("/")
    return (int(channel), int(message)) if channel.isdecimal() and message.isdecimal() else None


def slash_command(
    name: str, renderer: Renderer, locale: str
) -> app_commands.Command[Any, ..., None]:
    """The slash command /name with one optional text option, described in `locale` (the
    translator adds the other locales at sync)."""
    description = locale_str(command_description(renderer, locale, name), command=name)
    command: app_commands.Command[Any, ..., None] = app_commands.Command(
        name=name, description=description, callback=_slash_signature
    )
    words = option_description(renderer, locale)
    describe = app_commands.describe(**{TEXT_OPTION: locale_str(words, option=TEXT_OPTION)})
    return describe(command)


def command_description(renderer: Renderer, locale: str, command: str) -> str:
    """A command's description for the slash menu (Discord requires 1 to 100 characters)."""
    return shorten(renderer.describe(locale, command) or f"/{command}", DESCRIPTION_LIMIT)


def option_description(renderer: Renderer, locale: str) -> str:
    """What the `text` option of every slash command is for (help/command_argument.j2)."""
    words = renderer.render(Reply("help/command_argument", locale=locale))
    return shorten(words, DESCRIPTION_LIMIT)


class CommandDescriptions(app_commands.Translator):
    """Slash command descriptions in every locale we have templates for (help/_commands.j2)."""

    def __init__(self, renderer: Renderer, default_locale: str) -> None:
        self._renderer = renderer
        self._default = default_locale
        self._ours = {theirs: ours for ours, locales in MENU_LOCALES.items() for theirs in locales}

    async def translate(
        self, string: locale_str, locale: discord.Locale, context: TranslationContextTypes
    ) -> str | None:
        ours = self._ours.get(locale)
        if ours is None or ours == self._default:
            return None  # the command's own description is in the default locale
        if context.location is TranslationContextLocation.command_description:
            command = string.extras.get("command")
            return command_description(self._renderer, ours, command) if command else None
        if context.location is TranslationContextLocation.parameter_description:
            return option_description(self._renderer, ours)
        return None


async def _slash_signature(interaction: discord.Interaction[Any], text: str | None = None) -> None:
    """The shape of every slash command (one optional text option); never called."""


def shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters, with an ellipsis when it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
