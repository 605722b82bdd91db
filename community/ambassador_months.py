"""An ambassador's month judged, as plain functions on values: the calendar month in the
community's timezone, whether the output met or exceeded the level's tasks, and what a run of
such months in a row does (a move down, a proposal to move up). No database here: the month-end
run (community/ambassador_evaluation.py) reads the values, asks these, and writes the answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from zoneinfo import ZoneInfo

from community.ambassador_rules import AmbassadorRules, AmbassadorTasks

TASKS = ("submissions", "featured", "answers")  # in the order progress is shown


@dataclass(frozen=True, slots=True, order=True)
class Month:
    """A calendar month, as the community's clock has it."""

    year: int
    month: int

    @classmethod
    def of(cls, at: datetime, timezone: ZoneInfo) -> Month:
        """The month `at` falls in on the community's clock."""
        local = at.astimezone(timezone)
        return cls(local.year, local.month)

    @classmethod
    def parse(cls, key: str) -> Month:
        """The month written as `key` ("2026-11")."""
        year, month = key.split("-")
        return cls(int(year), int(month))

    @property
    def key(self) -> str:
        """ "2026-11": how the month is stored and named in ledger keys."""
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def ordinal(self) -> int:
        """Months since year 0: two months are in a row when these differ by one."""
        return self.year * 12 + self.month - 1

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    def next(self) -> Month:
        return Month(self.year + self.month // 12, self.month % 12 + 1)

    def previous(self) -> Month:
        return Month(self.year - (self.month == 1), (self.month - 2) % 12 + 1)

    def last_day(self) -> date:
        return date.fromordinal(self.next().first_day.toordinal() - 1)

    def starts(self, timezone: ZoneInfo) -> datetime:
        """Local midnight on the 1st: the month's first moment."""
        return datetime.combine(self.first_day, time.min, timezone)

    def ends(self, timezone: ZoneInfo) -> datetime:
        """Local midnight on the next 1st: the first moment after the month."""
        return self.next().starts(timezone)


@dataclass(frozen=True, slots=True)
class Output:
    """What an ambassador did in a month."""

    submissions: int = 0  # approved (not reversed), decided in the month
    featured: int = 0  # of those, featured
    answers: int = 0  # questions of other members they answered

    def of(self, task: str) -> int:
        return int(getattr(self, task))


class Outcome(StrEnum):
    MET = "met"  # every task done
    MISSED = "missed"  # some task short
    EXCEEDED = "exceeded"  # met, and every task asked for at exceed_percent of its quota


def judge(output: Output, tasks: AmbassadorTasks, exceed_percent: int) -> Outcome:
    """How a month's output compares with a level's tasks.

    A task of 0 asks for nothing: it is always met, and it neither helps nor hinders
    exceeding. Exceeding needs at least one task asked for, each of them done to
    exceed_percent of its quota (rounded up: 150% of 3 is 5): a level that asks for nothing is
    met every month and never exceeded, so nobody moves up from it without an admin."""
    asked = [task for task in TASKS if getattr(tasks, task) > 0]
    if any(output.of(task) < getattr(tasks, task) for task in asked):
        return Outcome.MISSED
    if asked and all(
        output.of(task) >= exceed_quota(getattr(tasks, task), exceed_percent) for task in asked
    ):
        return Outcome.EXCEEDED
    return Outcome.MET


def exceed_quota(quota: int, percent: int) -> int:
    """What exceeding a quota takes: `percent` of it, rounded up."""
    return -(-quota * percent // 100)


@dataclass(frozen=True, slots=True)
class Judged:
    """One evaluated month of an ambassador, as the streak rules read it."""

    month: Month
    level: str
    outcome: Outcome
    partial: bool = False  # appointed after the month began
    proposed: bool = False  # a move up was proposed at this month's end


def streak(history: Sequence[Judged], level: str, outcome: Outcome) -> int:
    """How many of the latest months in a row (`history` oldest first, the month just judged
    last) were judged at `level` with `outcome`. A gap in the months (off the roster), another
    level (moved since) or another outcome ends the run; so does a missed partial month (a
    member appointed mid-month is not held to a whole month's tasks)."""
    count = 0
    expected: int | None = None
    for judged in reversed(history):
        if expected is not None and judged.month.ordinal != expected:
            break
        if judged.level != level or judged.outcome is not outcome:
            break
        if outcome is Outcome.MISSED and judged.partial:
            break
        count += 1
        expected = judged.month.ordinal - 1
    return count


class Step(StrEnum):
    NONE = "none"
    DEMOTE = "demote"  # down one level
    STAYS_LOWEST = "stays_lowest"  # would move down, but is at the lowest level: admins told
    PROPOSE = "propose"  # up one level, once an admin confirms


def next_step(history: Sequence[Judged], rules: AmbassadorRules) -> Step:
    """What the month just judged (the last of `history`, oldest first) does to the
    ambassador: demote_after_months missed in a row move them down a level (at the lowest they
    stay, and the admins hear of it each month the run goes on); promote_after_months exceeded
    in a row propose a move up to the admins, once per run (it waits for them while the run
    lasts), never from the highest level."""
    if not history:
        return Step.NONE
    last = history[-1]
    keys = [level.key for level in rules.levels]
    if last.level not in keys:
        return Step.NONE  # a level taken out of the settings: an admin sets a new one
    position = keys.index(last.level)
    if last.outcome is Outcome.MISSED:
        if streak(history, last.level, Outcome.MISSED) < rules.demote_after_months:
            return Step.NONE
        return Step.DEMOTE if position > 0 else Step.STAYS_LOWEST
    if last.outcome is Outcome.EXCEEDED and position < len(keys) - 1:
        run = streak(history, last.level, Outcome.EXCEEDED)
        if run >= rules.promote_after_months and not any(j.proposed for j in history[-run:]):
            return Step.PROPOSE
    return Step.NONE


def months_to_demotion(history: Sequence[Judged], rules: AmbassadorRules) -> int | None:
    """After a missed month: how many more missed months in a row move the ambassador down
    (None when nothing would: at the lowest level, or a level no longer configured)."""
    if not history or history[-1].outcome is not Outcome.MISSED:
        return None
    keys = [level.key for level in rules.levels]
    last = history[-1]
    if last.level not in keys or keys.index(last.level) == 0:
        return None
    return max(rules.demote_after_months - streak(history, last.level, Outcome.MISSED), 0)


def level_step(rules: AmbassadorRules, key: str, by: int) -> str | None:
    """The key of the level `by` places above (or below, negative) level `key`; None past the
    ends or for a level no longer configured."""
    keys = [level.key for level in rules.levels]
    if key not in keys:
        return None
    position = keys.index(key) + by
    return keys[position] if 0 <= position < len(keys) else None
