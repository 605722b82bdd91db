"""A topic whose post does not render is skipped and reported once, not sent in pieces."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import Connection, select

from community import calendar, topic_posts
from community.audit import Actor
from community.communities import Community, community_for_chat
from community.jobs import FiringContext
from community.messages import Reply, Unrenderable
from storage.schema import accounts, audit_log, calendar_entries, outbox
from tests.domain.conftest import local

NOW = local(1, 10)


def broken(reply: Reply) -> None:
    raise Unrenderable(f"en/{reply.template}: 'text' is undefined")


def fine(reply: Reply) -> None:
    """Every reply renders."""


@pytest.fixture
def entry(conn: Connection, community: Community, boss: Actor) -> calendar.Entry:
    community_for_chat(
        conn, platform="telegram", chat_id="-1001", title="g", default_slug="acme", at=NOW
    )
    return calendar.add_entry(conn, community, "daily 20:00 Tea time", actor=boss, at=NOW)


def fire(conn: Connection, community: Community, at: datetime, check: object) -> set[str]:
    [job] = topic_posts.jobs(conn, community)
    platforms: set[str] = set()
    job.work(FiringContext(conn, community, at, at, platforms, check))  # type: ignore[arg-type]
    return platforms


def queued(conn: Connection) -> list[tuple[str, str, str]]:
    rows = conn.execute(select(outbox.c.kind, outbox.c.chat_id, outbox.c.payload))
    return [(kind, chat, payload["template"]) for kind, chat, payload in rows]


def test_a_broken_topic_posts_nothing_and_tells_its_admin_once(
    conn: Connection, community: Community, entry: calendar.Entry, boss: Actor
) -> None:
    boss_chat = conn.execute(
        select(accounts.c.platform_user_id).where(accounts.c.member_id == boss.member_id)
    ).scalar_one()
    fire(conn, community, local(1, 20), broken)
    fire(conn, community, local(2, 20), broken)  # the next day: still broken, said already
    assert queued(conn) == [("direct", boss_chat, "calendar/broken")]
    actions = [a for (a,) in conn.execute(select(audit_log.c.action))]
    assert actions.count("topic_broken") == 1
    assert conn.execute(select(calendar_entries.c.broken_at)).scalar_one() == local(1, 20)


def test_a_mended_topic_posts_again_and_may_be_reported_again(
    conn: Connection, community: Community, entry: calendar.Entry
) -> None:
    fire(conn, community, local(1, 20), broken)
    assert fire(conn, community, local(2, 20), fine) == {"telegram"}
    assert ("post", "-1001", "calendar/topic") in queued(conn)
    assert conn.execute(select(calendar_entries.c.broken_at)).scalar_one() is None
