"""The loyalty engine's tables (issue 10): lots and their uses, earning tallies, campaigns,
the rewards shop, invitations. Part of storage/schema.py's one MetaData (it re-exports them),
kept apart so neither module grows past a reader's patience."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    false,
)

from storage.schema_core import metadata
from storage.types import Id, UtcDateTime

lots = Table(
    # Points expire by lot (积分过期): each credit is a lot with its expiry; debits consume the
    # lots that expire first. The remaining amounts of a member's lots sum to their balance.
    "lots",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("community_id", Id, ForeignKey("communities.id"), nullable=False),
    Column("member_id", Id, ForeignKey("members.id"), nullable=False),
    # The credit that made it.
    Column("ledger_id", Id, ForeignKey("ledger.id"), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("remaining", BigInteger, nullable=False),
    Column("earned_at", UtcDateTime, nullable=False),
    # None: never expires.
    Column("expires_at", UtcDateTime, nullable=True),
    # Counts to growth value (earned points do; a legacy balance carried over does not).
    Column("growth", Boolean, nullable=False, server_default=false()),
    Index("ix_lots_member_expires", "member_id", "expires_at"),
    Index("ix_lots_member_earned", "member_id", "earned_at"),
    Index("ix_lots_community_expires", "community_id", "expires_at"),
)

lot_uses = Table(
    # What each debit took from which lot, so a refund can put points back where they were.
    "lot_uses",
    metadata,
    Column("ledger_id", Id, ForeignKey("ledger.id"), primary_key=True),
    Column("lot_id", Id, ForeignKey("lots.id"), primary_key=True),
    Column("amount", BigInteger, nullable=False),
)

earn_tallies = Table(
    # Base points a member earned per action in the current day/week/month, and when last:
    # what the caps and cooldowns of the earning rules are checked against.
    "earn_tallies",
    metadata,
    Column("member_id", Id, ForeignKey("members.id"), primary_key=True),
    Column("action", String(32), primary_key=True),
    Column("period", String(8), primary_key=True),  # "day", "week", "month"
    Column("period_start", Date, nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("last_at", UtcDateTime, nullable=False),
)

campaigns = Table(
    # Time-boxed earning multipliers (/campaign add x2 checkin,vote 2026-12-12 00:00..23:59).
    "campaigns",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("community_id", Id, ForeignKey("communities.id"), nullable=False),
    # The multiplier in percent (200: x2, 150: x1.5), so the database can pick the largest.
    Column("percent", Integer, nullable=False),
    # The actions it multiplies, each between commas (",checkin,vote,"): one LIKE finds them.
    Column("actions", String(400), nullable=False),
    Column("starts_at", UtcDateTime, nullable=False),
    Column("ends_at", UtcDateTime, nullable=False),
    Column("created_by", Id, ForeignKey("members.id"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("cancelled_at", UtcDateTime, nullable=True),
    Index("ix_campaigns_community_ends", "community_id", "ends_at"),
    sqlite_autoincrement=True,
)

rewards = Table(
    # The rewards shop's catalogue (积分商城).
    "rewards",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("community_id", Id, ForeignKey("communities.id"), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("description", String(500), nullable=False, server_default=""),
    Column("cost", BigInteger, nullable=False),
    # None: unlimited. Coupon rewards: the codes not yet given out.
    Column("stock", Integer, nullable=True),
    # "coupon", "gift" (an admin fulfils), "digital" (a title), "entry" (a lottery ticket),
    # "makeup" (a make-up card).
    Column("kind", String(16), nullable=False),
    Column("value", String(100), nullable=False, server_default=""),  # the title a digital gives
    Column("per_member", Integer, nullable=True),  # redemptions per member per period; None: any
    Column("per_period", String(8), nullable=False, server_default="ever"),
    Column("min_tier", Integer, nullable=False, server_default="0"),
    # "member_day": only while a member day is on; "": always.
    Column("window", String(16), nullable=False, server_default=""),
    Column("hidden", Boolean, nullable=False, server_default=false()),
    # "file:N" for the Nth [[rewards]] of community.toml; None when added in chat.
    Column("file_key", String(32), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    sqlite_autoincrement=True,
)

redemptions = Table(
    "redemptions",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("community_id", Id, ForeignKey("communities.id"), nullable=False),
    Column("member_id", Id, ForeignKey("members.id"), nullable=False, index=True),
    Column("reward_id", Id, ForeignKey("rewards.id"), nullable=False, index=True),
    Column("cost", BigInteger, nullable=False),
    # "delivered", "pending" (a gift to fulfil), "fulfilled", "refunded".
    Column("state", String(12), nullable=False),
    # The idempotency key of its confirmation: a double press redeems once.
    Column("key", String(200), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("fulfilled_at", UtcDateTime, nullable=True),
    Column("refunded_at", UtcDateTime, nullable=True),
    Column("note", String(200), nullable=False, server_default=""),
    Index("ix_redemptions_community_state", "community_id", "state"),
    sqlite_autoincrement=True,
)

coupon_codes = Table(
    "coupon_codes",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("reward_id", Id, ForeignKey("rewards.id"), nullable=False),
    Column("code", String(200), nullable=False),
    Column("redemption_id", Id, ForeignKey("redemptions.id"), nullable=True, unique=True),
    Column("imported_at", UtcDateTime, nullable=False),
    UniqueConstraint("reward_id", "code", name="uq_coupon_codes_reward_code"),
    Index("ix_coupon_codes_free", "reward_id", "redemption_id"),
)

invitations = Table(
    # A member's personal invitation (/invite): a code, and the platform's link made for it.
    "invitations",
    metadata,
    Column("id", Id, primary_key=True, autoincrement=True),
    Column("community_id", Id, ForeignKey("communities.id"), nullable=False),
    Column("member_id", Id, ForeignKey("members.id"), nullable=False, index=True),
    Column("code", String(32), nullable=False, unique=True),
    Column("platform", String(16), nullable=False),
    Column("chat_id", String(64), nullable=False),
    # The platform's invite (a Telegram link, a Discord invite code) once it was made.
    Column("link", String(300), nullable=True, index=True),
    Column("created_at", UtcDateTime, nullable=False),
)

invited = Table(
    # Who joined through whose invitation; the inviter is paid at the invitee's first check-in.
    "invited",
    metadata,
    Column("member_id", Id, ForeignKey("members.id"), primary_key=True),
    Column("invitation_id", Id, ForeignKey("invitations.id"), nullable=False, index=True),
    Column("joined_at", UtcDateTime, nullable=False),
    # Known to the community before they joined, or the inviter themself: never paid.
    Column("known", Boolean, nullable=False, server_default=false()),
    Column("rewarded_at", UtcDateTime, nullable=True),
)
