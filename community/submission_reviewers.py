"""Who reviews submissions: the community's admins, and the members admins gave the reviewer
role (/reviewer add @m). Admins alone reverse a decision.

Who is an admin where no platform can be asked (a private chat, the scheduler): community/
admins.py's rule, where a reviewer's own decisions make nobody an admin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, delete, select

from community import audit
from community.admins import admin_members, is_admin
from community.audit import Actor
from storage.schema import members
from storage.sql import insert_if_absent
from storage.ugc_tables import reviewers


@dataclass(frozen=True, slots=True)
class Reviewer:
    """A member given the reviewer role."""

    member_id: int
    name: str
    added_at: datetime


def add(conn: Connection, community_id: int, member_id: int, *, actor: Actor, at: datetime) -> bool:
    """Give the member the reviewer role; False when they had it. Audited."""
    added = insert_if_absent(
        conn,
        reviewers,
        {
            "community_id": community_id,
            "member_id": member_id,
            "added_by_member_id": actor.member_id,
            "added_at": at,
        },
    )
    if added:
        audit.record(
            conn,
            community_id=community_id,
            actor=actor,
            action="reviewer_add",
            at=at,
            target_member_id=member_id,
        )
    return added


def remove(
    conn: Connection, community_id: int, member_id: int, *, actor: Actor, at: datetime
) -> bool:
    """Take the role away; False when they did not have it. Audited."""
    removed = conn.execute(
        delete(reviewers).where(
            reviewers.c.community_id == community_id, reviewers.c.member_id == member_id
        )
    ).rowcount
    if removed:
        audit.record(
            conn,
            community_id=community_id,
            actor=actor,
            action="reviewer_remove",
            at=at,
            target_member_id=member_id,
        )
    return bool(removed)


def listing(conn: Connection, community_id: int) -> list[Reviewer]:
    """The members given the role, in the order they were given it."""
    rows = conn.execute(
        select(reviewers.c.member_id, members.c.display_name, reviewers.c.added_at)
        .join(members, members.c.id == reviewers.c.member_id)
        .where(reviewers.c.community_id == community_id)
        .order_by(reviewers.c.added_at, reviewers.c.member_id)
    )
    return [Reviewer(row.member_id, row.display_name, row.added_at) for row in rows]


def is_reviewer(conn: Connection, community_id: int, member_id: int) -> bool:
    """Whether the member was given the reviewer role."""
    return (
        conn.execute(
            select(reviewers.c.member_id).where(
                reviewers.c.community_id == community_id, reviewers.c.member_id == member_id
            )
        ).first()
        is not None
    )


def may_review(conn: Connection, community_id: int, member_id: int, *, admin: bool) -> bool:
    """Whether the member decides on submissions: an admin (`admin`: the event says so), a
    member with the role, or a member taken for an admin."""
    return (
        admin
        or is_reviewer(conn, community_id, member_id)
        or is_admin(conn, community_id, member_id)
    )


def reviewing_members(
    conn: Connection, community_id: int, *, listed: tuple[str, ...] = ()
) -> set[int]:
    """Everyone who reviews (for the digest): the members with the role and the admins."""
    found = admin_members(conn, community_id, listed=listed)
    found.update(
        conn.execute(
            select(reviewers.c.member_id).where(reviewers.c.community_id == community_id)
        ).scalars()
    )
    return found
