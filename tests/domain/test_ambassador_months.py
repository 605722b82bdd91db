"""The ambassador programme's month rules as plain functions on values: the calendar month in
the community's clock, a quota met or exceeded (tasks of 0 included), and the streaks of missed
and exceeded months that move an ambassador down or propose moving them up."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from community.ambassador_months import (
    Judged,
    Month,
    Outcome,
    Output,
    Step,
    exceed_quota,
    judge,
    level_step,
    months_to_demotion,
    next_step,
    streak,
)
from community.ambassador_rules import AmbassadorRules, AmbassadorTasks

SHANGHAI = ZoneInfo("Asia/Shanghai")
RULES = AmbassadorRules()  # trainee, ambassador, senior; down after 2 missed, up after 3 exceeded
TASKS = AmbassadorTasks(submissions=4, featured=1, answers=5)

M, X, E = Outcome.MET, Outcome.MISSED, Outcome.EXCEEDED


JUNE = Month(2026, 6)


def months(level: str, *outcomes: Outcome, start: Month = JUNE) -> list[Judged]:
    """Consecutive months from `start` at one level, judged as given."""
    found, month = [], start
    for outcome in outcomes:
        found.append(Judged(month, level, outcome))
        month = month.next()
    return found


def test_a_month_is_the_communitys_calendar_month() -> None:
    # 23:30 UTC on Nov 30 is already Dec 1 in Shanghai.
    assert Month.of(datetime(2026, 11, 30, 23, 30, tzinfo=UTC), SHANGHAI) == Month(2026, 12)
    november = Month(2026, 11)
    assert november.starts(SHANGHAI) == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    assert november.ends(SHANGHAI) == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert november.key == "2026-11" and Month.parse("2026-11") == november
    assert Month(2026, 12).next() == Month(2027, 1)
    assert Month(2027, 1).previous() == Month(2026, 12)
    assert Month(2028, 2).last_day().day == 29


def test_the_quota_is_met_when_every_task_is_done() -> None:
    assert judge(Output(4, 1, 5), TASKS, 150) is M
    assert judge(Output(9, 9, 4), TASKS, 150) is X  # one answer short
    assert judge(Output(0, 0, 0), TASKS, 150) is X


def test_exceeding_takes_every_task_asked_for_at_the_percent_rounded_up() -> None:
    assert exceed_quota(5, 150) == 8  # 7.5 answers is 8
    assert judge(Output(6, 2, 8), TASKS, 150) is E
    assert judge(Output(6, 2, 7), TASKS, 150) is M  # answers at 140%
    assert judge(Output(8, 2, 10), TASKS, 200) is E


def test_a_task_of_zero_is_always_met_and_neither_helps_nor_hinders_exceeding() -> None:
    no_featured = AmbassadorTasks(submissions=2, featured=0, answers=2)
    assert judge(Output(2, 0, 2), no_featured, 150) is M
    assert judge(Output(3, 0, 3), no_featured, 150) is E


def test_a_level_that_asks_for_nothing_is_met_every_month_and_never_exceeded() -> None:
    nothing = AmbassadorTasks(submissions=0, featured=0, answers=0)
    assert judge(Output(0, 0, 0), nothing, 150) is M
    assert judge(Output(50, 50, 50), nothing, 150) is M


def test_a_streak_counts_the_latest_months_in_a_row_at_one_level() -> None:
    assert streak(months("ambassador", M, X, X), "ambassador", X) == 2
    assert streak(months("ambassador", X, M, X), "ambassador", X) == 1
    assert streak(months("ambassador", X, X, M), "ambassador", X) == 0


def test_a_gap_in_the_months_ends_a_streak() -> None:
    # Off the roster in August: June and July do not join September's miss.
    history = [*months("ambassador", X, X), *months("ambassador", X, start=Month(2026, 9))]
    assert streak(history, "ambassador", X) == 1


def test_another_level_ends_a_streak() -> None:
    history = [*months("senior", X), *months("ambassador", X, start=Month(2026, 7))]
    assert streak(history, "ambassador", X) == 1


def test_a_missed_partial_month_is_not_held_against_a_new_ambassador() -> None:
    history = [
        Judged(Month(2026, 6), "ambassador", X, partial=True),
        *months("ambassador", X, start=Month(2026, 7)),
    ]
    assert streak(history, "ambassador", X) == 1
    assert next_step(history, RULES) is Step.NONE
    # Exceeding in a partial month counts: they did it in less time.
    exceeded = [
        Judged(Month(2026, 6), "ambassador", E, partial=True),
        *months("ambassador", E, E, start=Month(2026, 7)),
    ]
    assert streak(exceeded, "ambassador", E) == 3


@pytest.mark.parametrize(
    ("level", "outcomes", "step"),
    [
        ("ambassador", (X,), Step.NONE),
        ("ambassador", (X, X), Step.DEMOTE),
        ("ambassador", (M, X, X), Step.DEMOTE),
        ("ambassador", (X, M, X), Step.NONE),
        ("trainee", (X, X), Step.STAYS_LOWEST),
        ("trainee", (X, X, X), Step.STAYS_LOWEST),  # the admins hear of it each month
        ("ambassador", (E, E), Step.NONE),
        ("ambassador", (E, E, E), Step.PROPOSE),
        ("ambassador", (E, M, E, E), Step.NONE),
        ("senior", (E, E, E), Step.NONE),  # nowhere higher to go
        ("ambassador", (M, M, M), Step.NONE),
    ],
)
def test_the_step_a_month_takes(level: str, outcomes: tuple[Outcome, ...], step: Step) -> None:
    assert next_step(months(level, *outcomes), RULES) is step


def test_a_move_up_is_proposed_once_per_run_of_exceeded_months() -> None:
    history = months("ambassador", E, E, E)
    history[-1] = Judged(history[-1].month, "ambassador", E, proposed=True)
    assert next_step([*history, *months("ambassador", E, start=Month(2026, 9))], RULES) is (
        Step.NONE
    )
    # The run broken and begun again: a new proposal once it is long enough.
    again = [*history, *months("ambassador", M, E, E, E, start=Month(2026, 9))]
    assert next_step(again, RULES) is Step.PROPOSE


def test_a_level_taken_out_of_the_settings_moves_nobody() -> None:
    assert next_step(months("retired", X, X, X), RULES) is Step.NONE
    assert months_to_demotion(months("retired", X), RULES) is None


def test_months_to_demotion_after_a_miss() -> None:
    assert months_to_demotion(months("ambassador", X), RULES) == 1
    assert months_to_demotion(months("ambassador", M), RULES) is None
    assert months_to_demotion(months("trainee", X), RULES) is None  # nowhere lower
    patient = RULES.model_copy(update={"demote_after_months": 4})
    assert months_to_demotion(months("ambassador", X), patient) == 3


def test_level_steps_stop_at_the_ends() -> None:
    assert level_step(RULES, "trainee", 1) == "ambassador"
    assert level_step(RULES, "trainee", -1) is None
    assert level_step(RULES, "senior", 1) is None
    assert level_step(RULES, "retired", 1) is None
