"""Content submissions (投稿 / UGC): members submit text, links and files in a category; they
wait in the review queue; /mysubmissions shows each one's state. What a submission may hold:
community/submission_content.py; deciding on it: community/submission_review.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import Column, Connection, Row, bindparam, delete, func, insert, select, update

from community import contests, media
from community.communities import Community
from community.messages import Media
from community.submission_content import Content, fits, shown_kind
from community.submission_rules import SubmissionCategory
from loyalty.errors import UserError
from storage.schema import members
from storage.sql import fit_text, insert_if_absent, lock_until_commit
from storage.ugc_tables import reviewers, submission_files, submission_marks, submissions

# The columns of this activity's tables that point at a member: merge_members moves them when
# /link folds one member into another (tests/test_linking.py checks every such column is).
MEMBER_COLUMNS: tuple[Column[int], ...] = (
    submissions.c.member_id,
    submissions.c.reviewer_member_id,
    submissions.c.reversed_by_member_id,
    reviewers.c.member_id,
    reviewers.c.added_by_member_id,
)

# A submission's states. A draft waits for its author to choose a category (a photo sent with
# a bare /submit, where several categories would take it); pending ones wait for review.
DRAFT, PENDING, APPROVED, REJECTED = "draft", "pending", "approved", "rejected"


@dataclass(frozen=True, slots=True)
class Submission:
    """One submission as stored, with its author's name."""

    id: int
    community_id: int
    member_id: int
    author: str
    category: str  # a category's key ("" for a draft)
    contest_id: int | None
    text: str
    links: tuple[str, ...]
    state: str
    featured: bool
    reason_key: str | None
    reason_text: str | None
    reviewer_member_id: int | None
    decided_at: datetime | None
    points: int
    reversed_at: datetime | None
    created_at: datetime

    @property
    def reversed(self) -> bool:
        return self.reversed_at is not None


@dataclass(frozen=True, slots=True)
class Where:
    """Where a submission was made: the chat, and the platform's id of the message."""

    platform: str
    chat_id: str
    message_id: str = ""


_SUBMISSION = select(submissions, members.c.display_name.label("author")).join(
    members, members.c.id == submissions.c.member_id
)


def _submission(row: Row[tuple[object, ...]]) -> Submission:
    m = row._mapping
    return Submission(
        id=m["id"],
        community_id=m["community_id"],
        member_id=m["member_id"],
        author=m["author"],
        category=m["category"],
        contest_id=m["contest_id"],
        text=m["text"],
        links=tuple(m["links"] or ()),
        state=m["state"],
        featured=bool(m["featured"]),
        reason_key=m["reason_key"],
        reason_text=m["reason_text"],
        reviewer_member_id=m["reviewer_member_id"],
        decided_at=m["decided_at"],
        points=int(m["points"]),
        reversed_at=m["reversed_at"],
        created_at=m["created_at"],
    )


def submission_by_id(conn: Connection, community_id: int, number: int) -> Submission | None:
    """Submission `number` of the community (None: no such submission here)."""
    row = conn.execute(
        _SUBMISSION.where(submissions.c.id == number, submissions.c.community_id == community_id)
    ).first()
    return None if row is None else _submission(row)


def files_of(conn: Connection, submission_id: int) -> tuple[Media, ...]:
    """The submission's files, in the order sent, without their bytes (a reply names them;
    the outbox reads the bytes back when it sends)."""
    ids = list(
        conn.execute(
            select(submission_files.c.media_id)
            .where(submission_files.c.submission_id == submission_id)
            .order_by(submission_files.c.position)
        ).scalars()
    )
    found = media.described(conn, ids)
    return tuple(found[i] for i in ids if i in found)


# Submitting ----------------------------------------------------------------------------------

_MADE_SINCE = select(func.count()).where(
    submissions.c.member_id == bindparam("member"), submissions.c.created_at >= bindparam("since")
)


