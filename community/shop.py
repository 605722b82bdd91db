"""The rewards shop (积分商城) as the community runs it: member-day windows, admins' audited
changes to the catalogue, refunds and fulfilments, and private word to the member."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from community import audit
from community.communities import Community
from community.config import ConfigError
from community.member_days import occurrence_at
from community.messages import Reply, Visibility
from community.outbox import Kind, enqueue
from community.reminders import recipients
from loyalty import redemptions, rewards
from loyalty.redemptions import Redeemed, Redemption, Refunded
from loyalty.reward_rules import RewardConfig
from loyalty.rewards import Imported, Reward
from loyalty.tiers import tier_of


@dataclass(frozen=True, slots=True)
class Offer:
    """A reward as one member sees it in /rewards: whether they can take it now, and if not,
    the first reason why."""

    reward: Reward
    blocked: str  # "", "tier", "member_day", "stock", "points"


def window_open(community: Community, at: datetime) -> bool:
    """Whether a member day is on at `at` (member-day-only rewards can be redeemed)."""
    return occurrence_at(community.rules.member_day, community.timezone, at) is not None


def offers(
    conn: Connection, community: Community, member_id: int, balance: int, at: datetime
) -> list[Offer]:
    """The catalogue a member sees: rewards of their tier and of an open window first."""
    tier = tier_of(conn, member_id)
    balance = redemptions.spendable(conn, member_id, balance, at)
    open_now = window_open(community, at)
    found = []
    for reward in rewards.list_rewards(conn, community.id):
        blocked = redemptions.blocker(
            conn, community.program, reward, member_id, balance, tier, at, open_now
        )
        found.append(Offer(reward, blocked))
    return sorted(found, key=lambda offer: (offer.blocked != "", offer.reward.id))


def redeem(
    conn: Connection,
    community: Community,
    *,
    member_id: int,
    reward_id: int,
    issued: int,
    at: datetime,
    cost: int | None = None,
) -> Redeemed:
    """Redeem for the confirmation issued at `issued`, at the price `cost` it showed (see
    loyalty/redemptions.py)."""
    return redemptions.redeem(
        conn,
        community.program,
        member_id=member_id,
        reward_id=reward_id,
        issued=issued,
        at=at,
        window_open=window_open(community, at),
        cost=cost,
    )


def add(
    conn: Connection,
    community: Community,
    config: RewardConfig,
    *,
    actor: audit.Actor,
    at: datetime,
) -> Reward:
    """Add a reward (audited)."""
    reward = rewards.add_reward(
        conn, community.id, config, at=at, max_rewards=community.rules.shop.max_rewards
    )
    _audit(conn, community, actor, "reward_add", at, reward, settings=config.model_dump())
    return reward


def edit(
    conn: Connection,
    community: Community,
    reward_id: int,
    changes: dict[str, Any],
    *,
    actor: audit.Actor,
    at: datetime,
) -> Reward:
    """Change a reward's settings (audited with what they were)."""
    before, after = rewards.edit_reward(conn, community.id, reward_id, changes)
    was = {name: getattr(before, name) for name in changes}
    _audit(conn, community, actor, "reward_edit", at, after, changes=changes, was=was)
    return after


def set_stock(
    conn: Connection,
    community: Community,
    reward_id: int,
    stock: int | None,
    *,
    actor: audit.Actor,
    at: datetime,
) -> Reward:
    """Set a reward's stock (None: unlimited), audited."""
    before = rewards.reward_by_id(conn, community.id, reward_id)
    after = rewards.set_stock(conn, community.id, reward_id, stock)
    _audit(conn, community, actor, "reward_stock", at, after, stock=stock, was=before.stock)
    return after


def set_hidden(
    conn: Connection,
    community: Community,
    reward_id: int,
    hidden: bool,
    *,
    actor: audit.Actor,
    at: datetime,
) -> Reward:
    """Hide a reward or show it again (audited)."""
    reward = rewards.set_hidden(conn, community.id, reward_id, hidden)
    _audit(conn, community, actor, "reward_hide" if hidden else "reward_show", at, reward)
    return reward


