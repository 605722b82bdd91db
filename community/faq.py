"""The FAQ: entries (from community.toml or admins), search, and the answers it gives by itself.

This module keeps the entries: admins add, edit, remove and promote (an accepted answer of Q&A
becomes an entry), and community.toml's [[faq_entries]] are kept as the file says. A removed
entry stays in the table, marked: the answers it gave and their 👍/👎 keep naming it. What
answers members: community/faq_answers.py; how a message is matched: community/faq_index.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection, Row, delete, func, insert, select, update

from community import audit
from community.communities import Community
from community.config import ConfigError
from community.faq_drafts import KEYWORD_LIMIT, Draft, checked, read_line
from community.faq_rules import FaqEntryConfig
from community.faq_text import normalize, terms
from loyalty.errors import UserError
from storage.faq_tables import faq_answers, faq_entries, faq_votes
from storage.qa_tables import answers, questions
from storage.sql import lock_until_commit

# The columns of this activity's tables that point at a member: merge_members moves them when
# /link folds one member into another (tests/test_linking.py checks every such column is).
MEMBER_COLUMNS: tuple[Column[int], ...] = (
    faq_entries.c.created_by,
    faq_answers.c.member_id,
    faq_votes.c.member_id,
)


@dataclass(frozen=True, slots=True)
class Entry:
    """One FAQ entry; its number is its id."""

    id: int
    question: str
    answer: str
    keywords: tuple[str, ...]
    file_key: str | None = None  # "file:N": community.toml's Nth entry
    question_id: int | None = None  # the Q&A question it was promoted from
    removed: bool = False


def _entry(row: Row[Any]) -> Entry:
    return Entry(
        id=row.id,
        question=row.question,
        answer=row.answer,
        keywords=tuple(row.keywords or ()),
        file_key=row.file_key,
        question_id=row.question_id,
        removed=row.removed_at is not None,
    )


def live_entries(conn: Connection, community_id: int) -> list[Entry]:
    """The community's entries (not removed), oldest first."""
    rows = conn.execute(
        select(faq_entries)
        .where(faq_entries.c.community_id == community_id, faq_entries.c.removed_at.is_(None))
        .order_by(faq_entries.c.id)
    )
    return [_entry(row) for row in rows]


def entry_by_id(conn: Connection, community_id: int, number: int) -> Entry:
    """Entry `number` of the community; UserError if there is none (or it was removed)."""
    row = conn.execute(
        select(faq_entries).where(
            faq_entries.c.id == number,
            faq_entries.c.community_id == community_id,
            faq_entries.c.removed_at.is_(None),
        )
    ).first()
    if row is None:
        raise UserError("faq/no_such_entry", number=number)
    return _entry(row)


def version(conn: Connection, community_id: int) -> tuple[int, int]:
    """What changes whenever an entry does (added, edited, removed): the index's cache key."""
    row = conn.execute(
        select(func.count(), func.coalesce(func.sum(faq_entries.c.revision), 0)).where(
            faq_entries.c.community_id == community_id
        )
    ).one()
    return int(row[0]), int(row[1])


def _check_room(conn: Connection, community: Community) -> None:
    limit = community.rules.faq.max_entries
    live = conn.execute(
        select(func.count()).where(
            faq_entries.c.community_id == community.id, faq_entries.c.removed_at.is_(None)
        )
    ).scalar_one()
    if live >= limit:
        raise UserError("faq/too_many", limit=limit)


def _same(question: str) -> str:
    """A question as two entries may not share it: width, case, script, spacing and the
    closing punctuation aside ("When does the sale start?" is "when does  the sale start")."""
    return " ".join(normalize(question).split()).strip(" ?？!！。.")


def _check_new_question(conn: Connection, community_id: int, question: str, but: int = 0) -> None:
    """One question, one entry: a second would split its votes and race it for the answer."""
    same = _same(question)
    for entry in live_entries(conn, community_id):
        if entry.id != but and _same(entry.question) == same:
            raise UserError("faq/duplicate", number=entry.id)


def _check_findable(question: str, keywords: Sequence[str]) -> None:
    """An entry nobody could ever find (a question of only emoji or punctuation, no keyword
    with a word in it) would sit in the list and never answer: say so instead."""
    if not terms(question) and not any(terms(keyword) for keyword in keywords):
        raise UserError("faq/no_words", question=question)


