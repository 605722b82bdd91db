"""Make-up cards (补签卡): fill a missed check-in day of the last few days and get the streak
back as if that day had been checked in. A make-up pays no points; it only mends the streak.

Free cards come with the member's tier every calendar month (the community's), counted from
the days they filled this month; bought cards (balances.makeup_cards) are used after those.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Connection, and_, bindparam, func, select, update

from community import checkins
from community.communities import Community
from loyalty.errors import UserError
from storage.schema import balances, members
from storage.schema import checkins as checkin_rows
from storage.sql import insert_if_absent

TIER, SHOP = "tier", "shop"  # checkins.card: which kind of card filled the day


@dataclass(frozen=True, slots=True)
class Cards:
    """The make-up cards a member has now."""

    tier: int  # their tier's index (into tiers.levels)
    monthly: int  # free cards their tier gives per month
    tier_left: int  # of those, not used this month
    bought: int  # cards from the shop

    @property
    def total(self) -> int:
        return self.tier_left + self.bought


@dataclass(frozen=True, slots=True)
class MadeUp:
    """A day filled with a card, and where the member stands after it."""

    day: date
    card: str  # TIER or SHOP
    streak: int  # the streak still alive today, counting the filled day if it joins it
    day_streak: int  # the streak the filled day itself now has
    cards: Cards  # what is left
    missed: tuple[date, ...]  # days of the window still missed, newest first


_STATE = select(balances.c.tier, balances.c.makeup_cards).where(
    balances.c.member_id == bindparam("member")
)
_TIER_USED = select(func.count()).where(
    checkin_rows.c.member_id == bindparam("member"),
    checkin_rows.c.card == TIER,
    checkin_rows.c.created_at >= bindparam("since"),
    checkin_rows.c.created_at < bindparam("until"),
)
_JOINED = select(members.c.created_at).where(members.c.id == bindparam("member"))
_DAYS = (
    select(checkin_rows.c.day)
    .where(
        checkin_rows.c.member_id == bindparam("member"),
        checkin_rows.c.day >= bindparam("since"),
        checkin_rows.c.day <= bindparam("until"),
    )
    .order_by(checkin_rows.c.day)
)
_STREAK_ON = select(checkin_rows.c.streak).where(
    checkin_rows.c.member_id == bindparam("member"), checkin_rows.c.day == bindparam("day")
)
_FROM = (
    select(checkin_rows.c.id, checkin_rows.c.day, checkin_rows.c.streak)
    .where(checkin_rows.c.member_id == bindparam("member"), checkin_rows.c.day > bindparam("day"))
    .order_by(checkin_rows.c.day)
    .limit(bindparam("limit"))
)
_SET_STREAK = (
    update(checkin_rows)
    .where(checkin_rows.c.id == bindparam("row"))
    .values(streak=bindparam("streak"))
)
# Guarded: a card is never taken twice, nor below zero.
_TAKE_BOUGHT = (
    update(balances)
    .where(and_(balances.c.member_id == bindparam("member"), balances.c.makeup_cards > 0))
    .values(makeup_cards=balances.c.makeup_cards - 1)
)
# One make-up at a time per member (two processes, PostgreSQL): free tier cards have no row
# of their own to guard, so the balance row is the member's lock. A no-op on SQLite.
_LOCK = (
    select(balances.c.member_id)
    .where(balances.c.member_id == bindparam("member"))
    .with_for_update()
)


def cards(conn: Connection, community: Community, member_id: int, at: datetime) -> Cards:
    """The member's cards at `at`: their tier's this month, and the ones they bought."""
    row = conn.execute(_STATE, {"member": member_id}).first()
    tier = 0 if row is None else int(row.tier)
    bought = 0 if row is None else int(row.makeup_cards)
    monthly = community.rules.tiers.level(tier).makeup_cards
    used = 0
    if monthly:
        since, until = month_of(community, at)
        used = conn.execute(
            _TIER_USED, {"member": member_id, "since": since, "until": until}
        ).scalar_one()
    return Cards(tier, monthly, max(monthly - int(used), 0), bought)


def month_of(community: Community, at: datetime) -> tuple[datetime, datetime]:
    """The community's calendar month around `at`, as [start, end) moments."""
    first = community.local_day(at).replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    tz = community.timezone
    return datetime.combine(first, time(), tz), datetime.combine(following, time(), tz)


def window(community: Community, at: datetime) -> tuple[date, date]:
    """The first and last day a card may fill at `at` (today never: it can still be checked in)."""
    today = community.local_day(at)
    return today - timedelta(days=community.rules.makeup.window_days), today - timedelta(days=1)


