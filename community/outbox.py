"""The outbox: every message the bot sends, written in the unit of work of its cause.

A reply, a post to a group, a direct message, an edit, the end of a poll: each is a row here
before anything reaches a platform, so a crash between the commit and the send loses nothing.
One sender per platform drains the rows (bot/delivery), within the platform's limits, and marks
each delivered, postponed or failed. Rows hold the template and its context, not words: they
are rendered when sent, in the community's language of that moment.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, or_, select, update

from community.messages import Choice, PollSpec, Reply, Visibility
from storage.schema import communities, delivery_leases, groups, outbox
from storage.sql import fit_text, insert_if_absent

log = logging.getLogger(__name__)


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
    if reply.ends_poll:
        payload["ends_poll"] = reply.ends_poll
    if reply.line:
        payload["line"] = reply.line
    return payload


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
        ),
        ends_poll=payload.get("ends_poll"),
        line=payload.get("line"),
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


# Draining ------------------------------------------------------------------------------------

_DUE = (
    select(outbox, communities.c.locale)
    .join(communities, communities.c.id == outbox.c.community_id)
    .where(
        outbox.c.platform == bindparam("platform"),
        outbox.c.state == State.PENDING.value,
        outbox.c.not_before <= bindparam("now"),
    )
    .order_by(outbox.c.id)
    .limit(bindparam("limit"))
)


def due(conn: Connection, platform: str, now: datetime, limit: int) -> list[Outgoing]:
    """The platform's messages ready to send, oldest first. A row this version cannot read (a
    kind or payload from a newer one, after a downgrade) is logged and left, not sent, and
    does not stop the others."""
    found = conn.execute(_DUE, {"platform": platform, "now": now, "limit": limit})
    messages = []
    for row in found:
        try:
            messages.append(
                Outgoing(
                    id=row.id,
                    community_id=row.community_id,
                    platform=row.platform,
                    chat_id=row.chat_id,
                    kind=Kind(row.kind),
                    reply=decode_reply(row.payload, row.locale),
                    group_chat_id=row.group_chat_id,
                    reply_to=row.reply_to,
                    edits=row.edits,
                    recipient=row.recipient,
                    attempts=row.attempts,
                )
            )
        except (KeyError, TypeError, ValueError):
            log.warning("outbox row unreadable; left unsent", extra={"message_id": row.id})
    return messages


def recent_sends(conn: Connection, platform: str, since: datetime) -> list[tuple[str, bool, int]]:
    """Messages the platform accepted since `since`, per chat: (chat, private, how many). A
    process taking over the drain starts its limits from these, not from nothing."""
    found = conn.execute(
        select(
            outbox.c.chat_id,
            outbox.c.group_chat_id.is_(None).label("private"),
            # Merged answers share one posted message (and its ids): counted once.
            func.count(func.distinct(outbox.c.sent_ids)),
        )
        .where(
            outbox.c.platform == platform,
            outbox.c.state == State.SENT.value,
            outbox.c.sent_at >= since,
        )
        .group_by(outbox.c.chat_id, outbox.c.group_chat_id.is_(None))
    )
    return [(row[0], bool(row[1]), int(row[2])) for row in found]


_SENT = (
    update(outbox)
    .where(outbox.c.id == bindparam("message_id"), outbox.c.state == State.PENDING.value)
    .values(state=State.SENT.value, sent_at=bindparam("at"), sent_ids=bindparam("sent_ids"))
)
_HEARD = (
    update(groups)
    .where(
        groups.c.platform == bindparam("group_platform"),
        groups.c.chat_id == bindparam("group_chat"),
        or_(groups.c.refusals > 0, groups.c.inactive_since.is_not(None)),
    )
    .values(refusals=0, inactive_since=None)
)


def mark_sent(
    conn: Connection, sent: Sequence[tuple[Outgoing, Sequence[str]]], at: datetime
) -> None:
    """The platform accepted these (with the ids it gave the posted messages)."""
    if not sent:
        return
    conn.execute(
        _SENT,
        [
            {"message_id": m.id, "at": at, "sent_ids": fit_text(",".join(ids), 200)}
            for m, ids in sent
        ],
    )
    accepted = {(m.platform, m.group_chat_id) for m, _ in sent if not m.private}
    for platform, chat in accepted:
        conn.execute(_HEARD, {"group_platform": platform, "group_chat": chat})


def mark_delivered(conn: Connection, message_ids: Sequence[int], at: datetime) -> None:
    """An adapter answered these itself (a Discord interaction, the console), by their ids."""
    if message_ids:
        conn.execute(_SENT, [{"message_id": i, "at": at, "sent_ids": ""} for i in message_ids])


def release_hold(conn: Connection, message_ids: Sequence[int], at: datetime) -> None:
    """An adapter that kept these back to answer inline leaves them to the sender after all."""
    if message_ids:
        conn.execute(
            update(outbox)
            .where(outbox.c.id.in_(message_ids), outbox.c.state == State.PENDING.value)
            .values(not_before=at)
        )


_DEFER = (
    update(outbox)
    .where(
        outbox.c.platform == bindparam("b_platform"),
        outbox.c.chat_id == bindparam("b_chat"),
        outbox.c.state == State.PENDING.value,
        outbox.c.not_before < bindparam("b_until"),
    )
    .values(not_before=bindparam("b_until"))
)


def defer_chats(conn: Connection, platform: str, until: Mapping[str, datetime]) -> None:
    """Nothing to these chats before their time (they are over their limits)."""
    if until:
        conn.execute(
            _DEFER,
            [{"b_platform": platform, "b_chat": c, "b_until": t} for c, t in until.items()],
        )


def postpone(conn: Connection, messages: Sequence[Outgoing], until: datetime) -> None:
    """Try these again at `until` (a 429, a network error, a 5xx): one more attempt each."""
    conn.execute(
        update(outbox)
        .where(outbox.c.id.in_([m.id for m in messages]), outbox.c.state == State.PENDING.value)
        .values(not_before=until, attempts=outbox.c.attempts + 1)
    )


def mark_failed(
    conn: Connection,
    messages: Sequence[Outgoing],
    reason: str,
    at: datetime,
    *,
    refusals_to_idle: int,
    refused: bool = True,
) -> bool:
    """Never tried again: the platform refused them for good (removed from the group, chat
    gone), or (`refused=False`) they were given up after too many failed tries. A refusal of a
    group's message (one send: a merged message is one) counts once against the group; True
    when that made it inactive. A person's refusal, or an outage, says nothing of the group."""
    conn.execute(
        update(outbox)
        .where(outbox.c.id.in_([m.id for m in messages]), outbox.c.state == State.PENDING.value)
        .values(state=State.FAILED.value, failure=fit_text(reason, 300), sent_at=at)
    )
    message = messages[0]
    if not refused or message.private or not message.group_chat_id:
        return False
    where = and_(groups.c.platform == message.platform, groups.c.chat_id == message.group_chat_id)
    conn.execute(update(groups).where(where).values(refusals=groups.c.refusals + 1))
    went_idle = conn.execute(
        update(groups)
        .where(where, groups.c.inactive_since.is_(None), groups.c.refusals >= refusals_to_idle)
        .values(inactive_since=at)
        .returning(groups.c.id)
    ).first()
    return went_idle is not None


