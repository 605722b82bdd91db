"""Sample contexts of the loyalty engine's templates (issue 10), for
tests/test_templates_on_platforms.py: each renders on every platform in every locale."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo


def loyalty_samples(hostile: str) -> dict[str, list[dict[str, Any]]]:
    """Every loyalty template's samples; `hostile` is text with every platform's markup."""
    history_entries = [
        {
            "date": "2026-11-23",
            "delta": 22,
            "reason": "checkin",
            "note": "",
            "base": 10,
            "multipliers": [
                {"kind": "member_day", "factor": "2", "name": ""},
                {"kind": "tier", "factor": "1.1", "name": hostile},
            ],
        },
        {
            "date": "2026-11-22",
            "delta": 15,
            "reason": "vote",
            "note": "",
            "base": 10,
            "multipliers": [{"kind": "campaign", "factor": "1.5", "name": "3"}],
        },
        {
            "date": "2026-11-22",
            "delta": -1000,
            "reason": "deduct",
            "note": hostile,
            "base": None,
            "multipliers": [],
        },
        {
            "date": "2026-11-21",
            "delta": 5,
            "reason": "new_reason*",
            "note": "line\n> quoted",
            "base": 5,
            "multipliers": [],
        },
    ]
    return {
        **_makeup_and_earning(hostile),
        "makeup/before_joining": [{"day": "2026-11-30", "joined": "2026-12-02"}],
        **rewards_samples(hostile),
        **_tier_samples(hostile),
        **_expiry_birthday_invite_samples(hostile),
        "history/history": [
            {
                "name": hostile,
                "balance": 1010,
                "entries": history_entries,
                "more": True,
                "shown": 20,
            },
            {"name": hostile, "balance": 0, "entries": [], "more": False, "shown": 20},
        ],
        "history/exported": [
            {
                "kind": "ledger",
                "rows": 1000,
                "first": "2026-10-25",
                "last": "2026-11-23",
                "cut": False,
                "max_rows": 100000,
                "timezone": "Asia/Shanghai",
                "file": "ledger-2026-10-25_2026-11-23.csv",
            },
            {
                "kind": "redemptions",
                "rows": 2,
                "first": "2026-11-01",
                "last": "2026-11-30",
                "cut": True,
                "max_rows": 2,
                "timezone": "Asia/Shanghai",
                "file": "redemptions-2026-11-01_2026-11-30.csv",
            },
        ],
        "history/export_usage": [{"kinds": ["ledger", "redemptions"], "days": 30}],
        "history/export_bad_date": [{"text": hostile}],
        "history/export_bad_period": [{"first": "2026-11-30", "last": "2026-11-01"}],
    }


def _makeup_and_earning(hostile: str) -> dict[str, list[dict[str, Any]]]:
    campaign = {
        "number": 3,
        "factor": 2,
        "actions": ["checkin", "vote", "unknown_action*"],
        "start": "2026-12-12T00:00:00+08:00",
        "end": "2026-12-12T23:59:00+08:00",
        "running": True,
    }
    upcoming = {**campaign, "number": 4, "factor": 1.5, "running": False}
    rules = {
        "actions": [
            {
                "action": "checkin",
                "points": 10,
                "per_day": 0,
                "per_week": 0,
                "per_month": 0,
                "cooldown": 0,
                "given": False,
            },
            {
                "action": "streak_bonus",
                "points": 20,
                "per_day": 0,
                "per_week": 0,
                "per_month": 0,
                "cooldown": 0,
                "given": False,
            },
            {
                "action": "vote",
                "points": 2,
                "per_day": 10,
                "per_week": 50,
                "per_month": 100,
                "cooldown": 5,
                "given": False,
            },
            {
                "action": "purchase",
                "points": 1,
                "per_day": 0,
                "per_week": 0,
                "per_month": 0,
                "cooldown": 0,
                "given": False,
            },
            {
                "action": "birthday",
                "points": 0,
                "per_day": 0,
                "per_week": 0,
                "per_month": 0,
                "cooldown": 0,
                "given": True,
            },
            {
                "action": "award",
                "points": 0,
                "per_day": 0,
                "per_week": 0,
                "per_month": 0,
                "cooldown": 0,
                "given": True,
            },
        ],
        "streak_every": 7,
        "member_day": {"enabled": True, "multiplier": 2, "actions": ["checkin", "vote"]},
        "tiers": [
            {"en": hostile, "zh_CN": hostile, "threshold": 0, "multiplier": 1},
            {"en": "Silver", "zh_CN": "银卡会员", "threshold": 500, "multiplier": 1.1},
        ],
        "expiry_months": 12,
        "campaigns": [campaign, upcoming],
        "more_campaigns": True,
        "timezone": "Asia/Shanghai",
        "version": "0123456789ab",
    }
    quiet = {
        **rules,
        "member_day": {"enabled": False, "multiplier": 2, "actions": []},
        "campaigns": [],
        "more_campaigns": False,
        "expiry_months": 0,
    }
    done = {
        "name": hostile,
        "day": "2026-11-25",
        "card": "tier",
        "streak": 4,
        "day_streak": 3,
        "tier_left": 0,
        "bought_left": 1,
        "monthly": 1,
        "missed": ["2026-11-22", "2026-11-21"],
    }
    return {
        "makeup/done": [
            done,
            {**done, "card": "shop", "streak": 0, "missed": []},
        ],
        "makeup/no_cards": [
            {
                "monthly": 0,
                "tier": {"en": hostile, "zh_CN": hostile},
                "better": {"en": hostile, "zh_CN": hostile, "cards": 1},
            },
            {"monthly": 2, "tier": {"en": "Gold", "zh_CN": "金卡会员"}, "better": None},
        ],
        "makeup/too_old": [{"day": "2026-11-01", "earliest": "2026-11-19", "window_days": 7}],
        "makeup/not_past": [
            {"day": "2026-11-26", "today": "2026-11-26"},
            {"day": "2026-11-27", "today": "2026-11-26"},
        ],
        "makeup/already_checked_in": [{"day": "2026-11-24"}],
        "makeup/nothing_missed": [{"window_days": 7}],
        "makeup/bad_date": [{"text": hostile}],
        "earning/rules": [rules, quiet],
        "earning/campaign_added": [{"campaign": campaign, "timezone": "Asia/Shanghai"}],
        "earning/campaign_list": [
            {"campaigns": [campaign, upcoming], "timezone": "Asia/Shanghai"},
            {"campaigns": [], "timezone": "Asia/Shanghai"},
        ],
        "earning/campaign_cancelled": [{"campaign": upcoming, "timezone": "Asia/Shanghai"}],
        "earning/campaign_usage": [{"actions": ["checkin", "vote"]}],
        "earning/bad_factor": [{"factor": hostile, "most": 10}],
        "earning/bad_action": [
            {"action": hostile, "actions": ["checkin", "vote"]},
            {"action": "", "actions": ["checkin", "vote"]},
        ],
        "earning/bad_when": [{"text": hostile}],
        "earning/end_before_start": [{}],
        "earning/already_over": [{}],
        "earning/too_long": [{"max_days": 90}],
        "earning/too_many": [{"most": 20}],
        "earning/no_campaign": [{"number": 7}],
    }


def rewards_samples(hostile: str) -> dict[str, list[dict[str, Any]]]:
    """Samples of templates/*/rewards (the shop)."""
    tier = {"en": hostile, "zh_CN": hostile}
    reward = {
        "number": 3,
        "name": hostile,
        "description": hostile,
        "cost": 1500,
        "stock": 7,
        "kind": "coupon",
        "value": hostile,
        "per_member": 2,
        "per_period": "month",
        "min_tier": 1,
        "tier": tier,
        "member_day": True,
        "hidden": True,
        "from_file": True,
    }
    plain = {
        **reward,
        "number": 1,
        "stock": None,
        "kind": "gift",
        "per_member": None,
        "min_tier": 0,
        "member_day": False,
        "hidden": False,
        "from_file": False,
        "description": "",
    }
    redemption = {
        "redemption": 12,
        "name": hostile,
        "member": hostile,
        "kind": "coupon",
        "cost": 1500,
        "state": "delivered",
        "date": "2026-11-23",
        "code": hostile,
    }
    redeemed = {**reward, "redemption": 12, "balance": 1, "state": "delivered", "again": False}
    return {
        "rewards/list": [
            {
                "balance": 1200,
                "rewards": [
                    {**reward, "blocked": b}
                    for b in ("", "tier", "member_day", "limit", "stock", "points")
                ],
            },
            {"balance": 0, "rewards": []},
            {"balance": 1, "rewards": [{**plain, "blocked": ""}]},
        ],
        "rewards/confirm": [
            {**reward, "balance": 2000, "after": 500, "minutes": 5},
            {**plain, "cost": 1, "balance": 1, "after": 0, "minutes": 1},
        ],
        "rewards/confirm_button": [{}],
        "rewards/redeemed": [
            {**redeemed, "code": hostile, "sent_privately": False},
            {**redeemed, "code": None, "sent_privately": True},
            {**redeemed, "kind": "gift", "state": "pending", "code": None, "sent_privately": False},
            {**redeemed, "kind": "digital", "code": None, "sent_privately": False},
            {**redeemed, "kind": "makeup", "code": None, "sent_privately": False, "again": True},
            {**redeemed, "kind": "entry", "code": None, "sent_privately": False, "cost": 1},
        ],
        "rewards/code": [{"name": hostile, "code": hostile, "redemption": 12}],
        "rewards/redemptions": [
            {
                "redemptions": [redemption, {**redemption, "code": None, "state": "pending"}],
                "codes_hidden": False,
            },
            {
                "redemptions": [{**redemption, "code": None, "state": "refunded"}],
                "codes_hidden": True,
            },
            {"redemptions": [], "codes_hidden": True},
        ],
        "rewards/admin_list": [{"rewards": [reward, plain]}, {"rewards": []}],
        "rewards/saved": [
            {"reward": reward, "change": change}
            for change in ("add", "edit", "stock", "hide", "unhide")
        ]
        + [{"reward": plain, "change": "add"}],
        "rewards/codes_imported": [
            {"number": 3, "name": hostile, "added": 120, "skipped": 3, "stock": 200},
            {"number": 3, "name": hostile, "added": 1, "skipped": 0, "stock": 1},
        ],
        "rewards/refunded": [
            {**redemption, "balance": 3000, "note": hostile},
            {**redemption, "cost": 1, "balance": 1, "note": ""},
        ],
        "rewards/refunded_notice": [
            {"number": 12, "name": hostile, "points": 1500, "note": hostile, "balance": 3000},
            {"number": 12, "name": hostile, "points": 1, "note": "", "balance": 1},
        ],
        "rewards/gifts": [{"gifts": [{**redemption, "state": "pending"}]}, {"gifts": []}],
        "rewards/fulfilled": [{**redemption, "state": "fulfilled"}],
        "rewards/fulfilled_notice": [{"number": 12, "name": hostile}],
        "rewards/unknown": [{"number": 99}],
        "rewards/unknown_redemption": [{"number": 99}],
        "rewards/tier_too_low": [{"name": hostile, "tier": tier}],
        "rewards/member_day_only": [{"name": hostile}],
        "rewards/limit_reached": [
            {"name": hostile, "limit": 1, "period": "day"},
            {"name": hostile, "limit": 3, "period": "ever"},
        ],
        "rewards/not_enough": [{"name": hostile, "cost": 1500, "balance": 20}],
        "rewards/out_of_stock": [{"name": hostile}],
        "rewards/expired": [{"number": 3}],
        "rewards/already_refunded": [{"number": 12}],
        "rewards/not_pending": [
            {"number": 12, "state": "delivered"},
            {"number": 12, "state": "refunded"},
        ],
        "rewards/too_many": [{"limit": 100}],
        "rewards/bad_setting": [{"setting": "cost"}],
        "rewards/coupon_stock": [{"number": 3}],
        "rewards/not_coupon": [{"number": 3}],
        "rewards/too_many_codes": [{"count": 10001, "limit": 10000}],
        "rewards/no_codes": [{"number": 3}],
        "rewards/file_refused": [{"reason": hostile}],
        "rewards/usage": [{}],
        "rewards/admin_usage": [{}],
        "rewards/refund_usage": [{}],
        "rewards/fulfil_usage": [{}],
        "rewards/bad_option": [{"option": hostile}],
    }


def _tier_samples(hostile: str) -> dict[str, list[dict[str, Any]]]:
    at = datetime(2027, 1, 1, 0, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    silver = {"en": hostile, "zh_CN": hostile}
    gold = {"en": "Gold", "zh_CN": "金卡会员"}
    first = {"en": "Member", "zh_CN": "普通会员"}
    ben = {"multiplier": "1.1", "boosted": True, "birthday_bonus": 50, "makeup_cards": 1}
    ben0 = {"multiplier": "1", "boosted": False, "birthday_bonus": 0, "makeup_cards": 0}
    bar = "▰▰▰▰▰▱▱▱▱▱"
    keep = {"threshold": 500, "needed": 0, "by": at, "short": False}
    return {
        "tiers/tier": [
            {
                "name": hostile,
                "tier": silver,
                "growth": 1250,
                "window_days": 365,
                "review": at,
                "next": {"tier": gold, "needed": 750, "threshold": 2000, "bar": bar},
                "keep": keep,
                **ben,
            },
            {
                "name": hostile,
                "tier": silver,
                "growth": 100,
                "window_days": 1,
                "review": at,
                "next": None,
                "keep": {**keep, "needed": 400, "short": True},
                **ben,
            },
            {
                "name": hostile,
                "tier": silver,
                "growth": 100,
                "window_days": 365,
                "review": at,
                "next": None,
                "keep": {**keep, "needed": 400},
                **ben,
            },
            {
                "name": hostile,
                "tier": first,
                "growth": 0,
                "window_days": 365,
                "review": at,
                "next": {"tier": silver, "needed": 500, "threshold": 500, "bar": "▱" * 10},
                "keep": None,
                **ben0,
            },
        ],
        "tiers/upgraded": [
            {"name": hostile, "tier": silver, "growth": 500, **ben},
            {"name": hostile, "tier": silver, "growth": 500, **ben0},
        ],
        "tiers/announce": [{"name": hostile, "tier": silver}],
        "tiers/downgraded": [
            {"name": hostile, "old": gold, "tier": silver, "growth": 700, "threshold": 2000, **ben}
        ],
        "tiers/keep_reminder": [
            {
                "name": hostile,
                "tier": silver,
                "needed": 1,
                "growth": 499,
                "threshold": 500,
                "by": at.isoformat(),
            },
            {
                "name": hostile,
                "tier": silver,
                "needed": 200,
                "growth": 300,
                "threshold": 500,
                "by": at,
            },
        ],
    }


def _expiry_birthday_invite_samples(hostile: str) -> dict[str, list[dict[str, Any]]]:
    at = datetime(2027, 12, 1, 0, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    return {
        "expiry/reminder": [
            {"name": hostile, "points": 1, "expires_at": at, "timezone": "Asia/Shanghai"},
            {"name": hostile, "points": 1200, "expires_at": at, "timezone": "Asia/Shanghai"},
        ],
        "birthday/congratulations": [
            {"name": hostile, "points": 20, "community": hostile},
            {"name": hostile, "points": 0, "community": hostile},
        ],
        "birthday/unset": [{}],
        "birthday/admins_only": [{}],
        "birthday/show": [{"month": 12, "day": 24}],
        "birthday/show_other": [
            {"name": hostile, "handle": hostile, "month": 2, "day": 29},
            {"name": hostile, "handle": hostile, "month": 0, "day": 0},
        ],
        "birthday/saved": [
            {"month": 2, "day": 29, "bonus": 1},
            {"month": 12, "day": 24, "bonus": 0},
        ],
        "birthday/already_set": [{"month": 12, "day": 24}],
        "birthday/bad_date": [{"given": hostile}],
        "birthday/corrected": [
            {
                "name": hostile,
                "handle": hostile,
                "month": 12,
                "day": 25,
                "was_month": 12,
                "was_day": 24,
            },
            {
                "name": hostile,
                "handle": hostile,
                "month": 12,
                "day": 25,
                "was_month": 0,
                "was_day": 0,
            },
        ],
        "invite/link": [
            {
                "community": hostile,
                "code": "abcd2345",
                "points": 50,
                "invite_link": "https://t.me/+x",
            },
            {"community": hostile, "code": "abcd2345", "points": 50, "invite_link": ""},
        ],
        "invite/no_group": [{}],
        "invite/rewarded": [
            {"name": hostile, "points": 50, "balance": 120, "limited": False},
            {"name": hostile, "points": 0, "balance": 70, "limited": True},
        ],
        "console/attached": [{"name": hostile, "size": 1234}],
        "console/attach_failed": [{"path": hostile, "error": "No such file or directory"}],
    }
