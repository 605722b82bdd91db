"""Sample contexts of the draw templates (issue 12), for tests/test_templates_on_platforms.py:
each renders on every platform in every locale."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")
SILVER = {"en": "Silver", "zh_CN": "银卡会员"}
MEMBER = {"en": "Member", "zh_CN": "普通会员"}


def samples(hostile: str) -> dict[str, list[dict[str, Any]]]:
    """Every draw template's samples; `hostile` is text with every platform's markup."""
    closes = datetime(2026, 11, 24, 20, 0, tzinfo=SHANGHAI)
    closed = datetime(2026, 11, 24, 20, 0, 5, tzinfo=SHANGHAI)
    base = {
        "number": 3,
        "prize": hostile,
        "winners": 3,
        "points": 50,
        "checkin": True,
        "tier": SILVER,
        "cost": 20,
        "commitment": "9f" * 32,
        "state": "open",
        "entrants": 12,
        "closes_at": closes,
        "closed_at": None,
        "timezone": "Asia/Shanghai",
        "seed": None,
    }
    plain = base | {
        "prize": "A tote bag 帆布袋",
        "winners": 1,
        "points": 0,
        "checkin": False,
        "tier": None,
        "cost": 0,
        "entrants": 0,
    }
    drawn = base | {"state": "drawn", "closed_at": closed, "seed": "3c" * 32}
    cancelled = base | {"state": "cancelled", "closed_at": closed}
    winners = {
        "winner_list": [
            {"rank": 1, "entry": 7, "name": hostile},
            {"rank": 2, "entry": 2, "name": "小明"},
            {"rank": 3, "entry": 11, "name": "Bob"},
        ],
        "more_winners": 0,
    }
    nobody = {"winner_list": [], "more_winners": 0}
    many = {"winner_list": winners["winner_list"], "more_winners": 17}
    limits = {"max_winners": 100, "max_days": 30, "max_cost": 1000, "max_points": 10_000}
    mine = {"mine": 4}
    return {
        "draw/announcement": [base, plain, base | {"checkin": False, "tier": None}],
        "draw/enter_button": [{"number": 3}],
        "draw/started": [
            base | {"groups": 2, "inactive": 0, "no_channel": 0},
            plain | {"groups": 1, "inactive": 1, "no_channel": 2},
        ],
        "draw/entered": [
            base | {"entry": 4, "fee": 20, "balance": 180, "name": hostile},
            plain | {"entry": 1, "fee": 0, "balance": 0, "name": "小明"},
        ],
        "draw/enter_usage": [{}],
        "draw/already_entered": [
            {"number": 3, "prize": hostile, "entry": 4},
            {"number": 3, "prize": hostile, "entry": None},
        ],
        "draw/closed": [
            {"number": 3, "prize": hostile, "state": "open"},
            {"number": 3, "prize": hostile, "state": "drawn"},
            {"number": 3, "prize": hostile, "state": "cancelled"},
        ],
        "draw/not_open": [
            {"number": 3, "prize": hostile, "state": "drawn"},
            {"number": 3, "prize": hostile, "state": "cancelled"},
        ],
        "draw/unknown": [{"number": 9}],
        "draw/post_as_yourself": [{}],
        "draw/tier_too_low": [{"number": 3, "tier": SILVER, "yours": MEMBER}],
        "draw/needs_checkin": [{"number": 3}],
        "draw/too_few_points": [{"number": 3, "cost": 20, "balance": 5}],
        "draw/list": [
            {
                "draws": [base | mine, plain | {"mine": None}, drawn | {"mine": None}, cancelled],
                "is_admin": False,
            },
            {"draws": [], "is_admin": True},
            {"draws": [], "is_admin": False},
        ],
        "draw/shown": [
            base | mine,
            plain | {"mine": None},
            drawn | {"mine": 7} | winners,
            drawn | {"mine": None} | nobody,
            drawn | {"mine": None} | many,
            cancelled | {"mine": None},
        ],
        "draw/result": [
            drawn | winners,
            drawn | nobody,
            drawn | many,
            plain | {"seed": "ab"} | winners,
        ],
        "draw/won_notice": [
            drawn | {"rank": 1, "entry": 7, "paid": 50},
            drawn | {"rank": 2, "entry": 2, "paid": 0},
        ],
        "draw/cancelled": [
            cancelled | {"refunds": 5, "refunded": 100},
            cancelled | {"refunds": 0, "refunded": 0},
        ],
        "draw/cancelled_post": [cancelled | {"refunds": 5}, plain | {"refunds": 0}],
        "draw/refunded_notice": [
            cancelled | {"fee": 20, "balance": 120},
            drawn | {"fee": 1, "balance": 1},
        ],
        "draw/entrants": [
            base | {"lines": 12, "total": 12, "file": "draw-3-entrants.csv"},
            drawn | {"lines": 1, "total": 1, "file": "draw-3-entrants.csv"},
            drawn | {"lines": 61_234, "total": 70_001, "file": "draw-3-entrants.csv"},
        ],
        "draw/usage": [{"is_admin": True, **limits}, {"is_admin": False, **limits}],
        "draw/start_usage": [limits],
        "draw/bad_option": [{"option": hostile}],
        "draw/bad_winners": [{"limit": 100}],
        "draw/bad_points": [{"limit": 10_000}],
        "draw/prize_too_long": [{"length": 101, "limit": 100}],
        "draw/bad_until": [{}],
        "draw/until_past": [{"at": closes}],
        "draw/until_out_of_range": [{"longest": 30}],
        "draw/bad_condition": [{"condition": hostile}],
        "draw/cost_too_big": [{"cost": 5000, "limit": 1000}],
        "draw/unknown_tier": [
            {
                "name": hostile,
                "tiers": [{"number": 0, **MEMBER}, {"number": 1, **SILVER}],
            }
        ],
        "draw/too_many_open": [{"limit": 5}],
    }
