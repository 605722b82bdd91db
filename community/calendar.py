"""The topic calendar (话题日历): topics posted into the community's groups on a schedule.

Entries come from admins in chat (`/topic add`) and from community.toml's [[calendar]]. Each
unpaused entry is one job ("topic:<id>"); a firing posts the topic to every group (or the groups
with the entry's tag) through the outbox, keyed by the firing, so a rerun queues nothing twice.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from community import audit, polls
from community.communities import Community
from community.member_days import schedule_of
from community.schedules import When, check_once, firings, next_firings, parse_when
from loyalty.errors import UserError
from storage.schema import calendar_entries, groups
from storage.sql import fit_text

TAG_LIMIT = 32  # the column's width
WHEN_TEXT_LIMIT = 100  # the column's width
# "#tag" right after the when, as /settings tags reads a group's tags (a Chinese tag too).
_TAG = re.compile(r"[#＃](?P<tag>[^\W_][\w-]{0,31})(?=\s|$)")
_POLL_SEPARATOR = re.compile("[|｜]")
# "--quiz 5 [category]" at the end: a quiz of 5 questions starts with the topic ("—" and "——"
# are what "--" becomes on many keyboards).
_QUIZ = re.compile(
    r"(?:^|\s+)(?:-{1,2}|[—–]{1,2})\s*(?:quiz|答题|问答)\s+(?P<n>[0-9０-９]{1,3})"
    r"(?:\s+[#＃]?(?P<category>[^\W_][\w-]{0,31}))?\s*$",
    re.IGNORECASE,
)
_TICK = timedelta(microseconds=1)  # windows' starts are exclusive; an entry fires from `since` on


@dataclass(frozen=True, slots=True)
class Quiz:
    """A quiz a calendar entry starts in each of its groups: this many questions from the bank
    (of this category only, if one is given)."""

    questions: int
    category: str = ""

    def to_json(self) -> dict[str, Any]:
        """As calendar_entries.quiz holds it."""
        return {"questions": self.questions, "category": self.category}


@dataclass(frozen=True, slots=True)
class Entry:
    """One calendar entry as stored."""

    id: int
    community_id: int
    when: When
    when_text: str
    text: str
    poll: tuple[str, tuple[str, ...]] | None  # (question, options)
    tag: str | None
    paused: bool
    file_key: str | None  # "file:N": the Nth [[calendar]] entry of community.toml
    since: datetime
    created_by: int | None = None  # the admin's member who added it in chat
    broken_at: datetime | None = None  # its post failed to render (reported once)
    quiz: Quiz | None = None  # a quiz started with the topic in each group


@dataclass(frozen=True, slots=True)
class Draft:
    """An entry read from an admin's line, checked, not saved yet."""

    when: When
    when_text: str
    text: str
    poll: tuple[str, tuple[str, ...]] | None
    tag: str | None
    quiz: Quiz | None = None


@dataclass(frozen=True, slots=True)
class Upcoming:
    """Something on the calendar: a topic's firing, or a member day's window."""

    at: datetime  # UTC
    kind: str  # "topic" or "member_day"
    text: str
    ends: datetime | None = None  # a member day's end
    poll: bool = False


# Reading and saving ----------------------------------------------------------------------------


def read_entry(community: Community, line: str, now: datetime) -> Draft:
    """Read "<when> [#tag] <text> [| option | option]"; UserError says what is wrong."""
    line = line.replace("\x00", "").strip()
    when, rest = parse_when(line)
    check_once(when, community.timezone, now)
    when_text = line[: len(line) - len(rest)].strip().rstrip(" ,，、:：;；") or when.canonical()
    tag = None
    if found := _TAG.match(rest):
        tag, rest = found["tag"].casefold(), rest[found.end() :].strip()
    elif rest[:1] in ("#", "＃"):
        # A mistyped tag (#v!p) must not quietly send a members-only topic to every group.
        raise UserError("calendar/bad_tag", limit=TAG_LIMIT)
    quiz = None
    if found := _QUIZ.search(rest):
        quiz, rest = _read_quiz(community, found), rest[: found.start()].strip()
    poll = None
    if _POLL_SEPARATOR.search(rest):
        poll = _read_poll(rest)
        rest = poll[0]
    if not rest:
        raise UserError("calendar/no_text")
    limit = community.rules.schedule.max_topic_length
    if len(rest) > limit:
        raise UserError("calendar/too_long", length=len(rest), limit=limit)
    return Draft(when, fit_text(when_text, WHEN_TEXT_LIMIT), rest, poll, tag, quiz)


