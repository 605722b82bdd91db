"""Telegram updates into platform-neutral Events. No I/O here: the adapter looks up what needs
the network (is this person an admin?) and passes it in."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from telegram import (
    CallbackQuery,
    Chat,
    ChatMember,
    ChatMemberUpdated,
    Message,
    MessageEntity,
    Update,
    User,
)

from bot.adapters.telegram_files import AttachedFile, AttachedMedia, message_media
from handlers.parsing import event_from_button, event_from_text
from handlers.types import AccountRef, ChatRef, Event, EventKind, Mention

PLATFORM = "telegram"
_OUTSIDE = (ChatMember.LEFT, ChatMember.BANNED)


@dataclass(frozen=True, slots=True)
class Incoming:
    """What one update asks of the core, and what the adapter needs to answer it."""

    update_id: int
    events: tuple[Event, ...]
    # For a button press: the callback query to answer (Telegram spins the button until then).
    callback_query_id: str | None = None
    # Whether the events need to know if the actor is an admin (commands and buttons in groups).
    wants_admin_check: bool = False
    # A group became a supergroup: (old chat id, new chat id). Its community goes with it.
    migrated: tuple[str, str] | None = None
    # A command's attached document, for the adapter to fetch.
    file: AttachedFile | None = None
    # A command's photo, video or document (Event.media), for the adapter to fetch.
    media: tuple[AttachedMedia, ...] = ()


def inbox_id(update_id: int) -> str:
    """The event id (and inbox key) of a Telegram update."""
    return f"{PLATFORM}:{update_id}"


def chat_ref(chat: Chat) -> ChatRef:
    """A Telegram chat as the core sees it."""
    private = chat.type == Chat.PRIVATE
    title = chat.title or chat.full_name or str(chat.id)
    return ChatRef(PLATFORM, str(chat.id), title=title, private=private)


def account_ref(user: User, *, is_admin: bool = False) -> AccountRef:
    """A Telegram user as the core sees them."""
    name = user.full_name or user.username
    return _account(user.id, name, user.username, is_admin, is_bot=user.is_bot)


def chat_account(chat: Chat, *, is_admin: bool) -> AccountRef:
    """Someone speaking for a chat rather than as themselves: an anonymous group admin (the
    group), or a channel posting into a group. They share Telegram's stand-in user accounts
    (GroupAnonymousBot, Channel_Bot, "Telegram"), so the chat they speak for names them."""
    name = chat.title or chat.username
    return _account(chat.id, name, chat.username, is_admin, anonymous=True)


def _account(
    platform_id: int,
    name: str | None,
    username: str | None,
    is_admin: bool,
    *,
    anonymous: bool = False,
    is_bot: bool = False,
) -> AccountRef:
    return AccountRef(
        PLATFORM,
        str(platform_id),
        name or str(platform_id),
        username=username,
        is_platform_admin=is_admin,
        anonymous=anonymous,
        is_bot=is_bot,
    )


def read_update(
    update: Update, *, bot_username: str, bot_id: int, now: datetime
) -> Incoming | None:
    """The events in an update; None for updates the bot does not act on (bots, service
    messages, ...)."""
    event_id = inbox_id(update.update_id)
    if update.message is not None:
        return _message(update.update_id, event_id, update.message, bot_username, bot_id)
    if update.edited_message is not None:
        return _edited(update.update_id, event_id, update.edited_message, bot_id)
    if update.callback_query is not None:
        return _button(update.update_id, event_id, update.callback_query, bot_username, now)
    if update.chat_member is not None:
        return _member_joined(update.update_id, event_id, update.chat_member)
    answer = update.poll_answer
    if answer is None:
        return None
    if answer.voter_chat is not None:
        # An anonymous admin or a channel voting: the core tells votes of a chat from a member's.
        voter = chat_account(answer.voter_chat, is_admin=False)
    elif answer.user is not None and not answer.user.is_bot:
        voter = account_ref(answer.user)
    else:
        return None
    vote = Event(
        event_id,
        # A poll answer names no chat; the core finds the poll (and its community) by id.
        ChatRef(PLATFORM, ""),
        voter,
        now,
        EventKind.VOTE,
        "",
        poll_ref=answer.poll_id,
        options=tuple(answer.option_ids),
        from_inbox=True,
    )
    return Incoming(update.update_id, (vote,))


def with_admin(incoming: Incoming, is_admin: bool | None) -> Incoming:
    """The same update, with the platform's answer to "is the actor an admin here?" (None:
    Telegram could not say)."""
    events = tuple(
        replace(event, actor=replace(event.actor, is_platform_admin=is_admin))
        for event in incoming.events
    )
    return replace(incoming, events=events)


def _message(
    update_id: int, event_id: str, message: Message, bot_username: str, bot_id: int
) -> Incoming | None:
    if message.migrate_from_chat_id is not None:
        # The first message in a supergroup that used to be a group: Telegram gave it a new id.
        return Incoming(
            update_id, (), migrated=(str(message.migrate_from_chat_id), str(message.chat.id))
        )
    actor = _sender(message)
    if actor is None:
        return None
    chat = chat_ref(message.chat)
    if message.new_chat_members:
        joined = tuple(
            Event(
                f"{event_id}:joined:{member.id}",
                chat,
                account_ref(member),
                message.date,
                EventKind.JOINED,
                "",
            )
            for member in message.new_chat_members
            if not member.is_bot
        )
        return Incoming(update_id, joined) if joined else None
    text = message.text or message.caption or ""
    attachments = _attachments(message)
    elsewhere = _shown_from_elsewhere(message, actor)
    if not text and not attachments and not any(elsewhere.values()):
        return None
    event = event_from_text(
        event_id=event_id,
        chat=chat,
        actor=actor,
        text=text,
        occurred_at=message.date,
        bot_username=bot_username,
    )
    event = replace(
        event,
        attachments=attachments,
        private_reply=chat.private,
        from_inbox=True,
        addressed=event.addressed or _replies_to(message, bot_id),
        message_id=str(message.message_id),  # the answer quotes it
        replied_id=_replied_id(message),  # a reply to a question's message answers it
        **elsewhere,
    )
    if event.kind is EventKind.COMMAND:
        # Whom the command points at without a typed handle (an admin's "/award 50" replying
        # to Bob's message, "/award Bob 50" with Bob linked): the core decides what it means.
        event = replace(
            event,
            target=_replied_author(message, bot_id),
            mentions=_mentions(message),
            replied_text=_replied_words(message),
        )
    # Only a person can be looked up: a chat speaking is an admin exactly when it is the group.
    asks = event.kind is EventKind.COMMAND and not chat.private and not actor.anonymous
    document = message.document
    attached = None
    media: tuple[AttachedMedia, ...] = ()
    if event.kind is EventKind.COMMAND:
        if document is not None:
            name = document.file_name or f"{document.file_unique_id}.txt"
            attached = AttachedFile(document.file_id, name, document.file_size)
        media = message_media(message) or _replied_media(message, actor)
    return Incoming(update_id, (event,), wants_admin_check=asks, file=attached, media=media)


def _member_joined(update_id: int, event_id: str, change: ChatMemberUpdated) -> Incoming | None:
    """Someone joined through an invite link (chat_member updates reach a bot that is an admin
    and asks for them): a JOINED event naming the link (its name, which /invite set to the
    invitation's code, else the link). Joins without a link are told by the group's "joined"
    message already."""
    link = change.invite_link
    user = change.new_chat_member.user
    joined = change.old_chat_member.status in _OUTSIDE and change.new_chat_member.status not in (
        *_OUTSIDE,
        ChatMember.RESTRICTED,
    )
    if link is None or not joined or user.is_bot:
        return None
    event = Event(
        f"{event_id}:joined:{user.id}",
        chat_ref(change.chat),
        account_ref(user),
        change.date,
        EventKind.JOINED,
        "",
        invite=link.name or link.invite_link,
        join_told=True,
    )
    return Incoming(update_id, (event,))


def _edited(update_id: int, event_id: str, message: Message, bot_id: int) -> Incoming | None:
    """A message edited after it was sent: what it now shows, never parsed as a command (an
    edit runs nothing). Each edit comes as an update of its own, so its update id is its id."""
    actor = _sender(message)
    if actor is None:
        return None
    text = message.text or message.caption or ""
    attachments = _attachments(message)
    elsewhere = _shown_from_elsewhere(message, actor)
    if not text and not attachments and not any(elsewhere.values()):
        return None
    chat = chat_ref(message.chat)
    event = Event(
        event_id,
        chat,
        actor,
        message.edit_date or message.date,
        EventKind.EDITED,
        text,
        attachments=attachments,
        private_reply=chat.private,
        addressed=chat.private or _replies_to(message, bot_id),
        from_inbox=True,
        message_id=str(message.message_id),
        **elsewhere,
    )
    return Incoming(update_id, (event,))


def _shown_from_elsewhere(message: Message, actor: AccountRef) -> dict[str, Any]:
    """What a message shows of another one, for the core to treat as made public: the text it
    quotes, and whether it replies to the sender's private chat with the bot ("reply in
    another chat" shows that message in the group, though Telegram passes on none of its
    text)."""
    quote = message.quote.text if message.quote is not None else ""
    elsewhere = message.external_reply
    private = (
        elsewhere is not None
        and elsewhere.chat is not None
        and elsewhere.chat.type == Chat.PRIVATE
        and str(elsewhere.chat.id) == actor.user_id
    )
    return {"quoted": quote, "shows_private_chat": private}


def _sender(message: Message) -> AccountRef | None:
    """Who a message is from as the core sees them; None for bots (and service messages
    without a sender)."""
    user = message.from_user
    speaks_for = message.sender_chat
    if user is None or (user.is_bot and speaks_for is None):
        return None
    if speaks_for is not None:
        # An anonymous admin writes as the group itself (Telegram vouches that they are an
        # admin); anyone else with a sender_chat posts as a channel, which is nobody's admin.
        return chat_account(speaks_for, is_admin=speaks_for.id == message.chat.id)
    return account_ref(user)


def _button(
    update_id: int, event_id: str, query: CallbackQuery, bot_username: str, now: datetime
) -> Incoming:
    message = query.message
    chat = (
        chat_ref(message.chat)
        if message is not None
        else ChatRef(PLATFORM, str(query.from_user.id), private=True)
    )
    pressed = event_from_button(
        event_id=event_id,
        chat=chat,
        actor=account_ref(query.from_user),
        data=query.data or "",
        occurred_at=now,
        bot_username=bot_username,
    )
    # The adapter answers the press itself (an alert for the presser alone): the outbox keeps
    # the answer back until it says whether it did.
    event = replace(pressed, from_inbox=True, answered_inline=True)
    return Incoming(
        update_id, (event,), callback_query_id=query.id, wants_admin_check=not chat.private
    )


def _replied(message: Message) -> Message | None:
    """The message this one answers, if any. In a forum every message of a topic "replies" to
    the topic's opening notice, which says nothing about whom it is meant for: no reply."""
    replied = message.reply_to_message
    if replied is None or replied.forum_topic_created is not None:
        return None
    if message.is_topic_message and replied.message_id == message.message_thread_id:
        return None  # the topic's header, however Telegram happens to describe it
    return replied


