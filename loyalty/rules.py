"""The loyalty programme's rules as community.toml writes them: what each action earns and how
often, the tiers, when points expire, the shop. Validated strictly, like every rule."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

# Every action that earns points, in the order /rules lists them. Each credit names one.
ACTIONS = (
    "checkin",
    "streak_bonus",
    "vote",
    "accepted_answer",
    "question_thanks",
    "quiz_answer",
    "quiz_first",
    "survey",
    "submission",
    "invitation",
    "birthday",
    "purchase",
    "award",
    "ambassador_reward",
    "contest_prize",
    "draw_prize",
)
# Paid exactly as given: an admin's hand, a birthday bonus (its size is the tier's). No base
# points, caps or multipliers apply to them.
# An ambassador's monthly reward (its size is the level's), a contest's or a draw's prize (the
# contest's, the draw's) are given the same way.
GIVEN_ACTIONS = frozenset({"award", "birthday", "ambassador_reward", "contest_prize", "draw_prize"})


def plain_number(value: Any) -> Any:
    """A factor given as a number (2, 1.5), never as text ("1.5") or a boolean: a lax float
    field (one that takes an int) would read both."""
    if isinstance(value, str | bool):
        raise PydanticCustomError("float_type", "Input should be a number")
    return value


class Strict(BaseModel):
    """One strictness for every rule (the activities' community/*_rules.py use it too)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class ActionRule(Strict):
    """What one action earns, and how much of it a member may earn per period."""

    points: int = Field(default=0, ge=0, le=1_000_000)
    # At most this many base points per member per local day / week / month; 0: no cap.
    per_day: int = Field(default=0, ge=0, le=100_000_000)
    per_week: int = Field(default=0, ge=0, le=100_000_000)
    per_month: int = Field(default=0, ge=0, le=100_000_000)
    # After a credit of this action, the member earns nothing more from it for this long.
    cooldown_minutes: int = Field(default=0, ge=0, le=525_600)

    def caps(self) -> tuple[tuple[str, int], ...]:
        """The caps in force, as (period, points)."""
        periods = (("day", self.per_day), ("week", self.per_week), ("month", self.per_month))
        return tuple((period, cap) for period, cap in periods if cap > 0)


class EarningRules(Strict):
    """The earning table (/rules shows it): base points per action, caps and cooldowns."""

    checkin: ActionRule = ActionRule(points=10)
    # Every `checkin.streak_bonus_every`-th day in a row, on top of the check-in.
    streak_bonus: ActionRule = ActionRule(points=20)
    vote: ActionRule = ActionRule(points=2)  # a member's first vote in a poll
    accepted_answer: ActionRule = ActionRule(points=20, per_day=100)
    # The asker's thank-you when they accept someone else's answer to their question.
    question_thanks: ActionRule = ActionRule(points=2, per_day=10)
    quiz_answer: ActionRule = ActionRule(points=5, per_day=50)
    # On top of quiz_answer, for the first right answer to a quiz question.
    quiz_first: ActionRule = ActionRule(points=5, per_day=25)
    # A survey answered to its end (once per survey).
    survey: ActionRule = ActionRule(points=20)
    submission: ActionRule = ActionRule(points=30, per_day=90)
    # Paid to the inviter at the invitee's first check-in.
    invitation: ActionRule = ActionRule(points=50, per_month=500)
    # Per unit of currency an order from the shop's API spends.
    purchase: ActionRule = ActionRule(points=1)

    def rule(self, action: str) -> ActionRule:
        """The rule of an earning action (a given action has none: ActionRule())."""
        found = getattr(self, action, None)
        return found if isinstance(found, ActionRule) else ActionRule()


class LocalNames(Strict):
    """A name in each language the bot speaks."""

    en: str = Field(min_length=1, max_length=40)
    zh_CN: str = Field(min_length=1, max_length=40)

    def in_locale(self, locale: str) -> str:
        return self.zh_CN if locale == "zh_CN" else self.en


class Tier(Strict):
    """One membership tier (会员等级) and its benefits."""

    names: LocalNames
    # Growth value that reaches this tier.
    threshold: int = Field(ge=0, le=1_000_000_000)
    # Points this tier's members earn are multiplied by this (rounded down).
    multiplier: float = Field(default=1.0, ge=1.0, le=10.0, strict=False)
    birthday_bonus: int = Field(default=0, ge=0, le=1_000_000)
    makeup_cards: int = Field(default=0, ge=0, le=31)  # free make-up cards per month

    _number = field_validator("multiplier", mode="before")(plain_number)


def _default_tiers() -> tuple[Tier, ...]:
    return (
        Tier(names=LocalNames(en="Member", zh_CN="普通会员"), threshold=0, birthday_bonus=20),
        Tier(
            names=LocalNames(en="Silver", zh_CN="银卡会员"),
            threshold=500,
            multiplier=1.1,
            birthday_bonus=50,
            makeup_cards=1,
        ),
        Tier(
            names=LocalNames(en="Gold", zh_CN="金卡会员"),
            threshold=2000,
            multiplier=1.2,
            birthday_bonus=100,
            makeup_cards=2,
        ),
        Tier(
            names=LocalNames(en="Diamond", zh_CN="钻石会员"),
            threshold=6000,
            multiplier=1.5,
            birthday_bonus=200,
            makeup_cards=3,
        ),
    )


class TierRules(Strict):
    """Tiers by growth value (成长值): points earned in a rolling window, never spent."""

    window_days: int = Field(default=365, ge=1, le=3660)
    # Downgrades happen only at a review, on the 1st of every `review_months`-th month.
    review_months: int = Field(default=1, ge=1, le=12)
    # When a review runs on its day (local time); the reminder fires at the same time
    # remind_days_before days earlier.
    review_at: str = Field(default="00:30", pattern=r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$")
    # Reviews a member may fall short at and keep the tier, before the next one downgrades.
    grace_periods: int = Field(default=1, ge=0, le=12)
    # A private "earn X more by DATE to keep Gold" this many days before such a review.
    remind_days_before: int = Field(default=7, ge=0, le=60)
    # Besides the private congratulation, a line in the group where the upgrade was earned.
    announce_upgrades: bool = False
    levels: tuple[Tier, ...] = Field(
        default_factory=_default_tiers, strict=False, min_length=3, max_length=5
    )

    def level(self, index: int) -> Tier:
        """Tier `index`; one past the last (the levels shrank since) is the highest there is."""
        return self.levels[min(max(index, 0), len(self.levels) - 1)]

    @model_validator(mode="after")
    def _ascending(self) -> TierRules:
        if self.levels[0].threshold != 0:
            raise ValueError("the first tier's threshold must be 0: every member has a tier")
        thresholds = [tier.threshold for tier in self.levels]
        if thresholds != sorted(set(thresholds)):
            raise ValueError("tier thresholds must rise from one tier to the next")
        for locale in ("en", "zh_CN"):
            names = [getattr(tier.names, locale).strip().casefold() for tier in self.levels]
            if len(set(names)) != len(names):
                # /tier, the congratulations and /reward min_tier could not tell them apart.
                raise ValueError(f"two tiers have the same {locale} name")
        return self


class ExpiryRules(Strict):
    """When points expire (积分过期)."""

    # Points expire at the end of the Nth month after the month they were earned in; 0: never.
    months: int = Field(default=12, ge=0, le=120)
    # A private reminder this many days before points expire; 0: none.
    remind_days_before: int = Field(default=30, ge=0, le=365)
    # When the daily expiry run posts expired points and sends reminders (local time).
    run_at: str = Field(default="00:10", pattern=r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$")


class ShopRules(Strict):
    """The rewards shop (积分商城)."""

    # How long a /redeem confirmation button stays valid.
    confirm_minutes: int = Field(default=5, ge=1, le=1440)
    max_codes_per_import: int = Field(default=10_000, ge=1, le=1_000_000)
    max_rewards: int = Field(default=100, ge=1, le=1000)  # in the catalogue, hidden included
    list_entries: int = Field(default=20, ge=1, le=100)  # /redemptions and /gifts show this many


class CampaignRules(Strict):
    """Limits on /campaign: time-boxed multipliers admins plan."""

    max_days: int = Field(default=90, ge=1, le=366)  # the longest a campaign may run
    max_planned: int = Field(default=20, ge=1, le=200)  # running or to come, at once


@dataclass(frozen=True, slots=True)
class Program:
    """A community's loyalty programme as one credit needs it: who, which clock, which rules.
    Built once per version of the rules (communities.py caches it with the parsed rules)."""

    community_id: int
    timezone: ZoneInfo
    earning: EarningRules
    tiers: TierRules
    expiry: ExpiryRules
    campaigns: CampaignRules
    # rule_version(earning, tiers): recorded with every credit, so /history can say which
    # rules paid it.
    version: str


def rule_version(earning: EarningRules, tiers: TierRules) -> str:
    """Twelve hex digits naming these rules: equal rules, equal version."""
    text = json.dumps(
        [earning.model_dump(mode="json"), [t.multiplier for t in tiers.levels]], sort_keys=True
    )
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def factor_text(factor: Decimal | float) -> str:
    """A multiplier as people write it: "2", "1.5"."""
    value = Decimal(str(factor)).normalize()
    return format(value, "f")
