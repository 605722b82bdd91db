"""Surveys attacked (issue 11): careless survey files and [[surveys]] edits while members are
half-way, buttons of questions since changed, options that are numbers, and two processes on
PostgreSQL pressing for the same member at once. Each found defect has its test here."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Connection, select
from sqlalchemy import text as sql

from community import survey_runs, surveys
from community.communities import Community, community_by_slug
from community.config import ConfigError, parse_config
from community.survey_files import read_file
from community.survey_input import Given, read_typed
from loyalty.errors import UserError
from storage.engine import make_engine
from storage.store import Store
from storage.survey_tables import survey_answers
from storage.survey_tables import survey_runs as runs_table
from tests.conftest import TEST_COMMUNITY, reconfigure
from tests.harness import Chat, ledger_state, member_id, rows
from tests.test_survey_handlers import LIKES, NPS, SURVEY, dm, load_surveys, marked, text

# SURVEY with its first question moved last and its multiple choice gone: nobody answered yet,
# so the survey changes in place.
REORDERED = """
[[surveys]]
title = "How are we doing?"

[[surveys.questions]]
text = "Which shop do you use?"
kind = "single"
options = ["Online", "In town"]

[[surveys.questions]]
text = "How likely are you to recommend us to a friend?"
kind = "scale"
"""


async def test_a_button_of_a_question_changed_in_the_file_answers_nothing(
    chat: Chat, store: Store
) -> None:
    load_surveys(store)
    await chat.say("boss", "/survey start 1")
    private = dm(chat)
    shown = await private.say("alice", "/survey take 1")
    old_button = shown.button(1)  # a score of 1 on the NPS question
    assert old_button == marked("/survey answer 1 0 1", NPS)
    load_surveys(store, REORDERED)  # question 1 is now "Which shop", whose option 2 is index 1

    pressed = await private.press("alice", old_button)
    assert text(pressed).startswith(
        "⚠️ This question was changed after that message was sent, so nothing was saved. Here "
        "it is as it is now.\n📋 How are we doing? — question 1 of 2\nWhich shop do you use?\n"
    )
    reconfigure(store, locale="zh_CN")
    chinese = await private.press("alice", old_button)
    assert text(chinese).startswith("⚠️ 这道题在那条消息发出后被修改过，所以没有保存。")
    reconfigure(store)
    # Words typed for the question the member saw before the change are not taken either.
    assert (await private.say("alice", "1")).text is None
    assert rows(store, survey_answers) == []
    resumed = await private.say("alice", "/survey")
    assert "question 1 of 2\nWhich shop do you use?" in text(resumed)
    assert text(await private.press("alice", resumed.button(1))).startswith("✅ Saved.\n")
    assert [(r.question, r.options) for r in rows(store, survey_answers)] == [(0, [1])]


async def test_an_old_multiple_choice_tick_after_a_change_ticks_nothing(
    chat: Chat, store: Store
) -> None:
    load_surveys(store, SURVEY.replace('kind = "scale"', 'kind = "text"'))
    await chat.say("boss", "/survey start 1")
    private = dm(chat)
    await private.say("alice", "/survey take 1")
    shown = await private.say("alice", "Nice")
    assert shown.button(0) == marked("/survey pick 1 1 0", LIKES)
    # Someone answered: the edited survey is kept for its results and a new draft takes its
    # place; the old buttons belong to a closed survey.
    load_surveys(store, SURVEY.replace('"Events"', '"Live events"'))
    closed = await private.press("alice", shown.button(0))
    assert text(closed) == "🔒 The survey “How are we doing?” is closed: it takes no more answers."
    done = await private.press("alice", shown.button(4))
    assert "closed" in text(done)
    state = store.read_now(lambda c: c.execute(select(runs_table.c.picked)).scalars().all())
    assert state == [None]


def _refusal(name: str, body: str, title: str = "") -> dict[str, Any]:
    with pytest.raises(UserError) as refused:
        read_file(name, body, title)
    assert refused.value.key == "survey/bad_file"
    return {k: refused.value.context[k] for k in ("where", "row", "reason")}


def test_a_file_with_blank_titles_questions_or_options_is_refused() -> None:
    blank_title = 'title = "  "\n[[questions]]\ntext = "Fine?"\nkind = "text"\n'
    assert _refusal("s.toml", blank_title) == {"where": "title", "row": 0, "reason": "empty"}
    blank_text = 'title = "T"\n[[questions]]\ntext = "   "\nkind = "text"\n'
    assert _refusal("s.toml", blank_text) == {
        "where": "questions[1].text",
        "row": 0,
        "reason": "empty",
    }
    invisible = "Pick one,single,\u200b|Tea\n"  # a zero-width space shows nothing on a button
    assert _refusal("s.csv", invisible) == {"where": "", "row": 1, "reason": "empty_option"}
    assert _refusal(" .csv", "Fine?,text\n") == {"where": "title", "row": 0, "reason": "empty"}
    # A spreadsheet paste: tab-separated, its first question with a comma in it.
    (pasted,) = read_file("paste.txt", "How are you, really?\ttext\t\nPick\tsingle\tA|B\n", "")
    assert pasted == (
        "paste",
        (
            surveys.Question("How are you, really?", "text"),
            surveys.Question("Pick", "single", ("A", "B")),
        ),
    )
    tidy = 'title = " Tidy "\n[[questions]]\ntext = "Fine?"\nkind = "text"\n'
    assert [title for title, _ in read_file("s.toml", tidy, "")] == ["Tidy"]


def test_community_toml_refuses_a_blank_title_and_titles_equal_but_for_spaces(
    conn: Connection, community: Community
) -> None:
    def synced(extra: str) -> None:
        config, _ = parse_config(TEST_COMMUNITY + extra)
        surveys.sync_file_surveys(conn, community, config.surveys, community.created_at)

    one = '[[surveys]]\ntitle = "{}"\n[[surveys.questions]]\ntext = "Fine?"\nkind = "text"\n'
    with pytest.raises(ConfigError, match=r"surveys\[1\]\.title: empty"):
        synced(one.format("   "))
    with pytest.raises(ConfigError, match=r"surveys\[2\]: the same title as surveys\[1\]"):
        synced(one.format("Feedback") + one.format("Feedback "))


def test_an_option_that_is_a_number_is_chosen_by_its_words() -> None:
    times = surveys.Question("How many times?", "single", ("0", "1-2", "3+"))
    assert read_typed(times, "0") == Given(options=(0,))
    assert read_typed(times, "3+") == Given(options=(2,))
    assert read_typed(times, "2") == Given(options=(1,))  # in range: its number
    assert read_typed(times, "7") == Given(options=(6,))  # out of range, said so
    years = surveys.Question("Since when?", "multiple", ("2020", "2024"))
    assert read_typed(years, "2020 2024") == Given(options=(0, 1))
    assert read_typed(years, "1, 2024") == Given(options=(0, 1))


# Two processes on PostgreSQL ---------------------------------------------------------------


@contextmanager
def two_connections(store: Store) -> Iterator[tuple[Connection, Connection]]:
    """Two connections to the store's database, each in its own transaction, as two processes
    hold them."""
    if not store.url.startswith("postgresql"):
        pytest.skip("row locks are PostgreSQL's; SQLite's one writer takes turns already")
    engine = make_engine(store.url, writer=True, pool_size=2)
    try:
        with engine.connect() as first, engine.connect() as second:
            yield first, second
    finally:
        engine.dispose()


def _acme(conn: Connection) -> Community:
    found = community_by_slug(conn, "acme")
    assert found is not None
    return found


def _waiting(watcher: Connection, pid: int, done: threading.Event) -> None:
    """Return once the connection `pid` waits for a lock (or its work already finished)."""
    query = sql(
        "SELECT count(*) FROM pg_stat_activity WHERE pid = :pid AND wait_event_type = 'Lock'"
    )
    for _ in range(100_000):
        if done.is_set() or watcher.execute(query, {"pid": pid}).scalar_one():
            return
    raise AssertionError("the second process never waited")


def _in_thread(
    conn: Connection, work: Callable[[Connection], Any]
) -> tuple[threading.Thread, threading.Event, list[Any]]:
    done, result = threading.Event(), []

    def run() -> None:
        try:
            with conn.begin():
                result.append(work(conn))
        except Exception as error:  # reported by the test
            result.append(error)
        finally:
            done.set()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, done, result


async def test_two_processes_ticking_options_at_once_lose_no_tick(chat: Chat, store: Store) -> None:
    load_surveys(store, SURVEY.replace('kind = "scale"', 'kind = "text"'))
    await chat.say("boss", "/survey start 1")
    private = dm(chat)
    await private.say("alice", "/survey take 1")
    await private.say("alice", "Nice")  # at the multiple choice now
    alice = member_id(store, "console", "alice")
    assert alice is not None

    def tick(option: int) -> Callable[[Connection], Any]:
        def work(conn: Connection) -> Any:
            survey = surveys.find_survey(conn, _acme(conn).id, 1)
            assert survey is not None
            return survey_runs.toggle(
                conn, survey, member_id=alice, question=1, option=option, at=chat.now
            )

        return work

    with two_connections(store) as (first, second), store_watcher(store) as watcher:
        pid = second.execute(sql("SELECT pg_backend_pid()")).scalar_one()
        second.commit()
        with first.begin():
            tick(0)(first)
            thread, done, result = _in_thread(second, tick(3))
            _waiting(watcher, pid, done)
        thread.join()
    assert not isinstance(result[0], Exception), result
    picked = store.read_now(lambda c: c.execute(select(runs_table.c.picked)).scalar_one())
    assert picked == [0, 3]


async def test_two_processes_finishing_at_once_pay_once(chat: Chat, store: Store) -> None:
    load_surveys(store, SURVEY.replace('kind = "scale"', 'kind = "text"'))
    await chat.say("boss", "/survey start 1")
    private = dm(chat)
    for words in ("/survey take 1", "Nice", "1", "2"):
        await private.say("alice", words)  # at the last question now
    alice = member_id(store, "console", "alice")
    assert alice is not None

    def finish(conn: Connection) -> Any:
        acme = _acme(conn)
        survey = surveys.find_survey(conn, acme.id, 1)
        assert survey is not None
        return survey_runs.answer(
            conn, acme, survey, member_id=alice, question=3, given=Given(text="Hi"), at=chat.now
        )

    with two_connections(store) as (first, second), store_watcher(store) as watcher:
        pid = second.execute(sql("SELECT pg_backend_pid()")).scalar_one()
        second.commit()
        with first.begin():
            assert finish(first).earned is not None
            thread, done, result = _in_thread(second, finish)
            _waiting(watcher, pid, done)
        thread.join()
    assert result[0].finished and result[0].earned is None  # finished before, paid nothing
    assert ledger_state(store, "console", "alice") == (20, 20)
    assert len(rows(store, survey_answers)) == 4


async def test_a_file_change_waits_for_an_answer_being_saved(chat: Chat, store: Store) -> None:
    load_surveys(store)
    await chat.say("boss", "/survey start 1")
    await dm(chat).say("alice", "/survey take 1")
    alice = member_id(store, "console", "alice")
    assert alice is not None
    config, _ = parse_config(TEST_COMMUNITY + REORDERED)
    with two_connections(store) as (first, second), store_watcher(store) as watcher:
        pid = second.execute(sql("SELECT pg_backend_pid()")).scalar_one()
        second.commit()
        with first.begin():
            acme = _acme(first)
            survey = surveys.find_survey(first, acme.id, 1)
            assert survey is not None
            survey_runs.answer(
                first,
                acme,
                survey,
                member_id=alice,
                question=0,
                given=Given(score=1),
                at=chat.now,
                mark=NPS.mark,
            )

            def sync(conn: Connection) -> None:
                surveys.sync_file_surveys(conn, _acme(conn), config.surveys, chat.now)

            thread, done, result = _in_thread(second, sync)
            _waiting(watcher, pid, done)
        thread.join()
    assert result == [None]
    # The answered survey was kept, closed, for its results; the new questions are a new one.
    kept = store.read_now(lambda c: surveys.find_survey(c, _acme(c).id, 1))
    assert kept is not None and kept.state == "closed" and kept.questions[0] == NPS
    assert [(r.survey_id, r.question, r.score) for r in rows(store, survey_answers)] == [(1, 0, 1)]


@contextmanager
def store_watcher(store: Store) -> Iterator[Connection]:
    """A third connection that watches who waits for a lock."""
    engine = make_engine(store.url, writer=False, pool_size=1)
    try:
        with engine.connect() as watcher:
            watcher.execution_options(isolation_level="AUTOCOMMIT")
            yield watcher
    finally:
        engine.dispose()
