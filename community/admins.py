"""Who the community's admins are where no platform can be asked: a private chat, the scheduler.

The rule: the members behind community.toml's admins accounts (the pipeline says so as the
event's is_admin; a firing gets them as FiringContext.admins), behind the accounts that adopted
the community's groups, and the members who acted as an admin here — an audited action on
something other than themselves (a /link is a member's own and audited too). A reviewer's
decisions on submissions are audited but make nobody an admin: the role would otherwise grow
into the admins' powers with its first approval.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select, or_, select, tuple_

from storage.schema import accounts, audit_log, groups

# Audited actions of members who are no admins for doing them: a reviewer's decisions.
NOT_ADMIN_ACTIONS = ("submission_approve", "submission_feature", "submission_reject")


def _acted_as_admin(community_id: int) -> Select[Any]:
    return (
        select(audit_log.c.actor_member_id)
        .where(
            audit_log.c.community_id == community_id,
            audit_log.c.actor_member_id.is_not(None),
            audit_log.c.action.not_in(NOT_ADMIN_ACTIONS),
            or_(
                audit_log.c.target_member_id.is_(None),
                audit_log.c.target_member_id != audit_log.c.actor_member_id,
            ),
        )
        .distinct()
    )


def _adopters(
    conn: Connection, community_id: int, listed: tuple[str, ...]
) -> list[tuple[str, ...]]:
    """The accounts ("platform", "user id") listed, and those that adopted the groups."""
    adopted = conn.execute(
        select(groups.c.adopted_by).where(
            groups.c.community_id == community_id, groups.c.adopted_by.is_not(None)
        )
    ).scalars()
    keys = [*listed, *(key for key in adopted if key)]
    return [tuple(key.split(":", 1)) for key in keys if ":" in key]


def admin_members(conn: Connection, community_id: int, *, listed: tuple[str, ...] = ()) -> set[int]:
    """The community's members taken for its admins: the `listed` accounts' ("telegram:12345"),
    the adopters of its groups' and the members who acted as admins here."""
    found: set[int] = set()
    adopters = _adopters(conn, community_id, listed)
    if adopters:
        found.update(
            conn.execute(
                select(accounts.c.member_id).where(
                    accounts.c.community_id == community_id,
                    tuple_(accounts.c.platform, accounts.c.platform_user_id).in_(adopters),
                )
            ).scalars()
        )
    acted = conn.execute(_acted_as_admin(community_id)).scalars()
    found.update(member for member in acted if member is not None)
    return found


def is_admin(conn: Connection, community_id: int, member_id: int) -> bool:
    """Whether the member is taken for an admin by the rule (the listed admins are the caller's
    to know: the event says so). One member's question: two small reads, not the whole set."""
    adopters = _adopters(conn, community_id, ())
    if adopters:
        adopter = conn.execute(
            select(accounts.c.id).where(
                accounts.c.community_id == community_id,
                accounts.c.member_id == member_id,
                tuple_(accounts.c.platform, accounts.c.platform_user_id).in_(adopters),
            )
        ).first()
        if adopter is not None:
            return True
    acted = _acted_as_admin(community_id).where(audit_log.c.actor_member_id == member_id)
    return conn.execute(acted.limit(1)).first() is not None