def _read_quiz(community: Community, found: re.Match[str]) -> Quiz:
    count = int(found["n"].translate(str.maketrans("０１２３４５６７８９", "0123456789")))
    limit = community.rules.quiz.max_questions
    if not 1 <= count <= limit:
        raise UserError("quiz/bad_topic_quiz", limit=limit)
    return Quiz(count, (found["category"] or "").casefold())


def _read_poll(text: str) -> tuple[str, tuple[str, ...]]:
    try:
        return polls.parse_poll(text)
    except UserError as error:
        if error.key == "polls/usage":  # its usage names /poll: say how a topic takes a poll
            raise UserError("calendar/bad_poll") from None
        raise


def add_entry(
    conn: Connection, community: Community, line: str, *, actor: audit.Actor, at: datetime
) -> Entry:
    """Add an entry from an admin's line (see read_entry), within the community's limit."""
    draft = read_entry(community, line, at)
    limit = community.rules.schedule.max_entries
    count = conn.execute(
        select(func.count())
        .select_from(calendar_entries)
        .where(calendar_entries.c.community_id == community.id)
    ).scalar_one()
    if count >= limit:
        raise UserError("calendar/too_many", limit=limit)
    entry_id = conn.execute(
        insert(calendar_entries).returning(calendar_entries.c.id),
        {
            **entry_values(draft),
            "community_id": community.id,
            "paused": False,
            "created_by": actor.member_id,
            "created_at": at,
            "since": at,
        },
    ).scalar_one()
    audit.record(
        conn,
        community_id=community.id,
        actor=actor,
        action="topic_add",
        at=at,
        entry_id=entry_id,
        when=draft.when.canonical(),
        text=draft.text,
        tag=draft.tag,
    )
    return entry_by_id(conn, community, entry_id)


def entry_values(draft: Draft) -> dict[str, Any]:
    question, options = draft.poll or ("", ())
    poll = None if draft.poll is None else {"question": question, "options": list(options)}
    return {
        "schedule": draft.when.to_json(),
        "when_text": draft.when_text,
        "text": draft.text,
        "poll": poll,
        "quiz": None if draft.quiz is None else draft.quiz.to_json(),
        "tag": draft.tag,
    }


def list_entries(conn: Connection, community: Community) -> list[Entry]:
    """The community's entries, oldest first."""
    rows = conn.execute(
        select(calendar_entries)
        .where(calendar_entries.c.community_id == community.id)
        .order_by(calendar_entries.c.id)
    )
    return [_entry(row) for row in rows]


def entry_by_id(conn: Connection, community: Community, entry_id: int) -> Entry:
    """The entry numbered `entry_id` in this community; UserError if there is none."""
    row = conn.execute(
        select(calendar_entries).where(
            calendar_entries.c.id == entry_id, calendar_entries.c.community_id == community.id
        )
    ).first()
    if row is None:
        raise UserError("calendar/no_such_entry", number=entry_id)
    return _entry(row)


def remove_entry(
    conn: Connection, community: Community, entry_id: int, *, actor: audit.Actor, at: datetime
) -> Entry:
    """Delete an entry (audited); its firings stop."""
    entry = entry_by_id(conn, community, entry_id)
    conn.execute(delete(calendar_entries).where(calendar_entries.c.id == entry.id))
    audit.record(
        conn,
        community_id=community.id,
        actor=actor,
        action="topic_remove",
        at=at,
        entry_id=entry.id,
        when=entry.when.canonical(),
        text=entry.text,
    )
    return entry


