"""Draining the outbox: what a platform's sender reads, how it marks each message (sent,
delivered inline, postponed, failed), which groups stop being posted to after refusals, and
the lease that lets one process drain a platform at a time."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import Connection, and_, bindparam, delete, func, or_, select, update

from community.media import with_content
from community.messages import Media
from community.outbox import Kind, Outgoing, State, decode_reply
from storage.schema import communities, delivery_leases, groups, outbox
from storage.sql import fit_text, insert_if_absent

log = logging.getLogger(__name__)

# Bytes of kept files (photos, videos) one read of the outbox loads at most: the messages after
# the one that passes it wait for the next read, so a batch of 200 posts with a different 10 MB
# video each never sits in memory at once. One file shared by many posts is loaded once.
MEDIA_BYTES_PER_READ = 50_000_000


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
    return _with_files(conn, platform, messages)


def _with_files(conn: Connection, platform: str, messages: list[Outgoing]) -> list[Outgoing]:
    """The messages with what `platform` needs to send their files (its own reference, else
    the bytes: community.media.with_content), oldest first, as many as MEDIA_BYTES_PER_READ
    allows (always the first). A file no longer kept is left out of its message."""
    loaded: dict[int, Media] = {}
    spent = 0
    ready: list[Outgoing] = []
    for message in messages:
        shown = message.reply.media
        if not shown:
            ready.append(message)
            continue
        missing = [m for m in shown if m.media_id not in loaded]
        if missing and ready and spent > MEDIA_BYTES_PER_READ:
            break  # the rest wait for the next read, in order
        for found in with_content(conn, missing, platform):
            loaded[found.media_id] = found
            spent += len(found.content)
        media = tuple(loaded[m.media_id] for m in shown if m.media_id in loaded)
        ready.append(replace(message, reply=replace(message.reply, media=media)))
    return ready


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
