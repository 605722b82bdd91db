"""Redeeming rewards: points out through the ledger, stock down, the reward delivered; refunds
put both back. Safe under races on PostgreSQL: the member's balance row is locked first, then
the reward's stock is taken by a conditional UPDATE, so nothing is oversold or over-taken."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, func, insert, or_, select, update

from loyalty import ledger, lots
from loyalty.errors import UserError
from loyalty.periods import first_day
from loyalty.rewards import Reward, reward_by_id
from loyalty.rules import Program
from storage.schema import balances, coupon_codes, members, redemptions, rewards
from storage.schema import ledger as ledger_table

PENDING, DELIVERED, FULFILLED, REFUNDED = "pending", "delivered", "fulfilled", "refunded"


@dataclass(frozen=True, slots=True)
class Redemption:
    """One redemption as stored, with what the member got."""

    id: int
    member_id: int
    reward_id: int
    reward_name: str
    kind: str
    cost: int
    state: str
    created_at: datetime
    code: str | None = None  # a coupon's code
    member_name: str = ""


@dataclass(frozen=True, slots=True)
class Redeemed:
    """A redemption done: the member's balance after it. `again`: this press was done before."""

    redemption: Redemption
    reward: Reward
    balance: int
    again: bool = False


@dataclass(frozen=True, slots=True)
class Refunded:
    """A refund done: the redemption, the points back, the member's balance after it."""

    redemption: Redemption
    balance: int


_STANDING = select(balances.c.points, balances.c.tier).where(
    balances.c.member_id == bindparam("member")
)
_LOCK_BALANCE = _STANDING.with_for_update()
_TAKE_STOCK = (
    update(rewards)
    .where(
        rewards.c.id == bindparam("reward"),
        or_(rewards.c.stock.is_(None), rewards.c.stock > 0),
    )
    .values(stock=rewards.c.stock - 1)
)
_FREE_CODE = (
    select(coupon_codes.c.id)
    .where(coupon_codes.c.reward_id == bindparam("reward"), coupon_codes.c.redemption_id.is_(None))
    .order_by(coupon_codes.c.id)
    .limit(1)
    .scalar_subquery()
)
# The reward's row is locked by _TAKE_STOCK until commit: claims of one reward take turns, and
# each finds the code the one before it left.
_CLAIM_CODE = (
    update(coupon_codes)
    .where(coupon_codes.c.id == _FREE_CODE, coupon_codes.c.redemption_id.is_(None))
    .values(redemption_id=bindparam("redemption"))
)
_LISTED = (
    select(
        redemptions,
        rewards.c.name.label("reward_name"),
        rewards.c.kind,
        coupon_codes.c.code,
        members.c.display_name.label("member_name"),
    )
    .join(rewards, rewards.c.id == redemptions.c.reward_id)
    .join(members, members.c.id == redemptions.c.member_id)
    .outerjoin(coupon_codes, coupon_codes.c.redemption_id == redemptions.c.id)
)


def redemption_key(member_id: int, reward_id: int, issued: int) -> str:
    """The cause of a redemption: its confirmation button (a double press redeems once)."""
    return f"redeem:{member_id}:{reward_id}:{issued}"


def period_start(period: str, program: Program, at: datetime) -> datetime | None:
    """The start of the day/week/month/year `at` falls in, in the community's time."""
    first = first_day(period, at.astimezone(program.timezone).date())
    return None if first is None else datetime.combine(first, time(0), program.timezone)