def submit(
    conn: Connection,
    community: Community,
    *,
    member_id: int,
    category: SubmissionCategory | None,
    content: Content,
    where: Where,
    at: datetime,
) -> Submission:
    """Keep a submission (its number: its id), pending review; a draft when `category` is None.
    Raises UserError for a category whose needs the files do not meet, one over the member's
    day, or content submitted before in the community ("ugc/duplicate", naming it)."""
    rules = community.rules.submissions
    if category is not None and not fits(category, content.kinds):
        raise UserError("ugc/needs", category=_names(category), needs=category.needs)
    # Two submissions of one member at once (two devices) must not both pass the day's count.
    lock_until_commit(conn, f"submissions:{member_id}")
    # Content sent before is that submission (one's own draft: placed, not refused), whatever
    # the day's count says.
    _refuse_duplicates(conn, community.id, member_id, content.marks)
    midnight = datetime.combine(community.local_day(at), time.min, community.timezone)
    made = conn.execute(_MADE_SINCE, {"member": member_id, "since": midnight}).scalar_one()
    if made >= rules.per_day:
        raise UserError("ugc/too_many_today", limit=rules.per_day)
    number = int(
        conn.execute(
            insert(submissions).returning(submissions.c.id),
            {
                "community_id": community.id,
                "member_id": member_id,
                "category": "" if category is None else category.key,
                "contest_id": None
                if category is None
                else contests.contest_for(conn, community, category.key, at),
                "text": fit_text(content.text, 10_000),
                "links": list(content.links),
                "platform": where.platform,
                "chat_id": fit_text(where.chat_id, 64),
                "message_id": fit_text(where.message_id, 64) or None,
                "state": DRAFT if category is None else PENDING,
                "created_at": at,
            },
        ).scalar_one()
    )
    for position, file in enumerate(content.files):
        kept = media.keep(
            conn,
            community_id=community.id,
            kind=file.kind,
            name=file.name or f"{file.kind}-{position + 1}",
            mime=file.mime,
            data=file.data,
            at=at,
            platform=where.platform if file.ref else "",
            ref=file.ref,
        )
        conn.execute(
            insert(submission_files),
            {"submission_id": number, "position": position, "media_id": kept.media_id},
        )
    for mark in content.marks:
        taken = insert_if_absent(
            conn,
            submission_marks,
            {"community_id": community.id, "mark": mark, "submission_id": number},
        )
        if not taken:  # submitted meanwhile by someone else (PostgreSQL: they committed first)
            _refuse_duplicates(conn, community.id, member_id, (mark,))
    found = submission_by_id(conn, community.id, number)
    assert found is not None
    return found


def _refuse_duplicates(
    conn: Connection, community_id: int, member_id: int, marks: Sequence[str]
) -> None:
    if not marks:
        return
    row = conn.execute(
        select(submissions.c.id, submissions.c.member_id, submissions.c.state)
        .join(submission_marks, submission_marks.c.submission_id == submissions.c.id)
        .where(submission_marks.c.community_id == community_id, submission_marks.c.mark.in_(marks))
        .order_by(submissions.c.id)
        .limit(1)
    ).first()
    if row is not None:
        own = row.member_id == member_id
        raise UserError("ugc/duplicate", number=row.id, own=own, draft=own and row.state == DRAFT)


def choose_category(
    conn: Connection, community: Community, draft: Submission, category: SubmissionCategory
) -> Submission:
    """The author's draft in `category`, now pending review (entered in the contest open when
    it was made). Raises UserError when it is no draft any more or the files do not fit."""
    kinds = [shown_kind(item.kind, item.mime) for item in files_of(conn, draft.id)]
    if not fits(category, kinds):
        raise UserError("ugc/needs", category=_names(category), needs=category.needs)
    contest = contests.contest_for(conn, community, category.key, draft.created_at)
    changed = conn.execute(
        update(submissions)
        .where(submissions.c.id == draft.id, submissions.c.state == DRAFT)
        .values(category=category.key, contest_id=contest, state=PENDING)
    ).rowcount
    if not changed:
        raise UserError("ugc/category_chosen", number=draft.id)
    found = submission_by_id(conn, community.id, draft.id)
    assert found is not None
    return found


def _names(category: SubmissionCategory) -> dict[str, str]:
    return {"en": category.names.en, "zh_CN": category.names.zh_CN}


def category_names(community: Community, key: str) -> dict[str, str]:
    """A category's names in each language (its key, where it is no longer configured)."""
    category = community.rules.submissions.category(key)
    return {"en": key, "zh_CN": key} if category is None else _names(category)


# Reading -------------------------------------------------------------------------------------


def of_member(conn: Connection, community_id: int, member_id: int) -> list[Submission]:
    """The member's submissions in this community, newest first."""
    rows = conn.execute(
        _SUBMISSION.where(
            submissions.c.community_id == community_id, submissions.c.member_id == member_id
        ).order_by(submissions.c.id.desc())
    )
    return [_submission(row) for row in rows]


def next_pending(conn: Connection, community_id: int, reviewer_id: int) -> Submission | None:
    """The oldest submission waiting for review that is not the reviewer's own."""
    row = conn.execute(
        _SUBMISSION.where(
            submissions.c.community_id == community_id,
            submissions.c.state == PENDING,
            submissions.c.member_id != reviewer_id,
        )
        .order_by(submissions.c.id)
        .limit(1)
    ).first()
    return None if row is None else _submission(row)


def pending_count(conn: Connection, community_id: int) -> int:
    """How many submissions wait for review."""
    return int(
        conn.execute(
            select(func.count()).where(
                submissions.c.community_id == community_id, submissions.c.state == PENDING
            )
        ).scalar_one()
    )


def merge_members(conn: Connection, *, keep: int, absorb: int) -> None:
    """Fold `absorb`'s rows into `keep`'s (a reviewer twice stays one reviewer)."""
    kept = select(reviewers.c.community_id).where(reviewers.c.member_id == keep).scalar_subquery()
    conn.execute(
        delete(reviewers).where(reviewers.c.member_id == absorb, reviewers.c.community_id.in_(kept))
    )
    for column in MEMBER_COLUMNS:
        conn.execute(update(column.table).where(column == absorb).values({column.name: keep}))
