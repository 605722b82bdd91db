"""Starting and cancelling contests (admins, audited), each announced in every group of the
community. The close, the vote and the end: contest_voting.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, update

from community import audit
from community.communities import Community
from community.contest_terms import Terms
from community.contests import (
    CANCELLED,
    OPEN,
    VOTING,
    Contest,
    contest_by_id,
    live_count,
)
from community.messages import Reply
from community.outbox import Broadcast, broadcast
from loyalty.errors import UserError
from loyalty.rewards import reward_by_id
from storage.contest_tables import contests
from storage.sql import fit_text, lock_until_commit


@dataclass(frozen=True, slots=True)
class Announced:
    """A contest started or cancelled, and what its post to the groups queued."""

    contest: Contest
    posted: Broadcast


def start(
    conn: Connection, community: Community, terms: Terms, *, actor: audit.Actor, at: datetime
) -> Announced:
    """Open a contest for entries until terms.closes_at and announce it in every group.
    Raises UserError when max_open contests are live already, or a reward prize is unknown."""
    rules = community.rules.contests
    # Counted and written under one lock: two admins starting at once cannot pass max_open.
    lock_until_commit(conn, f"contests:{community.id}")
    if live_count(conn, community.id) >= rules.max_open:
        raise UserError("contest/too_many_open", limit=rules.max_open)
    prizes: list[dict[str, Any]] = [{"points": points} for points in terms.points]
    for number in terms.rewards:
        reward = reward_by_id(conn, community.id, number)
        prizes.append({"reward": reward.id, "name": reward.name})
    number = conn.execute(
        insert(contests).returning(contests.c.id),
        {
            "community_id": community.id,
            "title": fit_text(terms.title, 300),
            "category": terms.category,
            "prizes": prizes,
            "state": OPEN,
            "opens_at": at,
            "closes_at": terms.closes_at,
            "created_by_member_id": actor.member_id,
            "created_at": at,
        },
    ).scalar_one()
    contest = contest_by_id(conn, community.id, int(number))
    assert contest is not None
    audit.record(
        conn,
        community_id=community.id,
        actor=actor,
        action="contest_start",
        at=at,
        contest_id=contest.id,
        title=contest.title,
        closes_at=contest.closes_at.isoformat(),
        category=contest.category,
        prizes=prizes,
    )
    post = Reply("contest/announced", shown(community, contest))
    posted = broadcast(conn, community.id, post, key=f"contest:{contest.id}:start", at=at)
    return Announced(contest, posted)


def cancel(
    conn: Connection, community: Community, number: int, *, actor: audit.Actor, at: datetime
) -> Announced:
    """Stop a contest taking entries or votes: no winners, no prizes; the groups are told.
    Raises UserError for an unknown contest or one that has ended."""
    contest = contest_by_id(conn, community.id, number)
    if contest is None:
        raise UserError("contest/unknown", number=number)
    stopped = conn.execute(
        update(contests)
        .where(contests.c.id == contest.id, contests.c.state.in_((OPEN, VOTING)))
        .values(state=CANCELLED, cancelled_at=at)
    )
    if stopped.rowcount != 1:
        # Ended, or cancelled already (maybe by another admin a moment ago).
        found = contest_by_id(conn, community.id, number)
        state = contest.state if found is None else found.state
        raise UserError("contest/not_live", number=number, state=state)
    audit.record(
        conn,
        community_id=community.id,
        actor=actor,
        action="contest_cancel",
        at=at,
        contest_id=contest.id,
        title=contest.title,
        state=contest.state,
    )
    post = Reply("contest/cancelled_post", {"number": contest.id, "title": contest.title})
    posted = broadcast(conn, community.id, post, key=f"contest:{contest.id}:cancel", at=at)
    return Announced(contest, posted)


def shown(community: Community, contest: Contest) -> dict[str, Any]:
    """A contest as its templates show it: times in the community's zone, the category in
    both languages (a template picks its own), the prizes by place."""
    tz = community.timezone
    category = None
    if contest.category is not None:
        found = community.rules.submissions.category(contest.category)
        names = found.names if found is not None else None
        category = {
            "key": contest.category,
            "en": names.en if names else contest.category,
            "zh_CN": names.zh_CN if names else contest.category,
        }
    return {
        "number": contest.id,
        "title": contest.title,
        "state": contest.state,
        "category": category,
        "closes_at": contest.closes_at.astimezone(tz),
        "vote_ends_at": None
        if contest.vote_ends_at is None
        else contest.vote_ends_at.astimezone(tz),
        "vote_hours": community.rules.contests.vote_hours,
        "prizes": [{"place": place, **prize} for place, prize in enumerate(contest.prizes, 1)],
    }
