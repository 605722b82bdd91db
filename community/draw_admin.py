"""An admin opens a lucky draw (its seed made and committed to, its post in every group) or
cancels one (the entry fees go back); both audited. Fees given back: `refund`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from community import audit
from community.communities import Community
from community.draw_options import DrawSpec
from community.draw_picking import commitment, new_seed
from community.draws import (
    CANCELLED,
    OPEN,
    REFUND,
    Draw,
    describe,
    draw_by_id,
    enter_button,
    open_count,
    tell,
)
from community.messages import Reply
from community.outbox import Broadcast, broadcast
from loyalty import ledger, lots
from loyalty.errors import UserError
from storage.draw_tables import draw_entries, draws
from storage.sql import fit_text, lock_until_commit


@dataclass(frozen=True, slots=True)
class Started:
    """A draw opened, and where its post was queued."""

    draw: Draw
    sent: Broadcast


def start(
    conn: Connection, community: Community, spec: DrawSpec, *, actor: audit.Actor, at: datetime
) -> Started:
    """Open a draw from `spec` and post it in every group with its Enter button (audited).
    UserError("draw/too_many_open") past draws.max_open."""
    # Two admins opening draws at once must not both pass the limit: they take turns.
    lock_until_commit(conn, f"draws:{community.id}")
    limit = community.rules.draws.max_open
    if open_count(conn, community.id) >= limit:
        raise UserError("draw/too_many_open", limit=limit)
    seed = new_seed()
    conditions = spec.conditions
    number = conn.execute(
        insert(draws).returning(draws.c.id),
        {
            "community_id": community.id,
            "prize": fit_text(spec.prize, 300),
            "winners": spec.winners,
            "points": spec.points,
            "checkin": conditions.checkin,
            "min_tier": conditions.min_tier,
            "cost": conditions.cost,
            "seed": seed,
            "commitment": commitment(seed),
            "entries": 0,
            "state": OPEN,
            "created_at": at,
            "closes_at": spec.closes_at,
        },
    ).scalar_one()
    draw = draw_by_id(conn, community.id, int(number))
    assert draw is not None
    sent = broadcast(
        conn, community.id, announcement(draw, community), key=f"draw:{draw.id}", at=at
    )
    audit.record(
        conn,
        community_id=community.id,
        actor=actor,
        action="draw_start",
        at=at,
        draw=draw.id,
        prize=draw.prize,
        winners=draw.winners,
        points=draw.points,
        closes_at=draw.closes_at.isoformat(),
        checkin=draw.checkin,
        min_tier=draw.min_tier,
        cost=draw.cost,
        commitment=draw.commitment,  # never the seed: it is secret until the close
        groups=sent.queued,
    )
    return Started(draw, sent)


def announcement(draw: Draw, community: Community) -> Reply:
    """The post that opens a draw in a group, with the button to enter it."""
    return Reply("draw/announcement", describe(draw, community), choices=(enter_button(draw),))


@dataclass(frozen=True, slots=True)
class Cancelled:
    """A draw cancelled: the fees given back (entries, points)."""

    draw: Draw
    refunds: int
    refunded: int
    platforms: frozenset[str]


def cancel(
    conn: Connection, community: Community, number: int, *, actor: audit.Actor, at: datetime
) -> Cancelled:
    """Cancel an open draw: nobody wins, every entry fee goes back (each payer told), the
    groups are told. Audited. UserError when there is no such draw or it is no longer open."""
    found = draw_by_id(conn, community.id, number)
    if found is None:
        raise UserError("draw/unknown", number=number)
    # The claim: of an admin's cancel and the close (or two admins), one changes the draw.
    changed = conn.execute(
        update(draws)
        .where(draws.c.id == found.id, draws.c.state == OPEN)
        .values(state=CANCELLED, closed_at=at)
        .returning(draws.c.id)
    ).first()
    if changed is None:
        raise UserError("draw/not_open", number=found.id, prize=found.prize, state=found.state)
    draw = draw_by_id(conn, community.id, found.id)
    assert draw is not None
    refunds, points, platforms = refund(conn, community, draw, at, withdrawn_only=False)
    post = Reply("draw/cancelled_post", describe(draw, community) | {"refunds": refunds})
    sent = broadcast(conn, community.id, post, key=f"draw:{draw.id}:cancelled", at=at)
    audit.record(
        conn,
        community_id=community.id,
        actor=actor,
        action="draw_cancel",
        at=at,
        draw=draw.id,
        prize=draw.prize,
        entrants=draw.entrants,
        refunds=refunds,
        refunded=points,
    )
    return Cancelled(draw, refunds, points, frozenset(platforms | sent.platforms))


def refund(
    conn: Connection, community: Community, draw: Draw, at: datetime, *, withdrawn_only: bool
) -> tuple[int, int, set[str]]:
    """Give entry fees back (every one, or those of withdrawn entries only), into the lots
    they were taken from, each payer told privately: (fees, points, platforms queued for)."""
    wanted = [draw_entries.c.draw_id == draw.id, draw_entries.c.fee > 0]
    if withdrawn_only:
        wanted.append(draw_entries.c.withdrawn.is_(True))
    rows = conn.execute(select(draw_entries).where(*wanted).order_by(draw_entries.c.number)).all()
    program = community.program
    # What a lot that expired meanwhile cannot take back expires as if earned now, not never.
    lot = ledger.Lot(lots.expiry_of(at, program.timezone, program.expiry.months), False)
    given = points = 0
    platforms: set[str] = set()
    for row in rows:
        posted = ledger.post(
            conn,
            community_id=community.id,
            member_id=row.member_id,
            delta=int(row.fee),
            reason=REFUND,
            key=f"{REFUND}:{draw.id}:{row.number}",
            at=at,
            note=f"#{draw.id}",
            restores=row.fee_entry_id,
            lot=lot,
        )
        if not posted.applied:
            continue  # given back before (a retried unit of work)
        given, points = given + 1, points + int(row.fee)
        notice = Reply(
            "draw/refunded_notice",
            describe(draw, community) | {"fee": int(row.fee), "balance": posted.balance},
        )
        platforms |= tell(
            conn, community, row.member_id, notice, f"{draw.id}:refund:{row.number}", at
        )
    return given, points, platforms
