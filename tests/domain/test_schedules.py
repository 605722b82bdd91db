"""The <when> of calendar entries and member days: read from chat, fired once per local time."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from community.messages import Reply
from community.schedules import (
    MAX_TIMES,
    When,
    check_once,
    firings,
    next_firings,
    parse_when,
)
from loyalty.errors import UserError
from tests.harness import RENDERER

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
SYDNEY = ZoneInfo("Australia/Sydney")
SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEKDAYS = (0, 1, 2, 3, 4)


def daily(*times: tuple[int, int]) -> When:
    return When("daily", (), times)


def weekly(days: tuple[int, ...], *times: tuple[int, int]) -> When:
    return When("weekly", days, times)


def monthly(days: tuple[int, ...], *times: tuple[int, int]) -> When:
    return When("monthly", days, times)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("daily 20:00", daily((20, 0))),
        ("every day 8:30", daily((8, 30))),
        ("Everyday 8:30", daily((8, 30))),
        ("每天 20:00", daily((20, 0))),
        ("每日20点", daily((20, 0))),
        ("mon,wed 20:00", weekly((0, 2), (20, 0))),
        ("MON, Wed 20:00", weekly((0, 2), (20, 0))),
        ("mon-fri 09:30", weekly(WEEKDAYS, (9, 30))),
        ("monday 20:00", weekly((0,), (20, 0))),
        ("every monday 7pm", weekly((0,), (19, 0))),
        ("Mondays and Thursdays 7pm", weekly((0, 3), (19, 0))),
        ("tues,thurs 20:00", weekly((1, 3), (20, 0))),
        ("weekdays 9:00", weekly(WEEKDAYS, (9, 0))),
        ("weekends 10:00", weekly((5, 6), (10, 0))),
        ("fri 20:00,21:30", weekly((4,), (20, 0), (21, 30))),
        ("fri-mon 10:00", weekly((0, 4, 5, 6), (10, 0))),
        ("每周一 20:00", weekly((0,), (20, 0))),
        ("周一、周三 20:00", weekly((0, 2), (20, 0))),
        ("每周一三五 20:00", weekly((0, 2, 4), (20, 0))),
        ("周一至周五 9:30", weekly(WEEKDAYS, (9, 30))),
        ("周一到周五 9:30", weekly(WEEKDAYS, (9, 30))),
        ("周一至五 9:30", weekly(WEEKDAYS, (9, 30))),
        ("星期五 20:00", weekly((4,), (20, 0))),
        ("礼拜五 20:00", weekly((4,), (20, 0))),
        ("工作日 9:00", weekly(WEEKDAYS, (9, 0))),
        ("周末 10:00", weekly((5, 6), (10, 0))),
        ("周日 10:00", weekly((6,), (10, 0))),
        ("周天 10:00", weekly((6,), (10, 0))),
        ("星期日 10:00", weekly((6,), (10, 0))),
        ("monthly 18 10:00", monthly((18,), (10, 0))),
        ("monthly 1,15 10:00", monthly((1, 15), (10, 0))),
        ("monthly 18th 8am", monthly((18,), (8, 0))),
        ("monthly 29,30,31 10:00", monthly((29, 30, 31), (10, 0))),
        ("每月18日 10:00", monthly((18,), (10, 0))),
        ("每月18号 10:00", monthly((18,), (10, 0))),
        ("每月1日、15日 10点", monthly((1, 15), (10, 0))),
        ("2026-12-24 19:00", When("once", (), ((19, 0),), date(2026, 12, 24))),
        ("2026/12/24 19:00", When("once", (), ((19, 0),), date(2026, 12, 24))),
        ("2026年12月24日 19:00", When("once", (), ((19, 0),), date(2026, 12, 24))),
    ],
)
def test_every_form_of_day_reads_in_english_and_chinese(text: str, expected: When) -> None:
    assert parse_when(text) == (expected, "")


@pytest.mark.parametrize(
    ("time_text", "expected"),
    [
        ("20:00", (20, 0)),
        ("8:05", (8, 5)),
        ("8pm", (20, 0)),
        ("8:30pm", (20, 30)),
        ("8 am", (8, 0)),
        ("12am", (0, 0)),
        ("12pm", (12, 0)),
        ("20点", (20, 0)),
        ("20点30", (20, 30)),
        ("20点30分", (20, 30)),
        ("晚上8点", (20, 0)),
        ("下午3点半", (15, 30)),
        ("上午10点", (10, 0)),
        ("中午12点", (12, 0)),
        ("早上8点", (8, 0)),
        ("２０：００", (20, 0)),
    ],
)
def test_every_form_of_time_reads(time_text: str, expected: tuple[int, int]) -> None:
    assert parse_when(f"daily {time_text}") == (daily(expected), "")


def test_several_times_are_sorted_and_unique() -> None:
    assert parse_when("daily 21:00,9:00、9:00")[0] == daily((9, 0), (21, 0))


def test_the_topic_after_the_when_is_returned() -> None:
    assert parse_when("每周一20:00新品剧透") == (weekly((0,), (20, 0)), "新品剧透")
    assert parse_when("mon,wed 20:00 New arrivals | a | b")[1] == "New arrivals | a | b"
    assert parse_when("周一，20:00，新品剧透")[1] == "新品剧透"
    assert parse_when("ＭＯＮ，ＷＥＤ　２０：００ 新品")[1] == "新品"


def test_a_topic_starting_with_a_number_is_not_eaten() -> None:
    assert parse_when("mon 20:00 3 things to know") == (weekly((0,), (20, 0)), "3 things to know")
    assert parse_when("mon 20:00, 3 things to know")[1] == "3 things to know"


def test_without_a_required_time_a_when_starts_at_midnight() -> None:
    assert parse_when("周一至周五", time_required=False) == (weekly(WEEKDAYS, (0, 0)), "")
    assert parse_when("2026-12-24 Christmas", time_required=False) == (
        When("once", (), ((0, 0),), date(2026, 12, 24)),
        "Christmas",
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello world",
        "20:00 topic",
        "mon",
        "mon topic",
        "daily 24:00",
        "daily 25:00",
        "daily 8:60",
        "daily 13pm",
        "monthly 10:00",
        "monthly 32 10:00",
        "monthly 0 10:00",
        "2026-02-30 10:00",
        "2026-12-24 10:00,19:00",
        "一起来 20:00",
    ],
)
def test_unreadable_whens_are_refused_with_an_example(text: str) -> None:
    with pytest.raises(UserError) as refused:
        parse_when(text)
    assert refused.value.key == "schedule/bad_when"
    # Every example the answer shows, in each language, is a when that reads.
    for locale in ("en", "zh_CN"):
        answer = RENDERER.render(Reply(refused.value.key, refused.value.context, locale))
        examples = re.findall(r"“([^”]+)”", answer) + re.findall(r"（也可以写 ([^）]+)）", answer)
        assert examples
        for example in examples:
            assert parse_when(example)[1] == "", example


def test_more_than_max_times_is_refused() -> None:
    text = "daily " + ",".join(f"{h}:00" for h in range(MAX_TIMES + 1))
    with pytest.raises(UserError) as refused:
        parse_when(text)
    assert (refused.value.key, refused.value.context) == (
        "schedule/too_many_times",
        {"limit": MAX_TIMES},
    )


@pytest.mark.parametrize(
    ("when", "text"),
    [
        (weekly((0, 2), (20, 0)), "mon,wed 20:00"),
        (daily((8, 0), (20, 0)), "daily 08:00,20:00"),
        (monthly((18,), (10, 0)), "monthly 18 10:00"),
        (When("once", (), ((19, 0),), date(2026, 12, 24)), "2026-12-24 19:00"),
    ],
)
def test_canonical_form_and_json_read_back(when: When, text: str) -> None:
    assert when.canonical() == text
    assert parse_when(text) == (when, "")
    assert When.from_json(when.to_json()) == when


def test_an_invalid_when_is_a_bug_not_a_value() -> None:
    with pytest.raises(ValueError, match="invalid When"):
        When("weekly", (7,), ((20, 0),))


# ---- firings ----------------------------------------------------------------------------------


def test_window_excludes_after_and_includes_until() -> None:
    eight = datetime(2026, 11, 23, 8, 0, tzinfo=SHANGHAI)
    fired = firings(daily((8, 0)), SHANGHAI, eight, eight + timedelta(days=2))
    assert fired == [utc(2026, 11, 24, 0, 0), utc(2026, 11, 25, 0, 0)]
    assert all(moment.tzinfo is UTC for moment in fired)


def test_limit_keeps_the_oldest() -> None:
    start = datetime(2026, 11, 23, tzinfo=SHANGHAI)
    fired = firings(daily((8, 0), (20, 0)), SHANGHAI, start, start + timedelta(days=30), limit=3)
    assert fired == [utc(2026, 11, 23, 0), utc(2026, 11, 23, 12), utc(2026, 11, 24, 0)]


def test_weekly_fires_on_its_weekdays() -> None:
    monday = datetime(2026, 11, 23, tzinfo=SHANGHAI)
    fired = firings(weekly((0, 2), (20, 0)), SHANGHAI, monday, monday + timedelta(days=14))
    assert [m.astimezone(SHANGHAI).strftime("%a %H:%M") for m in fired] == [
        "Mon 20:00",
        "Wed 20:00",
    ] * 2


def test_monthly_31_skips_months_without_a_31st() -> None:
    start = datetime(2026, 1, 1, tzinfo=SHANGHAI)
    fired = firings(monthly((31,), (10, 0)), SHANGHAI, start, start + timedelta(days=365))
    assert [m.astimezone(SHANGHAI).month for m in fired] == [1, 3, 5, 7, 8, 10, 12]


def test_next_firings_counts_and_a_one_off_fires_once() -> None:
    start = datetime(2026, 11, 23, 12, tzinfo=SHANGHAI)
    assert next_firings(daily((20, 0)), SHANGHAI, start, 2) == [
        utc(2026, 11, 23, 12),
        utc(2026, 11, 24, 12),
    ]
    once = When("once", (), ((19, 0),), date(2026, 12, 24))
    assert next_firings(once, SHANGHAI, start) == [utc(2026, 12, 24, 11)]
    assert next_firings(once, SHANGHAI, datetime(2026, 12, 24, 19, tzinfo=SHANGHAI)) == []


# Transition days: (zone, the day clocks go forward, the day they go back, the hour both happen).
TRANSITIONS = [
    (NEW_YORK, date(2026, 3, 8), date(2026, 11, 1), 2, 1),
    (LONDON, date(2026, 3, 29), date(2026, 10, 25), 1, 1),
    (SYDNEY, date(2026, 10, 4), date(2026, 4, 5), 2, 2),
]


def on_day(tz: ZoneInfo, day: date, when: When) -> list[datetime]:
    """The firings on local day `day` (its midnight is outside every transition tested)."""
    start = datetime.combine(day, datetime.min.time(), tz) - timedelta(microseconds=1)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tz)
    return firings(when, tz, start, end - timedelta(microseconds=1))


@pytest.mark.parametrize(("tz", "forward", "back", "gap_hour", "overlap_hour"), TRANSITIONS)
def test_a_time_in_the_spring_gap_fires_once_when_the_clocks_jump(
    tz: ZoneInfo, forward: date, back: date, gap_hour: int, overlap_hour: int
) -> None:
    fired = [
        m for m in on_day(tz, forward, daily((gap_hour, 30))) if m.astimezone(tz).date() == forward
    ]
    assert len(fired) == 1
    wall = fired[0].astimezone(tz)
    assert (wall.hour, wall.minute) == (gap_hour + 1, 30)  # the wall time the clocks jumped to


@pytest.mark.parametrize(("tz", "forward", "back", "gap_hour", "overlap_hour"), TRANSITIONS)
def test_a_repeated_time_in_the_autumn_overlap_fires_once_on_its_first_pass(
    tz: ZoneInfo, forward: date, back: date, gap_hour: int, overlap_hour: int
) -> None:
    fired = [
        m for m in on_day(tz, back, daily((overlap_hour, 30))) if m.astimezone(tz).date() == back
    ]
    assert len(fired) == 1
    first_pass = datetime.combine(back, datetime.min.time(), tz).replace(
        hour=overlap_hour, minute=30
    )
    assert fired[0] == first_pass.astimezone(UTC)


def test_dst_instants_in_new_york_london_and_sydney() -> None:
    assert on_day(NEW_YORK, date(2026, 3, 8), daily((2, 30)))[0] == utc(2026, 3, 8, 7, 30)
    assert on_day(NEW_YORK, date(2026, 11, 1), daily((1, 30)))[0] == utc(2026, 11, 1, 5, 30)
    assert on_day(LONDON, date(2026, 3, 29), daily((1, 30)))[0] == utc(2026, 3, 29, 1, 30)
    assert on_day(LONDON, date(2026, 10, 25), daily((1, 30)))[0] == utc(2026, 10, 25, 0, 30)
    assert on_day(SYDNEY, date(2026, 10, 4), daily((2, 30)))[0] == utc(2026, 10, 3, 16, 30)
    assert on_day(SYDNEY, date(2026, 4, 5), daily((2, 30)))[0] == utc(2026, 4, 4, 15, 30)


def test_shanghai_has_no_transitions() -> None:
    start = datetime(2026, 1, 1, tzinfo=SHANGHAI)
    fired = firings(daily((2, 30)), SHANGHAI, start, start + timedelta(days=365))
    assert len(fired) == 365
    assert {(m.hour, m.minute) for m in fired} == {(18, 30)}


def test_several_times_in_the_gap_each_fire_once() -> None:
    fired = on_day(NEW_YORK, date(2026, 3, 8), daily((2, 0), (2, 30)))
    assert fired == [utc(2026, 3, 8, 7, 0), utc(2026, 3, 8, 7, 30)]


def test_two_times_shifted_onto_one_instant_post_once() -> None:
    fired = on_day(NEW_YORK, date(2026, 3, 8), daily((2, 0), (3, 0)))
    assert fired.count(utc(2026, 3, 8, 7, 0)) == 1


def test_a_window_opening_inside_the_repeated_hour_does_not_repeat_its_first_pass() -> None:
    # 01:30 EDT (05:30 UTC) posted; the next look starts at 01:10 EST, inside the repeated hour.
    fired = firings(daily((1, 30), (2, 0)), NEW_YORK, utc(2026, 11, 1, 6, 10), utc(2026, 11, 2))
    assert fired == [utc(2026, 11, 1, 7, 0)]


def test_times_around_the_fall_back_fire_in_order_once_each() -> None:
    when = daily((0, 59), (1, 0), (1, 15), (1, 45), (2, 0), (2, 30))
    fired = on_day(NEW_YORK, date(2026, 11, 1), when)
    assert [m.astimezone(NEW_YORK).strftime("%H:%M") for m in fired] == [
        "00:59",
        "01:00",
        "01:15",
        "01:45",
        "02:00",
        "02:30",
    ]


# ---- one-offs ---------------------------------------------------------------------------------


def test_a_one_off_in_the_past_is_refused() -> None:
    once = When("once", (), ((19, 0),), date(2026, 12, 24))
    check_once(once, SHANGHAI, utc(2026, 12, 24, 10, 59))
    for now in (utc(2026, 12, 24, 11), utc(2026, 12, 25)):
        with pytest.raises(UserError) as refused:
            check_once(once, SHANGHAI, now)
        assert refused.value.key == "schedule/in_the_past"
        assert refused.value.context == {
            "at": datetime(2026, 12, 24, 19, 0),
            "when": "2026-12-24 19:00",
        }


def test_a_one_off_in_the_spring_gap_is_refused() -> None:
    once = When("once", (), ((2, 30),), date(2026, 3, 8))
    with pytest.raises(UserError) as refused:
        check_once(once, NEW_YORK, utc(2026, 1, 1))
    assert refused.value.key == "schedule/no_such_time"
    assert refused.value.context == {
        "day": date(2026, 3, 8),
        "time": "02:30",
        "timezone": "America/New_York",
    }


def test_a_one_off_at_a_repeated_time_is_its_first_pass() -> None:
    once = When("once", (), ((1, 30),), date(2026, 11, 1))
    check_once(once, NEW_YORK, utc(2026, 1, 1))
    assert next_firings(once, NEW_YORK, utc(2026, 1, 1)) == [utc(2026, 11, 1, 5, 30)]


def test_repeating_whens_need_no_check() -> None:
    check_once(daily((8, 0)), SHANGHAI, utc(2030, 1, 1))


def test_a_daily_time_fires_on_the_day_after_spring_forward_too() -> None:
    # APScheduler 3.11's CronTrigger, asked just after midnight on 2026-03-08 in New York,
    # answers 03-10: the 09th was lost. The walk here keeps every day.
    midnight = daily((0, 0))
    just_after = datetime(2026, 3, 8, 0, 0, 1, tzinfo=NEW_YORK)
    assert next_firings(midnight, NEW_YORK, just_after, 2) == [
        utc(2026, 3, 9, 4, 0),
        utc(2026, 3, 10, 4, 0),
    ]


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("每天 晚上12点", "daily 00:00"),
        ("每天 夜里12点半", "daily 00:30"),
        ("每天 中午12点", "daily 12:00"),
    ],
)
def test_twelve_at_night_is_midnight_and_twelve_at_noon_is_noon(text: str, canonical: str) -> None:
    assert parse_when(text)[0].canonical() == canonical


@pytest.mark.parametrize("text", ["0001-01-01 00:00", "9999-12-31 23:59", "1999-12-31 10:00"])
def test_a_one_off_in_a_far_year_is_no_when(text: str) -> None:
    # Such a date is a typo, and moments at the calendar's ends overflow once hours are added.
    with pytest.raises(UserError) as refused:
        parse_when(text)
    assert refused.value.key == "schedule/bad_when"
