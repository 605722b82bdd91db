"""Property tests on schedules: any When reads back from its canonical form, and its firings are
exactly the local times it names (shifted past a DST gap, first pass of an overlap), once each."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from community.schedules import MAX_TIMES, When, firings, parse_when
from loyalty.errors import UserError

ZONES = [ZoneInfo(k) for k in ("America/New_York", "Europe/London", "Australia/Sydney")]
ZONES.append(ZoneInfo("Asia/Shanghai"))
# Windows start near the 2026 transitions, where the interesting cases are.
STARTS = [datetime(2026, m, d) for m, d in ((3, 6), (3, 27), (4, 3), (10, 2), (10, 23), (10, 30))]

times = st.lists(
    st.tuples(st.integers(0, 23), st.sampled_from([0, 1, 15, 30, 45, 59])),
    min_size=1,
    max_size=MAX_TIMES,
    unique=True,
).map(lambda ts: tuple(sorted(ts)))
day_set = st.lists(st.integers(0, 6), min_size=1, unique=True).map(lambda ds: tuple(sorted(ds)))
month_days = st.lists(st.integers(1, 31), min_size=1, max_size=5, unique=True)
whens = st.one_of(
    st.builds(When, st.just("daily"), st.just(()), times),
    st.builds(When, st.just("weekly"), day_set, times),
    st.builds(When, st.just("monthly"), month_days.map(lambda ds: tuple(sorted(ds))), times),
    st.builds(
        When,
        st.just("once"),
        st.just(()),
        st.tuples(st.tuples(st.integers(0, 23), st.integers(0, 59))),
        st.dates(date(2026, 1, 1), date(2027, 12, 31)),
    ),
)
windows = st.tuples(
    st.sampled_from(ZONES),
    st.sampled_from(STARTS),
    st.integers(0, 48 * 60),  # minutes after the start
    st.integers(0, 8 * 24 * 60),  # the window's length in minutes
)


def expected(when: When, tz: ZoneInfo, after: datetime, until: datetime) -> list[datetime]:
    """The reference: each matching local day and time; a gap time at the offset before the jump
    (the wall time the clocks jumped to), a repeated time on its first pass; once an instant."""
    found: set[datetime] = set()
    day = after.astimezone(tz).date() - timedelta(days=1)
    while day <= until.astimezone(tz).date() + timedelta(days=1):
        if (
            when.kind == "daily"
            or (when.kind == "weekly" and day.weekday() in when.days)
            or (when.kind == "monthly" and day.day in when.days)
            or day == when.on
        ):
            for hour, minute in when.times:
                moment = datetime.combine(day, time(hour, minute), tz).astimezone(UTC)
                if after < moment <= until:
                    found.add(moment)
        day += timedelta(days=1)
    return sorted(found)


@settings(max_examples=150, deadline=None)
@given(whens)
def test_the_canonical_form_reads_back(when: When) -> None:
    assert parse_when(when.canonical()) == (when, "")
    assert When.from_json(when.to_json()) == when


@settings(max_examples=120, deadline=None)
@given(whens, windows)
def test_firings_are_the_local_times_once_each_in_order(
    when: When, window: tuple[ZoneInfo, datetime, int, int]
) -> None:
    tz, start, offset, length = window
    after = (start + timedelta(minutes=offset)).replace(tzinfo=tz)
    until = after + timedelta(minutes=length)
    fired = firings(when, tz, after, until)
    assert fired == expected(when, tz, after.astimezone(UTC), until.astimezone(UTC))
    assert all(after < moment <= until and moment.tzinfo is UTC for moment in fired)
    assert all(earlier < later for earlier, later in itertools.pairwise(fired))
    walls = [moment.astimezone(tz).replace(tzinfo=None, second=0) for moment in fired]
    assert len(set(walls)) == len(walls)  # no two posts at one local wall-clock minute
    for moment in fired:
        local = moment.astimezone(tz)
        shifted = (
            local
            - (local.dst() or timedelta())
            + (tz.dst(local - timedelta(days=1)) or timedelta())
        )
        assert (local.hour, local.minute) in when.times or (
            shifted.hour,
            shifted.minute,
        ) in when.times


@settings(max_examples=60, deadline=None)
@given(whens, windows, st.integers(0, 5))
def test_limit_keeps_the_oldest(
    when: When, window: tuple[ZoneInfo, datetime, int, int], limit: int
) -> None:
    tz, start, offset, length = window
    after = (start + timedelta(minutes=offset)).replace(tzinfo=tz)
    until = after + timedelta(minutes=length)
    assert firings(when, tz, after, until, limit) == firings(when, tz, after, until)[:limit]


when_words = st.sampled_from(
    ["mon", "周一", "每周", "每月", "monthly", "daily", "每天", "2026-12-24", "2026年", "至", "-"]
)
time_words = st.sampled_from(["20:00", "8pm", "晚上", "8点", "半", "24:00", ",", "、", "am", "分"])
chatty = st.lists(
    st.one_of(when_words, time_words, st.text(max_size=4), st.sampled_from([" ", "，", "１"])),
    max_size=10,
).map("".join)


@settings(max_examples=150, deadline=None)
@given(chatty, st.booleans())
def test_any_text_reads_as_a_when_or_is_refused_politely(text: str, time_required: bool) -> None:
    try:
        when, rest = parse_when(text, time_required=time_required)
    except UserError as refused:
        assert refused.key.startswith("schedule/")
    else:
        assert text.rstrip().endswith(rest)  # the rest is given without trailing spaces
        assert parse_when(when.canonical()) == (when, "")