def pause_entry(
    conn: Connection, community: Community, entry_id: int, *, actor: audit.Actor, at: datetime
) -> Entry:
    """Stop an entry's firings until it is resumed (audited)."""
    return _set_paused(conn, community, entry_id, True, actor=actor, at=at)


def resume_entry(
    conn: Connection, community: Community, entry_id: int, *, actor: audit.Actor, at: datetime
) -> Entry:
    """Fire an entry again from now on: what it missed while paused never runs (audited)."""
    return _set_paused(conn, community, entry_id, False, actor=actor, at=at)


def _set_paused(
    conn: Connection,
    community: Community,
    entry_id: int,
    paused: bool,
    *,
    actor: audit.Actor,
    at: datetime,
) -> Entry:
    entry = entry_by_id(conn, community, entry_id)
    if entry.paused == paused:
        return entry  # nothing changes: a resumed entry keeps its `since`
    values: dict[str, Any] = {"paused": paused}
    if not paused:
        values["since"] = at
    conn.execute(update(calendar_entries).where(calendar_entries.c.id == entry.id).values(values))
    audit.record(
        conn,
        community_id=community.id,
        actor=actor,
        action="topic_pause" if paused else "topic_resume",
        at=at,
        entry_id=entry.id,
    )
    return entry_by_id(conn, community, entry.id)


def _entry(row: Any) -> Entry:
    poll = None if row.poll is None else (row.poll["question"], tuple(row.poll["options"]))
    return Entry(
        id=row.id,
        community_id=row.community_id,
        when=When.from_json(row.schedule),
        when_text=row.when_text,
        text=row.text,
        poll=poll,
        tag=row.tag,
        paused=row.paused,
        file_key=row.file_key,
        since=row.since,
        created_by=row.created_by,
        broken_at=row.broken_at,
        quiz=None
        if row.quiz is None
        else Quiz(int(row.quiz["questions"]), str(row.quiz.get("category") or "")),
    )


# Reading ahead ---------------------------------------------------------------------------------


def next_times(
    entry: Entry, community: Community, after: datetime, count: int = 3
) -> list[datetime]:
    """The entry's next firings after `after` (none while paused), in UTC."""
    if entry.paused:
        return []
    return next_firings(entry.when, community.timezone, max(after, entry.since - _TICK), count)


def groups_reached(conn: Connection, community_id: int, tag: str | None) -> int:
    """How many groups of the community a post with this tag (or none) goes to."""
    rows = conn.execute(
        select(groups.c.tags).where(
            groups.c.community_id == community_id, groups.c.private.is_(False)
        )
    )
    return sum(1 for (tags,) in rows if tag is None or tag in (tags or ()))


def upcoming(
    conn: Connection,
    community: Community,
    start: datetime,
    days: int,
    *,
    tags: Collection[str] | None = None,
) -> list[Upcoming]:
    """Topics and member days from `start` to the end of the `days`th local day (today is the
    first), oldest first. With `tags`, only topics for every group or for one of those tags."""
    tz = community.timezone
    first_day = start.astimezone(tz).date()
    end_wall = datetime.combine(first_day + timedelta(days=days), time())
    end = end_wall.replace(tzinfo=tz) - timedelta(microseconds=1)
    found: list[Upcoming] = []
    for entry in list_entries(conn, community):
        if entry.paused or (tags is not None and entry.tag is not None and entry.tag not in tags):
            continue
        for at in firings(entry.when, tz, max(start, entry.since - _TICK), end):
            found.append(Upcoming(at, "topic", entry.text, poll=entry.poll is not None))
    rules = community.rules.member_day
    if rules.enabled:
        length = timedelta(hours=rules.hours)
        # A member day already under way at `start` is shown from its beginning.
        for at in firings(schedule_of(rules), tz, start - length, end):
            if at.astimezone(tz).date().isoformat() not in rules.skipped and at + length > start:
                found.append(Upcoming(at, "member_day", "", ends=at + length))
    found.sort(key=lambda item: (item.at, item.kind != "member_day"))
    return found
