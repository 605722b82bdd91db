"""Deciding on submissions: approve (the category's points to the author, an ambassador's
level on top), approve and feature (also reposted to every group of the community), reject
with a reason; an admin reverses a decision once. Each decision is one conditional UPDATE on
the state it expects, so two reviewers pressing at once decide once; each is audited, and the
author is told privately."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, update

from community import ambassadors, audit, earning
from community.audit import Actor
from community.communities import Community
from community.messages import Reply, Visibility
from community.outbox import broadcast
from community.private_notices import Notice, tell
from community.submission_rules import REJECT_REASONS
from community.submissions import (
    APPROVED,
    PENDING,
    REJECTED,
    Submission,
    category_names,
    files_of,
    submission_by_id,
)
from loyalty import ledger
from loyalty.errors import UserError
from storage.sql import fit_text, savepoint
from storage.ugc_tables import submissions

APPROVE, FEATURE, REJECT = "approve", "feature", "reject"
# Ledger reasons (templates/*/common/_reasons.j2 words them).
PAID, TAKEN_BACK = "submission", "submission_reversed"


@dataclass(frozen=True, slots=True)
class Decided:
    """A decision made: the submission as it now stands, the points paid (0 for a rejection),
    and the platforms messages were queued for (the author's notice, the featured posts)."""

    submission: Submission
    paid: int
    platforms: frozenset[str]
    groups: int = 0  # groups the featured post was queued for


def read_reason(words: str) -> tuple[str | None, str | None]:
    """A rejection's reason as typed: one of REJECT_REASONS' keys (a button sends one), else
    the words themselves; (None, None) when nothing was said."""
    text = " ".join(words.split())
    if not text:
        return None, None
    if text.casefold() in REJECT_REASONS:
        return text.casefold(), None
    return None, text


def decide(
    conn: Connection,
    community: Community,
    number: int,
    decision: str,
    *,
    reviewer: Actor,
    at: datetime,
    reason_key: str | None = None,
    reason_text: str | None = None,
) -> Decided:
    """Decide on pending submission `number`. Raises UserError for an unknown submission, the
    reviewer's own, one decided already (or still a draft), a rejection without a reason or
    with a reason too long."""
    found = _known(conn, community, number)
    if found.member_id == reviewer.member_id:
        raise UserError("ugc/own_submission", number=number)
    if decision == REJECT:
        if reason_key is None and not reason_text:
            raise UserError("ugc/reject_usage", number=number)
        limit = community.rules.submissions.max_reason_length
        if reason_text and len(reason_text) > limit:
            raise UserError("ugc/reason_too_long", length=len(reason_text), limit=limit)
    else:
        reason_key = reason_text = None
    changed = conn.execute(
        update(submissions)
        .where(submissions.c.id == number, submissions.c.state == PENDING)
        .values(
            state=REJECTED if decision == REJECT else APPROVED,
            featured=decision == FEATURE,
            reason_key=reason_key,
            reason_text=None if reason_text is None else fit_text(reason_text, 1000),
            reviewer_member_id=reviewer.member_id,
            decided_at=at,
        )
    ).rowcount
    if not changed:
        raise _decided_already(conn, community, number)
    paid = 0 if decision == REJECT else _pay(conn, community, found, reviewer, at)
    decided = submission_by_id(conn, community.id, number)
    assert decided is not None
    audit.record(
        conn,
        community_id=community.id,
        actor=reviewer,
        action=f"submission_{decision}",
        at=at,
        target_member_id=found.member_id,
        submission=number,
        points=paid,
        reason=reason_key or reason_text or "",
    )
    notice = Reply(
        "ugc/decided_notice",
        {
            "number": number,
            "category": category_names(community, found.category),
            "decision": decision,
            "points": paid,
            "reason_key": reason_key,
            "reason_text": reason_text,
        },
        visibility=Visibility.PRIVATE,
    )
    platforms = _tell(conn, community, found, notice, f"ugc:decided:{number}", at)
    groups = 0
    if decision == FEATURE:
        post = Reply(
            "ugc/featured",
            {
                "number": number,
                "author": found.author,
                "category": category_names(community, found.category),
                "text": found.text,
                "links": list(found.links),
            },
            media=files_of(conn, number),
        )
        sent = broadcast(conn, community.id, post, key=f"ugc:featured:{number}", at=at)
        platforms |= set(sent.platforms)
        groups = sent.queued
    return Decided(decided, paid, frozenset(platforms), groups)


def _known(conn: Connection, community: Community, number: int) -> Submission:
    found = submission_by_id(conn, community.id, number)
    if found is None:
        raise UserError("ugc/unknown", number=number)
    return found


def _decided_already(conn: Connection, community: Community, number: int) -> UserError:
    now = _known(conn, community, number)
    return UserError(
        "ugc/already_decided",
        number=number,
        state=now.state,
        featured=now.featured,
        reversed=now.reversed,
    )


def _pay(conn: Connection, community: Community, found: Submission, by: Actor, at: datetime) -> int:
    """The category's points to the author (its caps, the tier, a member day, a campaign and
    an ambassador's level apply), once per submission however often it is approved."""
    category = community.rules.submissions.category(found.category)
    earned = earning.credit(
        conn,
        community,
        member_id=found.member_id,
        action=PAID,
        key=f"{PAID}:{found.id}",
        at=at,
        base=None if category is None else category.points,
        note=f"#{found.id}",
        actor_member_id=by.member_id,
        standing=ambassadors.standing_multiplier(conn, community, found.member_id),
    )
    if earned.paid:
        conn.execute(
            update(submissions).where(submissions.c.id == found.id).values(points=earned.paid)
        )
    return earned.paid


def _tell(
    conn: Connection, community: Community, found: Submission, reply: Reply, key: str, at: datetime
) -> set[str]:
    return tell(conn, community, [Notice(found.member_id, reply, key, found.author)], at)


# Reversing -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reversed:
    """A decision reversed: the submission as it now stands, the points paid to the author
    (an approval given late) or taken back (negative), those that could not be taken back
    because the author had spent them, and the platforms the author's notice was queued for."""

    submission: Submission
    delta: int
    owed: int
    platforms: frozenset[str]


def reverse(
    conn: Connection,
    community: Community,
    number: int,
    *,
    admin: Actor,
    at: datetime,
    reason: str = "",
) -> Reversed:
    """Reverse submission `number`'s decision, once: an approval's points are taken back (a
    featured post stays posted), a rejection becomes an approval and is paid. Raises UserError
    for an unknown submission, one not decided yet, one reversed already, a reason too long."""
    found = _known(conn, community, number)
    if found.member_id == admin.member_id:
        raise UserError("ugc/own_submission", number=number)
    limit = community.rules.submissions.max_reason_length
    reason = " ".join(reason.split())
    if len(reason) > limit:
        raise UserError("ugc/reason_too_long", length=len(reason), limit=limit)
    if found.state not in (APPROVED, REJECTED):
        raise UserError("ugc/not_decided", number=number, state=found.state)
    becomes = REJECTED if found.state == APPROVED else APPROVED
    changed = conn.execute(
        update(submissions)
        .where(
            submissions.c.id == number,
            submissions.c.state == found.state,
            submissions.c.reversed_at.is_(None),
        )
        .values(
            state=becomes,
            reversed_at=at,
            reversed_by_member_id=admin.member_id,
            # An approval turned down: the admin's words are why it stands rejected, as
            # /mysubmissions says (none given: none shown, rather than an old reason).
            **(
                {"reason_key": None, "reason_text": fit_text(reason, 1000) if reason else None}
                if becomes == REJECTED
                else {}
            ),
        )
    ).rowcount
    if not changed:
        raise UserError("ugc/already_reversed", number=number)
    owed = 0
    if becomes == REJECTED:
        delta, owed = _take_back(conn, community, found, admin, at)
    else:
        delta = _pay(conn, community, found, admin, at)
    audit.record(
        conn,
        community_id=community.id,
        actor=admin,
        action="submission_reverse",
        at=at,
        target_member_id=found.member_id,
        submission=number,
        was=found.state,
        points=delta,
        owed=owed,
        reason=reason,
    )
    notice = Reply(
        "ugc/reversed_notice",
        {
            "number": number,
            "category": category_names(community, found.category),
            "state": becomes,
            "points": abs(delta),
            "owed": owed,
            "reason": reason,
        },
        visibility=Visibility.PRIVATE,
    )
    platforms = _tell(conn, community, found, notice, f"ugc:reversed:{number}", at)
    now = submission_by_id(conn, community.id, number)
    assert now is not None
    return Reversed(now, delta, owed, frozenset(platforms))


def _take_back(
    conn: Connection, community: Community, found: Submission, admin: Actor, at: datetime
) -> tuple[int, int]:
    """The approval's points out of the author's balance: all of them, or what is left when
    they spent some (the rest is owed, said to the admin and kept in the audit log)."""
    if found.points <= 0:
        return 0, 0
    taken = min(found.points, ledger.balance(conn, found.member_id))
    if taken > 0:
        try:
            with savepoint(conn):
                _debit(conn, community, found, admin, at, taken)
        except UserError as refusal:
            if refusal.key != "points/insufficient":
                raise
            # Points that expired meanwhile were not there to take.
            taken = min(taken, int(refusal.context.get("balance", 0)))
            if taken > 0:
                _debit(conn, community, found, admin, at, taken)
    conn.execute(
        update(submissions).where(submissions.c.id == found.id).values(points=found.points - taken)
    )
    return -taken, found.points - taken


def _debit(
    conn: Connection,
    community: Community,
    found: Submission,
    admin: Actor,
    at: datetime,
    points: int,
) -> None:
    ledger.post(
        conn,
        community_id=community.id,
        member_id=found.member_id,
        delta=-points,
        reason=TAKEN_BACK,
        key=f"{TAKEN_BACK}:{found.id}",
        at=at,
        note=f"#{found.id}",
        actor_member_id=admin.member_id,
    )
