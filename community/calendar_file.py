"""The topic calendar's entries from community.toml's [[calendar]] ("file:1", "file:2", ...):
they follow the file, while entries admins add in chat stay."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, delete, insert, select, update

from community import polls
from community.calendar import Draft, Quiz, entry_values
from community.communities import Community
from community.config import CalendarEntryConfig, ConfigError
from community.schedules import parse_when
from loyalty.errors import UserError
from storage.schema import calendar_entries


def sync_file_entries(
    conn: Connection, community: Community, entries: Sequence[CalendarEntryConfig], at: datetime
) -> None:
    """Make the file's entries ("file:1", "file:2", ... in the file's order) what the file says:
    new ones added, changed ones updated, those gone from the file deleted. A changed schedule
    or a resumed entry fires from `at` on, like a resume in chat."""
    limit = community.rules.schedule.max_topic_length
    if len(entries) > community.rules.schedule.max_entries:
        raise ConfigError(
            f"calendar: {len(entries)} entries, more than schedule.max_entries"
            f" ({community.rules.schedule.max_entries})"
        )
    seen: dict[tuple[str, str, str], int] = {}
    for number, config in enumerate(entries, start=1):
        same = (config.when, config.text, config.tag)
        if same in seen:
            raise ConfigError(f"calendar[{number}]: the same topic as calendar[{seen[same]}]")
        seen[same] = number
    stored = {
        row.file_key: row
        for row in conn.execute(
            select(calendar_entries).where(
                calendar_entries.c.community_id == community.id,
                calendar_entries.c.file_key.is_not(None),
            )
        )
    }
    wanted: set[str] = set()
    for number, config in enumerate(entries, start=1):
        key = f"file:{number}"
        wanted.add(key)
        if len(config.text) > limit:
            raise ConfigError(f"calendar[{number}].text: longer than schedule.max_topic_length")
        try:
            poll = polls.parse_poll(config.poll) if config.poll else None
        except UserError as error:
            raise ConfigError(f"calendar[{number}].poll: {error.key} {error.context}") from None
        when = parse_when(config.when)[0]
        if config.quiz > community.rules.quiz.max_questions:
            raise ConfigError(f"calendar[{number}].quiz: more than quiz.max_questions")
        quiz = Quiz(config.quiz, config.quiz_category.casefold()) if config.quiz else None
        tag = config.tag.casefold() or None
        draft = Draft(when, config.when, config.text, poll, tag, quiz)
        values = {**entry_values(draft), "paused": config.paused}
        row = stored.get(key)
        if row is None:
            conn.execute(
                insert(calendar_entries),
                {**values, "community_id": community.id, "file_key": key}
                | {"created_by": None, "created_at": at, "since": at},
            )
            continue
        if all(getattr(row, name) == value for name, value in values.items()):
            continue
        if row.schedule != values["schedule"] or (row.paused and not config.paused):
            values["since"] = at
        conn.execute(update(calendar_entries).where(calendar_entries.c.id == row.id).values(values))
    gone = [row.id for key, row in stored.items() if key not in wanted]
    if gone:
        conn.execute(delete(calendar_entries).where(calendar_entries.c.id.in_(gone)))