def redeem(
    conn: Connection,
    program: Program,
    *,
    member_id: int,
    reward_id: int,
    issued: int,
    at: datetime,
    window_open: bool,
    cost: int | None = None,
) -> Redeemed:
    """Redeem reward `reward_id` for the member, for the confirmation issued at `issued`
    (epoch seconds). `window_open`: whether a member-day-only reward may be taken now. `cost`:
    the price the confirmation showed; if the reward costs something else now, nothing is
    taken (the member confirms the new price). Raises UserError for a refusal; nothing is
    changed then."""
    reward = reward_by_id(conn, program.community_id, reward_id)
    key = redemption_key(member_id, reward.id, issued)
    # Every redemption of this member takes turns from here on (PostgreSQL): the debit updates
    # this row anyway, and the limit below is counted after it.
    held = conn.execute(_LOCK_BALANCE, {"member": member_id}).first()
    done = _by_key(conn, key)
    if done is not None:
        return Redeemed(done, reward, ledger.balance(conn, member_id), again=True)
    points, tier = (0, 0) if held is None else (int(held.points), int(held.tier))
    points = spendable(conn, member_id, points, at)
    _refusal(conn, program, reward, member_id, points, tier, at, window_open)
    if cost is not None and cost != reward.cost:
        raise UserError("rewards/expired", number=reward.id, cost=reward.cost)
    if conn.execute(_TAKE_STOCK, {"reward": reward.id}).rowcount != 1:
        raise UserError("rewards/out_of_stock", name=reward.name)
    state = PENDING if reward.kind == "gift" else DELIVERED
    redemption_id = conn.execute(
        insert(redemptions).returning(redemptions.c.id),
        {
            "community_id": program.community_id,
            "member_id": member_id,
            "reward_id": reward.id,
            "cost": reward.cost,
            "state": state,
            "key": key,
            "created_at": at,
        },
    ).scalar_one()
    posting = ledger.post(
        conn,
        community_id=program.community_id,
        member_id=member_id,
        delta=-reward.cost,
        reason="redeem",
        key=key,
        at=at,
        note=reward.name,
    )
    _deliver(conn, reward, member_id, redemption_id)
    found = redemption_by_id(conn, program.community_id, redemption_id)
    return Redeemed(found, reward, posting.balance)


def grant(
    conn: Connection, community_id: int, *, member_id: int, reward_id: int, key: str, at: datetime
) -> Redemption | None:
    """Give reward `reward_id` to the member as a prize (a contest's): a redemption costing
    nothing, its stock and codes taken as a redemption's, once per `key` (a second call gives
    the first one back). None when the reward is out of stock or its codes ran out: nothing is
    given then. No limit, tier or window applies: the prize was announced."""
    done = _by_key(conn, key)
    if done is not None:
        return done
    reward = reward_by_id(conn, community_id, reward_id)
    if conn.execute(_TAKE_STOCK, {"reward": reward.id}).rowcount != 1:
        return None
    state = PENDING if reward.kind == "gift" else DELIVERED
    redemption_id = conn.execute(
        insert(redemptions).returning(redemptions.c.id),
        {
            "community_id": community_id,
            "member_id": member_id,
            "reward_id": reward.id,
            "cost": 0,
            "state": state,
            "key": key,
            "created_at": at,
        },
    ).scalar_one()
    if reward.kind == "coupon":
        claimed = conn.execute(_CLAIM_CODE, {"reward": reward.id, "redemption": redemption_id})
        if claimed.rowcount != 1:  # stock said there was a code; there was none
            conn.execute(delete(redemptions).where(redemptions.c.id == redemption_id))
            conn.execute(
                update(rewards).where(rewards.c.id == reward.id).values(stock=rewards.c.stock + 1)
            )
            return None
    else:
        _deliver(conn, reward, member_id, redemption_id)
    return redemption_by_id(conn, community_id, redemption_id)


def check(
    conn: Connection,
    program: Program,
    *,
    member_id: int,
    reward_id: int,
    at: datetime,
    window_open: bool,
) -> Reward:
    """The reward, if the member could redeem it now; else the refusal (UserError)."""
    reward = reward_by_id(conn, program.community_id, reward_id)
    held = conn.execute(_STANDING, {"member": member_id}).first()
    points, tier = (0, 0) if held is None else (int(held.points), int(held.tier))
    points = spendable(conn, member_id, points, at)
    _refusal(conn, program, reward, member_id, points, tier, at, window_open)
    return reward


def blocker(
    conn: Connection,
    program: Program,
    reward: Reward,
    member_id: int,
    points: int,
    tier: int,
    at: datetime,
    window_open: bool,
) -> str:
    """The first reason this member may not take this reward now ("" if none): "hidden",
    "tier", "member_day", "limit", "points", "stock". /rewards shows it, /redeem refuses by it:
    one decision for both."""
    if reward.hidden:
        return "hidden"
    if tier < reward.min_tier:
        return "tier"
    if reward.window == "member_day" and not window_open:
        return "member_day"
    limit = reward.per_member
    if limit is not None and redemptions_in_period(conn, program, member_id, reward, at) >= limit:
        return "limit"
    if points < reward.cost:
        return "points"
    if reward.stock is not None and reward.stock <= 0:
        return "stock"
    return ""