def import_codes(
    conn: Connection,
    community: Community,
    reward_id: int,
    codes: Sequence[str],
    *,
    actor: audit.Actor,
    at: datetime,
) -> Imported:
    """Add coupon codes to a coupon reward (audited by count: codes are secrets)."""
    limit = community.rules.shop.max_codes_per_import
    done = rewards.import_codes(conn, community.id, reward_id, codes, at=at, limit=limit)
    reward = rewards.reward_by_id(conn, community.id, reward_id)
    _audit(
        conn, community, actor, "reward_codes", at, reward, added=done.added, skipped=done.skipped
    )
    return done


def refund(
    conn: Connection,
    community: Community,
    redemption_id: int,
    note: str,
    *,
    actor: audit.Actor,
    at: datetime,
    woken: set[str] | None = None,
) -> Refunded:
    """Refund a redemption (audited) and tell the member privately (its platform into `woken`)."""
    done = redemptions.refund(
        conn, community.program, redemption_id, at=at, note=note, actor_member_id=actor.member_id
    )
    found = done.redemption
    audit.record(
        conn,
        community_id=community.id,
        actor=actor,
        action="reward_refund",
        at=at,
        target_member_id=found.member_id,
        redemption_id=found.id,
        reward_id=found.reward_id,
        points=found.cost,
        note=note,
    )
    context = {"number": found.id, "name": found.reward_name, "points": found.cost, "note": note}
    notice = Reply("rewards/refunded_notice", {**context, "balance": done.balance})
    _woke(woken, tell_member(conn, community, found.member_id, notice, at))
    return done


def fulfil(
    conn: Connection,
    community: Community,
    redemption_id: int,
    *,
    actor: audit.Actor,
    at: datetime,
    woken: set[str] | None = None,
) -> Redemption:
    """Mark a pending gift sent (audited) and tell the member privately."""
    found = redemptions.fulfil(conn, community.id, redemption_id, at)
    audit.record(
        conn,
        community_id=community.id,
        actor=actor,
        action="reward_fulfil",
        at=at,
        target_member_id=found.member_id,
        redemption_id=found.id,
        reward_id=found.reward_id,
    )
    reply = Reply("rewards/fulfilled_notice", {"number": found.id, "name": found.reward_name})
    _woke(woken, tell_member(conn, community, found.member_id, reply, at))
    return found


def tell_member(
    conn: Connection, community: Community, member_id: int, reply: Reply, at: datetime
) -> str | None:
    """Queue a private message to the member; the platform it goes to (None: no account)."""
    target = recipients(conn, community.id, [member_id]).get(member_id)
    if target is None:
        return None
    enqueue(
        conn,
        community_id=community.id,
        platform=target.platform,
        chat_id=target.user_id,
        kind=Kind.DIRECT,
        reply=Reply(reply.template, reply.context, visibility=Visibility.PRIVATE),
        at=at,
    )
    return target.platform


def sync_file_rewards(
    conn: Connection, community: Community, entries: Sequence[RewardConfig], at: datetime
) -> None:
    """Make community.toml's [[rewards]] the catalogue's "file:N" rewards (see
    loyalty/rewards.py sync_file_rewards); ConfigError says what is wrong."""
    try:
        rewards.sync_file_rewards(
            conn, community.id, entries, at=at, max_rewards=community.rules.shop.max_rewards
        )
    except ValueError as error:
        raise ConfigError(str(error)) from None


def _woke(woken: set[str] | None, platform: str | None) -> None:
    """Note the platform whose sender must wake after the commit."""
    if woken is not None and platform is not None:
        woken.add(platform)


def _audit(
    conn: Connection,
    community: Community,
    actor: audit.Actor,
    action: str,
    at: datetime,
    reward: Reward,
    **details: Any,
) -> None:
    audit.record(
        conn,
        community_id=community.id,
        actor=actor,
        action=action,
        at=at,
        reward_id=reward.id,
        name=reward.name,
        **details,
    )
