"""The outbox: every message the bot sends, written in the unit of work of its cause.

A reply, a post to a group, a direct message, an edit, the end of a poll: each is a row here
before anything reaches a platform, so a crash between the commit and the send loses nothing.
One sender per platform drains the rows (bot/delivery, through outbox_drain.py), within the
platform's limits, and marks each delivered, postponed or failed. Rows hold the template and
its context, not words: they are rendered when sent, in the community's language of that
moment.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import Connection, Insert, bindparam, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from community.messages import Choice, Document, InviteSpec, Media, PollSpec, Reply, Visibility
from storage.schema import groups, outbox
from storage.sql import fit_text, insert_if_absent

log = logging.getLogger(__name__)

# The largest file a reply may carry (an export), in bytes. It rides in the outbox row as
# base64 (a third more), and Discord takes at most 10 MiB per message in a plain server.
DOCUMENT_MAX_BYTES = 8_000_000  # the platforms' limit, not a product rule: no setting


class DocumentTooBig(ValueError):
    """A reply's file is over DOCUMENT_MAX_BYTES: the feature that made it must cut it down."""


class Kind(StrEnum):
    """What a message is, for the platform: how it is sent and how it degrades."""

    REPLY = "reply"  # an answer in the chat that asked (quoting the asking message)
    POST = "post"  # a message of the bot's own in a group: a broadcast, a scheduled post
    DIRECT = "direct"  # to one member privately
    EDIT = "edit"  # new words for a message the bot posted before (else posted anew)
    END_POLL = "end_poll"  # close a native poll the bot posted


