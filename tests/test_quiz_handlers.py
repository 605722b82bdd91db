"""/quiz through the real core, in both languages: the bank kept in private, a quiz run one
question at a time (the sweep ends each at its time), answers said to the presser alone,
paid once, and the calendar starting a quiz by itself."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from community.jobs import SCHEDULE_CHANGED
from handlers.firings import Firings
from handlers.parsing import event_from_button
from handlers.router import Dispatcher
from handlers.types import Visibility
from storage.quiz_tables import quiz_answers, quiz_questions
from storage.schema import audit_log, polls
from storage.store import Store
from tests.conftest import T0, reconfigure
from tests.harness import Chat, Clock, Said, ledger_state, posted, rows

# A file as an admin attaches it: a header, three good questions.
BANK_CSV = (
    "question,options,correct,explanation,category\n"
    "Which day is member day?,8th|18th|28th,2,Every month on the 18th.,brand\n"
    "What does a make-up card fill?,A missed day|A cart,A,,loyalty\n"
    '"Our mascot, the?",Fox|Owl|Cat,3,Meow.,brand\n'
)
# Each question's right option, as a member who knows would press it (from 0).
RIGHT = {
    "Which day is member day?": 1,
    "What does a make-up card fill?": 0,
    "Our mascot, the?": 2,
    "每月几号是会员日？": 1,
    "补签卡有什么用？": 0,
}
SECONDS = 30  # the default [quiz] seconds


@pytest.fixture
def boss_dm(dispatcher: Dispatcher, clock: Clock) -> Chat:
    """The admin's private chat with the bot: where the bank is kept."""
    return Chat(dispatcher, clock, chat_id="boss", private=True)


@pytest.fixture
async def firings(store: Store, clock: Clock) -> Firings:
    swept = Firings(store, clock=clock)
    await swept.sweep(clock.now)  # the process has started
    return swept


async def _import(boss_dm: Chat, text: str = BANK_CSV, command: str = "/quiz import") -> Said:
    return await boss_dm.deliver(
        replace(boss_dm.event("boss", command), file_name="bank.csv", file_text=text)
    )


def _question_of(said: Said) -> tuple[str, list[str]]:
    """The question a reply asks and its buttons' commands."""
    reply = said.outcome.reply
    assert reply is not None and reply.poll is not None and reply.poll.quiz
    return reply.poll.question, [choice.command for choice in reply.choices]


async def test_a_quiz_runs_question_by_question_pays_right_answers_and_ends_with_a_leaderboard(
    chat: Chat, boss_dm: Chat, store: Store, firings: Firings, woken: list[str]
) -> None:
    imported = await _import(boss_dm)
    assert imported.text == "📚 3 questions added to the bank. It holds 3 now."
    started = await chat.say("boss", "/quiz start 2 brand")
    assert SCHEDULE_CHANGED in woken  # an alarm for the question's end
    question, buttons = _question_of(started)
    assert started.text is not None and started.text.startswith(
        "🎯 Quiz time! 2 questions, 30 seconds each.\n"
        "A right answer earns 5 points, the first right answer 5 more.\n\n"
        "❓ Question 1 of 2 (30 s)\n"
    )
    right = RIGHT[question]
    wrong = (right + 1) % len(buttons)

    no = await chat.press("alice", buttons[wrong])
    assert no.outcome.reply is not None and no.outcome.reply.visibility is Visibility.PRIVATE
    assert no.text is not None and no.text.startswith("❌ Not this time: the answer to question 1")
    yes = await chat.press("bob", buttons[right])
    assert yes.text is not None and yes.text.startswith("✅ Right: ")
    assert ", and you were the first!\n+10 points (balance 10)." in yes.text
    second = await chat.press("carol", buttons[right])
    assert second.text is not None and "+5 points (balance 5)." in second.text
    again = await chat.press("alice", buttons[right])
    assert again.text is not None and again.text.startswith("You already answered question 1 (")
    # The same press delivered twice (a platform's retry) is handled once.
    pressed = event_from_button(
        event_id="console:retried",
        chat=chat.ref(),
        actor=chat.actor("dave"),
        data=buttons[right],
        occurred_at=chat.now,
    )
    assert (await chat.deliver(pressed)).text is not None
    twice = await chat.deliver(pressed)
    assert twice.outcome.reply is None

    # Past its end, before the sweep came: too late, and said so.
    chat.now = T0 + timedelta(seconds=SECONDS)
    late = await chat.press("erin", buttons[right])
    assert late.text == f"⌛ Question 1 (“{question}”) has closed: that answer does not count."
    await firings.sweep(chat.now + timedelta(seconds=1))
    [(where, next_question)] = posted(store)
    assert where == "group-1"
    assert next_question.startswith("⏱ Question 1: the answer was ")
    assert "3 of 4 right; first: bob.\n\n❓ Question 2 of 2 (30 s)\n" in next_question

    chat.now += timedelta(seconds=5)
    round_two = rows(store, polls)[-1]
    second_right = RIGHT[round_two.question]
    await chat.press("alice", f"/vote {round_two.id} {second_right}")
    await firings.sweep(round_two.closes_at)
    finished = posted(store)[-1][1]
    assert "🏁 The quiz is over!\n🏆 Leaderboard\n" in finished
    assert "1. alice — 1 right, 10 points\n1. bob — 1 right, 10 points\n" in finished
    assert "4 took part." in finished
    assert f"Q1 · {question} → " in finished and f"Q2 · {round_two.question} → " in finished
    assert ledger_state(store, "console", "bob") == (10, 10)
    assert ledger_state(store, "console", "alice") == (10, 10)
    assert len(rows(store, quiz_answers)) == 5  # four in the first question, one in the second
    assert (await chat.say("boss", "/quiz stop")).text == (
        "No quiz is running here. Start one: /quiz start"
    )
    actions = [row.action for row in rows(store, audit_log)]
    assert actions == ["quiz_questions_add", "quiz_start"]


