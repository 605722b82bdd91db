"""Surveys through the real core: an admin starts one, members answer privately one question at
a time (buttons, typed words), stop and resume, earn the completion points once; bad input is
answered and changes nothing; admins read the results and export them."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, select

from community import surveys
from community.communities import community_by_slug
from community.config import parse_config
from community.outbox import decode_reply
from handlers.router import Dispatcher
from handlers.types import Visibility
from storage.schema import audit_log, outbox
from storage.store import Store
from storage.survey_tables import survey_answers, survey_runs
from tests.conftest import TEST_COMMUNITY, reconfigure
from tests.harness import RENDERER, Chat, Clock, Said, ledger_state, posted, rows

SURVEY = """
[[surveys]]
title = "How are we doing?"

[[surveys.questions]]
text = "How likely are you to recommend us to a friend?"
kind = "scale"

[[surveys.questions]]
text = "What do you like most?"
kind = "multiple"
options = ["Products", "Community", "Rewards", "Events"]

[[surveys.questions]]
text = "Which shop do you use?"
kind = "single"
options = ["Online", "In town"]

[[surveys.questions]]
text = "What should we do better?"
kind = "text"
"""


# SURVEY's questions as stored: their buttons carry each one's mark.
NPS = surveys.Question("How likely are you to recommend us to a friend?", "scale")
LIKES = surveys.Question(
    "What do you like most?", "multiple", ("Products", "Community", "Rewards", "Events")
)
SHOP = surveys.Question("Which shop do you use?", "single", ("Online", "In town"))


def marked(command: str, question: surveys.Question) -> str:
    """A survey button's command: `command` and the mark of the question it answers."""
    return f"{command} {question.mark}"


def load_surveys(store: Store, extra: str = SURVEY) -> None:
    """The test community with [[surveys]], synced as a start with a changed file does."""
    config, _ = parse_config(TEST_COMMUNITY + extra)

    def sync(conn: Connection) -> None:
        acme = community_by_slug(conn, "acme")
        assert acme is not None
        surveys.sync_file_surveys(conn, acme, config.surveys, acme.created_at)

    store.write_now(sync)


def dm(chat: Chat) -> Chat:
    """A private chat with the bot on the platform of `chat`."""
    return Chat(
        chat.dispatcher,
        chat.clock,
        chat_id=f"dm-{chat.platform}",
        platform=chat.platform,
        private=True,
    )


def questions_sent(store: Store) -> list[tuple[str, str, list[str]]]:
    """The survey questions sent to private chats: to whom, the words, the buttons."""
    sent = []
    for row in rows(store, outbox):
        reply = decode_reply(row.payload, "en")
        if row.kind == "direct" and reply.template == "survey/question":
            buttons = [choice.command for choice in reply.choices]
            sent.append((row.chat_id, RENDERER.render(reply), buttons))
    return sent


def text(said: Said) -> str:
    assert said.text is not None, "the bot did not answer"
    return said.text


def template(said: Said) -> str:
    assert said.outcome.reply is not None
    return said.outcome.reply.template