def _lock(conn: Connection, community: Community) -> None:
    """Admins' changes to one community's FAQ take turns, across processes too: two admins
    adding the same question at once would both pass the duplicate check (and the limit)."""
    lock_until_commit(conn, f"faq_entries:{community.id}")


def add_entry(
    conn: Connection, community: Community, line: str, *, actor: audit.Actor, at: datetime
) -> Entry:
    """Add an admin's entry from "question | answer [| keywords]" (audited)."""
    draft = read_line(line)
    _check_findable(draft.question, draft.keywords or ())
    _lock(conn, community)
    _check_room(conn, community)
    _check_new_question(conn, community.id, draft.question)
    return _insert(conn, community, draft, actor=actor, at=at)


def _insert(
    conn: Connection,
    community: Community,
    draft: Draft,
    *,
    actor: audit.Actor,
    at: datetime,
    question_id: int | None = None,
) -> Entry:
    number = conn.execute(
        insert(faq_entries).returning(faq_entries.c.id),
        {
            "community_id": community.id,
            "question": draft.question,
            "answer": draft.answer,
            "keywords": list(draft.keywords or ()),
            "question_id": question_id,
            "created_by": actor.member_id,
            "created_at": at,
            "updated_at": at,
        },
    ).scalar_one()
    audit.record(
        conn,
        community_id=community.id,
        actor=actor,
        action="faq_promote" if question_id else "faq_add",
        at=at,
        entry_id=int(number),
        question=draft.question,
        question_id=question_id,
    )
    return entry_by_id(conn, community.id, int(number))


def edit_entry(
    conn: Connection,
    community: Community,
    number: int,
    line: str,
    *,
    actor: audit.Actor,
    at: datetime,
) -> Entry:
    """Replace entry `number`'s question and answer (and keywords, if given); audited. An entry
    of community.toml takes the file's words again when the file changes."""
    draft = read_line(line)
    _lock(conn, community)
    entry = entry_by_id(conn, community.id, number)
    keywords = entry.keywords if draft.keywords is None else draft.keywords
    _check_findable(draft.question, keywords)
    _check_new_question(conn, community.id, draft.question, but=entry.id)
    conn.execute(
        update(faq_entries)
        .where(faq_entries.c.id == entry.id)
        .values(
            question=draft.question,
            answer=draft.answer,
            keywords=list(keywords),
            updated_at=at,
            revision=faq_entries.c.revision + 1,
        )
    )
    audit.record(
        conn,
        community_id=community.id,
        actor=actor,
        action="faq_edit",
        at=at,
        entry_id=entry.id,
        before={
            "question": entry.question,
            "answer": entry.answer,
            "keywords": list(entry.keywords),
        },
        question=draft.question,
    )
    return entry_by_id(conn, community.id, entry.id)


def remove_entry(
    conn: Connection, community: Community, number: int, *, actor: audit.Actor, at: datetime
) -> Entry:
    """Stop answering with entry `number` (audited); its answers and votes stay counted."""
    _lock(conn, community)
    entry = entry_by_id(conn, community.id, number)
    _retire(conn, [entry.id], at)
    audit.record(
        conn,
        community_id=community.id,
        actor=actor,
        action="faq_remove",
        at=at,
        entry_id=entry.id,
        question=entry.question,
        answer=entry.answer,
    )
    return entry


def _retire(conn: Connection, ids: Sequence[int], at: datetime) -> None:
    conn.execute(
        update(faq_entries)
        .where(faq_entries.c.id.in_(ids))
        .values(removed_at=at, updated_at=at, revision=faq_entries.c.revision + 1)
    )


def promote(
    conn: Connection,
    community: Community,
    question_number: int,
    *,
    actor: audit.Actor,
    at: datetime,
) -> Entry:
    """Make Q&A question `question_number` and its accepted answer an entry (audited)."""
    _lock(conn, community)
    row = conn.execute(
        select(questions.c.text, answers.c.text.label("answer"), answers.c.accepted_at)
        .select_from(questions)
        .outerjoin(answers, answers.c.id == questions.c.accepted_answer_id)
        .where(questions.c.id == question_number, questions.c.community_id == community.id)
    ).first()
    if row is None:
        raise UserError("faq/no_such_question", number=question_number)
    if row.answer is None or row.accepted_at is None:
        raise UserError("faq/not_accepted", number=question_number)
    promoted = conn.execute(
        select(faq_entries.c.id).where(
            faq_entries.c.question_id == question_number, faq_entries.c.removed_at.is_(None)
        )
    ).scalar()
    if promoted is not None:
        raise UserError("faq/already_promoted", number=question_number, entry=promoted)
    draft = checked(row.text.strip(), row.answer.strip(), ())
    _check_findable(draft.question, ())
    _check_room(conn, community)
    _check_new_question(conn, community.id, draft.question)
    return _insert(conn, community, draft, actor=actor, at=at, question_id=question_number)


