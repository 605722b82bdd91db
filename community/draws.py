"""Lucky draws (抽奖): members enter with a button if they meet the condition; winners are
drawn fairly and verifiably from a seed committed to when the draw opened.

This module: a draw as read back, its words' context, the entrants' list, /link's merge.
Opening and cancelling: community/draw_admin.py; entering: community/draw_entering.py; the
close: community/draw_closing.py; the algorithm: community/draw_picking.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Connection, Row, and_, func, select, update

from community import private_notices
from community.communities import Community
from community.draw_picking import score
from community.exports import to_csv
from community.messages import Choice, Document, Reply, Visibility
from community.private_notices import Notice
from loyalty import tiers
from storage.draw_tables import draw_entries, draws
from storage.schema import members

# The columns of this activity's tables that point at a member: merge_members moves them when
# /link folds one member into another (tests/test_linking.py checks every such column is).
MEMBER_COLUMNS: tuple[Column[int], ...] = (draw_entries.c.member_id,)

OPEN, DRAWN, CANCELLED = "open", "drawn", "cancelled"
# Ledger reasons (templates/*/common/_reasons.j2 words them) and the given action of a prize.
ENTRY_FEE, REFUND, PRIZE = "draw_entry", "draw_refund", "draw_prize"


@dataclass(frozen=True, slots=True)
class Draw:
    """One draw as opened, with where it stands."""

    id: int
    community_id: int
    prize: str
    winners: int
    points: int
    checkin: bool
    min_tier: int | None
    cost: int
    seed: str
    commitment: str
    state: str
    created_at: datetime
    closes_at: datetime
    closed_at: datetime | None
    entrants: int = 0  # entries that take part (read with it)

    def open_at(self, at: datetime) -> bool:
        """Whether it takes entries at `at` (its close may have come before the sweep)."""
        return self.state == OPEN and at < self.closes_at

    @property
    def revealed_seed(self) -> str | None:
        """The seed, once shown: after the draw, never before."""
        return self.seed if self.state == DRAWN else None


@dataclass(frozen=True, slots=True)
class Winner:
    """A winning entry, best first."""

    rank: int
    number: int
    member_id: int
    name: str


_TAKING_PART = and_(draw_entries.c.draw_id == draws.c.id, draw_entries.c.withdrawn.is_(False))
_ENTRANTS = (
    select(func.count()).where(_TAKING_PART).correlate(draws).scalar_subquery().label("entrants")
)
_DRAW = select(draws, _ENTRANTS)


def _draw(row: Row[Any]) -> Draw:
    m = row._mapping
    return Draw(
        id=m["id"],
        community_id=m["community_id"],
        prize=m["prize"],
        winners=m["winners"],
        points=int(m["points"]),
        checkin=bool(m["checkin"]),
        min_tier=m["min_tier"],
        cost=int(m["cost"]),
        seed=m["seed"],
        commitment=m["commitment"],
        state=m["state"],
        created_at=m["created_at"],
        closes_at=m["closes_at"],
        closed_at=m["closed_at"],
        entrants=int(m.get("entrants") or 0),
    )


def draw_by_id(
    conn: Connection, community_id: int, number: int, *, counted: bool = True
) -> Draw | None:
    """Draw `number` of the community (None: no such draw here); `counted` False leaves its
    entrants uncounted (0), which an entry, on the hot path of a busy draw, does not need."""
    query = _DRAW if counted else select(draws)
    row = conn.execute(
        query.where(draws.c.id == number, draws.c.community_id == community_id)
    ).first()
    return None if row is None else _draw(row)


def listed(conn: Connection, community_id: int, limit: int) -> list[Draw]:
    """The open draws, closing soonest first, then the newest closed ones: `limit` in all."""
    here = draws.c.community_id == community_id
    open_ = conn.execute(
        _DRAW.where(here, draws.c.state == OPEN)
        .order_by(draws.c.closes_at, draws.c.id)
        .limit(limit)
    ).all()
    done = conn.execute(
        _DRAW.where(here, draws.c.state != OPEN)
        .order_by(draws.c.closed_at.desc(), draws.c.id.desc())
        .limit(max(limit - len(open_), 0))
    ).all()
    return [_draw(row) for row in [*open_, *done]]


def open_count(conn: Connection, community_id: int) -> int:
    """How many draws of the community are open."""
    where = (draws.c.community_id == community_id, draws.c.state == OPEN)
    return int(conn.execute(select(func.count()).select_from(draws).where(*where)).scalar_one())


def entry_of(conn: Connection, draw_id: int, member_id: int) -> int | None:
    """The member's entry number in the draw (None: they have not entered)."""
    # No min() nor ORDER BY: SQLite would walk the draw's entries in number order (its primary
    # key) to find one member's, where the member's index finds it at once. A member holds
    # one entry taking part in a draw.
    found = conn.execute(
        select(draw_entries.c.number)
        .where(
            draw_entries.c.draw_id == draw_id,
            draw_entries.c.member_id == member_id,
            draw_entries.c.withdrawn.is_(False),
        )
        .limit(1)
    ).scalar()
    return None if found is None else int(found)


