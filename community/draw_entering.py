"""A member enters a lucky draw: once, before its close, meeting its conditions (checked at
entry), paying its fee in the same unit of work as the entry."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, exists, insert, select, update

from community.communities import Community
from community.draws import ENTRY_FEE, OPEN, Draw, draw_by_id, entry_of
from community.members import Member
from loyalty import ledger, tiers
from loyalty.errors import UserError
from storage.draw_tables import draw_entries, draws
from storage.schema import checkins


@dataclass(frozen=True, slots=True)
class Entered:
    """An entry made: the draw, the entry's number, the fee paid and the balance after it."""

    draw: Draw
    entry: int
    fee: int
    balance: int


def enter(
    conn: Connection, community: Community, number: int, *, member: Member, at: datetime
) -> Entered:
    """Enter draw `number` for the member. Raises UserError (and changes nothing) for no such
    draw, one closed or cancelled, an entry made already, a condition not met, too few points
    for the fee."""
    draw = draw_by_id(conn, community.id, number, counted=False)
    if draw is None:
        raise UserError("draw/unknown", number=number)
    _still_open(draw, at)
    _not_entered(conn, draw, member.id)
    _meets_conditions(conn, community, draw, member, at)
    if draw.cost and ledger.balance(conn, member.id) < draw.cost:
        # Said before anything is written (the fee's debit would refuse it too, after writing).
        raise UserError(
            "draw/too_few_points",
            number=draw.id,
            cost=draw.cost,
            balance=ledger.balance(conn, member.id),
        )
    # The next entry number. The UPDATE locks the draw's row to the end of this unit of work:
    # a second press at the same moment waits here, then finds this entry; a close waits for
    # this entry to be made, or this waits for the close and finds the draw closed.
    taken = conn.execute(
        update(draws)
        .where(draws.c.id == draw.id, draws.c.state == OPEN, draws.c.closes_at > at)
        .values(entries=draws.c.entries + 1)
        .returning(draws.c.entries)
    ).scalar()
    if taken is None:
        raise UserError("draw/closed", number=draw.id, prize=draw.prize, state=draw.state)
    _not_entered(conn, draw, member.id)  # again, under the lock
    fee_entry: int | None = None
    balance = 0
    if draw.cost:
        fee_entry, balance = _pay(conn, community, draw, member.id, at)
    conn.execute(
        insert(draw_entries),
        {
            "draw_id": draw.id,
            "number": int(taken),
            "member_id": member.id,
            "fee": draw.cost,
            "fee_entry_id": fee_entry,
            "created_at": at,
            "withdrawn": False,
        },
    )
    return Entered(draw, int(taken), draw.cost, balance)


def _still_open(draw: Draw, at: datetime) -> None:
    if not draw.open_at(at):
        raise UserError("draw/closed", number=draw.id, prize=draw.prize, state=draw.state)


def _not_entered(conn: Connection, draw: Draw, member_id: int) -> None:
    entry = entry_of(conn, draw.id, member_id)
    if entry is not None:
        raise UserError("draw/already_entered", number=draw.id, prize=draw.prize, entry=entry)


def _meets_conditions(
    conn: Connection, community: Community, draw: Draw, member: Member, at: datetime
) -> None:
    if draw.min_tier is not None:
        rules = community.rules.tiers
        # Tiers removed from community.toml since the draw opened: it asks for the highest
        # left, as its post now names it (tiers.names_of reads the index the same way).
        needed = min(draw.min_tier, len(rules.levels) - 1)
        tier = tiers.tier_of(conn, member.id, member.tier)
        if tier < needed:
            raise UserError(
                "draw/tier_too_low",
                number=draw.id,
                tier=tiers.names_of(rules, needed),
                yours=tiers.names_of(rules, tier),
            )
    if draw.checkin:
        today = community.local_day(at)
        checked_in = conn.execute(
            select(exists().where(checkins.c.member_id == member.id, checkins.c.day == today))
        ).scalar()
        if not checked_in:
            raise UserError("draw/needs_checkin", number=draw.id)


def _pay(
    conn: Connection, community: Community, draw: Draw, member_id: int, at: datetime
) -> tuple[int | None, int]:
    """Take the fee: (its ledger entry, the balance after it)."""
    try:
        posted = ledger.post(
            conn,
            community_id=community.id,
            member_id=member_id,
            delta=-draw.cost,
            reason=ENTRY_FEE,
            key=f"{ENTRY_FEE}:{draw.id}:{member_id}",
            at=at,
            note=f"#{draw.id}",
        )
    except UserError as refusal:
        if refusal.key != "points/insufficient":
            raise
        balance = int(refusal.context.get("balance", 0))
        raise UserError(
            "draw/too_few_points", number=draw.id, cost=draw.cost, balance=balance
        ) from None
    if not posted.applied:
        # This member paid for this draw before, under this very key: an entry of theirs that
        # a /link withdrew. One entry per member: they are in through the one kept.
        raise UserError("draw/already_entered", number=draw.id, prize=draw.prize, entry=None)
    return posted.entry_id, posted.balance
