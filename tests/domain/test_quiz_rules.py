"""Quiz rules as plain functions: how a question file reads, and what a quiz pays (a right
answer, the first right one, nothing late, nothing twice, and fairly when it is stopped)."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import Connection, select

from community import quiz_answers, quiz_runs, quizzes
from community.audit import Actor
from community.communities import Community
from community.config import ConfigError
from community.outbox import decode_reply
from community.poll_closing import close_on_time, closing_due
from community.polls import poll_by_id
from community.quiz_csv import Draft, read_csv, read_line
from community.quiz_rules import QuizQuestionConfig
from loyalty import ledger
from loyalty.errors import UserError
from storage.quiz_tables import quiz_answers as answers_table
from storage.schema import audit_log, outbox
from tests.domain.conftest import Join, local
from tests.harness import RENDERER

NOW = local(1, 20)
RIGHT, FIRST = 5, 5  # the default [earning] quiz_answer and quiz_first points
SKY = Draft("Sky colour?", ("Green", "Blue", "Red"), 1, "Rayleigh scattering.", "science")
GRASS = Draft("Grass colour?", ("Green", "Blue"), 0, "", "science")
MOON = Draft("Moon made of?", ("Rock", "Cheese"), 0, "", "space")


def test_a_csv_file_reads_its_questions_with_a_header_letters_and_tabs() -> None:
    text = (
        "\ufeffquestion,options,correct,explanation,category\n"
        'Sky colour?,Green|Blue|Red,2,"Rayleigh, mostly.",Science\n'
        "\n"
        "月亮是什么做的？,岩石｜奶酪,A\n"
        "Trailing separator?,Yes|No|,２\n"
    )
    drafts, problems = read_csv(text)
    assert problems == []
    assert drafts == [
        Draft("Sky colour?", ("Green", "Blue", "Red"), 1, "Rayleigh, mostly.", "science"),
        Draft("月亮是什么做的？", ("岩石", "奶酪"), 0),
        Draft("Trailing separator?", ("Yes", "No"), 1),
    ]
    tabbed, problems = read_csv("Q1?\tA|B\t1\nQ2?\tA|B|C\tC\n")
    assert problems == [] and [d.correct for d in tabbed] == [0, 2]


def test_every_bad_line_is_named_with_why() -> None:
    text = (
        "Fine?,A|B,1\n"
        "Too few?,A,1\n"
        "Out of range?,A|B,3\n"
        "Not a number?,A|B,first\n"
        "Gap?,A||B,2\n"
        "Same?,A|a,1\n"
        "Fine?,C|D,1\n"
        "Two columns,A|B\n"
        f"{'Q' * 301},A|B,1\n"
        f"Long option?,{'o' * 101}|B,1\n"
        f"Long why?,A|B,1,{'w' * 201}\n"
        "Bad category?,A|B,1,,two words\n"
        'Open quote?,"A|B,1\n'
    )
    drafts, problems = read_csv(text)
    assert [(p.line, p.reason) for p in problems] == [
        (2, "few_options"),
        (3, "bad_correct"),
        (4, "bad_correct"),
        (5, "empty_option"),
        (6, "duplicate_options"),
        (7, "repeated"),
        (8, "columns"),
        (9, "question_too_long"),
        (10, "option_too_long"),
        (11, "explanation_too_long"),
        (12, "bad_category"),
        (13, "quotes"),
    ]
    assert problems[1].details == {"options": 2} and problems[5].details == {"first": 1}
    assert [d.question for d in drafts] == ["Fine?"]


def test_a_typed_question_marks_its_right_option_with_a_star() -> None:
    typed = "#Brand Which day is member day? | 8th | *18th | 28th | = Every month on the 18th."
    assert read_line(typed) == Draft(
        "Which day is member day?", ("8th", "18th", "28th"), 1, "Every month on the 18th.", "brand"
    )
    assert read_line("会员日是几号？｜8号｜＊18号").correct == 1
    for bad, reason in [
        ("No mark? | a | b", "no_mark"),
        ("Two marks? | *a | *b", "no_mark"),
        ("Alone? | *a", "few_options"),
        ("| *a | b", "no_question"),
    ]:
        with pytest.raises(UserError) as refused:
            read_line(bad)
        assert refused.value.context["reason"] == reason, bad


def _bank(conn: Connection, community: Community, boss: Actor, *drafts: Draft) -> None:
    quizzes.add_questions(
        conn, community, drafts or (SKY, GRASS, MOON), actor=boss, at=NOW, source="test"
    )


def _start(
    conn: Connection, community: Community, boss: Actor, count: int | None = 2, category: str = ""
) -> quiz_runs.Started:
    return quiz_runs.start(
        conn,
        community,
        platform="telegram",
        chat_id="-100group",
        channel_id=None,
        count=count,
        category=category,
        actor=boss,
        at=NOW,
        rng=random.Random(7),
    )


def _asked(conn: Connection, run_id: int, position: int) -> tuple[quiz_runs.Round, int]:
    found = quiz_runs.round_at(conn, run_id, position)
    assert found.poll_id is not None
    return found, found.poll_id


def _answer(
    conn: Connection,
    community: Community,
    asked: quiz_runs.Round,
    member_id: int,
    option: int,
    seconds: int = 5,
) -> quiz_answers.Answered:
    assert asked.poll_id is not None
    poll = poll_by_id(conn, community.id, asked.poll_id)
    assert poll is not None
    return quiz_answers.answer(
        conn,
        community,
        poll,
        asked,
        member_id=member_id,
        option=option,
        at=NOW + timedelta(seconds=seconds),
    )


def test_right_answers_pay_and_the_first_right_one_pays_more_once(
    conn: Connection, community: Community, boss: Actor, join: Join
) -> None:
    _bank(conn, community, boss)
    started = _start(conn, community, boss)
    asked, _ = _asked(conn, started.run.id, 1)
    alice, bob, carol = join("alice"), join("bob"), join("carol")
    wrong = (asked.correct + 1) % len(asked.options)
    assert not _answer(conn, community, asked, alice.id, wrong, 2).correct  # first, but wrong
    first = _answer(conn, community, asked, bob.id, asked.correct, 3)
    second = _answer(conn, community, asked, carol.id, asked.correct, 4)
    assert (first.correct, first.first, first.points) == (True, True, RIGHT + FIRST)
    assert (second.correct, second.first, second.points) == (True, False, RIGHT)
    # One answer per member and question: a second one is refused and changes nothing.
    with pytest.raises(UserError) as again:
        _answer(conn, community, asked, alice.id, asked.correct, 6)
    assert again.value.key == "quiz/already_answered"
    with pytest.raises(UserError) as unknown:
        _answer(conn, community, asked, join("dave").id, 9)
    assert unknown.value.key == "quiz/unknown_option"
    balances = [ledger.balance(conn, m.id) for m in (alice, bob, carol)]
    assert balances == [0, RIGHT + FIRST, RIGHT]
    assert ledger.ledger_sum(conn, bob.id) == RIGHT + FIRST


def test_an_answer_after_the_time_limit_counts_for_nothing(
    conn: Connection, community: Community, boss: Actor, join: Join
) -> None:
    _bank(conn, community, boss)
    started = _start(conn, community, boss)
    asked, _ = _asked(conn, started.run.id, 1)
    seconds = community.rules.quiz.seconds
    alice = join("alice")
    with pytest.raises(UserError) as late:
        # The time is up, even before the sweep has closed the question.
        _answer(conn, community, asked, alice.id, asked.correct, seconds)
    assert late.value.key == "quiz/too_late"
    assert ledger.balance(conn, alice.id) == 0
    assert conn.execute(select(answers_table)).all() == []


def test_the_end_of_a_question_asks_the_next_then_ends_the_quiz_once(
    conn: Connection, community: Community, boss: Actor, join: Join
) -> None:
    _bank(conn, community, boss)
    started = _start(conn, community, boss)
    assert started.reply.poll is not None and started.reply.poll.quiz
    first, poll_1 = _asked(conn, started.run.id, 1)
    alice = join("alice")
    _answer(conn, community, first, alice.id, first.correct)
    ends = NOW + timedelta(seconds=community.rules.quiz.seconds)
    assert closing_due(conn, ends - timedelta(seconds=1)) == []
    assert closing_due(conn, ends) == [poll_1]
    platforms: set[str] = set()
    assert close_on_time(conn, poll_1, ends, platforms)
    assert not close_on_time(conn, poll_1, ends, platforms)  # a second sweep: nothing
    second, poll_2 = _asked(conn, started.run.id, 2)
    [posted] = conn.execute(select(outbox.c.payload)).scalars().all()
    next_question = RENDERER.render(decode_reply(posted, "en"))
    assert next_question.startswith("⏱ Question 1: the answer was ")
    assert "1 of 1 right; first: Alice." in next_question
    assert f"❓ Question 2 of 2 (30 s)\n{second.question}" in next_question
    later = ends + timedelta(seconds=community.rules.quiz.seconds)
    assert close_on_time(conn, poll_2, later, platforms)
    payloads = conn.execute(select(outbox.c.payload).order_by(outbox.c.id)).scalars().all()
    finished = RENDERER.render(decode_reply(payloads[-1], "en"))
    assert "🏁 The quiz is over!" in finished and "1. Alice — 1 right, 10 points" in finished
    assert quiz_runs.live_run(conn, "telegram", "-100group") is None
    assert len(payloads) == 2


def test_stop_ends_the_quiz_keeping_what_was_paid_and_refuses_later_answers(
    conn: Connection, community: Community, boss: Actor, join: Join
) -> None:
    _bank(conn, community, boss)
    started = _start(conn, community, boss, count=3)
    asked, _ = _asked(conn, started.run.id, 1)
    alice, bob = join("alice"), join("bob")
    _answer(conn, community, asked, alice.id, asked.correct)
    stopped = quiz_runs.stop(
        conn,
        community,
        platform="telegram",
        chat_id="-100group",
        actor=boss,
        at=NOW + timedelta(seconds=10),
    )
    said = RENDERER.render(stopped)
    assert "🏁 The quiz was stopped after 1 of 3 questions." in said
    assert "1. Alice — 1 right, 10 points" in said
    assert ledger.balance(conn, alice.id) == RIGHT + FIRST
    with pytest.raises(UserError) as closed:
        _answer(conn, community, asked, bob.id, asked.correct, 11)
    assert closed.value.key == "quiz/too_late"
    with pytest.raises(UserError) as none:
        quiz_runs.stop(
            conn, community, platform="telegram", chat_id="-100group", actor=boss, at=NOW
        )
    assert none.value.key == "quiz/none_running"
    actions = conn.execute(select(audit_log.c.action).order_by(audit_log.c.id)).scalars().all()
    assert actions == ["quiz_questions_add", "quiz_start", "quiz_stop"]


def test_one_quiz_at_a_time_per_chat_and_questions_from_the_category_asked(
    conn: Connection, community: Community, boss: Actor
) -> None:
    with pytest.raises(UserError) as empty:
        _start(conn, community, boss)
    assert empty.value.key == "quiz/empty_bank"
    _bank(conn, community, boss)
    with pytest.raises(UserError) as too_many:
        _start(conn, community, boss, count=community.rules.quiz.max_questions + 1)
    assert too_many.value.key == "quiz/too_many"
    started = _start(conn, community, boss, count=5, category="Space")
    assert started.run.rounds == 1  # as many as the category has
    assert quiz_runs.round_at(conn, started.run.id, 1).question == MOON.question
    with pytest.raises(UserError) as running:
        _start(conn, community, boss)
    assert running.value.key == "quiz/already_running"


def test_questions_asked_least_come_first(
    conn: Connection, community: Community, boss: Actor
) -> None:
    _bank(conn, community, boss)
    asked = []
    for _ in range(3):
        started = _start(conn, community, boss, count=1)
        asked.append(quiz_runs.round_at(conn, started.run.id, 1).question)
        quiz_runs.stop(
            conn, community, platform="telegram", chat_id="-100group", actor=boss, at=NOW
        )
    assert sorted(asked) == sorted(d.question for d in (SKY, GRASS, MOON))


def test_the_bank_leaves_out_questions_it_has_and_keeps_within_its_limit(
    conn: Connection, community: Community, boss: Actor
) -> None:
    done = quizzes.add_questions(
        conn, community, [SKY, GRASS, SKY], actor=boss, at=NOW, source="test"
    )
    assert (done.added, done.already, done.total) == (2, 1, 2)
    removed = quizzes.remove_question(conn, community, 1, actor=boss, at=NOW)
    assert removed.question == SKY.question
    assert [q.question for q in quizzes.bank(conn, community.id)] == [GRASS.question]
    with pytest.raises(UserError):
        quizzes.remove_question(conn, community, 1, actor=boss, at=NOW)
    quiz = community.rules.quiz.model_copy(update={"max_bank": 2})
    tight = replace(community, rules=community.rules.model_copy(update={"quiz": quiz}))
    with pytest.raises(UserError) as full:
        quizzes.add_questions(conn, tight, [SKY, MOON], actor=boss, at=NOW, source="test")
    assert full.value.key == "quiz/bank_full" and full.value.context["room"] == 1
    assert len(quizzes.bank(conn, community.id)) == 1  # all or none


def test_the_file_bank_follows_community_toml_and_admins_questions_stay(
    conn: Connection, community: Community, boss: Actor
) -> None:
    _bank(conn, community, boss, MOON)
    one = QuizQuestionConfig(question="Q1?", options=("a", "b"), correct=2, category="Brand")
    two = QuizQuestionConfig(question="Q2?", options=("a", "b"), correct=1)
    quizzes.sync_file_bank(conn, community, [one, two], NOW)
    found = {q.question: q for q in quizzes.bank(conn, community.id)}
    assert set(found) == {"Moon made of?", "Q1?", "Q2?"}
    assert (found["Q1?"].correct, found["Q1?"].category, found["Q1?"].from_file) == (
        1,
        "brand",
        True,
    )
    changed = one.model_copy(update={"correct": 1})
    quizzes.sync_file_bank(conn, community, [changed], NOW)
    found = {q.question: q for q in quizzes.bank(conn, community.id)}
    assert set(found) == {"Moon made of?", "Q1?"} and found["Q1?"].correct == 0
    bad = QuizQuestionConfig(question="Q?", options=("a", "a"), correct=1)
    with pytest.raises(ConfigError, match=r"quiz_bank\[1\]: duplicate_options"):
        quizzes.sync_file_bank(conn, community, [bad], NOW)


def test_a_link_merge_keeps_one_answer_per_question(
    conn: Connection, community: Community, boss: Actor, join: Join
) -> None:
    _bank(conn, community, boss)
    started = _start(conn, community, boss)
    asked, _ = _asked(conn, started.run.id, 1)
    keep, absorb = join("keep"), join("absorb", "discord")
    _answer(conn, community, asked, absorb.id, asked.correct, 1)
    _answer(conn, community, asked, keep.id, asked.correct, 2)
    quizzes.merge_members(conn, keep=keep.id, absorb=absorb.id)
    rows = conn.execute(select(answers_table.c.member_id)).scalars().all()
    assert rows == [keep.id]
    assert quiz_runs.round_at(conn, started.run.id, 1).first_member_id == keep.id
