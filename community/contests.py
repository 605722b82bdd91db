"""Contests (征集 / 摄影大赛): submissions tagged to a contest during its window, a vote on the
approved entries after the close, winners and prizes. This module: a contest as read back, the
contest a submission enters, its entries. Starting and cancelling: contest_runs.py; the close,
the vote and the end: contest_voting.py; the schedule: contest_jobs.py."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection, Delete, Row, and_, delete, func, or_, select, update

from community.communities import Community
from storage.contest_tables import contest_entries, contest_votes, contests
from storage.schema import members
from storage.ugc_tables import media, submission_files, submissions

# The columns of this activity's tables that point at a member: merge_members moves them when
# /link folds one member into another (tests/test_linking.py checks every such column is).
MEMBER_COLUMNS: tuple[Column[int], ...] = (
    contests.c.created_by_member_id,
    contest_votes.c.member_id,
)

OPEN, VOTING, ENDED, CANCELLED = "open", "voting", "ended", "cancelled"
APPROVED = "approved"  # a submission's state that makes it an entry


@dataclass(frozen=True, slots=True)
class Contest:
    """One contest as stored."""

    id: int
    community_id: int
    title: str
    category: str | None
    # One prize per place: {"points": 300} or {"reward": 5, "name": "Mug"}.
    prizes: tuple[Mapping[str, Any], ...]
    state: str
    opens_at: datetime
    closes_at: datetime
    vote_ends_at: datetime | None
    created_at: datetime

    @property
    def live(self) -> bool:
        """Taking entries or votes (what max_open counts, and what /contest cancel stops)."""
        return self.state in (OPEN, VOTING)


@dataclass(frozen=True, slots=True)
class Entry:
    """A submission entered in a contest: its author, its words, its first photo (if any), and
    once the vote is on, its votes and place."""

    number: int  # the submission's number
    member_id: int
    author: str
    text: str
    media_id: int | None = None
    votes: int = 0
    place: int | None = None


def _contest(row: Row[Any]) -> Contest:
    m = row._mapping
    return Contest(
        id=m["id"],
        community_id=m["community_id"],
        title=m["title"],
        category=m["category"],
        prizes=tuple(m["prizes"] or ()),
        state=m["state"],
        opens_at=m["opens_at"],
        closes_at=m["closes_at"],
        vote_ends_at=m["vote_ends_at"],
        created_at=m["created_at"],
    )


def contest_by_id(
    conn: Connection, community_id: int, number: int, *, lock: bool = False
) -> Contest | None:
    """Contest `number` of the community (None: no such contest here). `lock`: its row held
    until commit (PostgreSQL), so its close, end or cancel waits for what this transaction
    does under it, and this one sees theirs once they are committed."""
    query = select(contests).where(contests.c.id == number, contests.c.community_id == community_id)
    row = conn.execute(query.with_for_update() if lock else query).first()
    return None if row is None else _contest(row)


def listing(conn: Connection, community_id: int, limit: int) -> list[Contest]:
    """The live contests, then the finished ones, newest first; `limit` in all."""
    here = contests.c.community_id == community_id
    live = conn.execute(
        select(contests)
        .where(here, contests.c.state.in_((OPEN, VOTING)))
        .order_by(contests.c.id.desc())
        .limit(limit)
    ).all()
    done = conn.execute(
        select(contests)
        .where(here, contests.c.state.in_((ENDED, CANCELLED)))
        .order_by(contests.c.id.desc())
        .limit(max(0, limit - len(live)))
    ).all()
    return [_contest(row) for row in [*live, *done]]


def live_count(conn: Connection, community_id: int) -> int:
    """How many of the community's contests take entries or votes now."""
    found = conn.execute(
        select(func.count())
        .select_from(contests)
        .where(contests.c.community_id == community_id, contests.c.state.in_((OPEN, VOTING)))
    ).scalar_one()
    return int(found)


