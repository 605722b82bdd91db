"""A lucky draw's close: the winners drawn from the entries made before it, by the seed
committed to when it opened (community/draw_picking.py); the result posted in every group with
the seed, the winners told privately and paid the draw's points. Once, however often asked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select, update

from community import audit
from community.communities import Community
from community.draw_admin import refund
from community.draw_picking import pick
from community.draws import (
    DRAWN,
    OPEN,
    PRIZE,
    Draw,
    describe,
    draw_by_id,
    tell,
    winner_lines,
    winners_of,
)
from community.earning import credit
from community.messages import Reply
from community.outbox import broadcast
from storage.draw_tables import draw_entries, draws


@dataclass(frozen=True, slots=True)
class Drawn:
    """A draw's close: who won (entry numbers, best first) and the platforms queued for."""

    draw: Draw
    winners: tuple[int, ...]
    platforms: frozenset[str]


def due(conn: Connection, community_id: int, now: datetime) -> list[int]:
    """The community's open draws whose close has come, the earliest first."""
    rows = conn.execute(
        select(draws.c.id)
        .where(
            draws.c.community_id == community_id,
            draws.c.state == OPEN,
            draws.c.closes_at <= now,
        )
        .order_by(draws.c.closes_at, draws.c.id)
    )
    return [int(number) for number in rows.scalars()]


def close(conn: Connection, community: Community, number: int, now: datetime) -> Drawn | None:
    """Draw `number` if its close has come and it is still open (None otherwise: drawn before,
    cancelled, not due). Entries made at or after the close take no part."""
    # The claim: of two firings (or processes), the one whose UPDATE changed the row draws.
    claimed = conn.execute(
        update(draws)
        .where(
            draws.c.id == number,
            draws.c.community_id == community.id,
            draws.c.state == OPEN,
            draws.c.closes_at <= now,
        )
        .values(state=DRAWN, closed_at=now)
        .returning(draws.c.id)
    ).first()
    if claimed is None:
        return None
    draw = draw_by_id(conn, community.id, number)
    assert draw is not None
    entries = dict(
        conn.execute(
            select(draw_entries.c.number, draw_entries.c.member_id).where(
                draw_entries.c.draw_id == draw.id,
                draw_entries.c.withdrawn.is_(False),
                draw_entries.c.created_at < draw.closes_at,
            )
        ).all()
    )
    picked = pick(draw.seed, entries, draw.winners)
    for rank, entry in enumerate(picked, start=1):
        conn.execute(
            update(draw_entries)
            .where(draw_entries.c.draw_id == draw.id, draw_entries.c.number == entry)
            .values(rank=rank)
        )
    platforms: set[str] = set()
    for rank, entry in enumerate(picked, start=1):
        platforms |= _reward(conn, community, draw, entries[entry], rank, entry, now)
    platforms |= refund(conn, community, draw, now, withdrawn_only=True)[2]
    found = winners_of(conn, draw.id)
    shown = community.rules.draws.winners_shown
    post = Reply("draw/result", describe(draw, community) | winner_lines(found, shown))
    platforms |= broadcast(conn, community.id, post, key=f"draw:{draw.id}:result", at=now).platforms
    audit.record(
        conn,
        community_id=community.id,
        actor=audit.SCHEDULER,
        action="draw_close",
        at=now,
        draw=draw.id,
        entrants=len(entries),
        winners=list(picked),
        seed=draw.seed,  # revealed now: the audit keeps what the post showed
    )
    return Drawn(draw, tuple(picked), frozenset(platforms))


def _reward(
    conn: Connection,
    community: Community,
    draw: Draw,
    member_id: int,
    rank: int,
    entry: int,
    at: datetime,
) -> set[str]:
    """Pay a winner the draw's points (once per draw and member) and tell them privately."""
    paid = 0
    if draw.points:
        earned = credit(
            conn,
            community,
            member_id=member_id,
            action=PRIZE,
            key=f"{PRIZE}:{draw.id}:{member_id}",
            at=at,
            base=draw.points,
            note=f"#{draw.id}",
        )
        paid = earned.paid
    notice = Reply(
        "draw/won_notice", describe(draw, community) | {"rank": rank, "entry": entry, "paid": paid}
    )
    return tell(conn, community, member_id, notice, f"{draw.id}:won:{member_id}", at)
