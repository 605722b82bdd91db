"""The platform messages that stand for a question, so that a reply to one answers it: the
asker's own message, and the bot's post of the question.

A post is written to the outbox in the unit of work that opened the question, before any
platform gave it an id: it is remembered by its outbox row, and its platform ids are read from
there (outbox.sent_ids) once it was sent: when a reply in its chat finds no known message, and
by the hourly job, before the outbox forgets delivered rows (a week on).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, insert, or_, select, update

from community.communities import Community
from community.messages import Reply
from community.outbox import Kind, State, enqueue
from storage.qa_tables import question_messages, questions
from storage.schema import outbox
from storage.sql import fit_text


def remember(
    conn: Connection, question_id: int, platform: str, chat_id: str, message_id: str
) -> None:
    """A platform message stands for the question from now on (a reply to it answers it)."""
    conn.execute(
        insert(question_messages),
        {
            "question_id": question_id,
            "platform": platform,
            "chat_id": fit_text(chat_id, 64),
            "message_id": fit_text(message_id, 64),
        },
    )


def post(
    conn: Connection,
    community: Community,
    question_id: int,
    reply: Reply,
    *,
    platform: str,
    group_chat_id: str,
    target: str,
    reply_to: str | None,
    at: datetime,
) -> int:
    """Queue the question's post in the chat it was asked in (`target`: that chat, or its
    channel), quoting the asker's message where there is one, and remember it: a reply to the
    post answers the question. Returns its outbox id."""
    message_id = enqueue(
        conn,
        community_id=community.id,
        platform=platform,
        chat_id=target,
        kind=Kind.REPLY,
        reply=reply,
        at=at,
        group_chat_id=group_chat_id,
        reply_to=reply_to,
    )
    conn.execute(
        insert(question_messages),
        {
            "question_id": question_id,
            "platform": platform,
            "chat_id": fit_text(group_chat_id, 64),
            "outbox_id": message_id,
        },
    )
    return message_id


_KNOWN = (
    select(question_messages.c.question_id)
    .join(questions, questions.c.id == question_messages.c.question_id)
    .where(
        question_messages.c.platform == bindparam("platform"),
        question_messages.c.chat_id == bindparam("chat"),
        question_messages.c.message_id == bindparam("message"),
        questions.c.community_id == bindparam("community"),
    )
    .limit(1)
)
# The same read, which also says whether this chat has posts whose ids are unread: the message
# replied to when there is one, else such a post (its message_id None), else nothing.
_KNOWN_OR_UNREAD = (
    select(question_messages.c.question_id, question_messages.c.message_id)
    .join(questions, questions.c.id == question_messages.c.question_id)
    .where(
        question_messages.c.platform == bindparam("platform"),
        question_messages.c.chat_id == bindparam("chat"),
        or_(
            question_messages.c.message_id == bindparam("message"),
            question_messages.c.message_id.is_(None),
        ),
        questions.c.community_id == bindparam("community"),
    )
    .order_by(question_messages.c.message_id.is_(None))
    .limit(1)
)


def question_replied_to(
    conn: Connection, community_id: int, platform: str, chat_id: str, replied_id: str
) -> int | None:
    """The question whose message `replied_id` (in that chat) is, if any. One indexed read
    (every reply in a group costs it); two more only while this chat has posts whose platform
    ids are not read yet."""
    wanted = {
        "platform": platform,
        "chat": fit_text(chat_id, 64),
        "message": fit_text(replied_id, 64),
        "community": community_id,
    }
    row = conn.execute(_KNOWN_OR_UNREAD, wanted).first()
    if row is None:
        return None
    if row.message_id is not None:
        return int(row.question_id)
    if not resolve_posts(conn, platform=platform, chat_id=chat_id):
        return None
    found = conn.execute(_KNOWN, wanted).scalar()
    return None if found is None else int(found)


def resolve_posts(
    conn: Connection, *, platform: str | None = None, chat_id: str | None = None
) -> int:
    """Read the platform ids of sent posts (of one chat, or all) from the outbox; forget posts
    that failed or whose outbox row is gone. Returns how many posts got their ids."""
    pending = (
        select(
            question_messages.c.id,
            question_messages.c.question_id,
            question_messages.c.platform,
            question_messages.c.chat_id,
            outbox.c.state,
            outbox.c.sent_ids,
            outbox.c.id.label("outbox_row"),
        )
        .outerjoin(outbox, outbox.c.id == question_messages.c.outbox_id)
        .where(question_messages.c.message_id.is_(None))
    )
    if platform is not None and chat_id is not None:
        pending = pending.where(
            question_messages.c.platform == platform,
            question_messages.c.chat_id == fit_text(chat_id, 64),
        )
    resolved = 0
    for row in conn.execute(pending).all():
        if row.outbox_row is not None and row.state == State.PENDING.value:
            continue  # not sent yet
        ids = [part for part in (row.sent_ids or "").split(",") if part]
        if row.outbox_row is None or row.state != State.SENT.value or not ids:
            # Failed, forgotten unread, or answered inline (no id known): nothing to reply to.
            conn.execute(delete(question_messages).where(question_messages.c.id == row.id))
            continue
        conn.execute(
            update(question_messages)
            .where(question_messages.c.id == row.id)
            .values(message_id=fit_text(ids[0], 64))
        )
        for extra in ids[1:]:  # a long post split in parts: a reply to any part answers
            remember(conn, row.question_id, row.platform, row.chat_id, extra)
        resolved += 1
    return resolved