async def test_a_member_answers_privately_one_question_at_a_time_and_earns_once(
    chat: Chat, store: Store
) -> None:
    load_surveys(store)
    started = await chat.say("boss", "/survey start 1")
    assert text(started) == (
        "📋 Survey #1 “How are we doing?” is open: its invitation was posted in 1 group. "
        "/survey results 1 shows the answers; /survey stop 1 closes it."
    )
    ((where, invitation),) = posted(store)
    assert where == "group-1"
    assert invitation == (
        "📋 Survey: How are we doing?\n4 questions, answered privately. +20 points when you "
        "finish.\n\n"
        "Press the button below to take it (or send /survey take 1 to me privately)."
    )
    # The invitation's button, pressed in the group: the survey goes to the private chat.
    taken = await chat.press("alice", "/survey take 1")
    assert taken.outcome.reply is not None
    assert taken.outcome.reply.visibility is Visibility.PRIVATE
    assert text(taken).startswith("✉️ alice, I sent you “How are we doing?” in our private chat")
    ((to, first, buttons),) = questions_sent(store)
    assert to == "alice"
    assert first == (
        "📋 How are we doing? — question 1 of 4\n"
        "How likely are you to recommend us to a friend?\n"
        "0 = not at all likely, 10 = extremely likely. Press a button, or type a number "
        "from 0 to 10."
    )
    assert buttons[:2] == [marked("/survey answer 1 0 0", NPS), marked("/survey answer 1 0 1", NPS)]
    assert buttons[-1] == "/survey pause 1" and len(buttons) == 12

    private = dm(chat)
    scored = await private.press("alice", "/survey answer 1 0 9")
    assert scored.outcome.reply is not None
    assert scored.outcome.reply.visibility is Visibility.CHAT  # in the private chat itself
    assert text(scored) == (
        "✅ Saved.\n📋 How are we doing? — question 2 of 4\nWhat do you like most?\n"
        "⬜ 1. Products\n⬜ 2. Community\n⬜ 3. Rewards\n⬜ 4. Events\n"
        "Tick every option that fits, then press Done; or type their numbers (e.g. 1 3)."
    )
    assert scored.button(0) == marked("/survey pick 1 1 0", LIKES)
    assert scored.button(4) == marked("/survey done 1 1", LIKES)
    await private.press("alice", "/survey pick 1 1 0")
    await private.press("alice", "/survey pick 1 1 3")
    ticked = await private.press("alice", "/survey pick 1 1 0")  # unticked again
    assert "⬜ 1. Products\n" in text(ticked) and "☑️ 4. Events\n" in text(ticked)
    assert ticked.outcome.reply is not None
    labels = [c.context for c in ticked.outcome.reply.choices]
    assert labels[3] == {"number": 4, "text": "Events", "picked": True}
    assert labels[4] == {"count": 1}
    chosen = await private.press("alice", "/survey done 1 1")
    assert "question 3 of 4\nWhich shop do you use?\n1. Online\n2. In town\n" in text(chosen)
    typed = await private.say("alice", "2")  # typed, not pressed
    assert text(typed).startswith("✅ Saved.\n📋 How are we doing? — question 4 of 4\n")
    assert "Type your answer as a message (at most 1,000 characters)." in text(typed)
    done = await private.say("alice", "  More events in Shanghai, please!  ")
    assert text(done) == "🎉 Thank you for finishing “How are we doing?”! +20 points (balance 20)."
    assert ledger_state(store, "console", "alice") == (20, 20)

    # A second run through answers nothing twice and pays nothing more.
    again = await chat.press("alice", "/survey take 1")
    assert text(again) == (
        "✅ You already finished “How are we doing?” — thank you! Each survey is answered once."
    )
    old = await private.press("alice", "/survey answer 1 0 3")
    assert template(old) == "survey/already_done"
    assert (await private.say("alice", "hello again")).text is None
    assert ledger_state(store, "console", "alice") == (20, 20)
    stored = [(r.question, r.options, r.score, r.text) for r in rows(store, survey_answers)]
    assert stored == [
        (0, None, 9, None),
        (1, [3], None, None),
        (2, [1], None, None),
        (3, None, None, "More events in Shanghai, please!"),
    ]


async def test_plain_words_after_the_survey_are_left_alone(chat: Chat, store: Store) -> None:
    load_surveys(store, SURVEY.replace('kind = "scale"', 'kind = "text"'))
    await chat.say("boss", "/survey start 1")
    private = dm(chat)
    await private.say("alice", "/survey take 1")
    paused = await private.press("alice", "/survey pause 1")
    assert text(paused) == (
        "⏸ “How are we doing?” is paused; your answers so far are kept. Send /survey (or press "
        "the invitation's button) to continue where you stopped."
    )
    assert (await private.say("alice", "just chatting")).text is None  # not taken as an answer
    resumed = await private.say("alice", "/survey")
    assert text(resumed).startswith("📋 How are we doing? — question 1 of 4\n")
    # A day later an unanswered question no longer takes the member's words.
    chat.now += timedelta(hours=25)
    assert (await private.say("alice", "hello bot")).text is None
    assert rows(store, survey_answers) == []
    back = await private.say("alice", "/survey")
    assert "question 1 of 4" in text(back)
    assert text(await private.say("alice", "Fine.")).startswith("✅ Saved.")


