"""The platform-neutral values that cross between adapters and handlers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

# What the core says is a community value (a broadcast has no event): re-exported here, where
# handlers have always found it.
from community.messages import Choice, Media, PollSpec, Reply, Visibility

__all__ = [
    "AccountRef",
    "ChatRef",
    "Choice",
    "Event",
    "EventKind",
    "IncomingFile",
    "Media",
    "Mention",
    "PollSpec",
    "Reply",
    "Visibility",
]


@dataclass(frozen=True, slots=True)
class ChatRef:
    """A chat on some platform: a group, a channel or a private conversation."""

    platform: str
    chat_id: str
    title: str = ""
    private: bool = False
    # The operator controls this chat (the console): its admins need no adoption.
    trusted: bool = False
    # No message can be posted to the chat itself (a Discord server): its posts go to a
    # channel of it, the event's own or the group's posting channel.
    needs_channel: bool = False


@dataclass(frozen=True, slots=True)
class AccountRef:
    """Who acted, as the platform tells it."""

    platform: str
    user_id: str
    display_name: str
    username: str | None = None
    # Whether the platform calls them an admin of this chat; None when it was asked and could
    # not say (a failed Telegram getChatMember): the core then refuses to guess.
    is_platform_admin: bool | None = False
    # Speaks for a chat rather than as a person (a Telegram anonymous group admin, a channel
    # posting into a group): never a member, never earns; admin commands still work where the
    # platform vouches for them (is_platform_admin).
    anonymous: bool = False
    # A bot's account (another bot in the group, when a command points at its message): never
    # a member, never paid.
    is_bot: bool = False

    @property
    def key(self) -> str:
        """The account as community.toml's admins list and /me name it: "telegram:12345"."""
        return f"{self.platform}:{self.user_id}"


@dataclass(frozen=True, slots=True)
class Mention:
    """A person named in a message by the platform's own link rather than a typed @handle (a
    Telegram text_mention of someone without a username): the words shown, and whose they are."""

    shown: str
    account: AccountRef


class EventKind(StrEnum):
    """What sort of thing happened in the chat."""

    COMMAND = "command"
    MESSAGE = "message"
    # A button pressed under one of the bot's messages; its data is a command line.
    BUTTON = "button"
    # A vote in a native platform poll (Telegram sends no chat with it, only the poll's id).
    VOTE = "vote"
    # Someone joined the group: the actor is the newcomer.
    JOINED = "joined"
    # A message was edited after it was sent. Nothing is run for it (an edit is no command),
    # but what it now shows publicly still counts: a /link code in it is spent.
    EDITED = "edited"


@dataclass(frozen=True, slots=True)
class IncomingFile:
    """A photo, video or file a member sent with a command (a /submit), as the adapter fetched
    it. Bigger than the adapter's limit (ATTACHED_FILE_MAX_BYTES): no bytes, `refused` says so."""

    kind: str  # "photo", "video", "file"
    name: str
    mime: str
    size: int
    data: bytes = b""
    # The platform's own reference for it, where one can send it again (Telegram's file_id).
    ref: str = ""
    refused: str = ""  # "too_big"
    # It came from the message the command replies to (the actor's own), not the command's.
    from_reply: bool = False


@dataclass(frozen=True, slots=True)
class Event:
    """One thing a member did, with a stable id so it is handled once however often it arrives."""

    event_id: str
    chat: ChatRef
    actor: AccountRef
    occurred_at: datetime
    kind: EventKind
    text: str
    command: str | None = None
    args: tuple[str, ...] = ()
    arg_text: str = ""
    attachments: tuple[str, ...] = ()
    # Text the message shows from elsewhere (a Telegram quote, a Discord forward): never a
    # command, but it is made public as much as the message's own words are.
    quoted: str = ""
    # The message shows a message of the actor's private chat with the bot whose text the
    # platform does not pass on (Telegram's reply in another chat, without a quote): whatever
    # the bot told them there privately may now be public.
    shows_private_chat: bool = False
    # Whether the adapter can answer this one person privately (a private chat, a Discord
    # interaction answered ephemerally). Commands that show secrets need it.
    private_reply: bool = False
    # Meant for this bot in particular: a private chat, "/cmd@thisbot", a reply to one of its
    # messages, a slash command or a button. In a group, a command nobody here knows is only
    # answered when addressed (other bots in the group have commands of their own).
    addressed: bool = False
    # VOTE events: the platform's id of the poll and the chosen option indexes.
    poll_ref: str = ""
    options: tuple[int, ...] = ()
    # The adapter kept this event in the inbox before acknowledging it to the platform; the
    # unit of work that handles it removes it from there.
    from_inbox: bool = False
    # The account a command points at without a typed handle: the author of the message it
    # replies to (Telegram), a member picked in a platform's own picker. It may be a bot or
    # speak for a chat (`anonymous`): handlers that act on members refuse those.
    target: AccountRef | None = None
    # People linked in the command's text by the platform (Telegram text_mention). The text and
    # args stay as typed, so one parser reads every platform and the console; a handler that
    # expects a member where a mention's shown words stand takes the mention's account.
    mentions: tuple[Mention, ...] = ()
    # Where the answer goes, as the platform addresses it: the message to quote, and the
    # channel when the chat is not itself one (a Discord server's channel); "" means the chat.
    message_id: str = ""
    channel_id: str = ""
    # The message this one replies to (its platform id), when it is a reply: a reply to a
    # question answers it.
    replied_id: str = ""
    # A command that replies to a message: that message's text (a /submit of something the
    # member posted before; `target` is its author).
    replied_text: str = ""
    # A command's photos, videos and files, fetched by the adapter; a command with none that
    # replies to the actor's own message: that message's (each marked from_reply).
    media: tuple[IncomingFile, ...] = ()
    # The adapter answers this one itself the moment it is handled (a Discord interaction, a
    # Telegram button's alert, the console): the outbox keeps the answer back for a while,
    # and sends it the ordinary way only if the adapter never said it was delivered.
    answered_inline: bool = False
    # A small text file attached to a command (a CSV of coupon codes), as the adapter fetched
    # it: its name and its text ("" when none, or too big: `file_refused` then says why).
    file_name: str = ""
    file_text: str = ""
    file_refused: str = ""
    # JOINED events: the platform's invite the newcomer came through (a Telegram invite link,
    # a Discord invite code, a console invitation code), when the platform tells it.
    invite: str = ""
    # JOINED events: the platform told of this join already, in an event of its own that was
    # greeted (Telegram's "joined" message, then a chat_member update naming the link).
    join_told: bool = False