def heard_from(conn: Connection, platform: str, chat_id: str) -> None:
    """A group spoke: whatever it refused before, it is reachable again."""
    conn.execute(_HEARD, {"group_platform": platform, "group_chat": chat_id})


def forget_delivered(conn: Connection, before: datetime) -> int:
    """Drop sent and failed messages older than `before`; returns how many. Pending ones stay,
    however old: a bot stopped for a while still says what it owes when it is back."""
    gone = conn.execute(
        delete(outbox).where(outbox.c.state != State.PENDING.value, outbox.c.sent_at < before)
    )
    return int(gone.rowcount or 0)


# Leases --------------------------------------------------------------------------------------


def take_lease(conn: Connection, platform: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    """Hold (or keep holding) the right to drain `platform` until now + ttl; False while
    another process holds an unexpired lease. Several processes on one database thus send
    within one set of limits."""
    expires = now + ttl
    if insert_if_absent(
        conn, delivery_leases, {"platform": platform, "holder": holder, "expires_at": expires}
    ):
        return True
    taken = conn.execute(
        update(delivery_leases)
        .where(
            delivery_leases.c.platform == platform,
            or_(delivery_leases.c.holder == holder, delivery_leases.c.expires_at < now),
        )
        .values(holder=holder, expires_at=expires)
        .returning(delivery_leases.c.platform)
    ).first()
    return taken is not None


def release_lease(conn: Connection, platform: str, holder: str) -> None:
    """Give the lease up at a clean stop, so another process need not wait for it to expire."""
    conn.execute(
        delete(delivery_leases).where(
            delivery_leases.c.platform == platform, delivery_leases.c.holder == holder
        )
    )