def _replied_id(message: Message) -> str:
    """The id of the message this one replies to in its chat ("" when it replies to none)."""
    replied = _replied(message)
    return "" if replied is None else str(replied.message_id)


def _replies_to(message: Message, bot_id: int) -> bool:
    """Whether a message answers one of the bot's."""
    replied = _replied(message)
    return replied is not None and replied.from_user is not None and replied.from_user.id == bot_id


def _replied_author(message: Message, bot_id: int) -> AccountRef | None:
    """Who wrote the message a command replies to: a chat for a channel post or an anonymous
    admin's message (Telegram's stand-in user is nobody), another bot as a bot. A reply to this
    bot addresses it and points at nobody."""
    replied = _replied(message)
    if replied is None:
        return None
    if replied.sender_chat is not None:
        return chat_account(replied.sender_chat, is_admin=False)
    user = replied.from_user
    if user is None or user.id == bot_id:
        return None
    return account_ref(user)


def _mentions(message: Message) -> tuple[Mention, ...]:
    """The person linked by Telegram (a text_mention: a member without a @username) where a
    command's first argument stands, with the words shown for them. One linked further on (in
    the reason) names nobody the command is for: whoever picks their own first name can be
    linked there. Offsets are UTF-16 code units, as Telegram counts them."""
    kinds: list[str | None] = [MessageEntity.TEXT_MENTION, MessageEntity.BOT_COMMAND]
    found = message.parse_entities(kinds) if message.text else message.parse_caption_entities(kinds)
    text = message.text or message.caption or ""
    commands = [e for e in found if e.type == MessageEntity.BOT_COMMAND and e.offset == 0]
    if not commands:
        return ()
    units = text.encode("utf-16-le")
    after_command = units[: commands[0].length * 2].decode("utf-16-le", errors="ignore")
    rest = text[len(after_command) :]
    first_argument = after_command + rest[: len(rest) - len(rest.lstrip())]
    at = len(first_argument.encode("utf-16-le")) // 2
    linked = MessageEntity.TEXT_MENTION
    return tuple(
        Mention(shown, account_ref(entity.user))
        for entity, shown in found.items()
        if entity.type == linked and entity.user is not None and entity.offset == at
    )


def _replied_words(message: Message) -> str:
    """What the message a command replies to says (its text, or its caption)."""
    replied = _replied(message)
    return "" if replied is None else replied.text or replied.caption or ""


def _replied_media(message: Message, actor: AccountRef) -> tuple[AttachedMedia, ...]:
    """The files of the message a command replies to, when that message is the actor's own
    (a member submitting the photo they posted before); nobody else's."""
    replied = _replied(message)
    if replied is None or actor.anonymous or replied.sender_chat is not None:
        return ()
    author = replied.from_user
    if author is None or str(author.id) != actor.user_id:
        return ()
    return message_media(replied, from_reply=True)


def _attachments(message: Message) -> tuple[str, ...]:
    found: list[str] = []
    if message.photo:
        found.append(f"photo:{message.photo[-1].file_id}")
    if message.document is not None:
        found.append(f"document:{message.document.file_id}")
    if message.video is not None:
        found.append(f"video:{message.video.file_id}")
    return tuple(found)