async def test_a_chinese_community_runs_and_stops_its_quiz_in_chinese(
    chat: Chat, boss_dm: Chat, store: Store, firings: Firings
) -> None:
    reconfigure(store, locale="zh_CN")
    added = await boss_dm.say(
        "boss", "/quiz 添加 #brand 每月几号是会员日？| 8号 | *18号 | = 每月18日。"
    )
    assert added.text == "📚 已向题库添加 1 题。题库现有 1 题。"
    await boss_dm.say("boss", "/quiz add 补签卡有什么用？| *补一天签到 | 双倍积分")
    started = await chat.say("boss", "/quiz 开始 1")
    assert started.text is not None and started.text.startswith(
        "🎯 有奖问答开始！共 1 题，每题 30 秒。\n"
        "答对得 5 积分，最先答对再加 5 积分。\n\n❓ 第 1/1 题（30 秒）"
    )
    question, buttons = _question_of(started)
    said = await chat.press("小明", buttons[RIGHT[question]])
    assert said.text is not None and said.text.startswith("✅ 答对了：")
    assert "，而且你是第一个答对的！\n+10 积分（余额 10）。" in said.text
    wrong = await chat.press("小红", buttons[1 - RIGHT[question]])
    assert wrong.text is not None and wrong.text.startswith("❌ 答错了：第 1 题的答案是 ")
    running = await chat.say("boss", "/quiz start")
    assert running.text == "本群已有一场有奖问答在进行（第 1/1 题）。/quiz stop 可结束。"
    stopped = await chat.say("boss", "/quiz 结束")
    assert stopped.text is not None
    assert "2 人作答，1 人答对，最先答对：小明。" in stopped.text
    assert (
        "🏁 有奖问答已提前结束（共 1 题，已出 1 题）。\n🏆 排行榜\n1. 小明 —— 答对 1 题，10 积分"
        in stopped.text
    )
    assert f"第 1 题 · {question} → " in stopped.text
    # Stopped: its question takes no more answers, and the sweep posts nothing for it.
    late = await chat.press("小刚", buttons[RIGHT[question]])
    assert late.text is not None and late.text.startswith("⌛ 第 1 题")
    await firings.sweep(chat.now + timedelta(minutes=5))
    assert posted(store, "zh_CN") == []
    assert ledger_state(store, "console", "小明") == (10, 10)


