"""Contests (征集 / 摄影大赛) as community.toml's [contests] writes them."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from loyalty.rules import Strict


class ContestRules(Strict):
    """How contests run: the vote after the close, the default prizes, the limits."""

    vote_hours: int = Field(default=48, ge=1, le=24 * 30)  # voting stays open this long
    # Points for the 1st, 2nd, 3rd... place when /contest start names no prizes: at least one
    # place (with none a vote would have no winner), each worth a point or more.
    prizes: tuple[Annotated[int, Field(ge=1, le=1_000_000)], ...] = Field(
        default=(300, 200, 100), min_length=1, max_length=10, strict=False
    )
    max_days: int = Field(default=60, ge=1, le=366)  # the longest a contest takes entries
    max_open: int = Field(default=5, ge=1, le=50)  # contests taking entries or votes at once
    max_title: int = Field(default=100, ge=5, le=300)  # characters of a title
    max_entries_shown: int = Field(default=25, ge=2, le=25)  # entries a vote shows as buttons
    # The most points one place may win (--prizes 300,200,100): a typo's extra zeros refused.
    max_prize_points: int = Field(default=10_000, ge=1, le=1_000_000)
    # Contests /contest list shows: the open and voting ones, then the newest finished.
    list_contests: int = Field(default=10, ge=1, le=50)
