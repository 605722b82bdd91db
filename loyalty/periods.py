"""Calendar periods in a community's clock: where the day, week, month or year a moment falls
in begins (caps per period, per-member limits of the shop)."""

from __future__ import annotations

from datetime import date, timedelta


def first_day(period: str, day: date) -> date | None:
    """The first day of the day, week (from Monday), month or year `day` is in; None for a
    period that never starts again ("ever")."""
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "year":
        return day.replace(month=1, day=1)
    return None
