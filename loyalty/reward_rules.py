"""One reward of the shop (积分商城) as community.toml's [[rewards]] or an admin's /reward writes
it, validated strictly like every rule."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

# coupon: a code from its imported list; gift: a physical item an admin fulfils; digital: a
# title beside the member's name; entry: a lottery ticket; makeup: a make-up card (补签卡).
KINDS = ("coupon", "gift", "digital", "entry", "makeup")
PERIODS = ("day", "week", "month", "year", "ever")
WINDOWS = ("", "member_day")
MAX_TIER = 4  # tiers.levels holds at most five tiers
NAME_LIMIT, DESCRIPTION_LIMIT, VALUE_LIMIT = 100, 500, 100  # the columns' widths


class RewardConfig(BaseModel):
    """One reward: what it costs, how many there are, who may take it how often, and when."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: str = Field(min_length=1, max_length=NAME_LIMIT)
    description: str = Field(default="", max_length=DESCRIPTION_LIMIT)
    cost: int = Field(ge=1, le=1_000_000_000)
    # None (omitted): unlimited. A coupon's stock is its codes not yet given out.
    stock: int | None = Field(default=None, ge=0, le=1_000_000_000)
    kind: str = Field(default="gift", pattern="^(" + "|".join(KINDS) + ")$")
    value: str = Field(default="", max_length=VALUE_LIMIT)  # the title a digital reward gives
    # Redemptions per member per period; None: as many as they can pay for.
    per_member: int | None = Field(default=None, ge=1, le=1_000_000)
    per_period: str = Field(default="ever", pattern="^(" + "|".join(PERIODS) + ")$")
    min_tier: int = Field(default=0, ge=0, le=MAX_TIER)  # an index into tiers.levels
    window: str = Field(default="", pattern="^(|member_day)$")  # "member_day": only then
    hidden: bool = False

    @model_validator(mode="after")
    def _digital_has_a_title(self) -> RewardConfig:
        if self.kind == "digital" and not (self.value or self.name).strip():
            raise ValueError("a digital reward needs the title it gives (value)")
        return self
