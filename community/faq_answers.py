"""The FAQ answering: a member's search, the answer given unasked to a group message that
matches an entry well enough, the 👍/👎 on those answers, and what they add up to (per entry,
and the share of questions the FAQ answered without a human)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cachetools import LRUCache
from sqlalchemy import URL, Connection, case, func, insert, select, update
from sqlalchemy.sql.functions import count

from community.communities import Community
from community.faq import Entry, entry_by_id, live_entries, version
from community.faq_index import Index, Text
from community.faq_text import is_question
from loyalty.errors import UserError
from storage.faq_tables import faq_answers, faq_votes
from storage.qa_tables import questions
from storage.sql import fit_text

# Each community's index (by database and community), with the version of the entries it was
# built from. Built on first need, rebuilt when an entry changes (in this process or another:
# the version is read each time).
_INDEXES: LRUCache[tuple[URL, int], tuple[tuple[int, int], Index, dict[int, Entry]]] = LRUCache(
    maxsize=64
)


def _index(conn: Connection, community_id: int) -> tuple[Index, dict[int, Entry]]:
    now = version(conn, community_id)
    key = (conn.engine.url, community_id)
    known = _INDEXES.get(key)
    if known is not None and known[0] == now:
        return known[1], known[2]
    entries = {entry.id: entry for entry in live_entries(conn, community_id)}
    index = Index(Text(e.id, e.question, e.keywords) for e in entries.values())
    _INDEXES[key] = (now, index, entries)
    return index, entries


@dataclass(frozen=True, slots=True)
class Found:
    """An entry a search found, and how well it matched (0 to 1)."""

    entry: Entry
    score: float


def search(conn: Connection, community: Community, words: str) -> list[Found]:
    """The entries that match `words` best, best first (at most [faq] search_results)."""
    index, entries = _index(conn, community.id)
    limit = community.rules.faq.search_results
    return [Found(entries[m.entry_id], m.score) for m in index.matches(words, limit) if m.score]


@dataclass(frozen=True, slots=True)
class Given:
    """An answer the FAQ gave unasked: its number (what its buttons name) and the entry."""

    answer_id: int
    entry: Entry
    score: float


def answer_unasked(
    conn: Connection,
    community: Community,
    text: str,
    *,
    member_id: int,
    platform: str,
    chat_id: str,
    message_id: str,
    at: datetime,
) -> Given | None:
    """The entry that answers a group message, recorded as given; None when the message asks
    nothing, matches no entry well enough ([faq] threshold), or that entry answered in this
    chat within [faq] repeat_minutes."""
    rules = community.rules.faq
    if not is_question(text):
        return None
    index, entries = _index(conn, community.id)
    if not len(index):
        return None
    best = index.matches(text, 1)
    if not best or best[0].score < rules.threshold:
        return None
    entry = entries[best[0].entry_id]
    if rules.repeat_minutes:
        recent = conn.execute(
            select(faq_answers.c.id)
            .where(
                faq_answers.c.entry_id == entry.id,
                faq_answers.c.platform == platform,
                faq_answers.c.chat_id == chat_id,
                faq_answers.c.created_at > at - timedelta(minutes=rules.repeat_minutes),
            )
            .limit(1)
        ).scalar()
        if recent is not None:
            return None
    answer_id = conn.execute(
        insert(faq_answers).returning(faq_answers.c.id),
        {
            "community_id": community.id,
            "entry_id": entry.id,
            "member_id": member_id,
            "platform": platform,
            "chat_id": fit_text(chat_id, 64),
            "message_id": fit_text(message_id, 64) or None,
            "score": best[0].score,
            "created_at": at,
        },
    ).scalar_one()
    return Given(int(answer_id), entry, best[0].score)


@dataclass(frozen=True, slots=True)
class Voted:
    """A 👍/👎 counted: the entry it is about, the vote, and whether it changed anything."""

    entry: Entry
    helpful: bool
    changed: bool
    before: bool | None  # the member's earlier vote on this answer, if any


def vote(
    conn: Connection,
    community: Community,
    answer_id: int,
    *,
    member_id: int,
    helpful: bool,
    platform: str,
    chat_id: str,
    at: datetime,
) -> Voted:
    """Count a member's 👍 (helpful) or 👎 on an answer the FAQ gave: once per member per answer,
    the last press standing. Only from the chat it was given in: answer numbers are easy to
    guess. UserError: no such answer here, or its entry was removed."""
    given = conn.execute(
        select(faq_answers.c.entry_id, faq_answers.c.platform, faq_answers.c.chat_id).where(
            faq_answers.c.id == answer_id, faq_answers.c.community_id == community.id
        )
    ).first()
    if given is None or (given.platform, given.chat_id) != (platform, chat_id):
        raise UserError("faq/vote_gone")
    try:
        entry = entry_by_id(conn, community.id, given.entry_id)
    except UserError:  # removed since: its answer is no longer the FAQ's to rate
        raise UserError("faq/vote_gone") from None
    key = (faq_votes.c.answer_id == answer_id, faq_votes.c.member_id == member_id)
    before = conn.execute(select(faq_votes.c.helpful).where(*key)).scalar()
    if before is None:
        conn.execute(
            insert(faq_votes),
            {"answer_id": answer_id, "member_id": member_id, "helpful": helpful, "voted_at": at},
        )
    elif before != helpful:
        conn.execute(update(faq_votes).where(*key).values(helpful=helpful, voted_at=at))
    return Voted(entry, helpful, before is None or before != helpful, before)


@dataclass(frozen=True, slots=True)
class Feedback:
    """What an entry's automatic answers came to: how often given, and the votes on them."""

    given: int = 0
    helpful: int = 0
    unhelpful: int = 0

    def flagged(self, share: float, min_votes: int) -> bool:
        """Whether 👎 are at least `share` of at least `min_votes` votes ([faq] settings)."""
        votes = self.helpful + self.unhelpful
        return votes >= min_votes and self.unhelpful >= share * votes