def joined_on(conn: Connection, community: Community, member_id: int) -> date:
    """The local day the member first came (a day before it was never theirs to miss)."""
    first_seen = conn.execute(_JOINED, {"member": member_id}).scalar_one()
    return community.local_day(first_seen)


def missed_days(
    conn: Connection, community: Community, member_id: int, at: datetime
) -> tuple[date, ...]:
    """The days of the window since the member joined that they did not check in, newest
    first."""
    first, last = window(community, at)
    first = max(first, joined_on(conn, community, member_id))
    done = set(conn.execute(_DAYS, {"member": member_id, "since": first, "until": last}).scalars())
    days = (last - timedelta(days=n) for n in range((last - first).days + 1))
    return tuple(day for day in days if day not in done)


def make_up(
    conn: Connection, community: Community, member_id: int, at: datetime, day: date | None = None
) -> MadeUp:
    """Fill `day` (None: the newest missed day of the window) with a card and recount the
    streak from it. Refusals (UserError) change nothing."""
    # Before anything is counted: a concurrent make-up commits first, then this one reads.
    conn.execute(_LOCK, {"member": member_id})
    first, last = window(community, at)
    missed = missed_days(conn, community, member_id, at)
    if day is None:
        if not missed:
            raise UserError("makeup/nothing_missed", window_days=community.rules.makeup.window_days)
        day = missed[0]
    elif day > last:
        raise UserError(
            "makeup/not_past", day=day.isoformat(), today=(last + timedelta(1)).isoformat()
        )
    elif day < first or day < (joined := joined_on(conn, community, member_id)):
        if day >= first:
            raise UserError("makeup/before_joining", day=day.isoformat(), joined=joined.isoformat())
        raise UserError(
            "makeup/too_old",
            day=day.isoformat(),
            earliest=first.isoformat(),
            window_days=community.rules.makeup.window_days,
        )
    elif day not in missed:
        raise UserError("makeup/already_checked_in", day=day.isoformat())
    held = cards(conn, community, member_id, at)
    card = _use_card(conn, community, member_id, held)
    before = conn.execute(_STREAK_ON, {"member": member_id, "day": day - timedelta(days=1)})
    day_streak = (before.scalar_one_or_none() or 0) + 1
    filled = insert_if_absent(
        conn,
        checkin_rows,
        {
            "community_id": community.id,
            "member_id": member_id,
            "day": day,
            "streak": day_streak,
            "points": 0,  # a make-up mends the streak; it earns nothing
            "created_at": at,
            "card": card,
        },
    )
    if not filled:
        # A check-in of that day committed meanwhile (a late check-in at midnight); the
        # refusal rolls back the card taken above.
        raise UserError("makeup/already_checked_in", day=day.isoformat())
    _recount_after(conn, member_id, day, day_streak, community.rules.makeup.window_days)
    left = Cards(
        held.tier,
        held.monthly,
        held.tier_left - (card == TIER),
        held.bought - (card == SHOP),
    )
    alive = checkins.streak_status(conn, community, member_id, at).streak
    return MadeUp(day, card, alive, day_streak, left, tuple(d for d in missed if d != day))


def _use_card(conn: Connection, community: Community, member_id: int, held: Cards) -> str:
    """Use a free tier card if one is left this month, else a bought one."""
    if held.tier_left > 0:
        return TIER
    if held.bought > 0 and conn.execute(_TAKE_BOUGHT, {"member": member_id}).rowcount == 1:
        return SHOP
    better = next(
        (
            (index, level)
            for index, level in enumerate(community.rules.tiers.levels)
            if index > held.tier and level.makeup_cards > held.monthly
        ),
        None,
    )
    raise UserError(
        "makeup/no_cards",
        monthly=held.monthly,
        tier={
            "en": _name(community, held.tier, "en"),
            "zh_CN": _name(community, held.tier, "zh_CN"),
        },
        better=None
        if better is None
        else {
            "en": better[1].names.en,
            "zh_CN": better[1].names.zh_CN,
            "cards": better[1].makeup_cards,
        },
    )


def _name(community: Community, tier: int, locale: str) -> str:
    return community.rules.tiers.level(tier).names.in_locale(locale)


def _recount_after(
    conn: Connection, member_id: int, day: date, streak: int, window_days: int
) -> None:
    """Give every checked-in day right after `day` the streak it has now (only the window's
    days can follow a filled one)."""
    latest = (day, streak)
    rows = conn.execute(_FROM, {"member": member_id, "day": day, "limit": window_days + 1})
    for row in list(rows):
        if row.day != latest[0] + timedelta(days=1):
            break
        latest = (row.day, latest[1] + 1)
        if row.streak != latest[1]:
            conn.execute(_SET_STREAK, {"row": row.id, "streak": latest[1]})