def _refusal(
    conn: Connection,
    program: Program,
    reward: Reward,
    member_id: int,
    points: int,
    tier: int,
    at: datetime,
    window_open: bool,
) -> None:
    """Raise the first reason this member may not take this reward now, if any."""
    reason = blocker(conn, program, reward, member_id, points, tier, at, window_open)
    if reason == "hidden":
        raise UserError("rewards/unknown", number=reward.id)
    if reason == "tier":
        needed = program.tiers.level(reward.min_tier).names
        raise UserError("rewards/tier_too_low", name=reward.name, tier=needed.model_dump())
    if reason == "member_day":
        raise UserError("rewards/member_day_only", name=reward.name)
    if reason == "limit":
        raise UserError(
            "rewards/limit_reached",
            name=reward.name,
            limit=reward.per_member,
            period=reward.per_period,
        )
    if reason == "points":
        raise UserError("rewards/not_enough", name=reward.name, cost=reward.cost, balance=points)
    if reason == "stock":
        raise UserError("rewards/out_of_stock", name=reward.name)


def redemptions_in_period(
    conn: Connection, program: Program, member_id: int, reward: Reward, at: datetime
) -> int:
    """The member's redemptions of `reward` (not refunded) in its limit's current period."""
    query = (
        select(func.count())
        .select_from(redemptions)
        .where(
            redemptions.c.member_id == member_id,
            redemptions.c.reward_id == reward.id,
            redemptions.c.state != REFUNDED,
        )
    )
    start = period_start(reward.per_period, program, at)
    if start is not None:
        query = query.where(redemptions.c.created_at >= start)
    return int(conn.execute(query).scalar_one())


def _deliver(conn: Connection, reward: Reward, member_id: int, redemption_id: int) -> None:
    if reward.kind == "coupon":
        claimed = conn.execute(_CLAIM_CODE, {"reward": reward.id, "redemption": redemption_id})
        if claimed.rowcount != 1:  # stock said there was a code; there was none
            raise UserError("rewards/out_of_stock", name=reward.name)
    elif reward.kind == "digital":
        title = (reward.value or reward.name)[:100]
        conn.execute(update(members).where(members.c.id == member_id).values(title=title))
    elif reward.kind == "makeup":
        conn.execute(
            update(balances)
            .where(balances.c.member_id == member_id)
            .values(makeup_cards=balances.c.makeup_cards + 1)
        )


def refund(
    conn: Connection,
    program: Program,
    redemption_id: int,
    *,
    at: datetime,
    note: str = "",
    actor_member_id: int | None = None,
) -> Refunded:
    """Give a redemption's points back into the lots they came from (their expiry kept) and
    its stock back. A coupon's code stays spent: it may have been seen, so it is never given
    out again. A title or make-up card it gave is taken back."""
    found = redemption_by_id(conn, program.community_id, redemption_id)
    settled = conn.execute(
        update(redemptions)
        .where(redemptions.c.id == found.id, redemptions.c.state != REFUNDED)
        .values(state=REFUNDED, refunded_at=at, note=note[:200])
    )
    if settled.rowcount != 1:
        raise UserError("rewards/already_refunded", number=found.id)
    debit = conn.execute(
        select(ledger_table.c.id).where(ledger_table.c.idempotency_key == _key_of(conn, found.id))
    ).scalar_one()
    again = lots.expiry_of(at, program.timezone, program.expiry.months)
    posting = ledger.post(
        conn,
        community_id=program.community_id,
        member_id=found.member_id,
        delta=found.cost,
        reason="refund",
        key=f"refund:{found.id}",
        at=at,
        note=note or found.reward_name,
        actor_member_id=actor_member_id,
        lot=ledger.Lot(again, False),
        restores=int(debit),
    )
    _take_back(conn, reward_by_id(conn, program.community_id, found.reward_id), found.member_id)
    return Refunded(redemption_by_id(conn, program.community_id, found.id), posting.balance)