def contest_for(conn: Connection, community: Community, category: str, at: datetime) -> int | None:
    """The contest a submission of `category` made at `at` is entered in: the newest one
    taking entries then whose category it is (a contest without one takes every category);
    None when no contest is open."""
    found = conn.execute(
        select(contests.c.id)
        .where(
            contests.c.community_id == community.id,
            contests.c.state == OPEN,
            contests.c.opens_at <= at,
            contests.c.closes_at > at,
            or_(contests.c.category.is_(None), contests.c.category == category),
        )
        .order_by(contests.c.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return None if found is None else int(found)


# An entry's first photo: what its post in the vote shows.
_FIRST_PHOTO = (
    select(submission_files.c.media_id)
    .join(media, media.c.id == submission_files.c.media_id)
    .where(submission_files.c.submission_id == submissions.c.id, media.c.kind == "photo")
    .order_by(submission_files.c.position)
    .limit(1)
    .correlate(submissions)
    .scalar_subquery()
)
_ENTRY_COLUMNS = (
    submissions.c.id,
    submissions.c.member_id,
    members.c.display_name,
    submissions.c.text,
    _FIRST_PHOTO.label("media_id"),
)


def approved_entries(conn: Connection, contest_id: int) -> list[Entry]:
    """The contest's approved submissions so far, oldest first (what goes to its vote)."""
    rows = conn.execute(
        select(*_ENTRY_COLUMNS)
        .join(members, members.c.id == submissions.c.member_id)
        .where(submissions.c.contest_id == contest_id, submissions.c.state == APPROVED)
        .order_by(submissions.c.id)
    )
    return [Entry(row.id, row.member_id, row.display_name, row.text, row.media_id) for row in rows]


_VOTES = (
    select(func.count())
    .where(
        contest_votes.c.contest_id == contest_entries.c.contest_id,
        contest_votes.c.submission_id == contest_entries.c.submission_id,
    )
    .correlate(contest_entries)
    .scalar_subquery()
)


def voted_entries(conn: Connection, contest_id: int, *, approved: bool = False) -> list[Entry]:
    """The entries that went to the contest's vote, oldest first, with their votes (counted
    now) and place (once the vote ended). `approved`: only those still approved (an admin may
    have reversed one's approval during the vote: it wins nothing)."""
    query = (
        select(*_ENTRY_COLUMNS, _VOTES.label("votes"), contest_entries.c.place)
        .select_from(contest_entries)
        .join(submissions, submissions.c.id == contest_entries.c.submission_id)
        .join(members, members.c.id == submissions.c.member_id)
        .where(contest_entries.c.contest_id == contest_id)
        .order_by(submissions.c.id)
    )
    if approved:
        query = query.where(submissions.c.state == APPROVED)
    rows = conn.execute(query)
    return [
        Entry(row.id, row.member_id, row.display_name, row.text, row.media_id, row.votes, row.place)
        for row in rows
    ]


def vote_of(conn: Connection, contest_id: int, member_id: int) -> int | None:
    """The entry the member voted for in the contest (None: no vote yet, or a vote for an
    entry since withdrawn, whose approval an admin reversed: that vote counts for nothing)."""
    found = conn.execute(
        select(contest_votes.c.submission_id)
        .join(submissions, submissions.c.id == contest_votes.c.submission_id)
        .where(
            contest_votes.c.contest_id == contest_id,
            contest_votes.c.member_id == member_id,
            submissions.c.state == APPROVED,
        )
    ).scalar_one_or_none()
    return None if found is None else int(found)


def withdrawn_votes(contest_id: int, member_id: int) -> Delete:
    """Deletes the member's vote in the contest if it went to an entry since withdrawn (its
    approval reversed): such a vote counts for nothing, and the member may vote again."""
    withdrawn = select(submissions.c.id).where(
        submissions.c.contest_id == contest_id, submissions.c.state != APPROVED
    )
    return delete(contest_votes).where(
        contest_votes.c.contest_id == contest_id,
        contest_votes.c.member_id == member_id,
        contest_votes.c.submission_id.in_(withdrawn),
    )


def merge_members(conn: Connection, *, keep: int, absorb: int) -> None:
    """Fold `absorb`'s rows into `keep`'s. Where both voted in one contest, `keep`'s vote
    stays: one person, one vote. A vote either gave an entry of either (possible while they
    were two unlinked accounts) goes: nobody votes for their own entry."""
    both = (keep, absorb)
    theirs = select(submissions.c.id).where(submissions.c.member_id.in_(both))
    conn.execute(
        delete(contest_votes).where(
            contest_votes.c.member_id.in_(both), contest_votes.c.submission_id.in_(theirs)
        )
    )
    kept = select(contest_votes.c.contest_id).where(contest_votes.c.member_id == keep)
    conn.execute(
        delete(contest_votes).where(
            and_(contest_votes.c.member_id == absorb, contest_votes.c.contest_id.in_(kept))
        )
    )
    for column in MEMBER_COLUMNS:
        conn.execute(update(column.table).where(column == absorb).values({column.name: keep}))
