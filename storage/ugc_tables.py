"""Content submissions (UGC, issue 12): the files they carry, the submissions, their review and
the reviewers. Part of storage/schema.py's one MetaData, kept apart by feature. A submission's
number is its row id: one sequence, the same number on every platform.

Files are kept in the database itself (`media.data`, at most [submissions] max_file_bytes
each), once per community and content: a Telegram file_id works only for this bot on Telegram
and a Discord CDN link expires, so what is needed to show a submission again, or to repost it
on the other platform, is the bytes. A platform's own reference for a file it has (the
Telegram file_id it gave) is kept beside them, so a repost there sends no bytes again."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from storage.schema_core import metadata
from storage.types import Id, UtcDateTime

media = Table(
    "media",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("community_id", Id, ForeignKey("communities.id"), nullable=False),
    Column("sha256", String(64), nullable=False),  # of the bytes: one row per content
    Column("kind", String(12), nullable=False),  # photo, video, file
    Column("name", String(200), nullable=False),  # as the member's file was called
    Column("mime", String(100), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    UniqueConstraint("community_id", "sha256", name="uq_media_community_sha256"),
    sqlite_autoincrement=True,
)

# A platform's own reference for a kept file (Telegram's file_id): sending it there again
# names it instead of uploading the bytes.
media_refs = Table(
    "media_refs",
    metadata,
    Column("media_id", Id, ForeignKey("media.id"), primary_key=True),
    Column("platform", String(16), primary_key=True),
    Column("ref", String(300), nullable=False),
)

submissions = Table(
    "submissions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("community_id", Id, ForeignKey("communities.id"), nullable=False),
    Column("member_id", Id, ForeignKey("members.id"), nullable=False, index=True),
    Column("category", String(24), nullable=False),  # a [[submissions.categories]] key
    # The contest it was entered in (contest_tables.contests.id), if any.
    Column("contest_id", Id, nullable=True, index=True),
    Column("text", Text, nullable=False),
    Column("links", JSON, nullable=False),  # the links found in the text, in order
    # Where it was submitted.
    Column("platform", String(16), nullable=False),
    Column("chat_id", String(64), nullable=False),
    Column("message_id", String(64), nullable=True),
    # draft (its author has yet to choose the category; not in the queue) -> pending ->
    # approved | rejected. The state is the decision that stands: an admin's reversal (once,
    # reversed_at) turns approved into rejected or rejected into approved. An approval counts
    # to the month of coalesce(reversed_at, decided_at).
    Column("state", String(12), nullable=False, server_default="pending"),
    # Approved and reposted to every group (stays true if the approval is reversed: the post
    # stays posted).
    Column("featured", Boolean, nullable=False, server_default=false()),
    # Why it was rejected: a REJECT_REASONS key, or words a reviewer typed.
    Column("reason_key", String(24), nullable=True),
    Column("reason_text", Text, nullable=True),
    Column("reviewer_member_id", Id, ForeignKey("members.id"), nullable=True),
    Column("decided_at", UtcDateTime, nullable=True),
    # Points the author holds from it: paid on approval; after an approval is reversed, what
    # could not be taken back (spent already), else 0.
    Column("points", BigInteger, nullable=False, server_default="0"),
    # An admin reversed the decision (once): points taken back, or an approval given late.
    Column("reversed_at", UtcDateTime, nullable=True),
    Column("reversed_by_member_id", Id, ForeignKey("members.id"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    # When reviewers were told of it (in a digest); None: not yet.
    Column("announced_at", UtcDateTime, nullable=True),
    sqlite_autoincrement=True,
)
Index("ix_submissions_queue", submissions.c.community_id, submissions.c.state, submissions.c.id)

submission_files = Table(
    "submission_files",
    metadata,
    Column("submission_id", Id, ForeignKey("submissions.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("media_id", Id, ForeignKey("media.id"), nullable=False),
)

# What makes two submissions the same content: a link (normalized) or a file (its sha256).
# One per community: the second submission of it is refused.
submission_marks = Table(
    "submission_marks",
    metadata,
    Column("community_id", Id, ForeignKey("communities.id"), primary_key=True),
    Column("mark", String(64), primary_key=True),
    Column("submission_id", Id, ForeignKey("submissions.id"), nullable=False),
)

reviewers = Table(
    "reviewers",
    metadata,
    Column("community_id", Id, ForeignKey("communities.id"), primary_key=True),
    Column("member_id", Id, ForeignKey("members.id"), primary_key=True),
    Column("added_by_member_id", Id, ForeignKey("members.id"), nullable=True),
    Column("added_at", UtcDateTime, nullable=False),
)