def _key_of(conn: Connection, redemption_id: int) -> str:
    key = select(redemptions.c.key).where(redemptions.c.id == redemption_id)
    return str(conn.execute(key).scalar_one())


def _take_back(conn: Connection, reward: Reward, member_id: int) -> None:
    if reward.kind != "coupon" and reward.stock is not None:
        conn.execute(
            update(rewards).where(rewards.c.id == reward.id).values(stock=rewards.c.stock + 1)
        )
    if reward.kind == "digital":
        title = (reward.value or reward.name)[:100]
        if _still_holds(conn, reward, member_id):
            return  # another live redemption of the same reward gave the same title
        conn.execute(
            update(members)
            .where(members.c.id == member_id, members.c.title == title)
            .values(title=None)
        )
    elif reward.kind == "makeup":
        conn.execute(
            update(balances)
            .where(balances.c.member_id == member_id, balances.c.makeup_cards > 0)
            .values(makeup_cards=balances.c.makeup_cards - 1)
        )


def _still_holds(conn: Connection, reward: Reward, member_id: int) -> bool:
    """Whether the member has a redemption of `reward` that is not refunded."""
    live = conn.execute(
        select(func.count())
        .select_from(redemptions)
        .where(
            redemptions.c.member_id == member_id,
            redemptions.c.reward_id == reward.id,
            redemptions.c.state != REFUNDED,
        )
    ).scalar_one()
    return int(live) > 0


def spendable(conn: Connection, member_id: int, points: int, at: datetime) -> int:
    """What of a balance can be spent at `at`: points whose expiry has come are gone, whether
    or not the daily run has posted them (ledger.post takes them before any debit)."""
    return points - sum(left for _, left in lots.expired_of_member(conn, member_id, at))


def fulfil(conn: Connection, community_id: int, redemption_id: int, at: datetime) -> Redemption:
    """Mark a pending gift as sent to the member."""
    found = redemption_by_id(conn, community_id, redemption_id)
    done = conn.execute(
        update(redemptions)
        .where(redemptions.c.id == found.id, redemptions.c.state == PENDING)
        .values(state=FULFILLED, fulfilled_at=at)
    )
    if done.rowcount != 1:
        raise UserError("rewards/not_pending", number=found.id, state=found.state)
    return redemption_by_id(conn, community_id, found.id)


# Reading ---------------------------------------------------------------------------------------


def _redemption(row: Any) -> Redemption:
    return Redemption(
        id=row.id,
        member_id=row.member_id,
        reward_id=row.reward_id,
        reward_name=row.reward_name,
        kind=row.kind,
        cost=int(row.cost),
        state=row.state,
        created_at=row.created_at,
        code=row.code,
        member_name=row.member_name,
    )


def _by_key(conn: Connection, key: str) -> Redemption | None:
    row = conn.execute(_LISTED.where(redemptions.c.key == key)).first()
    return None if row is None else _redemption(row)


def redemption_by_id(conn: Connection, community_id: int, redemption_id: int) -> Redemption:
    """Redemption number `redemption_id` of the community; UserError if there is none."""
    row = conn.execute(
        _LISTED.where(
            and_(redemptions.c.id == redemption_id, redemptions.c.community_id == community_id)
        )
    ).first()
    if row is None:
        raise UserError("rewards/unknown_redemption", number=redemption_id)
    return _redemption(row)


def member_redemptions(conn: Connection, member_id: int, limit: int) -> list[Redemption]:
    """The member's redemptions, newest first."""
    query = (
        _LISTED.where(redemptions.c.member_id == member_id)
        .order_by(redemptions.c.id.desc())
        .limit(limit)
    )
    return [_redemption(row) for row in conn.execute(query)]


def pending_gifts(conn: Connection, community_id: int, limit: int) -> list[Redemption]:
    """Gifts redeemed and not yet sent, oldest first."""
    query = (
        _LISTED.where(redemptions.c.community_id == community_id, redemptions.c.state == PENDING)
        .order_by(redemptions.c.id)
        .limit(limit)
    )
    return [_redemption(row) for row in conn.execute(query)]
