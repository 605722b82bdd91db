"""The loyalty side of merging two members into one (/link): their balance, lots, growth,
tier, cards, caps, redemptions and invitations become the kept member's (who was invited by
whom is community/invitations.py's `merge_invited`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, select, update

from storage.schema import (
    balances,
    earn_tallies,
    invitations,
    lots,
    redemptions,
)

# Columns that point at a member and simply follow a merge.
FOLLOWING = (lots.c.member_id, redemptions.c.member_id, invitations.c.member_id)


def merge_accounts(conn: Connection, *, keep: int, absorb: int, at: datetime) -> int:
    """Fold `absorb`'s loyalty into `keep`'s; returns the points moved. The higher tier stays
    (with its review state); growth values add up, as the lots they count do."""
    for column in FOLLOWING:
        conn.execute(update(column.table).where(column == absorb).values({column.name: keep}))
    rows = {
        row.member_id: row
        for row in conn.execute(select(balances).where(balances.c.member_id.in_((keep, absorb))))
    }
    absorbed, kept = rows.get(absorb), rows.get(keep)
    conn.execute(delete(balances).where(balances.c.member_id == absorb))
    if absorbed is not None and kept is not None:
        higher = absorbed if absorbed.tier > kept.tier else kept
        conn.execute(
            update(balances)
            .where(balances.c.member_id == keep)
            .values(
                points=balances.c.points + absorbed.points,
                growth=balances.c.growth + absorbed.growth,
                makeup_cards=balances.c.makeup_cards + absorbed.makeup_cards,
                tier=higher.tier,
                tier_since=higher.tier_since,
                short_since=higher.short_since,
                updated_at=at,
            )
        )
    _merge_tallies(conn, keep=keep, absorb=absorb)
    return 0 if absorbed is None else int(absorbed.points)


def _merge_tallies(conn: Connection, *, keep: int, absorb: int) -> None:
    """What both earned towards a cap in the same period counts together."""
    kept = {
        (row.action, row.period): row
        for row in conn.execute(select(earn_tallies).where(earn_tallies.c.member_id == keep))
    }
    for row in conn.execute(select(earn_tallies).where(earn_tallies.c.member_id == absorb)).all():
        same = kept.get((row.action, row.period))
        if same is None:
            conn.execute(
                update(earn_tallies)
                .where(
                    earn_tallies.c.member_id == absorb,
                    earn_tallies.c.action == row.action,
                    earn_tallies.c.period == row.period,
                )
                .values(member_id=keep)
            )
            continue
        newer = max(same.last_at, row.last_at)
        points = same.points + row.points if same.period_start == row.period_start else None
        if points is None and row.period_start > same.period_start:
            points = row.points
        conn.execute(
            update(earn_tallies)
            .where(
                earn_tallies.c.member_id == keep,
                earn_tallies.c.action == row.action,
                earn_tallies.c.period == row.period,
            )
            .values(
                points=same.points if points is None else points,
                period_start=max(same.period_start, row.period_start),
                last_at=newer,
            )
        )
    conn.execute(delete(earn_tallies).where(earn_tallies.c.member_id == absorb))
