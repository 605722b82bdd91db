"""The `<when>` of a topic calendar entry or a member day: parsed from chat, and its firings.

Admins type it in English or Chinese ("mon,wed 20:00", "每周一三五 20点", "每月18号 10:00",
"2026-12-24 19:00"); `When.canonical` writes the English form back. Firing times are walked
day by day in the community's timezone, with the DST rules written at `_instants`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import islice, pairwise, takewhile
from typing import Any
from zoneinfo import ZoneInfo

from loyalty.errors import UserError

KINDS = ("daily", "weekly", "monthly", "once")
MAX_TIMES = 6  # times of day per entry: more is a spam schedule, not a calendar
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # canonical, 0=Mon as in cron
_FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ZH_DAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_TICK = timedelta(microseconds=1)  # `after` is exclusive; triggers answer ">= now"
_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class When:
    """When an entry fires: every day, on weekdays (0=Mon), on days of the month, or once."""

    kind: str
    days: tuple[int, ...] = ()
    times: tuple[tuple[int, int], ...] = ((0, 0),)
    on: date | None = None

    def __post_init__(self) -> None:
        # A bug guard, not a user error: parse_when and from_json only build valid values.
        low, high = {"weekly": (0, 6), "monthly": (1, 31)}.get(self.kind, (0, -1))
        ok = (
            self.kind in KINDS
            and list(self.days) == sorted(set(self.days))
            and all(low <= d <= high for d in self.days)
            and bool(self.days) == (self.kind in ("weekly", "monthly"))
            and list(self.times) == sorted(set(self.times))
            and 1 <= len(self.times) <= (1 if self.kind == "once" else MAX_TIMES)
            and all(0 <= h <= 23 and 0 <= m <= 59 for h, m in self.times)
            and (self.on is not None) == (self.kind == "once")
        )
        if not ok:
            raise ValueError(f"invalid When: {self!r}")

    def to_json(self) -> dict[str, Any]:
        """A JSON-safe dict (the date as an ISO string) that `from_json` reads back."""
        return {
            "kind": self.kind,
            "days": list(self.days),
            "times": [[h, m] for h, m in self.times],
            "on": self.on.isoformat() if self.on else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> When:
        """The When that `to_json` wrote."""
        on = data.get("on")
        return cls(
            kind=data["kind"],
            days=tuple(int(d) for d in data.get("days", ())),
            times=tuple((int(h), int(m)) for h, m in data["times"]),
            on=date.fromisoformat(on) if on else None,
        )

    def canonical(self) -> str:
        """The English form that parse_when reads back, e.g. "mon,wed 20:00"."""
        times = ",".join(f"{h:02d}:{m:02d}" for h, m in self.times)
        if self.kind == "weekly":
            return ",".join(DAY_NAMES[d] for d in self.days) + " " + times
        if self.kind == "monthly":
            return "monthly " + ",".join(str(d) for d in self.days) + " " + times
        if self.kind == "once" and self.on is not None:
            return f"{self.on.isoformat()} {times}"
        return "daily " + times


# ---- reading a <when> -------------------------------------------------------------------------

# Full-width ASCII and the ideographic space map one to one onto ASCII, so positions in the folded
# text are positions in the admin's text, whose rest is returned untouched.
_FOLD = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_X = re.IGNORECASE | re.VERBOSE
_ONCE = re.compile(
    r"""(?P<y>\d{4}) \s*
        (?: [-/.] \s* (?P<m>\d{1,2}) \s* [-/.] \s* (?P<d>\d{1,2})          # 2026-12-24, 2026/12/24
          | 年 \s* (?P<zm>\d{1,2}) \s* 月 \s* (?P<zd>\d{1,2}) \s* [日号號]? )  # 2026年12月24日
        (?!\d)""",
    _X,
)
_DAILY = re.compile(r"(?: daily | every \s* day | 每天 | 每日 | 天天 )(?![a-z])", _X)
_MONTHLY = re.compile(r"(?: monthly | every \s+ month | 每个?月 | 每個?月 ) \s*", _X)
# A day of the month: a number not followed by what makes it an hour ("18 10:00" is 18).
_MONTH_DAY = re.compile(
    r"(?P<d>\d{1,2}) (?! \d | \s*[:点點时時] | \s*[ap]\.?m) (?:st|nd|rd|th)? \s* [日号號]?", _X
)
_LIST = re.compile(r"\s* [,、/&] \s* | \s+ and \s+", _X)  # between days of a list
_RANGE = re.compile(r"\s* (?: - | – | ~ | 至 | 到 ) \s* | \s+ to \s+", _X)  # mon-fri, 周一至周五
_DAY_ITEM = re.compile(
    r"""(?P<workdays> (?:每个?)? 工作日 | weekdays? (?![a-z]) )
      | (?P<weekend> (?:每个?)? (?:周末|週末|双休日) | weekends? (?![a-z]) )
      | (?P<prefix> (?:每个?)? (?:周|週|星期|礼拜|禮拜) )? (?P<zh> [一二三四五六日天]+ )
      | (?: every \s+ )? (?P<en> [a-z]+ )""",
    _X,
)
_GAP = re.compile(r"[\s,、]*")  # between the days and the first time: "每周一，20:00"
_TIME_LIST = re.compile(r"\s* [,、] \s*", _X)
_TIME = re.compile(
    r"""(?P<period> 凌晨|清晨|早上|早晨|上午|中午|下午|傍晚|晚上|夜里|夜間|夜间 )? \s*
        (?P<h>\d{1,2}) (?!\d)
        (?: \s* : \s* (?P<m>\d{2}) (?!\d) )?
        (?: \s* (?P<ampm> [ap] \.? m \.? ) (?![a-z])
          | \s* (?P<dian> [点點时時] )                      # 20点, 20点30, 20点30分, 3点半
            (?: (?P<half>半) | 整 | (?P<zm>\d{1,2}) (?!\d) \s* 分? )? )?""",
    _X,
)
_AFTERNOON = ("下午", "傍晚", "晚上", "夜里", "夜間", "夜间")  # 1..11 o'clock means 13..23
_NIGHT = ("晚上", "夜里", "夜間", "夜间")  # 12 o'clock at night is 00:00
# One-off dates further off are typos (0001, 9999), and moments near the calendar's ends
# overflow once hours are added to them.
FIRST_YEAR, LAST_YEAR = 2000, 2999
_REST_LEAD = " \t\r\n,，、:：;；"  # separators between the when and the topic's words


def _bad(**context: Any) -> UserError:
    return UserError("schedule/bad_when", **context)


def parse_when(text: str, *, time_required: bool = True) -> tuple[When, str]:
    """Read the <when> at the START of text; return it and the rest of the text (stripped).

    Raises UserError("schedule/bad_when") when no when can be read there; with
    time_required False a when without a time fires at 00:00.
    """
    folded = text.translate(_FOLD)
    pos = len(folded) - len(folded.lstrip())
    kind, days, on, pos = _read_days(folded, pos)
    gap = _GAP.match(folded, pos)
    times, pos = _read_times(folded, gap.end() if gap else pos, fallback=pos)
    if not times:
        if time_required:
            raise _bad()
        times = [(0, 0)]
    unique = tuple(sorted(set(times)))
    if len(unique) > MAX_TIMES:
        raise UserError("schedule/too_many_times", limit=MAX_TIMES)
    if kind == "once" and len(unique) > 1:
        raise _bad()
    return When(kind, days, unique, on), text[pos:].lstrip(_REST_LEAD).rstrip()


def _read_days(s: str, pos: int) -> tuple[str, tuple[int, ...], date | None, int]:
    """The day part: (kind, days, date of a one-off, position after it)."""
    if m := _ONCE.match(s, pos):
        y, mo, d = int(m["y"]), int(m["m"] or m["zm"]), int(m["d"] or m["zd"])
        if not FIRST_YEAR <= y <= LAST_YEAR:
            raise _bad()
        try:
            return "once", (), date(y, mo, d), m.end()
        except ValueError:
            raise _bad() from None
    if m := _DAILY.match(s, pos):
        return "daily", (), None, m.end()
    if m := _MONTHLY.match(s, pos):
        days, end = _read_list(s, m.end(), _MONTH_DAY, _month_days)
        if not days or not all(1 <= d <= 31 for d in days):
            raise _bad()
        return "monthly", tuple(sorted(days)), None, end
    days, end = _read_list(s, pos, _DAY_ITEM, _weekdays, ranges=True)
    if not days:
        raise _bad()
    return "weekly", tuple(sorted(days)), None, end


_Meaning = Callable[[re.Match[str], bool], list[int] | None]  # the days an item names, if any


def _read_list(
    s: str, pos: int, item: re.Pattern[str], meaning: _Meaning, *, ranges: bool = False
) -> tuple[set[int], int]:
    """Items joined by list (and range) separators: the set of days they name, and the end."""
    days: set[int] = set()
    first = True
    while (m := item.match(s, pos)) and (named := meaning(m, first)) is not None:
        days |= set(named)
        pos, first = m.end(), False
        r = _RANGE.match(s, pos) if ranges and len(named) == 1 else None
        to = item.match(s, r.end()) if r else None
        stop = _weekdays(to, False) if to else None
        if to and stop is not None and len(stop) == 1:
            start = named[0]
            days |= {(start + i) % 7 for i in range((stop[0] - start) % 7 + 1)}  # fri-mon wraps
            pos = to.end()
        sep = _LIST.match(s, pos)
        following = item.match(s, sep.end()) if sep else None
        if not (sep and following and meaning(following, False) is not None):
            break
        pos = sep.end()
    return days, pos


def _month_days(m: re.Match[str], first: bool) -> list[int]:
    return [int(m["d"])]


def _weekdays(m: re.Match[str], first: bool) -> list[int] | None:
    """The weekdays an item names, or None if it names none ("一三五" alone only after a list)."""
    if m["workdays"]:
        return [0, 1, 2, 3, 4]
    if m["weekend"]:
        return [5, 6]
    if m["zh"]:
        return [_ZH_DAYS[c] for c in m["zh"]] if m["prefix"] or not first else None
    word = m["en"].lower()
    for number, name in enumerate(_FULL_NAMES):
        # mon, tues, thurs, wednesday, fridays, weds; three letters at least ("sat", not "s").
        if (len(word) >= 3 and name.startswith(word)) or word in (name + "s", name[:3] + "s"):
            return [number]
    return None


def _read_times(s: str, pos: int, *, fallback: int) -> tuple[list[tuple[int, int]], int]:
    """The times of day at pos, joined by "," or "、"; none read leaves the position at fallback."""
    times: list[tuple[int, int]] = []
    while (m := _TIME.match(s, pos)) and (found := _time_of(m)) is not None:
        times.append(found)
        fallback = pos = m.end()
        sep = _TIME_LIST.match(s, pos)
        if sep is None:
            break
        pos = sep.end()
    return times, fallback


def _time_of(m: re.Match[str]) -> tuple[int, int] | None:
    """(hour, minute) of a time match; None if it is only a number ("3 things" is not a time)."""
    if not (m["m"] or m["ampm"] or m["dian"]):
        return None
    hour, minute = int(m["h"]), int(m["m"] or m["zm"] or (30 if m["half"] else 0))
    if m["ampm"]:
        if not 1 <= hour <= 12:
            raise _bad()
        hour = hour % 12 + (12 if m["ampm"][0].lower() == "p" else 0)
    elif m["period"] in ("凌晨", *_NIGHT) and hour == 12:
        hour = 0  # 晚上12点 is midnight, as 12am is
    elif m["period"] in _AFTERNOON or (m["period"] == "中午" and hour < 11):
        hour = hour + 12 if 1 <= hour <= 11 else hour
    if not (0 <= hour <= 23 and 0 <= minute <= 59):  # 24:00 and 8:60 are typos, not wrapped
        raise _bad()
    return hour, minute


# ---- firing times -----------------------------------------------------------------------------


def firings(
    when: When, tz: ZoneInfo, after: datetime, until: datetime, limit: int = 1000
) -> list[datetime]:
    """The firing times in (after, until], as UTC-aware datetimes, oldest first, at most `limit`."""
    end = _utc(until)
    return list(islice(takewhile(lambda t: t <= end, _instants(when, tz, after)), limit))


def next_firings(when: When, tz: ZoneInfo, after: datetime, count: int = 3) -> list[datetime]:
    """The next `count` firings after `after` (fewer for a one-off), as UTC-aware datetimes."""
    return list(islice(_instants(when, tz, after), count))


def check_once(when: When, tz: ZoneInfo, now: datetime) -> None:
    """Refuse a one-off whose local time does not exist that day (DST gap) or is not after now."""
    if when.kind != "once" or when.on is None:
        return
    wall = datetime.combine(when.on, time(*when.times[0]))
    moment = wall.replace(tzinfo=tz).astimezone(UTC)  # an ambiguous time means its first pass
    if moment.astimezone(tz).replace(tzinfo=None) != wall:
        raise UserError("schedule/no_such_time", day=when.on, time=f"{wall:%H:%M}", timezone=tz.key)
    if moment <= _utc(now):
        raise UserError("schedule/in_the_past", at=wall, when=when.canonical())


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("firing windows need timezone-aware datetimes")
    return moment.astimezone(UTC)


def _instants(when: When, tz: ZoneInfo, after: datetime) -> Iterator[datetime]:
    """Every firing after `after`, in UTC, walked day by day in the community's calendar.

    APScheduler 3.11's CronTrigger skips a day across a spring-forward change when asked from
    before the gap (a daily 00:00 in New York, asked on 2026-03-08 at 00:00:01, answers
    03-10), so the times are worked out here, with zoneinfo's rules:
    - A local time that does not exist (the spring gap) fires at the wall time the clocks jump
      to (02:30 on a 02:00->03:00 day fires at 03:30): once.
    - A local time that happens twice (the autumn overlap) fires on its first pass only: a
      topic posts once per local day and time.
    - Two times landing on one instant (02:30 shifted onto 03:30, beside a real 03:30) post
      once, and a day's shifted times are put back in order.
    """
    start = _utc(after) + _TICK
    if when.kind == "once":
        assert when.on is not None
        moment = _moment(when.on, when.times[0], tz)
        if moment >= start:
            yield moment
        return
    day = start.astimezone(tz).date() - timedelta(days=1)  # a gap's shift may reach back
    last = None
    while day.year < LAST_YEAR + 2:
        if _fires_on(when, day):
            for moment in sorted({_moment(day, hour_minute, tz) for hour_minute in when.times}):
                if moment >= start and (last is None or moment > last):
                    yield moment
                    last = moment
        day += timedelta(days=1)


def _fires_on(when: When, day: date) -> bool:
    if when.kind == "weekly":
        return day.weekday() in when.days
    if when.kind == "monthly":  # day 31 skips the months without a 31st
        return day.day in when.days
    return True


def _moment(day: date, hour_minute: tuple[int, int], tz: ZoneInfo) -> datetime:
    # fold=0: a wall time that happens twice is its first pass; one that does not exist is
    # read with the offset before the change, which lands it where the clocks jumped to.
    wall = datetime.combine(day, time(*hour_minute)).replace(tzinfo=tz, fold=0)
    return wall.astimezone(UTC)


def shortest_gap(when: When) -> timedelta | None:
    """The shortest time between two consecutive firings (wall time, no clock changes); None
    for a one-off. A member day may last no longer, or it would overlap the next."""
    if when.kind == "once":
        return None
    # Long enough to see every pattern: a year for days of the month, a fortnight otherwise.
    span = timedelta(days=400 if when.kind == "monthly" else 15)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    found = firings(when, ZoneInfo("UTC"), start, start + span, limit=10_000)
    gaps = [later - earlier for earlier, later in pairwise(found)]
    return min(gaps) if gaps else None
