"""Surveys as plain domain rules: the NPS and the counts, typed answers read and checked, the
file formats, community.toml kept in step, and /link folding two members' runs into one."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Connection, select

from community import survey_keeping, survey_runs, surveys
from community.communities import Community
from community.config import ConfigError
from community.survey_files import read_file
from community.survey_input import Given, check_given, read_typed
from community.survey_results import Nps, choice_counts, nps, results
from community.survey_rules import SurveyConfig
from community.surveys import Question
from loyalty import ledger
from loyalty.errors import UserError
from storage.survey_tables import survey_answers
from storage.survey_tables import survey_runs as runs_table
from storage.survey_tables import surveys as table
from tests.domain.conftest import Join, local

SCALE_Q = Question("Recommend us?", "scale")
PICK = Question("Which?", "multiple", ("Tea", "Coffee", "Juice"))
ONE = Question("Where?", "single", ("Online", "In town"))
WORDS = Question("Why?", "text")


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ([10, 9, 8, 6, 0], Nps(5, 2, 1, 2, 0, Decimal("6.6"))),
        ([10, 10, 10, 0], Nps(4, 3, 0, 1, 50, Decimal("7.5"))),
        ([7, 8], Nps(2, 0, 2, 0, 0, Decimal("7.5"))),
        ([6] * 3, Nps(3, 0, 0, 3, -100, Decimal("6.0"))),
        ([9, 7, 7, 7, 7, 7, 7, 7], Nps(8, 1, 7, 0, 13, Decimal("7.3"))),  # 12.5 rounds up
        ([6, 7, 7, 7, 7, 7, 7, 7], Nps(8, 0, 7, 1, -13, Decimal("6.9"))),  # -12.5 rounds away
        ([9, 9, 6], Nps(3, 2, 0, 1, 33, Decimal("8.0"))),
    ],
)
def test_the_nps_is_promoters_share_minus_detractors_share(
    scores: list[int], expected: Nps
) -> None:
    assert nps(scores) == expected


def test_no_scores_have_no_nps() -> None:
    assert nps([]) is None


def test_a_multiple_choice_answer_counts_for_each_option_in_it() -> None:
    assert choice_counts(PICK, [[0, 2], [2], [2, 2], [7]]) == (1, 0, 3)


@pytest.mark.parametrize(
    ("question", "typed", "read"),
    [
        (SCALE_Q, "9", Given(score=9)),
        (SCALE_Q, " １０ ", Given(score=10)),
        (SCALE_Q, "8分", Given(score=8)),
        (SCALE_Q, "eleven", ("not_a_number", {"low": 0, "high": 10})),
        (SCALE_Q, "7.5", ("not_a_number", {"low": 0, "high": 10})),
        (SCALE_Q, "-1", ("not_a_number", {"low": 0, "high": 10})),
        (ONE, "2", Given(options=(1,))),
        (ONE, "IN TOWN", Given(options=(1,))),
        (ONE, "1 2", ("not_a_number", {"low": 1, "high": 2})),
        (PICK, "1 3", Given(options=(0, 2))),
        (PICK, "3、1，3", Given(options=(2, 0))),
        (PICK, "coffee", Given(options=(1,))),
        (PICK, "tea, juice", Given(options=(0, 2))),
        (PICK, "1 and 2", ("not_a_number", {"low": 1, "high": 3})),
        (WORDS, "  Because.  ", Given(text="Because.")),
    ],
)
def test_typed_words_answer_what_they_can(
    question: Question, typed: str, read: Given | tuple[str, dict[str, int]]
) -> None:
    assert read_typed(question, typed) == read


@pytest.mark.parametrize(
    ("question", "given", "problem"),
    [
        (SCALE_Q, Given(score=0), None),
        (SCALE_Q, Given(score=11), ("out_of_range", {"low": 0, "high": 10, "given": 11})),
        (SCALE_Q, Given(options=(1,)), ("stale", {})),
        (ONE, Given(options=(2,)), ("out_of_range", {"low": 1, "high": 2, "given": 3})),
        (ONE, Given(options=(0, 1)), ("just_one", {"low": 1, "high": 2})),
        (PICK, Given(options=()), ("pick_one", {})),
        (PICK, Given(options=(0, 2)), None),
        (WORDS, Given(text=" "), ("empty", {})),
        (WORDS, Given(text="x" * 11), ("too_long", {"length": 11, "limit": 10})),
        (WORDS, Given(text="x" * 10), None),
        (WORDS, Given(score=3), ("stale", {})),
    ],
)
def test_an_answer_that_does_not_fit_its_question_says_why(
    question: Question, given: Given, problem: tuple[str, dict[str, int]] | None
) -> None:
    assert check_given(question, given, 10) == problem


# Files ---------------------------------------------------------------------------------------


def test_a_toml_file_holds_one_survey_or_several() -> None:
    one = 'title = "Quick"\n[[questions]]\ntext = "Tea or coffee?"\noptions = ["Tea", "Coffee"]\n'
    assert read_file("quick.toml", one, "") == [
        ("Quick", (Question("Tea or coffee?", "single", ("Tea", "Coffee")),))
    ]
    several = (
        '[[surveys]]\ntitle = "A"\n[[surveys.questions]]\ntext = "Q1"\nkind = "text"\n'
        '[[surveys]]\ntitle = "B"\n[[surveys.questions]]\ntext = "Q2"\nkind = "scale"\n'
    )
    assert [title for title, _ in read_file("s.toml", several, "ignored")] == ["A", "B"]


def test_a_csv_file_is_one_survey_named_by_its_title_or_its_file() -> None:
    text = (
        "\ufeff题目\t类型\t选项\n"
        "推荐意愿？\t评分\t\n"
        "喜欢什么？\t多选\t产品｜活动｜\n"
        "\n"
        "建议？\t\t\n"
        "哪家店？\t\tA|B\n"
    )
    ((title, questions),) = read_file("反馈.tsv", text, "")
    assert title == "反馈"
    assert questions == (
        Question("推荐意愿？", "scale"),
        Question("喜欢什么？", "multiple", ("产品", "活动")),
        Question("建议？", "text"),
        Question("哪家店？", "single", ("A", "B")),
    )


@pytest.mark.parametrize(
    ("name", "text", "context"),
    [
        ("s.csv", "Q1,text\nQ2,single,A\n", {"row": 2, "reason": "options"}),
        ("s.csv", "Q1,rating\n", {"row": 1, "reason": "bad_kind"}),
        ("s.csv", 'Q1,"single,A|B\n', {"row": 1, "reason": "quotes"}),
        ("s.csv", "question,kind\n", {"row": 0, "where": "questions", "reason": "empty"}),
        ("s.csv", "Q," + "x" * 301 + "\n", {"row": 1, "reason": "bad_kind"}),
        ("s.csv", "x" * 301 + ",text\n", {"row": 1, "reason": "too_long"}),
        ("s.toml", 'title = "T"\n', {"where": "questions", "reason": "missing"}),
        ("s.toml", 'title = "T"\nquestions = []\n', {"where": "questions", "reason": "empty"}),
        (
            "s.toml",
            'title = "T"\n[[questions]]\ntext = "Q"\nkind = "scale"\noptions = ["a", "b"]\n',
            {"where": "questions[1]", "reason": "options"},
        ),
        (
            "s.toml",
            'title = "T"\n[[questions]]\ntext = "Q"\noptions = ["a", " "]\n',
            {"where": "questions[1].options", "reason": "empty_option"},
        ),
        (
            "s.toml",
            'title = "T"\n[[questions]]\ntext = "Q"\ncolour = "red"\n',
            {"where": "questions[1].colour", "reason": "unknown_field"},
        ),
        (
            "s.toml",
            '[[surveys]]\ntitle = "T"\n[[surveys.questions]]\ntext = "Q"\nkind = 3\n',
            {"where": "surveys[1].questions[1].kind", "reason": "bad_kind"},
        ),
    ],
)
def test_a_bad_file_is_refused_whole_saying_where(
    name: str, text: str, context: dict[str, object]
) -> None:
    with pytest.raises(UserError) as refused:
        read_file(name, text, "Title")
    assert refused.value.key == "survey/bad_file"
    assert {key: refused.value.context[key] for key in context} == context


# community.toml --------------------------------------------------------------------------------


def config(title: str, *questions: tuple[str, str]) -> SurveyConfig:
    return SurveyConfig.model_validate(
        {
            "title": title,
            "questions": [
                {"text": text, "kind": kind, "options": ["a", "b"] if kind == "single" else []}
                for text, kind in questions
            ],
        }
    )


def stored(conn: Connection) -> list[tuple[int, str, str, str | None, int]]:
    query = select(table.c.id, table.c.title, table.c.state, table.c.file_key, table.c.questions)
    return [
        (row.id, row.title, row.state, row.file_key, len(row.questions))
        for row in conn.execute(query.order_by(table.c.id))
    ]


def answer_all(conn: Connection, community: Community, number: int, member_id: int) -> None:
    found = surveys.survey_by_id(conn, community, number)
    survey_runs.take(conn, found, member_id, local(1))
    for position, question in enumerate(found.questions):
        given = Given(text="ok") if question.kind == "text" else Given(options=(0,))
        survey_runs.answer(
            conn, community, found, member_id=member_id, question=position, given=given, at=local(1)
        )


def test_the_files_surveys_follow_the_file_and_answered_ones_keep_their_results(
    conn: Connection, community: Community, join: Join, boss: surveys.audit.Actor
) -> None:
    a = config("Service", ("How was it?", "text"))
    b = config("Shop", ("Which?", "single"))
    surveys.sync_file_surveys(conn, community, [a, b], local(1))
    assert stored(conn) == [(1, "Service", "draft", "file:1", 1), (2, "Shop", "draft", "file:2", 1)]
    # Renamed in place, questions changed while nobody answered: the same surveys, changed.
    renamed = config("Service desk", ("How was it?", "text"), ("Again?", "single"))
    surveys.sync_file_surveys(conn, community, [renamed, b], local(2))
    assert stored(conn) == [
        (1, "Service desk", "draft", "file:1", 2),
        (2, "Shop", "draft", "file:2", 1),
    ]
    survey_keeping.start_survey(conn, community, 2, actor=boss, at=local(2), key="e1")
    answer_all(conn, community, 2, join("alice").id)
    # The answered survey's questions change: it is kept closed, its successor a new draft.
    changed = config("Shop", ("Which one?", "single"))
    surveys.sync_file_surveys(conn, community, [changed, renamed], local(3))
    assert stored(conn) == [
        (1, "Service desk", "draft", "file:2", 2),  # moved in the file: still survey 1
        (2, "Shop", "closed", "gone:2", 1),
        (3, "Shop", "draft", "file:1", 1),
    ]
    # Gone from the file: the unanswered one is deleted, the answered one stays closed.
    surveys.sync_file_surveys(conn, community, [], local(4))
    assert stored(conn) == [(2, "Shop", "closed", "gone:2", 1)]
    found = surveys.survey_by_id(conn, community, 2)
    assert results(conn, found, 5).completed == 1


def test_a_file_with_too_many_or_repeated_surveys_is_refused(
    conn: Connection, community: Community
) -> None:
    a = config("Service", ("How was it?", "text"))
    with pytest.raises(ConfigError, match="the same title"):
        surveys.sync_file_surveys(conn, community, [a, a], local(1))
    many = [config(f"S{n}", ("Q", "text")) for n in range(community.rules.survey.max_surveys + 1)]
    with pytest.raises(ConfigError, match="max_surveys"):
        surveys.sync_file_surveys(conn, community, many, local(1))
    long = config("Long", *[(f"Q{n}", "text") for n in range(31)])
    with pytest.raises(ConfigError, match="max_questions"):
        surveys.sync_file_surveys(conn, community, [long], local(1))
    assert stored(conn) == []


# Linking ---------------------------------------------------------------------------------------


def test_linked_members_keep_the_run_further_along_and_finish_no_survey_twice(
    conn: Connection, community: Community, join: Join, boss: surveys.audit.Actor
) -> None:
    two = [("Q1", "single"), ("Q2", "single")]
    surveys.sync_file_surveys(
        conn, community, [config("One", *two), config("Two", *two), config("Three", *two)], local(1)
    )
    for number in (1, 2, 3):
        survey_keeping.start_survey(
            conn, community, number, actor=boss, at=local(1), key=f"s{number}"
        )
    keep, absorb = join("alice").id, join("alice2", "discord").id
    answer_all(conn, community, 1, absorb)  # finished on the other account
    one = surveys.survey_by_id(conn, community, 1)
    survey_runs.take(conn, one, keep, local(1, 10))  # started again on this one
    two_ = surveys.survey_by_id(conn, community, 2)
    survey_runs.take(conn, two_, keep, local(1, 11))
    survey_runs.answer(
        conn, community, two_, member_id=keep, question=0, given=Given(options=(1,)), at=local(1)
    )
    survey_runs.take(conn, two_, absorb, local(1, 12))  # not as far on the other account
    three = surveys.survey_by_id(conn, community, 3)
    survey_runs.take(conn, three, absorb, local(1, 13))  # the last one shown

    surveys.merge_members(conn, keep=keep, absorb=absorb)

    got = conn.execute(
        select(runs_table.c.survey_id, runs_table.c.member_id, runs_table.c.state)
        .add_columns(runs_table.c.position)
        .order_by(runs_table.c.survey_id)
    ).all()
    assert [tuple(row) for row in got] == [
        (1, keep, "done", 2),
        (2, keep, "paused", 1),
        (3, keep, "active", 0),
    ]
    answers = conn.execute(
        select(survey_answers.c.survey_id, survey_answers.c.member_id).order_by(survey_answers.c.id)
    ).all()
    assert [tuple(row) for row in answers] == [(1, keep), (1, keep), (2, keep)]
    again = survey_runs.take(conn, one, keep, local(2))
    assert again.done_before  # finished on either account is finished
    assert ledger.balance(conn, absorb) == 20  # (the ledger itself is merged by /link)