async def test_where_the_bot_cannot_write_first_the_member_is_told_to_start_a_chat(
    store: Store, dispatcher: Dispatcher, clock: Clock
) -> None:
    load_surveys(store, SURVEY.replace('kind = "scale"', 'kind = "text"'))
    group = Chat(dispatcher, clock, platform="telegram", chat_id="-100")
    await group.say("1000", "/survey start 1")  # the listed Telegram owner
    taken = await group.press("alice", "/survey take 1")
    assert text(taken) == (
        "✉️ alice, surveys are answered privately, and I cannot write to you first: open a "
        "private chat with me (press Start), then send /survey there."
    )
    assert questions_sent(store) == []
    # Telegram names a private chat by its user's id.
    private = Chat(dispatcher, clock, platform="telegram", chat_id="alice", private=True)
    assert (await private.say("alice", "hello")).text is None  # no answer to an unseen question
    shown = await private.say("alice", "/survey")
    assert text(shown).startswith("📋 How are we doing? — question 1 of 4\n")
    await private.say("alice", "Nice people")
    again = await group.press("alice", "/survey take 1")  # from the group, now reachable
    assert text(again).startswith("✉️ alice, I sent you")
    ((to, resumed, _),) = questions_sent(store)
    assert to == "alice"
    assert resumed.startswith("▶️ Welcome back: here is where you stopped.\n")
    assert "question 2 of 4" in resumed
    assert [r.text for r in rows(store, survey_answers)] == ["Nice people"]


async def test_bad_answers_are_explained_and_change_nothing(chat: Chat, store: Store) -> None:
    load_surveys(store)
    await chat.say("boss", "/survey start 1")
    private = dm(chat)
    await private.say("alice", "/survey take 1")
    words = await private.say("alice", "great!")
    assert text(words).startswith(
        "⚠️ Please answer with a number from 0 to 10 (or press a button).\n"
        "📋 How are we doing? — question 1 of 4\n"
    )
    assert words.outcome.reply is not None and len(words.outcome.reply.choices) == 12
    high = await private.say("alice", "11")
    assert text(high).startswith("⚠️ 11 is not an answer here: choose from 0 to 10.\n")
    forged = await private.press("alice", "/survey answer 1 0 42")
    assert text(forged).startswith("⚠️ 42 is not an answer here: choose from 0 to 10.\n")
    assert rows(store, survey_answers) == []

    await private.say("alice", "１０")  # full-width digits count
    old = await private.press("alice", "/survey answer 1 0 3")  # the first question's button
    assert text(old).startswith(
        "⚠️ That button is from question 1, which you already answered; your answer stays. "
        "Here is your current question.\n📋 How are we doing? — question 2 of 4\n"
    )
    empty = await private.press("alice", "/survey done 1 1")
    assert text(empty).startswith("⚠️ Tick at least one option first, then press Done.\n")
    wrong = await private.say("alice", "2 9")
    assert text(wrong).startswith("⚠️ 9 is not an answer here: choose from 1 to 4.\n")
    await private.say("alice", "2, 3")
    single = await private.say("alice", "1 2")
    assert text(single).startswith("⚠️ Please answer with a number from 1 to 2")
    await private.say("alice", "in town")  # an option's words count too
    long = await private.say("alice", "x" * 1001)
    assert text(long).startswith(
        "⚠️ Your answer is 1,001 characters long; at most 1,000 fit. Please shorten it and "
        "send it again.\n"
    )
    answers = [(r.question, r.options, r.score) for r in rows(store, survey_answers)]
    assert answers == [(0, None, 10), (1, [1, 2], None), (2, [1], None)]
    assert ledger_state(store, "console", "alice") == (0, 0)

    # Closed: a button from before, and typed words, change nothing.
    stopped = await chat.say("boss", "/survey stop 1")
    assert text(stopped) == (
        "🔒 Survey #1 “How are we doing?” is closed: no more answers. 0 members finished it; "
        "/survey results 1 shows the results."
    )
    late = await private.say("alice", "Too late?")
    assert text(late) == "🔒 The survey “How are we doing?” is closed: it takes no more answers."
    assert (await private.say("alice", "still there?")).text is None  # said once
    pressed = await chat.press("bob", "/survey take 1")
    assert template(pressed) == "survey/not_open"
    assert pressed.outcome.reply is not None
    assert pressed.outcome.reply.visibility is Visibility.PRIVATE  # not told to the group
    assert len(rows(store, survey_answers)) == 3
    assert template(await chat.press("bob", "/survey answer 7 0 1")) == "survey/unknown"
    assert template(await chat.press("bob", "/survey answer 1 x")) == "common/stale_button"


