"""What `/contest start` is typed with, read: "<title> --until DATE [--category C]
[--prizes 300,200,100 | --reward R]", in English or Chinese ("--截止 12月24日 --分类 晒单
--奖金 300,200"), the dates in the community's timezone."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from community.contest_rules import ContestRules
from community.schedules import next_firings, parse_when
from community.submission_content import category_named
from community.submission_rules import SubmissionCategory
from loyalty.errors import UserError

# Each flag's words; "—" and "——" are what "--" becomes on many keyboards. The word follows
# its dashes straight away: a title's own "Winter - prize edition" is no --prize flag.
FLAGS = {
    "until": ("until", "截止", "截至", "结束"),
    "category": ("category", "分类", "类别"),
    "prizes": ("prizes", "prize", "奖金", "积分"),
    "reward": ("reward", "rewards", "奖品"),
}
_WORD_FLAG = {word: flag for flag, words in FLAGS.items() for word in words}
_FLAG = re.compile(
    r"(?:^|(?<=\s))(?:-{1,2}|[—–]{1,2})(?P<word>"
    + "|".join(sorted(map(re.escape, _WORD_FLAG), key=len, reverse=True))
    + r")(?=[\s=]|$)=?",
    re.IGNORECASE,
)
# Full-width ASCII and the ideographic space map one to one onto ASCII: positions stay put.
_FOLD = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_YEAR_FIRST = re.compile(r"\d{4}")
_MONTH_DAY = re.compile(r"(?P<m>\d{1,2})\s*(?:[-/.]|月)\s*(?P<d>\d{1,2})\s*[日号號]?(?!\d)")
_LIST = re.compile(r"[\s,、/]+")
MAX_PLACES = 10  # prizes named at once: first to tenth place


@dataclass(frozen=True, slots=True)
class Terms:
    """A contest as its admin typed it: the title, when entries stop (UTC), the category key
    (None: every category), and either points per place or reward numbers per place."""

    title: str
    closes_at: datetime
    category: str | None
    points: tuple[int, ...] = ()
    rewards: tuple[int, ...] = ()


def read_terms(
    text: str,
    rules: ContestRules,
    categories: Sequence[SubmissionCategory],
    tz: ZoneInfo,
    now: datetime,
) -> Terms:
    """The terms of `text`, each checked against the rules. Raises UserError("contest/...")
    saying what is wrong."""
    folded = text.translate(_FOLD)
    found = list(_FLAG.finditer(folded))
    title = text[: found[0].start() if found else len(text)].strip()
    values: dict[str, str] = {}
    for index, flag in enumerate(found):
        name = _WORD_FLAG[flag["word"].casefold()]
        end = found[index + 1].start() if index + 1 < len(found) else len(text)
        if name in values:
            raise UserError("contest/start_usage")
        values[name] = text[flag.end() : end].strip()
    if not title or "until" not in values:
        raise UserError("contest/start_usage")
    if len(title) > rules.max_title:
        raise UserError("contest/title_too_long", length=len(title), limit=rules.max_title)
    closes_at = read_until(values["until"], tz, now, max_days=rules.max_days)
    category = None
    if "category" in values:
        named = category_named(categories, values["category"])
        if named is None:
            raise UserError(
                "contest/unknown_category",
                word=values["category"][:40],
                categories=[c.key for c in categories],
            )
        category = named.key
    if "prizes" in values and "reward" in values:
        raise UserError("contest/prizes_or_reward")
    if "reward" in values:
        rewards = _numbers(values["reward"])
        if rewards is None:
            raise UserError("contest/bad_reward", places=MAX_PLACES)
        return Terms(title, closes_at, category, rewards=rewards)
    points = rules.prizes
    if "prizes" in values:
        typed = _numbers(values["prizes"])
        if typed is None or max(typed) > rules.max_prize_points:
            raise UserError("contest/bad_prizes", places=MAX_PLACES, most=rules.max_prize_points)
        points = typed
    return Terms(title, closes_at, category, points=points)


def _numbers(text: str) -> tuple[int, ...] | None:
    """Whole positive numbers in a list ("300,200,100", "300 200", "#5"); None if any word is
    none, or there are none or too many."""
    words = [w.lstrip("#") for w in _LIST.split(text.translate(_FOLD)) if w]
    if not 1 <= len(words) <= MAX_PLACES or not all(w.isascii() and w.isdigit() for w in words):
        return None
    found = tuple(int(w) for w in words if len(w) <= 9)
    return found if len(found) == len(words) and all(found) else None


def read_until(text: str, tz: ZoneInfo, now: datetime, *, max_days: int) -> datetime:
    """When entries stop, as typed after --until: a date ("2026-12-24", "12-24", "12月24日":
    the end of that day), a date and a time ("12-24 18:00", "2026年12月24日 20点"), or a time
    alone ("18:00": the next one). Raises UserError for what is unreadable, past or further
    than max_days."""
    folded = text.translate(_FOLD).strip()
    today = now.astimezone(tz).date()
    if _YEAR_FIRST.match(folded) is None and (short := _MONTH_DAY.match(folded)):
        # A month and day without a year: this year's, or next year's if it has gone by.
        try:
            day = date(today.year, int(short["m"]), int(short["d"]))
            if day < today:
                day = date(today.year + 1, day.month, day.day)
        except ValueError:
            raise UserError("contest/bad_until", text=text[:40]) from None
        folded = f"{day.isoformat()} {folded[short.end() :]}".strip()
    moment = _moment(folded, tz, now)
    if moment is None:
        raise UserError("contest/bad_until", text=text[:40])
    if moment <= now:
        raise UserError("contest/until_past", at=moment.astimezone(tz))
    if moment - now > timedelta(days=max_days):
        raise UserError("contest/until_too_far", at=moment.astimezone(tz), days=max_days)
    return moment


def _moment(folded: str, tz: ZoneInfo, now: datetime) -> datetime | None:
    dated = _YEAR_FIRST.match(folded) is not None
    try:
        when, rest = parse_when(folded if dated else f"daily {folded}")
        whole_day = False
    except UserError:
        if not dated:
            return None
        try:
            when, rest = parse_when(folded, time_required=False)
        except UserError:
            return None
        whole_day = True
    if rest or len(when.times) != 1 or when.kind != ("once" if dated else "daily"):
        return None
    if not dated:
        return next_firings(when, tz, now, 1)[0].astimezone(UTC)
    assert when.on is not None
    if whole_day:
        # A date alone takes entries all that day: they stop at the next midnight.
        return datetime.combine(when.on + timedelta(days=1), time(), tz).astimezone(UTC)
    wall = datetime.combine(when.on, time(*when.times[0]))
    moment = wall.replace(tzinfo=tz).astimezone(UTC)
    if moment.astimezone(tz).replace(tzinfo=None) != wall:
        return None  # a wall time the clocks skip that day
    return moment