def feedback(conn: Connection, community_id: int) -> dict[int, Feedback]:
    """Each entry's answers and votes (entries never used are absent)."""
    given: dict[int, int] = {
        int(entry): int(n)
        for entry, n in conn.execute(
            select(faq_answers.c.entry_id, count())
            .where(faq_answers.c.community_id == community_id)
            .group_by(faq_answers.c.entry_id)
        )
    }
    votes = conn.execute(
        select(
            faq_answers.c.entry_id,
            func.sum(case((faq_votes.c.helpful, 1), else_=0)),
            func.sum(case((faq_votes.c.helpful, 0), else_=1)),
        )
        .join(faq_answers, faq_answers.c.id == faq_votes.c.answer_id)
        .where(faq_answers.c.community_id == community_id)
        .group_by(faq_answers.c.entry_id)
    ).all()
    found = {entry: Feedback(n) for entry, n in given.items()}
    for entry, up, down in votes:
        found[int(entry)] = Feedback(found[int(entry)].given, int(up or 0), int(down or 0))
    return found


@dataclass(frozen=True, slots=True)
class Share:
    """How many questions the FAQ answered without a human, since some moment (or ever).

    `answered`: automatic answers whose asker did not press 👎; `questions`: questions put to
    people with /ask (Q&A). The share is answered / (automatic answers + questions)."""

    given: int
    rejected: int  # automatic answers the asker pressed 👎 on
    questions: int

    @property
    def answered(self) -> int:
        return self.given - self.rejected

    @property
    def percent(self) -> int | None:
        """The share in whole percent; None when nothing was asked at all."""
        asked = self.given + self.questions
        return None if asked == 0 else round(100 * self.answered / asked)


def answered_share(conn: Connection, community_id: int, since: datetime | None = None) -> Share:
    """The share of questions the FAQ answered by itself since `since` (None: ever)."""
    answered_when = [faq_answers.c.community_id == community_id]
    asked_when = [questions.c.community_id == community_id]
    if since is not None:
        answered_when.append(faq_answers.c.created_at >= since)
        asked_when.append(questions.c.created_at >= since)
    given = conn.execute(select(count()).where(*answered_when)).scalar_one()
    rejected = conn.execute(
        select(count())
        .select_from(faq_votes)
        .join(faq_answers, faq_answers.c.id == faq_votes.c.answer_id)
        .where(
            *answered_when,
            faq_votes.c.member_id == faq_answers.c.member_id,
            faq_votes.c.helpful.is_(False),
        )
    ).scalar_one()
    asked = conn.execute(select(count()).where(*asked_when)).scalar_one()
    return Share(int(given), int(rejected), int(asked))