def sync_file_entries(
    conn: Connection, community: Community, entries: Sequence[FaqEntryConfig], at: datetime
) -> None:
    """Make the FAQ's file entries what community.toml says (a changed file was read): an entry
    stays the entry of its question wherever it moves in the file; a new question in the place
    of one that left the file is that entry reworded (its votes stay); entries gone from the
    file are removed. Admins' entries are left as they are. ConfigError says what is wrong."""
    if len(entries) > community.rules.faq.max_entries:
        raise ConfigError(
            f"faq_entries: {len(entries)} entries, more than faq.max_entries"
            f" ({community.rules.faq.max_entries})"
        )
    entries = [_tidied(number, config) for number, config in enumerate(entries, start=1)]
    seen: dict[str, int] = {}
    for number, config in enumerate(entries, start=1):
        same = _same(config.question)
        if same in seen:
            raise ConfigError(
                f"faq_entries[{number}]: the same question as faq_entries[{seen[same]}]"
            )
        seen[same] = number
    _lock(conn, community)
    stored = [
        row
        for row in conn.execute(
            select(faq_entries)
            .where(
                faq_entries.c.community_id == community.id,
                faq_entries.c.file_key.is_not(None),
                faq_entries.c.removed_at.is_(None),
            )
            .order_by(faq_entries.c.id)
        )
    ]
    by_question = {_same(row.question): row for row in stored}
    in_place = {row.file_key: row for row in stored}
    kept: set[int] = set()
    for number, config in enumerate(entries, start=1):
        key = f"file:{number}"
        row = by_question.get(_same(config.question))
        if row is None or row.id in kept:
            row = in_place.get(key)
            if row is not None and (row.id in kept or _same(row.question) in seen):
                row = None
        values = {
            "question": config.question,
            "answer": config.answer,
            "keywords": list(config.keywords),
        }
        if row is None:
            conn.execute(
                insert(faq_entries),
                {**values, "community_id": community.id, "file_key": key}
                | {"created_by": None, "created_at": at, "updated_at": at},
            )
            continue
        kept.add(row.id)
        if (
            all(getattr(row, name) == value for name, value in values.items())
            and row.file_key == key
        ):
            continue
        conn.execute(
            update(faq_entries)
            .where(faq_entries.c.id == row.id)
            .values({**values, "file_key": key, "updated_at": at})
            .values(revision=faq_entries.c.revision + 1)
        )
    gone = [row.id for row in stored if row.id not in kept]
    if gone:
        _retire(conn, gone, at)


def _tidied(number: int, config: FaqEntryConfig) -> FaqEntryConfig:
    """A file entry as an admin's would be stored: trimmed, blank keywords dropped; ConfigError
    for what an admin's would be refused (blank parts, long keywords, nothing to match)."""
    question, answer = config.question.strip(), config.answer.strip()
    if not question or not answer:
        raise ConfigError(f"faq_entries[{number}]: a blank question or answer")
    keywords = tuple(dict.fromkeys(k.strip() for k in config.keywords if k.strip()))
    if any(len(keyword) > KEYWORD_LIMIT for keyword in keywords):
        raise ConfigError(f"faq_entries[{number}].keywords: longer than {KEYWORD_LIMIT} characters")
    try:
        _check_findable(question, keywords)
    except UserError:
        raise ConfigError(
            f"faq_entries[{number}]: no word to match in the question or keywords"
        ) from None
    return config.model_copy(update={"question": question, "answer": answer, "keywords": keywords})


def merge_members(conn: Connection, *, keep: int, absorb: int) -> None:
    """Fold `absorb`'s rows into `keep`'s (one vote per member per answer stays one: where both
    voted on the same answer, `keep`'s vote stands)."""
    kept_votes = select(faq_votes.c.answer_id).where(faq_votes.c.member_id == keep)
    conn.execute(
        delete(faq_votes).where(
            faq_votes.c.member_id == absorb, faq_votes.c.answer_id.in_(kept_votes)
        )
    )
    for column in MEMBER_COLUMNS:
        conn.execute(update(column.table).where(column == absorb).values({column.name: keep}))