async def test_a_button_of_a_survey_never_taken_says_how_to_take_it(
    chat: Chat, store: Store
) -> None:
    load_surveys(store)
    await chat.say("boss", "/survey start 1")
    said = await dm(chat).press("carol", "/survey answer 1 0 5")
    assert text(said) == (
        "That button belongs to a survey you have not started. Send /survey take 1 to take "
        "“How are we doing?”."
    )
    assert rows(store, survey_runs) == []


async def test_admins_add_show_start_and_read_results_with_the_nps(
    chat: Chat, store: Store
) -> None:
    load_surveys(store)
    refused = await chat.say("alice", "/survey start 1")
    assert text(refused) == "Sorry, /survey start is for community admins only."
    listed = await chat.say("boss", "/survey list")
    assert text(listed) == (
        "📋 Surveys\n#1 How are we doing? — 4 questions · draft · community.toml · 0 finished"
    )
    shown = await chat.say("boss", "/survey show 1")
    assert text(shown).startswith(
        "📋 #1 How are we doing? · draft (not started) · from community.toml\n"
        "1. How likely are you to recommend us to a friend? [0–10 scale]\n"
        "2. What do you like most? [several choices]\n   1) Products\n"
    )
    early = await dm(chat).say("alice", "/survey take 1")
    assert text(early) == "The survey “How are we doing?” (#1) has not started yet."
    await chat.say("boss", "/survey start 1")
    members_list = await chat.say("alice", "/survey")
    assert text(members_list) == (
        "📋 Open surveys\n#1 How are we doing? — 4 questions\nPress a button below to take one."
    )
    assert members_list.button(0) == "/survey take 1"

    scores = {"ann": 10, "ben": 9, "cat": 8, "dan": 6, "eve": 0}
    for who, score in scores.items():
        private = dm(chat)
        await private.say(who, "/survey take 1")
        await private.say(who, str(score))
        if who != "eve":  # eve stops after the first question
            await private.say(who, "1 3" if who != "dan" else "4")
            await private.say(who, "1")
            await private.say(who, f"Words of {who}")
    in_public = await chat.say("boss", "/survey results 1")
    assert in_public.outcome.reply is not None
    assert in_public.outcome.reply.template == "common/private_only"  # members' words stay private
    results = await dm(chat).say("boss", "/survey results 1")
    assert text(results) == (
        "📊 Results of #1 “How are we doing?”: 4 members finished, 1 on their way.\n\n"
        "1. How likely are you to recommend us to a friend? — 5 answers\n"
        "   NPS 0 · average 6.6 · 2 promoters (9–10), 1 passive (7–8), 2 detractors (0–6)\n\n"
        "2. What do you like most? — 4 answers\n"
        "   Products — 3 (75%)\n   Community — 0 (0%)\n"
        "   Rewards — 3 (75%)\n   Events — 1 (25%)\n\n"
        "3. Which shop do you use? — 4 answers\n   Online — 4 (100%)\n   In town — 0 (0%)\n\n"
        "4. What should we do better? — 4 answers\n"
        "   “Words of dan”\n   “Words of cat”\n   “Words of ben”\n   “Words of ann”"
    )
    assert "NPS 0 ·" in text(results)  # 2 promoters − 2 detractors of 5
    listed = await chat.say("boss", "/survey list")
    assert "· open · community.toml · 4 finished, 1 on their way" in text(listed)
    actions = [row.action for row in rows(store, audit_log)]
    assert actions == ["survey_start"]