def winners_of(conn: Connection, draw_id: int) -> list[Winner]:
    """A drawn draw's winners, best first."""
    rows = conn.execute(
        select(
            draw_entries.c.rank,
            draw_entries.c.number,
            draw_entries.c.member_id,
            members.c.display_name,
        )
        .join(members, members.c.id == draw_entries.c.member_id)
        .where(draw_entries.c.draw_id == draw_id, draw_entries.c.rank.is_not(None))
        .order_by(draw_entries.c.rank)
    )
    return [Winner(r.rank, r.number, r.member_id, r.display_name) for r in rows]


# The words' context -----------------------------------------------------------------------------


def describe(draw: Draw, community: Community) -> dict[str, Any]:
    """A draw as every draw template reads it (moments in the community's timezone)."""
    tz = community.timezone
    tier = None
    if draw.min_tier is not None:
        tier = tiers.names_of(community.rules.tiers, draw.min_tier)
    return {
        "number": draw.id,
        "prize": draw.prize,
        "winners": draw.winners,
        "points": draw.points,
        "checkin": draw.checkin,
        "tier": tier,
        "cost": draw.cost,
        "commitment": draw.commitment,
        "state": draw.state,
        "entrants": draw.entrants,
        "closes_at": draw.closes_at.astimezone(tz),
        "closed_at": draw.closed_at.astimezone(tz) if draw.closed_at else None,
        "timezone": tz.key,
        "seed": draw.revealed_seed,
    }


def enter_button(draw: Draw) -> Choice:
    """The button that enters the draw."""
    return Choice("draw/enter_button", f"/draw enter {draw.id}", {"number": draw.id})


def winner_lines(found: list[Winner], shown: int) -> dict[str, Any]:
    """Winners as a post names them: the first `shown`, the rest counted."""
    return {
        "winner_list": [{"rank": w.rank, "entry": w.number, "name": w.name} for w in found[:shown]],
        "more_winners": max(len(found) - shown, 0),
    }


def tell(
    conn: Connection, community: Community, member_id: int, reply: Reply, key: str, at: datetime
) -> set[str]:
    """Queue `reply` to the member's private chat once per `key`; the platforms queued for."""
    private = Reply(reply.template, reply.context, visibility=Visibility.PRIVATE)
    return private_notices.tell(conn, community, [Notice(member_id, private, f"draw:{key}")], at)


# The entrants' list -----------------------------------------------------------------------------

ENTRANT_COLUMNS = ("entry", "name", "entered_at", "taking_part", "score", "winner")


def entrants_csv(conn: Connection, draw: Draw, community: Community) -> tuple[Document, int]:
    """Every entry of the draw as a CSV (its number, the entrant's name, when, whether it
    takes part; once drawn, its score and a winner's place) and how many lines it holds."""
    rows = conn.execute(
        select(draw_entries, members.c.display_name)
        .join(members, members.c.id == draw_entries.c.member_id)
        .where(draw_entries.c.draw_id == draw.id)
        .order_by(draw_entries.c.number)
    )
    seed, tz = draw.revealed_seed, community.timezone
    lines = (
        (
            row.number,
            row.display_name,
            row.created_at.astimezone(tz).isoformat(timespec="seconds"),
            "no" if row.withdrawn else "yes",
            score(seed, row.number) if seed and not row.withdrawn else "",
            row.rank,
        )
        for row in rows
    )
    content, held = to_csv(ENTRANT_COLUMNS, lines)
    return Document(f"draw-{draw.id}-entrants.csv", content), held


def entries_made(conn: Connection, draw_id: int) -> int:
    """How many entries the draw holds, withdrawn ones too: the lines of its whole list."""
    found = select(func.count()).select_from(draw_entries).where(draw_entries.c.draw_id == draw_id)
    return int(conn.execute(found).scalar_one())


def merge_members(conn: Connection, *, keep: int, absorb: int) -> None:
    """Fold `absorb`'s entries into `keep`'s. Where both entered a draw still open, the later
    entry is withdrawn (one entry per member; its fee goes back at the close or cancel); a
    drawn or cancelled draw's entries stay as they were."""
    theirs = (draw_entries.c.member_id.in_((keep, absorb)), draw_entries.c.withdrawn.is_(False))
    entered = conn.execute(
        select(draw_entries.c.draw_id)
        .distinct()
        .join(draws, draws.c.id == draw_entries.c.draw_id)
        .where(draws.c.state == OPEN, *theirs)
    ).scalars()
    # Lock those draws, as an entry and the close do, before looking for two entries in one:
    # an entry being made, a close being drawn, a cancel, are waited for and then seen. Without
    # it (PostgreSQL) a close drew among an entry this was withdrawing (a winner withdrawn and
    # refunded), or an entry made meanwhile gave one person two.
    still_open = conn.execute(
        select(draws.c.id)
        .where(draws.c.id.in_(list(entered)), draws.c.state == OPEN)
        .order_by(draws.c.id)
        .with_for_update()
    ).scalars()
    both = conn.execute(
        select(draw_entries.c.draw_id, func.max(draw_entries.c.number).label("later"))
        .where(draw_entries.c.draw_id.in_(list(still_open)), *theirs)
        .group_by(draw_entries.c.draw_id)
        .having(func.count() > 1)
    ).all()
    for draw_id, later in both:
        conn.execute(
            update(draw_entries)
            .where(draw_entries.c.draw_id == draw_id, draw_entries.c.number == later)
            .values(withdrawn=True)
        )
    for column in MEMBER_COLUMNS:
        conn.execute(update(column.table).where(column == absorb).values({column.name: keep}))
