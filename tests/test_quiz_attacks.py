"""Quizzes attacked as a prankster and a careless operator would: numbers /quiz start cannot
take, files from other spreadsheets, Telegram's answers reaching the bot late, the bot down
through a question's end, and two processes (or a /quiz stop and a question's end) moving one
quiz at the same moment on PostgreSQL. Each test names the defect it repaired."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, create_engine, func, select, text, update

from community import quiz_runs
from community.audit import Actor
from community.communities import Community, apply_config
from community.config import parse_config
from community.polls import poll_from_row
from community.quiz_csv import Draft, read_csv
from community.quizzes import add_questions
from handlers.firings import Firings
from handlers.router import Dispatcher
from storage.engine import make_engine, normalize_url
from storage.quiz_tables import quiz_answers
from storage.quiz_tables import quiz_runs as quiz_runs_table
from storage.schema import audit_log, outbox, polls
from storage.store import Store
from tests.conftest import T0, TEST_COMMUNITY, reconfigure
from tests.harness import Chat, Clock, ledger_state, posted, rows
from tests.test_quiz_handlers import RIGHT, SECONDS, _import, _question_of

GRACE = timedelta(minutes=60)  # [schedule] grace_minutes' default


@pytest.fixture
def boss_dm(dispatcher: Dispatcher, clock: Clock) -> Chat:
    return Chat(dispatcher, clock, chat_id="boss", private=True)


@pytest.fixture
async def firings(store: Store, clock: Clock) -> Firings:
    swept = Firings(store, clock=clock)
    await swept.sweep(clock.now)
    return swept


@pytest.mark.parametrize(
    ("locale", "limits", "usage"),
    [
        ("en", "A quiz asks 1 to 20 questions, e.g. /quiz start 5", "Usage:\n/quiz start"),
        ("zh_CN", "一场问答可出 1 到 20 题，例如 /quiz start 5", "用法：\n/quiz start"),
    ],
)
async def test_a_number_quiz_start_cannot_take_is_answered_with_the_limits(
    chat: Chat, boss_dm: Chat, store: Store, locale: str, limits: str, usage: str
) -> None:
    # Repro: "/quiz start -1" (or 2.5, or a 14-digit number) answered "There are no questions
    # in the category “-1”": the word was searched for as a category. A word no category can
    # be called (500 letters) was echoed back whole the same way.
    reconfigure(store, locale=locale)
    await _import(boss_dm)
    for typed in ("-1", "2.5", "+3", "－２", "99999999999999", "-1 brand"):
        assert (await chat.say("boss", f"/quiz start {typed}")).text == limits, typed
    for typed in ("x" * 500, "brand!"):
        said = await chat.say("boss", f"/quiz start 2 {typed}")
        assert said.text is not None and said.text.startswith(usage), typed
    assert rows(store, polls) == [] and rows(store, quiz_runs_table) == []


def test_a_file_from_another_spreadsheet_reads_as_its_author_meant() -> None:
    # Repro: a tab-separated file whose first question has a comma in it was read with commas
    # (every line "too few columns"); Excel's CSV where a comma is the decimal mark (";")
    # read as one column. An explanation of four lines (Telegram takes three) or of 150 emoji
    # (300 in Telegram's count) went into the bank, and each time it was asked Telegram
    # refused its quiz poll, so it went out as buttons.
    tabbed = "Sizes, in cm?\t38|40\t2\nColour?\tred|blue\tA\n"
    semicolons = "question;options;correct\nSizes, in cm?;38|40;2\n"
    for text_ in (tabbed, semicolons):
        drafts, problems = read_csv(text_)
        assert problems == [] and drafts[0] == Draft("Sizes, in cm?", ("38", "40"), 1)
    drafts, problems = read_csv('Q?,a|b,1,"one\ntwo\n\nthree\nfour"\n')
    assert problems == [] and drafts[0].explanation == "one\ntwo\nthree four"
    drafts, problems = read_csv("Q?,a|b,1," + "😀" * 150 + "\n")
    assert drafts == [] and [p.reason for p in problems] == ["explanation_too_long"]
    drafts, problems = read_csv("😀" * 151 + "?,a|b,1\n")
    assert drafts == [] and [p.reason for p in problems] == ["question_too_long"]


async def test_a_quiz_the_bot_was_down_through_ends_with_its_leaderboard(
    chat: Chat, boss_dm: Chat, store: Store, firings: Firings
) -> None:
    # Repro: a quiz at 20:00, the bot down until 08:00: at its start the sweep ended question 1
    # and asked question 2 twelve hours later, in a chat that had moved on. A round that ended
    # longer ago than the scheduler's grace now ends the quiz, with what it asked.
    await _import(boss_dm)
    started = await chat.say("boss", "/quiz start 3")
    question, buttons = _question_of(started)
    chat.now = T0 + timedelta(seconds=5)
    await chat.press("alice", buttons[RIGHT[question]])
    chat.now = T0 + timedelta(seconds=SECONDS) + GRACE + timedelta(minutes=1)
    await firings.sweep(chat.now)
    [(where, finished)] = posted(store)
    assert where == "group-1"
    assert "🏁 The quiz was stopped after 1 of 3 questions.\n🏆 Leaderboard\n" in finished
    assert "1. alice — 1 right, 10 points" in finished
    assert len(rows(store, polls)) == 1  # no second question asked
    assert ledger_state(store, "console", "alice") == (10, 10)
    stops = [row for row in rows(store, audit_log) if row.action == "quiz_stop"]
    assert [row.details["by"] for row in stops] == ["scheduler"]
    # A group whose quiz ended so is free for the next one; a shorter outage only delays it.
    again = await chat.say("boss", "/quiz start 2")
    assert again.text is not None and again.text.startswith("🎯")
    chat.now += timedelta(seconds=SECONDS) + GRACE - timedelta(minutes=1)
    await firings.sweep(chat.now)
    assert "❓ Question 2 of 2" in posted(store)[-1][1]


async def test_telegram_quiz_answers_reaching_the_bot_after_the_question_closed_still_count(
    chat: Chat, boss_dm: Chat, store: Store, firings: Firings
) -> None:
    # Repro: Telegram's quiz poll keeps the time itself (its countdown), and shows the member
    # "right" at once; but its answer reaches the bot a moment later (or, the bot down a while,
    # from the backlog after the catch-up sweep closed the question): refused as too late,
    # silently (a poll answer gets no reply). The member saw a right answer and got nothing.
    await _import(boss_dm)
    started = await chat.say("boss", "/quiz start 2")
    question, buttons = _question_of(started)
    right = RIGHT[question]
    [asked] = rows(store, polls)
    store.write_now(
        lambda conn: conn.execute(
            update(polls).where(polls.c.id == asked.id).values(native_id="tg-1")
        )
    )
    end = T0 + timedelta(seconds=SECONDS)
    chat.now = end + timedelta(seconds=1)  # the alarm has not gone off yet
    await chat.vote_natively("alice", "tg-1", [right])
    await firings.sweep(end)
    chat.now = end + timedelta(minutes=10)  # read from the backlog after the bot came back
    await chat.vote_natively("bob", "tg-1", [right])
    late = await chat.press("carol", buttons[right])  # a button keeps our own time
    assert late.text is not None and late.text.startswith("⌛ Question 1")
    chat.now = end + GRACE
    await chat.vote_natively("dave", "tg-1", [right])
    assert ledger_state(store, "console", "alice") == (10, 10)
    assert ledger_state(store, "console", "bob") == (5, 5)
    paid = {row.member_id: row.points for row in rows(store, quiz_answers)}
    assert sorted(paid.values()) == [5, 10]  # carol and dave: nothing recorded


# ---- Two processes on PostgreSQL ------------------------------------------------------------

SKY = Draft("Sky colour?", ("Green", "Blue"), 1)
GRASS = Draft("Grass colour?", ("Green", "Blue"), 0)


@pytest.fixture
def quiz_engine(db_url: str) -> Iterator[tuple[Engine, Community]]:
    """A PostgreSQL database with the community, a bank of two questions and a quiz of both
    running in group-1."""
    if not db_url.startswith("postgresql"):
        pytest.skip("a race of two processes: PostgreSQL (SQLite's one writer serialises them)")
    engine = make_engine(db_url, writer=True, pool_size=3)
    config, digest = parse_config(TEST_COMMUNITY)
    with engine.begin() as conn:
        community = apply_config(
            conn, config, digest, default_timezone="UTC", default_locale="en", at=T0
        )
        add_questions(conn, community, [SKY, GRASS], actor=Actor(None, "t"), at=T0, source="t")
        quiz_runs.start(
            conn,
            community,
            platform="console",
            chat_id="group-1",
            channel_id=None,
            count=2,
            category="",
            actor=Actor(None, "t"),
            at=T0,
        )
    yield engine, community
    engine.dispose()


def test_a_stop_as_a_question_ends_neither_waits_for_the_other_on_postgresql(
    db_url: str, quiz_engine: tuple[Engine, Community]
) -> None:
    # Repro: /quiz stop locked the quiz row, then the question's poll; the question's end (the
    # sweep, another process) locks the poll, then the quiz. Each waited for the other until
    # PostgreSQL's deadlock detector killed one (a second's stall, an error in the log, a
    # rerun). Now the stop takes them in the same order, waits, and stops the quiz where the
    # question's end left it.
    engine, community = quiz_engine
    name = f"quiz-stop-{uuid.uuid4().hex[:8]}"
    stopper = create_engine(normalize_url(db_url), connect_args={"application_name": name})
    end = T0 + timedelta(seconds=SECONDS)
    said: list[object] = []

    def stop() -> None:
        try:
            with stopper.begin() as conn:
                reply = quiz_runs.stop(
                    conn,
                    community,
                    platform="console",
                    chat_id="group-1",
                    actor=Actor(None, "console:boss"),
                    at=end,
                )
            said.append(reply.context)
        except BaseException as error:
            said.append(error)

    with engine.connect() as ending:
        claimed = ending.execute(
            update(polls)
            .where(polls.c.closed_at.is_(None))
            .values(closed_at=polls.c.closes_at)
            .returning(*polls.c)
        ).one()
        racer = threading.Thread(target=stop)
        racer.start()
        _wait_until_waiting(engine, name, racer)
        quiz_runs.round_ended(
            ending,
            community,
            poll_from_row(claimed),
            native_message_id=None,
            channel_id=None,
            now=end,
            platforms=set(),
        )
        ending.commit()
    racer.join(10)
    stopper.dispose()
    [context] = said
    assert isinstance(context, dict), context
    assert (context["stopped"], context["asked"], context["rounds"]) == (True, 2, 2)
    with engine.connect() as conn:
        run = conn.execute(select(quiz_runs_table)).one()
        assert run.finished_at == end and run.live_chat is None and run.position == 2
        assert conn.execute(select(func.count()).where(polls.c.closed_at.is_(None))).scalar() == 0


def _wait_until_waiting(engine: Engine, name: str, racer: threading.Thread) -> None:
    """Until the racing connection waits for a lock (or finished without waiting)."""
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE application_name = :name AND wait_event_type = 'Lock'"
    )
    with engine.connect() as watcher:
        for _ in range(2000):
            waiting = watcher.execute(query, {"name": name}).scalar_one()
            watcher.rollback()
            if waiting or not racer.is_alive():
                return
            racer.join(0.005)
    raise AssertionError("the stop never waited")


async def test_two_processes_sweeping_one_quiz_post_and_pay_once_on_postgresql(
    db_url: str, store: Store, clock: Clock, chat: Chat, boss_dm: Chat
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("a race of two processes: PostgreSQL (SQLite's one writer serialises them)")
    await _import(boss_dm)
    started = await chat.say("boss", "/quiz start 2")
    question, buttons = _question_of(started)
    await chat.press("alice", buttons[RIGHT[question]])
    other = Store(db_url)
    try:
        clock.now = T0 + timedelta(seconds=SECONDS)
        both = (Firings(store, clock=clock), Firings(other, clock=clock))
        await asyncio.gather(*(firings.sweep(clock.now) for firings in both))
        await asyncio.gather(*(firings.sweep(clock.now) for firings in both))
    finally:
        other.close()
    [(_, next_question)] = posted(store)
    assert "❓ Question 2 of 2" in next_question
    assert len(rows(store, polls)) == 2
    assert len([row for row in rows(store, outbox) if row.kind == "post"]) == 1
    assert ledger_state(store, "console", "alice") == (10, 10)
