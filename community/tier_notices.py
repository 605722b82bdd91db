"""What members are told when their tier changes: a private congratulation on an upgrade (and a
line in the groups, if the community wants it), a private notice of a downgrade, and the
"earn X more by DATE to keep Gold" reminder before the review that would move them down.

Each message has an outbox key from its cause, so a retried job or event never sends it twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, select

from community.communities import Community
from community.messages import Reply, Visibility
from community.outbox import Direct, broadcast, enqueue_directs
from community.reminders import recipients
from loyalty.tier_reviews import AtRisk
from loyalty.tiers import TierChange, benefits_of, names_of
from storage.schema import members

_SLICE = 500  # ids per IN (...)


def upgraded(
    conn: Connection, community: Community, change: TierChange, at: datetime
) -> frozenset[str]:
    """Congratulate the member privately (and in the groups, if the community wants it);
    the platforms messages were queued for."""
    rules = community.rules.tiers
    name = _names(conn, [change.member_id]).get(change.member_id, "")
    context = {
        "name": name,
        "tier": names_of(rules, change.new),
        "growth": change.growth,
        **benefits_of(rules, change.new),
    }
    cause = f"tier:{community.id}:{change.member_id}:up:{change.new}:{at.isoformat()}"
    platforms: set[str] = set()
    target = recipients(conn, community.id, [change.member_id]).get(change.member_id)
    reply = Reply("tiers/upgraded", context, visibility=Visibility.PRIVATE)
    if target is not None:
        message = Direct(target.platform, target.user_id, reply, name, cause)
        platforms |= enqueue_directs(conn, community_id=community.id, at=at, messages=[message])
    if rules.announce_upgrades:
        line = Reply("tiers/announce", {"name": name, "tier": context["tier"]})
        platforms.update(broadcast(conn, community.id, line, key=cause, at=at).platforms)
    return frozenset(platforms)


def downgraded(
    conn: Connection, community: Community, changes: Sequence[TierChange], at: datetime
) -> frozenset[str]:
    """Tell each member moved down at the review at `at`, privately."""
    rules = community.rules.tiers
    ids = [change.member_id for change in changes]
    names, targets = _names(conn, ids), recipients(conn, community.id, ids)
    messages = []
    for change in changes:
        target = targets.get(change.member_id)
        if target is None:
            continue
        name = names.get(change.member_id, "")
        context = {
            "name": name,
            "old": names_of(rules, change.old),
            "tier": names_of(rules, change.new),
            "growth": change.growth,
            "threshold": rules.level(change.old).threshold,
            **benefits_of(rules, change.new),
        }
        reply = Reply("tiers/downgraded", context, visibility=Visibility.PRIVATE)
        key = f"tier:{community.id}:{change.member_id}:down:{at.isoformat()}"
        messages.append(Direct(target.platform, target.user_id, reply, name, key))
    return frozenset(enqueue_directs(conn, community_id=community.id, at=at, messages=messages))


def reminded(
    conn: Connection, community: Community, risks: Sequence[AtRisk], review: datetime, at: datetime
) -> frozenset[str]:
    """Remind each member the review at `review` would move down what to earn by then."""
    rules = community.rules.tiers
    ids = [risk.member_id for risk in risks]
    names, targets = _names(conn, ids), recipients(conn, community.id, ids)
    by = review.astimezone(community.timezone)
    messages = []
    for risk in risks:
        target = targets.get(risk.member_id)
        if target is None:
            continue
        name = names.get(risk.member_id, "")
        context = {
            "name": name,
            "tier": names_of(rules, risk.tier),
            "needed": risk.needed,
            "growth": risk.growth,
            "threshold": rules.level(risk.tier).threshold,
            "by": by,
        }
        reply = Reply("tiers/keep_reminder", context, visibility=Visibility.PRIVATE)
        key = f"tier:{community.id}:{risk.member_id}:remind:{review.isoformat()}"
        messages.append(Direct(target.platform, target.user_id, reply, name, key))
    return frozenset(enqueue_directs(conn, community_id=community.id, at=at, messages=messages))


def _names(conn: Connection, member_ids: Sequence[int]) -> dict[int, str]:
    found: dict[int, str] = {}
    for start in range(0, len(member_ids), _SLICE):
        part = member_ids[start : start + _SLICE]
        rows = conn.execute(
            select(members.c.id, members.c.display_name).where(members.c.id.in_(part))
        )
        found.update((int(row.id), str(row.display_name)) for row in rows)
    return found