async def test_the_bank_is_kept_in_private_and_a_bad_file_imports_nothing(
    chat: Chat, boss_dm: Chat, store: Store
) -> None:
    bad = BANK_CSV + "Too few?,Only one,1\nOut of range?,a|b,5\n"
    refused = await _import(boss_dm, bad)
    assert refused.text == (
        "Nothing was imported: 2 lines are no question. Mend them and send the file again"
        " (3 good lines will then go in).\n"
        "Line 5: it needs at least 2 options, separated by |\n"
        "Line 6: the right option must be a number from 1 to 2 (or a letter, A for the first)"
    )
    assert rows(store, quiz_questions) == []
    in_group = await chat.deliver(
        replace(chat.event("boss", "/quiz import"), file_name="b.csv", file_text=BANK_CSV)
    )
    assert in_group.text == (
        "🔒 The question bank holds the answers: send this to me in a private chat,"
        " where only you read them."
    )
    assert rows(store, quiz_questions) == []
    assert (await chat.say("boss", "/quiz bank")).text == in_group.text
    too_big = await boss_dm.deliver(
        replace(boss_dm.event("boss", "/quiz import"), file_name="b.csv", file_refused="too_big")
    )
    assert (
        too_big.text == "I could not read the attached file: it is too big. Nothing was imported."
    )
    await _import(boss_dm)
    again = await _import(boss_dm)
    assert again.text == (
        "📚 0 questions added to the bank, 3 left out (already in it). It holds 3 now."
    )
    listed = await boss_dm.say("boss", "/quiz bank brand")
    assert listed.text == (
        "📚 Quiz bank · brand: 2 questions\n"
        "Categories: brand 2 · loyalty 1\n\n"
        "#1 [brand] Which day is member day?\n"
        "A. 8th\nB. 18th ✔\nC. 28th\n\n"
        "#3 [brand] Our mascot, the?\n"
        "A. Fox\nB. Owl\nC. Cat ✔"
    )
    removed = await chat.say("boss", "/quiz remove 1")
    assert removed.text == "🗑 Question #1 is out of the bank: Which day is member day?"
    assert (await chat.say("boss", "/quiz remove 1")).text == (
        "There is no question #1 in the bank. /quiz bank lists them."
    )
    typed = await boss_dm.say("boss", "/quiz add Sky? | Green | Blue")
    assert typed.text == (
        "That question cannot go into the bank: mark the right option, and only it, with * in"
        " front. /quiz add shows how to write one."
    )


@pytest.mark.parametrize(
    ("who", "text", "answer"),
    [
        ("alice", "/quiz start", "Sorry, /quiz is for community admins only."),
        ("boss", "/quiz start 99", "A quiz asks 1 to 20 questions, e.g. /quiz start 5"),
        ("boss", "/quiz start 0", "A quiz asks 1 to 20 questions, e.g. /quiz start 5"),
        (
            "boss",
            "/quiz start 2 nope",
            "There are no questions in the category “nope”. /quiz bank lists the categories.",
        ),
        ("boss", "/quiz start 2 3 4", None),
        ("boss", "/quiz dance", None),
        ("boss", "/quiz stop now", None),
    ],
)
async def test_bad_quiz_commands_are_answered_and_start_nothing(
    chat: Chat, boss_dm: Chat, store: Store, who: str, text: str, answer: str | None
) -> None:
    await _import(boss_dm)
    said = await chat.say(who, text)
    assert said.text is not None
    if answer is None:
        assert said.text.startswith("Usage:\n/quiz start [N] [category]")
    else:
        assert said.text == answer
    assert rows(store, polls) == []


async def test_a_quiz_needs_a_group_and_its_questions_are_no_polls_to_close(
    chat: Chat, boss_dm: Chat
) -> None:
    await _import(boss_dm)
    assert (await boss_dm.say("boss", "/quiz start")).text == (
        "A quiz runs in a group: send /quiz start there."
    )
    started = await chat.say("boss", "/quiz start 1")
    _, buttons = _question_of(started)
    poll_number = buttons[0].split()[1]
    refused = await chat.say("boss", f"/closepoll {poll_number}")
    assert refused.text == (
        "That is a quiz question: it closes by itself. /quiz stop ends the whole quiz."
    )
    assert (await chat.say("boss", "/closepoll")).text == "There is no open poll here."
    # A press of the question's button from another chat counts nowhere.
    elsewhere = Chat(chat.dispatcher, chat.clock, chat_id="group-2")
    said = await elsewhere.press("alice", buttons[0])
    assert said.text is not None and "only counts from the chat where" in said.text


async def test_a_calendar_topic_with_a_quiz_starts_one_in_its_groups(
    chat: Chat, boss_dm: Chat, store: Store, clock: Clock, firings: Firings
) -> None:
    await _import(boss_dm)
    bad = await chat.say("boss", "/topic add daily 20:00 Quiz night! --quiz 50")
    assert bad.text == (
        "A topic's quiz asks 1 to 20 questions, e.g. /topic add sat 20:00 Quiz night! --quiz 5"
    )
    added = await chat.say("boss", "/topic add daily 20:00 Quiz night! --quiz 2 brand")
    assert added.text is not None and added.text.startswith("🗓 Topic #1 saved")
    clock.now = evening = T0 + timedelta(hours=11)  # 20:00 in Shanghai
    await firings.sweep(evening)
    [(_, topic), (_, first_question)] = posted(store)
    assert topic == "🗓 Today's topic\nQuiz night!"
    assert first_question.startswith("🎯 Quiz time! 2 questions, 30 seconds each.")
    [round_one] = rows(store, polls)
    assert round_one.question in ("Which day is member day?", "Our mascot, the?")
    # The group's quiz runs as one started by hand: its question ends at its time.
    await firings.sweep(evening + timedelta(seconds=SECONDS))
    assert posted(store)[-1][1].startswith("⏱ Question 1: the answer was ")