async def test_a_survey_added_from_a_file_is_a_draft_until_started(
    chat: Chat, store: Store
) -> None:
    await chat.say("boss", "/help")
    private = dm(chat)

    async def attach(name: str, content: str, line: str = "/survey add") -> Said:
        event = private.event("boss", line)
        return await private.deliver(replace(event, file_name=name, file_text=content))

    usage = await private.say("boss", "/survey add")
    assert text(usage).startswith("To add a survey, attach a file to /survey add [title]:")
    added = await attach(
        "feedback.csv",
        "question,kind,options\n"
        "How was the event?,scale,\n"
        "What did you enjoy?,多选,Talks | Food | People\n"
        "Anything else?,text,\n",
        "/survey add Event feedback",
    )
    assert text(added) == (
        "📋 Added, as a draft:\n#1 Event feedback — 3 questions\n"
        "Check with /survey show N, then /survey start N to invite the members."
    )
    toml = (
        'title = "Quick poll"\n[[questions]]\ntext = "Tea or coffee?"\n'
        'options = ["Tea", "Coffee"]\n'
    )
    assert "#2 Quick poll — 1 question" in text(await attach("quick.toml", toml))
    bad = await attach("bad.csv", "Pick one,single,A | A\n")
    assert text(bad) == (
        "⚠️ The survey file was not added: line 1 — two options are the same. "
        "Fix it and attach it again."
    )
    bad = await attach("bad.toml", 'title = "X"\n[[questions]]\ntext = "Q"\nkind = "rating"\n')
    assert text(bad).startswith(
        "⚠️ The survey file was not added: questions[1].kind — the kind must be single"
    )
    bad = await attach("bad.toml", "title = \n")
    assert text(bad).startswith("⚠️ The survey file was not added — it is not valid TOML: ")
    refused = await private.deliver(
        replace(private.event("boss", "/survey add"), file_name="x.csv", file_refused="too_big")
    )
    assert text(refused).startswith("I could not read the attached file: it is too big.")
    shown = await chat.say("boss", "/survey show 1")
    assert "2. What did you enjoy? [several choices]\n   1) Talks\n   2) Food\n" in text(shown)
    removed = await chat.say("boss", "/survey remove 2")
    assert text(removed) == "🗑 Survey #2 “Quick poll” was removed."
    actions = [row.action for row in rows(store, audit_log)]
    assert actions == ["survey_add", "survey_add", "survey_remove"]


async def test_the_export_numbers_members_and_names_them_only_when_asked(
    chat: Chat, store: Store
) -> None:
    load_surveys(store)
    await chat.say("boss", "/survey start 1")
    private = dm(chat)
    for answer in ("/survey take 1", "7", "1 2", "2", "=1+1"):
        await private.say("alice", answer)
    for answer in ("/survey take 1", "3", "/survey pause"):
        await private.say("bob", answer)
    admin = dm(chat)
    in_group = await chat.say("boss", "/export survey 1")
    assert template(in_group) == "common/private_only"

    def table(said: Said) -> list[list[str]]:
        assert said.outcome.reply is not None and said.outcome.reply.document is not None
        content = said.outcome.reply.document.content.decode("utf-8-sig")
        return list(csv.reader(io.StringIO(content)))

    plain = await admin.say("boss", "/export survey 1")
    assert text(plain) == (
        "📄 Answers to survey #1 “How are we doing?”: 2 members in survey-1.csv, numbered "
        "without names or ids."
    )
    lines = table(plain)
    assert lines[0] == [
        "respondent",
        "started_at",
        "completed_at",
        "Q1 How likely are you to recommend us to a friend?",
        "Q2 What do you like most?",
        "Q3 Which shop do you use?",
        "Q4 What should we do better?",
    ]
    assert lines[1] == [
        "1",
        "2026-11-23T09:00:00+08:00",
        "2026-11-23T09:00:00+08:00",
        "7",
        "Products; Community",
        "In town",
        "'=1+1",  # a spreadsheet would run it
    ]
    assert lines[2] == ["2", "2026-11-23T09:00:00+08:00", "", "3", "", "", ""]
    assert "alice" not in str(lines) and "console:" not in str(lines)
    named = await admin.say("boss", "/export survey 1 --ids")
    assert "with names and platform ids — keep this file private" in text(named)
    lines = table(named)
    assert lines[0][:4] == ["respondent", "member_id", "member_name", "accounts"]
    assert lines[1][2:4] == ["alice", "console:alice"]
    assert text(await admin.say("boss", "/export survey")).startswith("Write /export survey N")
    ledger = await admin.say("boss", "/export ledger")
    assert template(ledger) == "history/exported"  # the other exports still work
    exports = [row.details for row in rows(store, audit_log) if row.action == "export"]
    assert [(e["kind"], e.get("ids")) for e in exports] == [
        ("survey", False),
        ("survey", True),
        ("ledger", None),
    ]