class State(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to send, as read from the outbox, its words in the community's locale."""

    id: int
    community_id: int
    platform: str
    chat_id: str
    kind: Kind
    reply: Reply
    group_chat_id: str | None = None
    reply_to: str | None = None
    edits: str | None = None
    recipient: str = ""
    attempts: int = 0
    # The outbox messages this one says together (a busy group's merged answers), if any.
    merged: tuple[int, ...] = ()

    @property
    def private(self) -> bool:
        """Whether it goes to one person's private chat (its own, gentler limit), not to a
        group: a group's refusals and silence concern the group, a person's do not."""
        return (
            self.group_chat_id is None
            or self.kind is Kind.DIRECT
            or self.reply.visibility is Visibility.PRIVATE
        )

    @property
    def key(self) -> str:
        """Names this message's content for the platform's duplicate checks (a Discord nonce):
        the same for a resend of the same message, different for any other merge of answers."""
        if not self.merged:
            return f"o{self.id}"
        ids = ",".join(map(str, self.merged)).encode()
        return "m" + hashlib.blake2b(ids, digest_size=6).hexdigest()


# Codec ---------------------------------------------------------------------------------------


def encode_reply(reply: Reply) -> dict[str, Any]:
    """A reply as the outbox keeps it (JSON: dates become ISO text, see storage/engine.py);
    its locale is chosen when it is sent."""
    payload: dict[str, Any] = {"template": reply.template, "context": reply.context}
    if reply.choices:
        payload["choices"] = [
            {"label": c.label, "command": c.command, "context": c.context} for c in reply.choices
        ]
    if reply.visibility is not Visibility.CHAT:
        payload["visibility"] = reply.visibility.value
    if reply.poll is not None:
        poll = reply.poll
        payload["poll"] = {"id": poll.poll_id, "question": poll.question, "options": poll.options}
        if poll.closes_at is not None:
            payload["poll"]["closes_at"] = poll.closes_at.isoformat()
        if poll.correct is not None:  # a quiz question
            payload["poll"] |= {"correct": poll.correct, "explanation": poll.explanation}
    if reply.ends_poll:
        payload["ends_poll"] = reply.ends_poll
    if reply.line:
        payload["line"] = reply.line
    if reply.document is not None:
        payload["document"] = encode_document(reply.document)
    if reply.invite is not None:
        payload["invite"] = {"code": reply.invite.code, "chat_id": reply.invite.chat_id}
    if reply.media:
        # What names each kept file, never its bytes (read back when sent: outbox_drain.due);
        # a broadcast of one photo to 500 groups keeps it once, not 500 times.
        payload["media"] = [
            {"id": m.media_id, "kind": m.kind, "name": m.name, "mime": m.mime} for m in reply.media
        ]
    return payload


def encode_document(document: Document) -> dict[str, str]:
    """A file as the outbox keeps it: its bytes in base64. Raises DocumentTooBig."""
    if len(document.content) > DOCUMENT_MAX_BYTES:
        raise DocumentTooBig(
            f"{document.name}: {len(document.content)} bytes, over {DOCUMENT_MAX_BYTES}"
        )
    data = base64.b64encode(document.content).decode("ascii")
    return {"name": document.name, "mime": document.mime, "data": data}


def _document(value: Mapping[str, Any] | None) -> Document | None:
    if value is None:
        return None
    try:
        content = base64.b64decode(value["data"], validate=True)
    except binascii.Error as error:
        raise ValueError(f"outbox document: {error}") from None
    return Document(str(value["name"]), content, str(value.get("mime") or "text/csv"))


def _invite(value: Mapping[str, Any] | None) -> InviteSpec | None:
    return None if value is None else InviteSpec(str(value["code"]), str(value["chat_id"]))


def _media(values: Sequence[Mapping[str, Any]]) -> tuple[Media, ...]:
    return tuple(
        Media(int(v["id"]), str(v["kind"]), str(v["name"]), str(v["mime"])) for v in values
    )


def decode_reply(payload: Mapping[str, Any], locale: str) -> Reply:
    """The reply written by encode_reply, in `locale`."""
    poll = payload.get("poll")
    return Reply(
        payload["template"],
        payload.get("context") or {},
        locale=locale,
        choices=tuple(
            Choice(c["label"], c["command"], c.get("context") or {})
            for c in payload.get("choices", ())
        ),
        visibility=Visibility(payload.get("visibility", Visibility.CHAT.value)),
        poll=None
        if poll is None
        else PollSpec(
            poll["id"],
            poll["question"],
            tuple(poll["options"]),
            closes_at=_moment(poll.get("closes_at")),
            correct=poll.get("correct"),
            explanation=poll.get("explanation") or "",
        ),
        ends_poll=payload.get("ends_poll"),
        line=payload.get("line"),
        document=_document(payload.get("document")),
        invite=_invite(payload.get("invite")),
        media=_media(payload.get("media") or ()),
    )


# Writing -------------------------------------------------------------------------------------

_INSERT = insert(outbox).returning(outbox.c.id)  # built once: building costs more than running


def enqueue(
    conn: Connection,
    *,
    community_id: int,
    platform: str,
    chat_id: str,
    kind: Kind,
    reply: Reply,
    at: datetime,
    group_chat_id: str | None = None,
    reply_to: str | None = None,
    edits: str | None = None,
    recipient: str = "",
    hold: timedelta = timedelta(),
) -> int:
    """Write one message to send; `hold` keeps the sender off it for a while (the adapter that
    holds a live Discord interaction answers through it first). Returns its id."""
    values = _row(community_id, platform, chat_id, kind, reply, at, group_chat_id, recipient)
    values["reply_to"] = None if reply_to is None else fit_text(reply_to, 64)
    values["not_before"] = at + hold
    if edits is not None:
        values["edits"] = fit_text(edits, 64)
    return int(conn.execute(_INSERT, values).scalar_one())


@dataclass(frozen=True, slots=True)
class Direct:
    """A private message to one member's account, queued with others (enqueue_directs)."""

    platform: str
    user_id: str
    reply: Reply
    name: str  # whom it is for, as the sender's log names them
    key: str | None = None  # queued at most once per key


_DIRECTS_AT_ONCE = 1000  # rows per statement: a job telling 100,000 members takes 100


def enqueue_directs(
    conn: Connection, *, community_id: int, at: datetime, messages: Sequence[Direct]
) -> set[str]:
    """Queue private messages, many per statement (a job's reminders to thousands of members
    would otherwise cost a round trip each); one whose key was queued before is skipped.
    Returns the platforms something was queued for."""
    statement = _insert_directs(conn.dialect.name)
    platforms: set[str] = set()
    for start in range(0, len(messages), _DIRECTS_AT_ONCE):
        rows = []
        for message in messages[start : start + _DIRECTS_AT_ONCE]:
            values = _row(
                community_id,
                message.platform,
                message.user_id,
                Kind.DIRECT,
                message.reply,
                at,
                None,
                message.name,
            )
            values["key"] = None if message.key is None else fit_text(message.key, 200)
            rows.append(values)
        platforms.update(conn.execute(statement, rows).scalars())
    return platforms


@cache
def _insert_directs(dialect_name: str) -> Insert:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement: Insert = dialect.insert(outbox).on_conflict_do_nothing().returning(outbox.c.platform)
    return statement


def _row(
    community_id: int,
    platform: str,
    chat_id: str,
    kind: Kind,
    reply: Reply,
    at: datetime,
    group_chat_id: str | None,
    recipient: str,
) -> dict[str, Any]:
    return {
        "community_id": community_id,
        "platform": platform,
        "chat_id": fit_text(chat_id, 64),
        "group_chat_id": None if group_chat_id is None else fit_text(group_chat_id, 64),
        "kind": kind.value,
        "reply_to": None,
        "payload": encode_reply(reply),
        "recipient": fit_text(recipient, 200),
        # Pending, no attempts yet: the columns' defaults (fewer values bound per event).
        "not_before": at,
        "created_at": at,
    }


@dataclass(frozen=True, slots=True)
class Broadcast:
    """What a broadcast wrote: messages queued, and groups it could not reach."""

    queued: int
    inactive: int  # groups that refused the bot lately: skipped until they speak again
    no_channel: int  # Discord servers with no posting channel yet
    platforms: frozenset[str] = frozenset()  # where messages were queued


_QUEUED_BY_KEY = select(outbox.c.id).where(outbox.c.key == bindparam("key"))


def broadcast(
    conn: Connection,
    community_id: int,
    reply: Reply | Callable[[str, str], Reply],
    *,
    key: str,
    at: datetime,
    tag: str | None = None,
) -> Broadcast:
    """One post per group of the community, on every platform, each rendered in that group's
    language when sent. `key` names this broadcast: written again (a retried job, a repeated
    event) it queues nothing twice. `reply` may be made per group, from its platform and chat
    (a poll is opened in each group); `tag` posts only to the groups that carry it."""
    rows = conn.execute(
        select(
            groups.c.platform,
            groups.c.chat_id,
            groups.c.posting_channel,
            groups.c.needs_channel,
            groups.c.inactive_since,
            groups.c.tags,
        ).where(groups.c.community_id == community_id, groups.c.private.is_(False))
    ).all()
    queued = inactive = no_channel = 0
    platforms: set[str] = set()
    for row in rows:
        if tag is not None and tag not in (row.tags or ()):
            continue
        if row.inactive_since is not None:
            inactive += 1
            continue
        # A group that is no channel itself (a Discord server) is posted to in its posting
        # channel, if it has one yet.
        target = row.posting_channel if row.needs_channel else row.chat_id
        if not target:
            no_channel += 1
            continue
        values_key = _digest(f"{key}\n{row.platform}\n{row.chat_id}")
        if callable(reply) and conn.execute(_QUEUED_BY_KEY, {"key": values_key}).first():
            continue  # queued by an earlier run: make nothing (a group's poll) twice
        post = reply(row.platform, row.chat_id) if callable(reply) else reply
        values = _row(community_id, row.platform, target, Kind.POST, post, at, row.chat_id, "")
        values["key"] = values_key
        if insert_if_absent(conn, outbox, values):
            queued += 1
            platforms.add(row.platform)
    return Broadcast(queued, inactive, no_channel, frozenset(platforms))


def _moment(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _digest(key: str) -> str:
    """A key of any length as a column value: two keys never share one by being cut short."""
    return hashlib.blake2b(key.encode(), digest_size=32).hexdigest()
