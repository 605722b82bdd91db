"""Contests' rules as plain functions: who wins (ties to the earlier entry, nobody for no votes),
what /contest start's words mean (dates in the community's time, English and Chinese flags),
which contest a submission enters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection

from community import contest_runs
from community.audit import Actor
from community.communities import Community
from community.contest_ranking import standing, winners
from community.contest_rules import ContestRules
from community.contest_terms import Terms, read_terms, read_until
from community.contests import Entry, contest_for
from community.submission_rules import SubmissionRules
from loyalty.errors import UserError
from tests.domain.conftest import SHANGHAI, local

NOW = local(1, 9)  # Monday 2026-11-23 09:00 in Shanghai
RULES = ContestRules()
CATEGORIES = SubmissionRules().categories


def entry(number: int, votes: int) -> Entry:
    return Entry(number, member_id=number, author=f"m{number}", text="", votes=votes)


def test_the_most_votes_win_and_a_tie_goes_to_the_earlier_entry() -> None:
    entries = [entry(5, 2), entry(3, 7), entry(9, 7), entry(4, 2), entry(8, 1)]
    assert [e.number for e in standing(entries)] == [3, 9, 4, 5, 8]
    assert [e.number for e in winners(entries, 3)] == [3, 9, 4]


def test_entries_nobody_voted_for_win_nothing() -> None:
    assert winners([entry(1, 0), entry(2, 0)], 3) == []
    assert [e.number for e in winners([entry(1, 0), entry(2, 1)], 3)] == [2]
    assert winners([], 3) == []


def terms(text: str) -> Terms:
    return read_terms(text, RULES, CATEGORIES, SHANGHAI, NOW)


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return local(day, hour, minute)


def test_a_date_alone_takes_entries_all_that_day() -> None:
    assert read_until("2026-11-25", SHANGHAI, NOW, max_days=60) == at(4)
    assert read_until("11-25", SHANGHAI, NOW, max_days=60) == at(4)
    assert read_until("11月25日", SHANGHAI, NOW, max_days=60) == at(4)
    assert read_until("2026年11月25日", SHANGHAI, NOW, max_days=60) == at(4)


def test_a_date_and_time_or_a_time_alone() -> None:
    assert read_until("11-25 18:00", SHANGHAI, NOW, max_days=60) == at(3, 18)
    assert read_until("2026-11-25 晚上8点", SHANGHAI, NOW, max_days=60) == at(3, 20)
    assert read_until("18:00", SHANGHAI, NOW, max_days=60) == at(1, 18)
    assert read_until("08:00", SHANGHAI, NOW, max_days=60) == at(2, 8)  # tomorrow's
    assert read_until("１１－２５", SHANGHAI, NOW, max_days=60) == at(4)  # full-width


def test_a_month_and_day_gone_by_this_year_is_next_years() -> None:
    found = read_until("1-10", SHANGHAI, NOW, max_days=366)
    assert found == datetime(2027, 1, 10, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("2026-11-20", "contest/until_past"),
        ("11-23 08:00", "contest/until_past"),
        ("2027-03-01", "contest/until_too_far"),
        ("13-45", "contest/bad_until"),
        ("2026-02-30", "contest/bad_until"),
        ("soon", "contest/bad_until"),
        ("11-25 25:00", "contest/bad_until"),
        ("", "contest/bad_until"),
    ],
)
def test_an_until_past_too_far_or_unreadable_is_refused(typed: str, key: str) -> None:
    with pytest.raises(UserError) as refused:
        read_until(typed, SHANGHAI, NOW, max_days=60)
    assert refused.value.key == key


def test_the_terms_in_english_and_chinese() -> None:
    english = terms("Winter photos --until 11-25 --category Purchase photo --prizes 500, 300")
    assert english == Terms("Winter photos", at(4), "purchase", points=(500, 300))
    chinese = terms("冬季摄影大赛 ——截止 11月25日 —分类 晒单 --奖金 500，300，100")
    assert chinese == Terms("冬季摄影大赛", at(4), "purchase", points=(500, 300, 100))
    assert terms("Anything --until=11-25").points == RULES.prizes  # the default prizes
    assert terms("Mugs --until 11-25 --reward #5,6") == Terms("Mugs", at(4), None, rewards=(5, 6))
    spaced = terms("A --until 11-25 --category review --prizes 1 2 3")
    assert spaced.category == "review" and spaced.points == (1, 2, 3)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("--until 11-25", "contest/start_usage"),
        ("Photos", "contest/start_usage"),
        ("Photos --category review", "contest/start_usage"),
        ("Photos --until 11-25 --until 11-26", "contest/start_usage"),
        ("x" * 101 + " --until 11-25", "contest/title_too_long"),
        ("Photos --until 11-25 --category shoes", "contest/unknown_category"),
        ("Photos --until 11-25 --prizes", "contest/bad_prizes"),
        ("Photos --until 11-25 --prizes 0", "contest/bad_prizes"),
        ("Photos --until 11-25 --prizes -5", "contest/bad_prizes"),
        ("Photos --until 11-25 --prizes 10001", "contest/bad_prizes"),
        ("Photos --until 11-25 --prizes 1,2,3,4,5,6,7,8,9,10,11", "contest/bad_prizes"),
        ("Photos --until 11-25 --reward mug", "contest/bad_reward"),
        ("Photos --until 11-25 --reward 1 --prizes 5", "contest/prizes_or_reward"),
    ],
)
def test_bad_terms_are_refused_saying_what_is_wrong(typed: str, key: str) -> None:
    with pytest.raises(UserError) as refused:
        terms(typed)
    assert refused.value.key == key


def test_contest_for_picks_the_newest_open_contest_whose_category_fits(
    conn: Connection, community: Community, boss: Actor
) -> None:
    def start(text: str, when: datetime) -> int:
        found = read_terms(text, community.rules.contests, CATEGORIES, community.timezone, when)
        return contest_runs.start(conn, community, found, actor=boss, at=when).contest.id

    anything = start("Anything --until 11-30", NOW)
    photos = start("Photos --until 11-25 --category purchase", NOW + timedelta(hours=1))
    assert contest_for(conn, community, "purchase", NOW) == anything  # photos not open yet
    assert contest_for(conn, community, "purchase", NOW + timedelta(hours=2)) == photos
    assert contest_for(conn, community, "review", NOW + timedelta(hours=2)) == anything
    assert contest_for(conn, community, "purchase", at(4)) == anything  # photos closed
    assert contest_for(conn, community, "purchase", at(9)) is None  # 11-30 was its last day
    assert contest_for(conn, community, "review", NOW - timedelta(minutes=1)) is None
    contest_runs.cancel(conn, community, anything, actor=boss, at=NOW)
    assert contest_for(conn, community, "review", NOW + timedelta(hours=2)) is None