async def test_chinese_members_answer_in_chinese(chat: Chat, store: Store) -> None:
    reconfigure(store, locale="zh_CN")
    load_surveys(store)
    started = await chat.say("boss", "/survey start 1")
    assert text(started).startswith("📋 问卷 #1“How are we doing?”已开始：邀请已发布到 1 个群。")
    assert posted(store, "zh_CN")[0][1].startswith("📋 问卷：How are we doing?\n共 4 题，私聊作答")
    taken = await chat.press("小明", "/survey take 1")
    assert text(taken).startswith("✉️ 小明，“How are we doing?”已发到我们的私聊，请在那里作答。")
    private = dm(chat)
    bad = await private.say("小明", "很好")
    assert text(bad).startswith("⚠️ 请回复 0 到 10 之间的数字（或点击按钮）。\n")
    assert "第 1/4 题" in text(bad)
    await private.say("小明", "９分")
    await private.say("小明", "1、2")
    await private.say("小明", "1")
    done = await private.say("小明", "多办线下活动")
    assert text(done) == "🎉 感谢你完成“How are we doing?”！+20 积分（余额 20）。"
    again = await private.press("小明", "/survey take 1")
    assert text(again) == "✅ 你已经完成了“How are we doing?”，谢谢！每份问卷只需作答一次。"
    results = await dm(chat).say("boss", "/survey results 1")
    assert "NPS（净推荐值）+100 · 平均 9.0 分 · 推荐者 1 人（9–10）" in text(results)
    assert "   “多办线下活动”" in text(results)


async def test_an_anonymous_admin_keeps_surveys_but_cannot_answer(chat: Chat, store: Store) -> None:
    load_surveys(store)
    anonymous = replace(
        chat.event("boss", "/survey take 1"),
        actor=replace(chat.actor("boss"), anonymous=True, is_platform_admin=True),
    )
    said = await chat.deliver(anonymous)
    assert template(said) == "common/post_as_yourself"


def _payloads(store: Store) -> list[tuple[dict[str, Any], str]]:
    return [(r.payload, r.kind) for r in rows(store, outbox)]


async def test_a_typed_survey_command_in_a_group_goes_privately(chat: Chat, store: Store) -> None:
    load_surveys(store)
    await chat.say("boss", "/survey start 1")
    said = await chat.say("alice", "/survey take 1")
    assert said.outcome.reply is not None
    assert said.outcome.reply.visibility is Visibility.CHAT
    assert text(said).startswith("✉️ alice, I sent you")
    assert [chat_id for chat_id, _, _ in questions_sent(store)] == ["alice"]
    assert [(p["template"], kind) for p, kind in _payloads(store)] == [
        ("survey/invitation", "post"),
        ("survey/started", "reply"),
        ("survey/question", "direct"),
        ("survey/sent_privately", "reply"),  # in the group: only that it was sent
    ]
    assert store.read_now(lambda c: c.execute(select(survey_runs.c.state)).scalars().all()) == [
        "active"
    ]
