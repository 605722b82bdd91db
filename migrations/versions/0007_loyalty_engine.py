"""the loyalty engine: lots that expire, why each credit paid what it did, tiers by growth
value, earning caps and campaigns, the rewards shop, make-up cards, birthdays, invitations

Existing balances become one lot each that never expires (they were earned under no expiry
rule), not counted to growth value. Check-in, streak-bonus and vote points move from the
[checkin] and [polls] sections of the stored rules into [earning].

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 02:00:00
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

# Frozen here rather than imported: a revision must not change when the code does.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
WHEN = sa.DateTime(timezone=True)

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("campaigns_until", WHEN, nullable=True))
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.add_column(sa.Column("birthday", sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column("title", sa.String(length=100), nullable=True))
    with op.batch_alter_table("balances", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("growth", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("tier", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("tier_since", WHEN, nullable=True))
        batch_op.add_column(sa.Column("short_since", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("makeup_cards", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.add_column(sa.Column("base", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("multipliers", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("rule_version", sa.String(length=16), nullable=True))
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.add_column(sa.Column("card", sa.String(length=8), nullable=True))

    op.create_table(
        "lots",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("community_id", ID, _fk("lots", "community_id", "communities"), nullable=False),
        sa.Column("member_id", ID, _fk("lots", "member_id", "members"), nullable=False),
        sa.Column("ledger_id", ID, _fk("lots", "ledger_id", "ledger"), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("remaining", sa.BigInteger(), nullable=False),
        sa.Column("earned_at", WHEN, nullable=False),
        sa.Column("expires_at", WHEN, nullable=True),
        sa.Column("growth", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.PrimaryKeyConstraint("id", name="pk_lots"),
    )
    op.create_index("ix_lots_member_expires", "lots", ["member_id", "expires_at"])
    op.create_index("ix_lots_member_earned", "lots", ["member_id", "earned_at"])
    op.create_index("ix_lots_community_expires", "lots", ["community_id", "expires_at"])
    op.create_table(
        "lot_uses",
        sa.Column("ledger_id", ID, _fk("lot_uses", "ledger_id", "ledger"), nullable=False),
        sa.Column("lot_id", ID, _fk("lot_uses", "lot_id", "lots"), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("ledger_id", "lot_id", name="pk_lot_uses"),
    )
    op.create_table(
        "earn_tallies",
        sa.Column("member_id", ID, _fk("earn_tallies", "member_id", "members"), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("last_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("member_id", "action", "period", name="pk_earn_tallies"),
    )
    op.create_table(
        "campaigns",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column(
            "community_id", ID, _fk("campaigns", "community_id", "communities"), nullable=False
        ),
        sa.Column("percent", sa.Integer(), nullable=False),
        sa.Column("actions", sa.String(length=400), nullable=False),
        sa.Column("starts_at", WHEN, nullable=False),
        sa.Column("ends_at", WHEN, nullable=False),
        sa.Column("created_by", ID, _fk("campaigns", "created_by", "members"), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("cancelled_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_campaigns"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_campaigns_community_ends", "campaigns", ["community_id", "ends_at"])
    op.create_table(
        "rewards",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column(
            "community_id", ID, _fk("rewards", "community_id", "communities"), nullable=False
        ),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False, server_default=""),
        sa.Column("cost", sa.BigInteger(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False, server_default=""),
        sa.Column("per_member", sa.Integer(), nullable=True),
        sa.Column("per_period", sa.String(length=8), nullable=False, server_default="ever"),
        sa.Column("min_tier", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("window", sa.String(length=16), nullable=False, server_default=""),
        sa.Column("hidden", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("file_key", sa.String(length=32), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rewards"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_rewards_community_id", "rewards", ["community_id"])
    op.create_table(
        "redemptions",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column(
            "community_id", ID, _fk("redemptions", "community_id", "communities"), nullable=False
        ),
        sa.Column("member_id", ID, _fk("redemptions", "member_id", "members"), nullable=False),
        sa.Column("reward_id", ID, _fk("redemptions", "reward_id", "rewards"), nullable=False),
        sa.Column("cost", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.Column("fulfilled_at", WHEN, nullable=True),
        sa.Column("refunded_at", WHEN, nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id", name="pk_redemptions"),
        sa.UniqueConstraint("key", name="uq_redemptions_key"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_redemptions_member_id", "redemptions", ["member_id"])
    op.create_index("ix_redemptions_reward_id", "redemptions", ["reward_id"])
    op.create_index("ix_redemptions_community_state", "redemptions", ["community_id", "state"])
    op.create_table(
        "coupon_codes",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("reward_id", ID, _fk("coupon_codes", "reward_id", "rewards"), nullable=False),
        sa.Column("code", sa.String(length=200), nullable=False),
        sa.Column(
            "redemption_id", ID, _fk("coupon_codes", "redemption_id", "redemptions"), nullable=True
        ),
        sa.Column("imported_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_coupon_codes"),
        sa.UniqueConstraint("reward_id", "code", name="uq_coupon_codes_reward_code"),
        sa.UniqueConstraint("redemption_id", name="uq_coupon_codes_redemption_id"),
    )
    op.create_index("ix_coupon_codes_free", "coupon_codes", ["reward_id", "redemption_id"])
    op.create_table(
        "invitations",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column(
            "community_id", ID, _fk("invitations", "community_id", "communities"), nullable=False
        ),
        sa.Column("member_id", ID, _fk("invitations", "member_id", "members"), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("platform", sa.String(length=16), nullable=False),
        sa.Column("chat_id", sa.String(length=64), nullable=False),
        sa.Column("link", sa.String(length=300), nullable=True),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_invitations"),
        sa.UniqueConstraint("code", name="uq_invitations_code"),
    )
    op.create_index("ix_invitations_member_id", "invitations", ["member_id"])
    op.create_index("ix_invitations_link", "invitations", ["link"])
    op.create_table(
        "invited",
        sa.Column("member_id", ID, _fk("invited", "member_id", "members"), nullable=False),
        sa.Column(
            "invitation_id", ID, _fk("invited", "invitation_id", "invitations"), nullable=False
        ),
        sa.Column("joined_at", WHEN, nullable=False),
        sa.Column("known", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("rewarded_at", WHEN, nullable=True),
        sa.PrimaryKeyConstraint("member_id", name="pk_invited"),
    )
    op.create_index("ix_invited_invitation_id", "invited", ["invitation_id"])
    _carry_over_balances()
    _move_points_rules()


def _carry_over_balances() -> None:
    """Every balance so far becomes one lot that never expires: the invariant (lots sum to the
    balance) holds from the first moment, and nobody loses points to a rule they never had."""
    conn = op.get_bind()
    now = datetime.now(UTC)
    held = conn.execute(
        sa.text("SELECT member_id, community_id, points FROM balances WHERE points > 0")
    ).all()
    for member_id, community_id, points in held:
        ledger_id = conn.execute(
            sa.text(
                "SELECT id FROM ledger WHERE member_id = :member AND delta > 0"
                " ORDER BY id DESC LIMIT 1"
            ),
            {"member": member_id},
        ).scalar()
        if ledger_id is None:  # a balance with no credit cannot be; keep it whole regardless
            continue
        conn.execute(
            sa.text(
                "INSERT INTO lots (community_id, member_id, ledger_id, amount, remaining,"
                " earned_at, expires_at, growth) VALUES (:community, :member, :ledger, :points,"
                " :points, :at, NULL, :growth)"
            ),
            {
                "community": community_id,
                "member": member_id,
                "ledger": ledger_id,
                "points": points,
                "at": now if conn.dialect.name != "sqlite" else now.replace(tzinfo=None),
                "growth": False,
            },
        )


def _move_points_rules() -> None:
    """[checkin] points / streak_bonus_points and [polls] vote_points become [earning]."""
    conn = op.get_bind()
    for community_id, stored in conn.execute(sa.text("SELECT id, rules FROM communities")).all():
        rules = json.loads(stored) if isinstance(stored, str) else dict(stored)
        checkin = rules.get("checkin", {})
        polls = rules.get("polls", {})
        earning = rules.setdefault("earning", {})
        if "points" in checkin:
            earning["checkin"] = {"points": checkin.pop("points")}
        if "streak_bonus_points" in checkin:
            earning["streak_bonus"] = {"points": checkin.pop("streak_bonus_points")}
        if "vote_points" in polls:
            earning["vote"] = {"points": polls.pop("vote_points")}
        conn.execute(
            sa.text("UPDATE communities SET rules = :rules WHERE id = :id"),
            {"rules": json.dumps(rules), "id": community_id},
        )


def downgrade() -> None:
    conn = op.get_bind()
    for community_id, stored in conn.execute(sa.text("SELECT id, rules FROM communities")).all():
        rules = json.loads(stored) if isinstance(stored, str) else dict(stored)
        earning = rules.pop("earning", {})
        for name in ("tiers", "expiry", "shop", "campaigns", "makeup", "birthdays"):
            rules.pop(name, None)
        checkin = rules.setdefault("checkin", {})
        polls = rules.setdefault("polls", {})
        checkin["points"] = earning.get("checkin", {}).get("points", 10)
        checkin["streak_bonus_points"] = earning.get("streak_bonus", {}).get("points", 20)
        polls["vote_points"] = earning.get("vote", {}).get("points", 2)
        rules.get("member_day", {}).pop("actions", None)
        rules.get("points", {}).pop("history_entries", None)
        rules.get("points", {}).pop("export_max_rows", None)
        rules.get("points", {}).pop("export_default_days", None)
        conn.execute(
            sa.text("UPDATE communities SET rules = :rules WHERE id = :id"),
            {"rules": json.dumps(rules), "id": community_id},
        )
    op.drop_table("invited")
    op.drop_table("invitations")
    op.drop_table("coupon_codes")
    op.drop_table("redemptions")
    op.drop_table("rewards")
    op.drop_table("campaigns")
    op.drop_table("earn_tallies")
    op.drop_table("lot_uses")
    op.drop_table("lots")
    with op.batch_alter_table("checkins", schema=None) as batch_op:
        batch_op.drop_column("card")
    with op.batch_alter_table("ledger", schema=None) as batch_op:
        batch_op.drop_column("rule_version")
        batch_op.drop_column("multipliers")
        batch_op.drop_column("base")
    with op.batch_alter_table("balances", schema=None) as batch_op:
        for column in ("makeup_cards", "short_since", "tier_since", "tier", "growth"):
            batch_op.drop_column(column)
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_column("title")
        batch_op.drop_column("birthday")
    with op.batch_alter_table("communities", schema=None) as batch_op:
        batch_op.drop_column("campaigns_until")
