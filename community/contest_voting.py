"""A contest's close, its vote and its end.

At the close (contest_jobs.py fires it at --until) the approved entries are fixed as the
vote's list and posted to every group: a header, then each entry (up to max_entries_shown)
with its first photo and a button to vote for it. A member votes once per contest, never for
their own entry; the first vote stands (the issue says one vote per member: a second press is
told which entry they voted for, and changes nothing). At the vote's end the entries with the
most votes win the prizes in order (a tie goes to the earlier entry), paid through the ledger
or given as shop rewards; the groups are told, each winner privately.

Each step is claimed by a conditional UPDATE of the contest's state: a job that fires twice, or
two processes, close or end a contest once, and the prizes' keys pay each place once anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from community import audit
from community.communities import Community
from community.contest_ranking import winners
from community.contest_runs import shown
from community.contests import (
    APPROVED,
    CANCELLED,
    ENDED,
    OPEN,
    VOTING,
    Contest,
    Entry,
    approved_entries,
    contest_by_id,
    vote_of,
    voted_entries,
    withdrawn_votes,
)
from community.earning import credit
from community.media import described
from community.messages import Choice, Reply, Visibility
from community.outbox import broadcast
from community.private_notices import Notice, tell
from loyalty import redemptions
from loyalty.errors import UserError
from storage.contest_tables import contest_entries, contest_votes, contests
from storage.schema import members
from storage.sql import insert_if_absent
from storage.ugc_tables import submissions

_MINUTE = timedelta(minutes=1)


def close(conn: Connection, community: Community, contest_id: int, now: datetime) -> set[str]:
    """Stop a contest's entries (its closes_at has come) and post its vote, or its end when no
    entry was approved. Returns the platforms posts were queued for (none: not due, or closed
    already)."""
    # The vote's end on a whole minute: the scheduler fires on minutes.
    ends = _next_minute(now) + timedelta(hours=community.rules.contests.vote_hours)
    row = conn.execute(
        update(contests)
        .where(
            contests.c.id == contest_id,
            contests.c.state == OPEN,
            contests.c.closes_at <= now,
        )
        .values(state=VOTING, closed_at=now, vote_ends_at=ends)
        .returning(contests.c.id)
    ).first()
    if row is None:
        return set()
    contest = contest_by_id(conn, community.id, contest_id)
    assert contest is not None
    entries = approved_entries(conn, contest.id)
    _audit(conn, contest, "contest_close", now, entries=len(entries))
    key = f"contest:{contest.id}"
    if not entries:
        conn.execute(
            update(contests).where(contests.c.id == contest.id).values(state=ENDED, ended_at=now)
        )
        post = Reply("contest/no_entries", {"number": contest.id, "title": contest.title})
        return set(broadcast(conn, community.id, post, key=f"{key}:close", at=now).platforms)
    conn.execute(
        insert(contest_entries),
        [{"contest_id": contest.id, "submission_id": entry.number} for entry in entries],
    )
    limit = community.rules.contests.max_entries_shown
    header = Reply(
        "contest/vote_open",
        {**shown(community, contest), "entries": len(entries), "posted": min(limit, len(entries))},
    )
    platforms = set(broadcast(conn, community.id, header, key=f"{key}:vote", at=now).platforms)
    photos = described(conn, [e.media_id for e in entries[:limit] if e.media_id is not None])
    for entry in entries[:limit]:
        post = Reply(
            "contest/entry",
            {
                "contest": contest.id,
                "title": contest.title,
                "number": entry.number,
                "author": entry.author,
                "text": entry.text,
            },
            choices=(vote_button(contest, entry),),
            media=(photos[entry.media_id],) if entry.media_id in photos else (),
        )
        posted = broadcast(conn, community.id, post, key=f"{key}:entry:{entry.number}", at=now)
        platforms |= posted.platforms
    return platforms


def vote_button(contest: Contest, entry: Entry) -> Choice:
    """The button that votes for `entry` (what /contest vote N ENTRY does)."""
    return Choice(
        "contest/vote_button",
        f"/contest vote {contest.id} {entry.number}",
        {"entry": entry.number, "author": entry.author},
    )


@dataclass(frozen=True, slots=True)
class Voted:
    """A vote counted: the contest and the entry it went to."""

    contest: Contest
    entry: int
    author: str


def vote(
    conn: Connection,
    community: Community,
    number: int,
    entry_number: int,
    *,
    member_id: int,
    at: datetime,
) -> Voted:
    """Count the member's vote for an entry of contest `number`. Raises UserError for an
    unknown contest, one not voting (not yet, or over), an entry not in its vote or
    withdrawn from it, the member's own entry, and a second vote (the first stands): nothing
    changes then."""
    # Its row held: an end running now waits for this vote and counts it, or ran first and
    # this vote sees the contest ended (never a vote told counted that the result missed).
    contest = contest_by_id(conn, community.id, number, lock=True)
    if contest is None:
        raise UserError("contest/unknown", number=number)
    if contest.state == OPEN:
        # Its close is due or not; either way its entries have not been posted to vote on.
        raise UserError(
            "contest/vote_not_yet",
            number=contest.id,
            closes_at=contest.closes_at.astimezone(community.timezone),
        )
    if contest.state == CANCELLED:  # an old button: no vote, no result to see
        raise UserError("contest/not_live", number=contest.id, state=contest.state)
    ends = contest.vote_ends_at
    if contest.state != VOTING or ends is None or at >= ends:
        raise UserError("contest/vote_closed", number=contest.id, title=contest.title)
    found = conn.execute(
        select(submissions.c.member_id, submissions.c.state, members.c.display_name)
        .select_from(contest_entries)
        .join(submissions, submissions.c.id == contest_entries.c.submission_id)
        .join(members, members.c.id == submissions.c.member_id)
        .where(
            contest_entries.c.contest_id == contest.id,
            contest_entries.c.submission_id == entry_number,
        )
    ).first()
    if found is None:
        raise UserError("contest/not_an_entry", number=contest.id, entry=entry_number)
    if found.member_id == member_id:
        raise UserError("contest/own_entry", number=contest.id, entry=entry_number)
    if found.state != APPROVED:  # an admin reversed its approval during the vote
        raise UserError("contest/withdrawn", number=contest.id, entry=entry_number)
    conn.execute(withdrawn_votes(contest.id, member_id))
    counted = insert_if_absent(
        conn,
        contest_votes,
        {
            "contest_id": contest.id,
            "member_id": member_id,
            "submission_id": entry_number,
            "voted_at": at,
        },
    )
    if not counted:
        raise UserError(
            "contest/already_voted", number=contest.id, entry=vote_of(conn, contest.id, member_id)
        )
    return Voted(contest, entry_number, found.display_name)


def finish(conn: Connection, community: Community, contest_id: int, now: datetime) -> set[str]:
    """End a contest's vote (its vote_ends_at has come): places to the most voted entries,
    their prizes paid, the groups and each winner told. Returns the platforms messages were
    queued for (none: not due, or ended already)."""
    row = conn.execute(
        update(contests)
        .where(
            contests.c.id == contest_id,
            contests.c.state == VOTING,
            contests.c.vote_ends_at <= now,
        )
        .values(state=ENDED, ended_at=now)
        .returning(contests.c.id)
    ).first()
    if row is None:
        return set()
    contest = contest_by_id(conn, community.id, contest_id)
    assert contest is not None
    entries = voted_entries(conn, contest.id, approved=True)
    for entry in entries:
        conn.execute(
            update(contest_entries)
            .where(
                contest_entries.c.contest_id == contest.id,
                contest_entries.c.submission_id == entry.number,
            )
            .values(votes=entry.votes)
        )
    placed = []
    for place, entry in enumerate(winners(entries, len(contest.prizes)), 1):
        conn.execute(
            update(contest_entries)
            .where(
                contest_entries.c.contest_id == contest.id,
                contest_entries.c.submission_id == entry.number,
            )
            .values(place=place)
        )
        prize = _give(conn, community, contest, place, entry, now)
        placed.append(
            {
                "place": place,
                "entry": entry.number,
                "author": entry.author,
                "votes": entry.votes,
                **prize,
            }
        )
    voters = sum(entry.votes for entry in entries)
    _audit(conn, contest, "contest_end", now, winners=[p["entry"] for p in placed], votes=voters)
    results = Reply(
        "contest/results",
        {"number": contest.id, "title": contest.title, "winners": placed, "votes": voters},
    )
    key = f"contest:{contest.id}"
    platforms = set(broadcast(conn, community.id, results, key=f"{key}:results", at=now).platforms)
    member_of = {entry.number: entry.member_id for entry in entries}
    platforms |= _tell_winners(conn, community, contest, placed, member_of, now)
    return platforms


def _give(
    conn: Connection,
    community: Community,
    contest: Contest,
    place: int,
    entry: Entry,
    at: datetime,
) -> dict[str, Any]:
    """Pay place `place`'s prize to the entry's author, once (its key names the place)."""
    prize = contest.prizes[place - 1]
    key = f"contest_prize:{contest.id}:{place}"
    if "points" in prize:
        earned = credit(
            conn,
            community,
            member_id=entry.member_id,
            action="contest_prize",
            key=key,
            at=at,
            base=int(prize["points"]),
            note=f"#{contest.id} {contest.title}"[:100],
        )
        return {"points": earned.paid}
    given = redemptions.grant(
        conn,
        community.id,
        member_id=entry.member_id,
        reward_id=int(prize["reward"]),
        key=key,
        at=at,
    )
    return {
        "reward": str(prize.get("name", "")),
        "given": given is not None,
        "code": None if given is None else given.code,
        "pending": given is not None and given.state == redemptions.PENDING,
    }


def _tell_winners(
    conn: Connection,
    community: Community,
    contest: Contest,
    placed: list[dict[str, Any]],
    member_of: dict[int, int],
    at: datetime,
) -> set[str]:
    notices = [
        Notice(
            member_of[prize["entry"]],
            Reply(
                "contest/won",
                {"number": contest.id, "title": contest.title, **prize},
                visibility=Visibility.PRIVATE,
            ),
            f"contest:{contest.id}:won:{prize['place']}",
            prize["author"],
        )
        for prize in placed
    ]
    return tell(conn, community, notices, at)


def due(conn: Connection, community_id: int, now: datetime) -> list[tuple[int, str]]:
    """The community's contests whose close or vote's end has come: (number, state), the
    earliest due first."""
    rows = conn.execute(
        select(contests.c.id, contests.c.state, contests.c.closes_at, contests.c.vote_ends_at)
        .where(contests.c.community_id == community_id, contests.c.state.in_((OPEN, VOTING)))
        .order_by(contests.c.id)
    ).all()
    found = [
        (row.closes_at if row.state == OPEN else row.vote_ends_at, row.id, row.state)
        for row in rows
    ]
    return [(number, state) for at, number, state in sorted(found) if at is not None and at <= now]


def settle(conn: Connection, community: Community, now: datetime) -> set[str]:
    """Close every contest whose entries have stopped, and end every vote that is over, by
    `now`; the platforms messages were queued for."""
    platforms: set[str] = set()
    for number, state in due(conn, community.id, now):
        step = close if state == OPEN else finish
        platforms |= step(conn, community, number, now)
    return platforms


def _next_minute(moment: datetime) -> datetime:
    whole = moment.replace(second=0, microsecond=0)
    return whole if whole == moment else whole + _MINUTE


def _audit(conn: Connection, contest: Contest, action: str, at: datetime, **details: Any) -> None:
    audit.record(
        conn,
        community_id=contest.community_id,
        actor=audit.SCHEDULER,
        action=action,
        at=at,
        contest_id=contest.id,
        **details,
    )
