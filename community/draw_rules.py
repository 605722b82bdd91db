"""Lucky draws (抽奖) as community.toml's [draws] writes them."""

from __future__ import annotations

from pydantic import Field

from loyalty.rules import Strict


class DrawRules(Strict):
    """Limits on draws."""

    max_winners: int = Field(default=100, ge=1, le=10_000)
    max_days: int = Field(default=30, ge=1, le=366)  # the longest a draw stays open
    max_open: int = Field(default=5, ge=1, le=50)  # draws open at once
    max_cost: int = Field(default=1000, ge=0, le=1_000_000)  # the largest entry fee
    max_prize_points: int = Field(default=10_000, ge=0, le=1_000_000)  # points per winner
    max_prize_length: int = Field(default=100, ge=5, le=300)  # characters of the prize
    list_entries: int = Field(default=10, ge=1, le=50)  # draws /draw list shows
    winners_shown: int = Field(default=20, ge=1, le=100)  # winners a post names; more counted
