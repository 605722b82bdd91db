"""Topic calendar rules: what an admin's line saves, what pausing and the file change, and what a
firing posts (one topic per group, once)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, select

from community import calendar, calendar_file, topic_posts
from community.audit import Actor
from community.communities import Community, community_for_chat, set_tags
from community.config import CalendarEntryConfig, ConfigError, Rules
from community.jobs import FiringContext, Job
from loyalty.errors import UserError
from storage.schema import audit_log, calendar_entries, outbox, polls
from tests.domain.conftest import local

NOW = local(1, 10)  # Monday 10:00 in Shanghai
GROUPS = ("-1001", "-1002", "-1003")


@pytest.fixture
def groups(conn: Connection, community: Community) -> tuple[str, ...]:
    """Three Telegram groups of the community, and one private chat (never posted to)."""
    for chat_id in GROUPS:
        community_for_chat(
            conn, platform="telegram", chat_id=chat_id, title=chat_id, default_slug="acme", at=NOW
        )
    community_for_chat(
        conn,
        platform="telegram",
        chat_id="555",
        title="dm",
        default_slug="acme",
        at=NOW,
        private=True,
    )
    return GROUPS


def add(conn: Connection, community: Community, boss: Actor, line: str) -> calendar.Entry:
    return calendar.add_entry(conn, community, line, actor=boss, at=NOW)


def refusal(conn: Connection, community: Community, boss: Actor, line: str) -> UserError:
    with pytest.raises(UserError) as refused:
        add(conn, community, boss, line)
    return refused.value


def stored(conn: Connection) -> list[Any]:
    return list(conn.execute(select(calendar_entries).order_by(calendar_entries.c.id)))


def audited(conn: Connection) -> list[str]:
    rows = conn.execute(select(audit_log.c.action).order_by(audit_log.c.id))
    return [action for (action,) in rows]


def posts(conn: Connection) -> list[tuple[str, str]]:
    """(chat, template) of every group post queued, in order."""
    rows = conn.execute(
        select(outbox.c.chat_id, outbox.c.payload)
        .where(outbox.c.kind == "post")
        .order_by(outbox.c.id)
    )
    return [(chat_id, payload["template"]) for chat_id, payload in rows]


def fire(conn: Connection, community: Community, job: Job, at: datetime) -> set[str]:
    platforms: set[str] = set()
    job.work(FiringContext(conn, community, at, at, platforms))
    return platforms


def test_an_entry_is_saved_with_its_schedule_text_and_author_and_audited(
    conn: Connection, community: Community, boss: Actor
) -> None:
    entry = add(conn, community, boss, "mon,wed 20:00 What are you reading this week?")
    assert (entry.when.canonical(), entry.text, entry.tag, entry.poll) == (
        "mon,wed 20:00",
        "What are you reading this week?",
        None,
        None,
    )
    assert entry.when_text == "mon,wed 20:00" and entry.since == NOW and not entry.paused
    [row] = stored(conn)
    assert row.created_by == boss.member_id and row.file_key is None
    assert audited(conn) == ["topic_add"]
    # Monday 20:00, Wednesday 20:00, next Monday 20:00: in Shanghai.
    assert calendar.next_times(entry, community, NOW) == [
        local(1, 20),
        local(3, 20),
        local(8, 20),
    ]


def test_chinese_when_a_tag_and_a_poll_are_read(
    conn: Connection, community: Community, boss: Actor
) -> None:
    entry = add(conn, community, boss, "每周五 20:00 #VIP 最爱哪个口味？| 芒果 ｜ 荔枝")
    assert entry.when.canonical() == "fri 20:00"
    assert entry.tag == "vip"
    assert entry.text == "最爱哪个口味？"
    assert entry.poll == ("最爱哪个口味？", ("芒果", "荔枝"))


@pytest.mark.parametrize(
    ("line", "key"),
    [
        ("someday soon: a topic", "schedule/bad_when"),
        ("mon,wed", "schedule/bad_when"),
        ("2026-11-01 10:00 Too late", "schedule/in_the_past"),
        ("2026-11-23 09:59 A minute ago", "schedule/in_the_past"),
        ("mon 20:00", "calendar/no_text"),
        ("mon 20:00 #vip", "calendar/no_text"),
        ("mon 20:00 Question? | only one", "calendar/bad_poll"),
        ("mon 20:00 Question? | same | same", "polls/duplicate_options"),
        ("mon 20:00 " + "x" * 2001, "calendar/too_long"),
    ],
)
def test_bad_lines_are_refused_with_their_reason_and_save_nothing(
    conn: Connection, community: Community, boss: Actor, line: str, key: str
) -> None:
    assert refusal(conn, community, boss, line).key == key
    assert stored(conn) == [] and audited(conn) == []


def test_a_one_off_at_a_time_the_clocks_skip_is_refused(
    conn: Connection, community: Community, boss: Actor
) -> None:
    new_york = replace(community, timezone=ZoneInfo("America/New_York"))
    refused = refusal(conn, new_york, boss, "2027-03-14 02:30 Spring forward")
    assert refused.key == "schedule/no_such_time"
    assert refused.context["timezone"] == "America/New_York"
    entry = add(conn, new_york, boss, "2027-03-14 03:30 Spring forward")
    assert calendar.next_times(entry, new_york, NOW) == [datetime(2027, 3, 14, 7, 30, tzinfo=UTC)]


def test_the_topic_length_and_the_number_of_entries_are_the_communitys_settings(
    conn: Connection, community: Community, boss: Actor
) -> None:
    rules = Rules.model_validate({"schedule": {"max_topic_length": 10, "max_entries": 2}})
    small = replace(community, rules=rules)
    refused = refusal(conn, small, boss, "daily 09:00 eleven char")
    assert (refused.key, refused.context) == ("calendar/too_long", {"length": 11, "limit": 10})
    add(conn, small, boss, "daily 09:00 ten chars!")
    add(conn, small, boss, "daily 10:00 ten chars!")
    assert refusal(conn, small, boss, "daily 11:00 ten chars!").key == "calendar/too_many"
    assert len(stored(conn)) == 2


def test_removing_an_entry_deletes_it_and_is_audited(
    conn: Connection, community: Community, boss: Actor
) -> None:
    entry = add(conn, community, boss, "daily 09:00 Good morning")
    removed = calendar.remove_entry(conn, community, entry.id, actor=boss, at=NOW)
    assert removed.text == "Good morning"
    assert stored(conn) == [] and topic_posts.jobs(conn, community) == []
    assert audited(conn) == ["topic_add", "topic_remove"]
    with pytest.raises(UserError) as unknown:
        calendar.remove_entry(conn, community, entry.id, actor=boss, at=NOW)
    assert (unknown.value.key, unknown.value.context) == ("calendar/no_such_entry", {"number": 1})


def test_a_paused_entry_has_no_job_and_its_missed_firings_never_run_after_resume(
    conn: Connection, community: Community, boss: Actor
) -> None:
    entry = add(conn, community, boss, "daily 20:00 Evening topic")
    calendar.pause_entry(conn, community, entry.id, actor=boss, at=NOW)
    assert topic_posts.jobs(conn, community) == []
    assert (
        calendar.next_times(calendar.entry_by_id(conn, community, entry.id), community, NOW) == []
    )
    resumed_at = local(4, 12)
    resumed = calendar.resume_entry(conn, community, entry.id, actor=boss, at=resumed_at)
    assert resumed.since == resumed_at and not resumed.paused
    [job] = topic_posts.jobs(conn, community)
    # Days 1-3 at 20:00 fell in the pause: from the creation on, only day 4's firing is left.
    assert job.firings(NOW, local(5, 0)) == [local(4, 20)]
    assert audited(conn) == ["topic_add", "topic_pause", "topic_resume"]


def test_resuming_an_entry_that_runs_changes_nothing(
    conn: Connection, community: Community, boss: Actor
) -> None:
    entry = add(conn, community, boss, "daily 20:00 Evening topic")
    again = calendar.resume_entry(conn, community, entry.id, actor=boss, at=local(3))
    assert again.since == NOW and audited(conn) == ["topic_add"]


def test_jobs_are_one_per_entry_keyed_by_its_id_a_one_off_too(
    conn: Connection, community: Community, boss: Actor
) -> None:
    weekly = add(conn, community, boss, "mon 20:00 Weekly")
    once = add(conn, community, boss, "2026-12-24 19:00 Christmas Eve")
    jobs = topic_posts.jobs(conn, community)
    assert [(job.key, job.since, job.timezone) for job in jobs] == [
        (f"topic:{weekly.id}", NOW, community.timezone),
        (f"topic:{once.id}", NOW, community.timezone),
    ]
    eve = datetime(2026, 12, 24, 11, 0, tzinfo=UTC)  # 19:00 in Shanghai
    assert jobs[1].firings(NOW, local(60)) == [eve]


def test_a_firing_posts_the_topic_once_in_every_group(
    conn: Connection, community: Community, boss: Actor, groups: tuple[str, ...]
) -> None:
    add(conn, community, boss, "daily 20:00 Evening topic")
    [job] = topic_posts.jobs(conn, community)
    assert fire(conn, community, job, local(1, 20)) == {"telegram"}
    assert sorted(posts(conn)) == [(chat, "calendar/topic") for chat in groups]
    payload = conn.execute(select(outbox.c.payload).limit(1)).scalar_one()
    assert payload["context"] == {"text": "Evening topic", "community": "Acme Fans", "poll": False}
    # The same firing run again (a retry, a second process) queues nothing twice.
    assert fire(conn, community, job, local(1, 20)) == set()
    assert len(posts(conn)) == 3
    # The next firing is a new post.
    fire(conn, community, job, local(2, 20))
    assert len(posts(conn)) == 6


def test_a_tagged_topic_goes_to_the_groups_with_that_tag_only(
    conn: Connection, community: Community, boss: Actor, groups: tuple[str, ...]
) -> None:
    set_tags(conn, "telegram", groups[1], ("vip", "cn"))
    entry = add(conn, community, boss, "fri 20:00 #vip For our VIPs")
    assert calendar.groups_reached(conn, community.id, entry.tag) == 1
    [job] = topic_posts.jobs(conn, community)
    fire(conn, community, job, local(5, 20))
    assert posts(conn) == [(groups[1], "calendar/topic")]


def test_a_topic_with_a_poll_opens_one_poll_per_group_once(
    conn: Connection, community: Community, boss: Actor, groups: tuple[str, ...]
) -> None:
    add(conn, community, boss, "fri 20:00 Best flavour? | Mango | Lychee")
    [job] = topic_posts.jobs(conn, community)
    fire(conn, community, job, local(5, 20))
    fire(conn, community, job, local(5, 20))
    opened = list(conn.execute(select(polls.c.chat_id, polls.c.question, polls.c.created_by)))
    assert sorted(opened) == [(chat, "Best flavour?", None) for chat in groups]
    # Each group gets the topic, then its poll (the groups' order is the database's).
    queued = posts(conn)
    assert sorted(queued[:3]) == [(chat, "calendar/topic") for chat in groups]
    assert sorted(queued[3:]) == [(chat, "polls/posted") for chat in groups]
    rows = conn.execute(
        select(outbox.c.chat_id, outbox.c.payload).where(outbox.c.kind == "post")
    ).all()
    polls_by_chat = {row.chat_id: row.payload["poll"] for row in rows if "poll" in row.payload}
    ids = {
        chat_id: poll_id for chat_id, poll_id in conn.execute(select(polls.c.chat_id, polls.c.id))
    }
    for chat in groups:
        assert polls_by_chat[chat] == {
            "id": ids[chat],
            "question": "Best flavour?",
            "options": ["Mango", "Lychee"],
        }
    assert audited(conn).count("poll_open") == 3


def test_a_removed_or_paused_entry_posts_nothing_when_its_old_job_fires(
    conn: Connection, community: Community, boss: Actor, groups: tuple[str, ...]
) -> None:
    one = add(conn, community, boss, "daily 20:00 One")
    two = add(conn, community, boss, "daily 21:00 Two")
    jobs = topic_posts.jobs(conn, community)
    calendar.remove_entry(conn, community, one.id, actor=boss, at=NOW)
    calendar.pause_entry(conn, community, two.id, actor=boss, at=NOW)
    for job in jobs:
        fire(conn, community, job, local(1, 22))
    assert posts(conn) == []


def file_entry(**values: Any) -> CalendarEntryConfig:
    return CalendarEntryConfig.model_validate({"when": "mon 10:00", "text": "Hello"} | values)


def test_the_files_entries_follow_the_file(
    conn: Connection, community: Community, boss: Actor
) -> None:
    mine = add(conn, community, boss, "daily 09:00 Added in chat")
    first = [
        file_entry(when="每周一 10:00", text="新品剧透"),
        file_entry(when="wed 20:00", text="晒单", poll="Which one? | A | B", tag="VIP"),
        file_entry(when="fri 20:00", text="Talk", paused=True),
    ]
    calendar_file.sync_file_entries(conn, community, first, NOW)
    entries = {entry.file_key: entry for entry in calendar.list_entries(conn, community)}
    assert set(entries) == {None, "file:1", "file:2", "file:3"}
    assert entries["file:1"].when.canonical() == "mon 10:00"
    assert entries["file:1"].when_text == "每周一 10:00"
    assert entries["file:2"].poll == ("Which one?", ("A", "B")) and entries["file:2"].tag == "vip"
    assert entries["file:3"].paused
    later = local(3)
    second = [
        first[0],  # unchanged: left as it was
        file_entry(when="thu 20:00", text="晒单"),  # moved: fires from now on
    ]
    calendar_file.sync_file_entries(conn, community, second, later)
    after = {entry.file_key: entry for entry in calendar.list_entries(conn, community)}
    assert set(after) == {None, "file:1", "file:2"}
    assert after[None] == mine
    assert after["file:1"] == entries["file:1"]
    assert after["file:2"].when.canonical() == "thu 20:00" and after["file:2"].poll is None
    assert after["file:2"].since == later and after["file:2"].id == entries["file:2"].id
    assert len(topic_posts.jobs(conn, community)) == 3


def test_upcoming_lists_topics_and_member_days_of_the_next_days_in_order(
    conn: Connection, community: Community, boss: Actor
) -> None:
    rules = Rules.model_validate(
        {"member_day": {"enabled": True, "when": "wed 00:00", "hours": 24}}
    )
    planned = replace(community, rules=rules)
    add(conn, planned, boss, "mon,wed 20:00 Topic")
    add(conn, planned, boss, "2026-11-25 08:00 #vip Tagged")
    paused = add(conn, planned, boss, "daily 12:00 Paused")
    calendar.pause_entry(conn, planned, paused.id, actor=boss, at=NOW)
    found = calendar.upcoming(conn, planned, NOW, 7)
    wednesday = local(3, 0)
    assert [(item.at, item.kind, item.text) for item in found] == [
        (local(1, 20), "topic", "Topic"),
        (wednesday, "member_day", ""),
        (local(3, 8), "topic", "Tagged"),
        (local(3, 20), "topic", "Topic"),
    ]
    assert found[1].ends == wednesday + timedelta(hours=24)
    untagged = calendar.upcoming(conn, planned, NOW, 7, tags=())
    assert "Tagged" not in [item.text for item in untagged]
    # On the member day itself it is shown from its start; seven days from Wednesday end with
    # Tuesday (day 9), before the next Wednesday's topic and member day.
    during = calendar.upcoming(conn, planned, local(3, 15), 7)
    assert during[0].kind == "member_day" and during[0].at == wednesday
    assert during[-1].at == local(8, 20)


@pytest.mark.parametrize(
    "line", ["daily 20:00 #v!p members-only", "daily 20:00 #_ x", "daily 20:00 # x"]
)
def test_a_mistyped_tag_is_refused_not_posted_to_every_group(
    conn: Connection, community: Community, boss: Actor, line: str
) -> None:
    assert refusal(conn, community, boss, line).key == "calendar/bad_tag"
    assert stored(conn) == []


def test_the_file_may_not_hold_more_entries_than_the_limit_or_one_twice(
    conn: Connection, community: Community
) -> None:
    limit = community.rules.schedule.max_entries
    many = [CalendarEntryConfig(when="daily 20:00", text=f"t{n}") for n in range(limit + 1)]
    with pytest.raises(ConfigError, match=r"more than schedule\.max_entries"):
        calendar_file.sync_file_entries(conn, community, many, NOW)
    twice = [CalendarEntryConfig(when="daily 20:00", text="Tea")] * 2
    with pytest.raises(ConfigError, match=r"calendar\[2\]: the same topic as calendar\[1\]"):
        calendar_file.sync_file_entries(conn, community, twice, NOW)
    assert stored(conn) == []


def test_a_removed_topics_number_is_never_given_to_a_new_one(
    conn: Connection, community: Community, boss: Actor
) -> None:
    first = add(conn, community, boss, "daily 20:00 One")
    last = add(conn, community, boss, "daily 21:00 Two")
    calendar.remove_entry(conn, community, last.id, actor=boss, at=NOW)
    assert add(conn, community, boss, "daily 22:00 Three").id not in (first.id, last.id)
