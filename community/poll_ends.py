"""When a poll opened with an end closes: "--for 2h" or "--until 18:00", read in English or
Chinese, in the community's timezone."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from community.schedules import next_firings, parse_when
from loyalty.errors import UserError

# The shortest a poll opened with an end may run: shorter is a typo. (The longest is the
# community's polls.longest_days.)
MIN_DURATION = timedelta(minutes=1)
# A sum of huge parts ("999999d999999d") is capped while read: it is refused as too long.
_LONGEST_READ = timedelta(days=1000)

# "--for" / "--until" at the start; "—" and "——" are what "--" becomes on many keyboards.
_FLAG = re.compile(r"\s*(?:-{1,2}|[—–]{1,2})\s*(?P<flag>for|until)(?![a-z])\s*", re.IGNORECASE)
# Full-width ASCII and the ideographic space map one to one onto ASCII: positions stay put.
_FOLD = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_DURATION_PART = re.compile(
    r"""\s* (?: (?P<half> 半个?(?:小时|小時|钟头|鐘頭) )
          | (?P<n> \d{1,6}) \s* (?: (?P<d> (?:days?|d)(?![a-z]) | 天 )
                                | (?P<h> (?:hours?|hrs?|h)(?![a-z]) | 个?(?:小时|小時|钟头|鐘頭) )
                                | (?P<m> (?:minutes?|mins?|m)(?![a-z]) | 分钟 | 分鐘 | 分 ) ) )""",
    re.IGNORECASE | re.VERBOSE,
)
_YEAR_FIRST = re.compile(r"\s*\d{4}")


def parse_end(
    text: str, tz: ZoneInfo, now: datetime, longest: timedelta
) -> tuple[datetime | None, str]:
    """Read a leading "--for 2h" (30m, 1h30m, 1d, 2小时, 30分钟, 1天) or "--until 18:00" (the
    next 18:00 in `tz`; or "--until 2026-12-24 18:00"): the poll's end (UTC) and the rest of
    the text. No flag: (None, text). UserError says what is wrong with the end."""
    folded = text.translate(_FOLD)
    flag = _FLAG.match(folded)
    if flag is None:
        return None, text
    start, now = flag.end(), now.astimezone(UTC)
    out_of_range = UserError(
        "polls/end_out_of_range",
        shortest=int(MIN_DURATION / timedelta(minutes=1)),
        longest=longest.days,
    )
    if flag["flag"].lower() == "for":
        duration, pos = _read_duration(folded, start)
        if duration is None:
            raise UserError("polls/bad_duration")
        if duration > longest:
            raise out_of_range  # before adding it: 999999d would overflow the calendar
        closes_at, rest = now + duration, text[pos:].strip()
    else:
        closes_at, rest = _read_until(text[start:], tz, now)
    if not MIN_DURATION <= closes_at - now <= longest:
        raise out_of_range
    return closes_at, rest


def _read_duration(folded: str, pos: int) -> tuple[timedelta | None, int]:
    total, seen = timedelta(), False
    while part := _DURATION_PART.match(folded, pos):
        if part["half"]:
            total += timedelta(minutes=30)
        else:
            unit = "days" if part["d"] else "hours" if part["h"] else "minutes"
            # Capped: a sum of huge parts must stay a timedelta (it is refused as too long).
            total = min(total + timedelta(**{unit: int(part["n"])}), _LONGEST_READ)
        seen, pos = True, part.end()
    return (total if seen else None), pos


def _read_until(text: str, tz: ZoneInfo, now: datetime) -> tuple[datetime, str]:
    bad = UserError("polls/bad_until")
    dated = _YEAR_FIRST.match(text) is not None
    try:
        # A time alone is read as a daily time: its next firing is the next such wall time.
        when, rest = parse_when(text if dated else f"daily {text}")
    except UserError:
        raise bad from None
    if len(when.times) != 1 or when.kind != ("once" if dated else "daily"):
        raise bad
    if not dated:
        return next_firings(when, tz, now, 1)[0], rest
    assert when.on is not None
    wall = datetime.combine(when.on, time(*when.times[0]))
    moment = wall.replace(tzinfo=tz).astimezone(UTC)
    if moment.astimezone(tz).replace(tzinfo=None) != wall:
        raise bad  # a wall time the clocks skip that day
    if moment <= now:
        raise UserError("polls/end_in_the_past", at=wall.replace(tzinfo=tz))
    return moment, rest
