"""Q&A through the real core: /ask, answers by reply or /answer from any platform, /accept (typed
or by button), bounties, /questions, admins closing one; in English and Chinese."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from sqlalchemy import Connection, select, update

from community import question_accepting
from community.audit import Actor
from community.communities import community_by_slug
from handlers.router import Dispatcher
from handlers.types import Visibility
from loyalty.errors import UserError
from storage.qa_tables import answers, questions
from storage.schema import audit_log, ledger, outbox
from storage.store import Store
from tests.conftest import reconfigure
from tests.harness import Chat, Clock, Said, ledger_state, member_id, posted, rows


@pytest.fixture
def discord(dispatcher: Dispatcher, clock: Clock) -> Chat:
    """A Discord group of the same community."""
    return Chat(dispatcher, clock, platform="discord", chat_id="discord-group")


async def ask(chat: Chat, who: str, text: str, message_id: str = "") -> Said:
    """`who` sends `text` (their message numbered `message_id` on the platform)."""
    return await chat.deliver(replace(chat.event(who, text), message_id=message_id))


async def reply(chat: Chat, who: str, text: str, to: str) -> Said:
    """`who` replies with `text` to the platform's message `to`."""
    return await chat.deliver(replace(chat.event(who, text), replied_id=to))


def sent(store: Store, platform_id: str) -> None:
    """The sender posted the newest question post, and the platform named it `platform_id`."""

    def mark(conn: object) -> None:
        newest = (
            select(outbox.c.id)
            .where(outbox.c.payload["template"].as_string() == "questions/posted")
            .order_by(outbox.c.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        conn.execute(  # type: ignore[attr-defined]
            update(outbox).where(outbox.c.id == newest).values(state="sent", sent_ids=platform_id)
        )

    store.write_now(mark)


async def points(store: Store, chat: Chat, who: str) -> int:
    return ledger_state(store, chat.platform, who)[0]


async def test_a_question_is_posted_answered_by_reply_and_command_and_accepted(
    chat: Chat, store: Store
) -> None:
    await chat.say("alice", "/checkin")
    asked = await ask(chat, "alice", "/ask Does the linen shirt run large?", message_id="m1")
    assert asked.outcome.reply is None  # the post, quoting alice's message, is the answer
    [(where, post)] = [p for p in posted(store, kind="reply") if "Question #1" in p[1]]
    assert where == "group-1"
    assert post == (
        "❓ Question #1 from alice\nDoes the linen shirt run large?\n"
        "↩️ Answer by replying to this message, or with /answer 1 your answer."
    )
    sent(store, "9001")
    by_reply = await reply(chat, "bob", "Yes, take one size down", to="9001")
    assert (
        by_reply.text == "💬 Answer #1 to question #1 is saved. alice can accept it with /accept 1."
    )
    assert by_reply.outcome.reply is not None
    assert by_reply.outcome.reply.line == "questions/answered_line"
    to_asker = await reply(chat, "carol", "It fits true to size for me", to="m1")
    assert to_asker.text is not None and "Answer #2" in to_asker.text
    unrelated = await reply(chat, "dan", "lol", to="4242")
    assert unrelated.outcome.reply is None
    own = await reply(chat, "alice", "anyone else?", to="9001")
    assert own.outcome.reply is None  # the asker adds to it; an answer is /answer
    typed = await chat.say("dan", "/answer 1 Check the size chart")
    assert typed.text is not None and "Answer #3" in typed.text
    notices = [text for _, text in posted(store, kind="direct")]
    assert len(notices) == 3 and notices[0].startswith("💬 New answer #1 to your question #1")
    shown = await chat.say("alice", "/questions 1")
    assert shown.text is not None and "#1 bob (console" in shown.text
    assert [c.command for c in shown.outcome.reply.choices] == [  # type: ignore[union-attr]
        "/accept 1 1",
        "/accept 2 1",
        "/accept 3 1",
    ]
    # Anyone else reads it without buttons; the press of one by someone else is refused.
    assert (await chat.say("bob", "/questions 1")).outcome.reply.choices == ()  # type: ignore[union-attr]
    stolen = await chat.press("bob", "/accept 1 1")
    assert stolen.outcome.reply is not None
    assert stolen.outcome.reply.visibility is Visibility.PRIVATE
    assert stolen.text == "Only the asker of question #1 (or an admin) can accept its answers."
    accepted = await chat.press("alice", shown.button(0))
    assert accepted.text == (
        "✅ alice accepted answer #1 by bob to question #1. bob earns 20 points. "
        "Thanks, alice: +2 points."
    )
    assert await points(store, chat, "bob") == 20 and await points(store, chat, "alice") == 12
    again = await chat.say("alice", "/accept 2")
    assert again.text == "Question #1 already has an accepted answer (#1). Nothing was changed."
    late = await reply(chat, "erin", "also: wash cold", to="9001")
    assert late.text == (
        "Question #1 already has an accepted answer (#1), so it takes no more answers."
    )
    assert len(rows(store, answers)) == 3
    listed = await chat.say("bob", "/questions")
    assert listed.text == "No open questions right now. Ask one with /ask your question."


async def test_an_answer_on_discord_shows_in_both_places(
    chat: Chat, discord: Chat, store: Store
) -> None:
    await ask(chat, "alice", "/ask When does the winter sale start?")
    answered = await discord.say("mod", "/answer 1 On the 12th at 20:00")
    assert answered.text is not None and "Answer #1 to question #1" in answered.text
    here = await chat.say("bob", "/questions 1")
    there = await discord.say("bob", "/questions 1")
    assert here.text == there.text
    assert here.text is not None and "#1 mod (discord" in here.text
    assert "On the 12th at 20:00" in here.text
    listed = await discord.say("bob", "/questions")
    assert listed.text is not None
    assert listed.text.startswith("❓ Open questions (1):\n#1 When does the winter sale start?")


async def test_a_bounty_is_held_paid_to_the_accepted_answer_and_never_twice(
    chat: Chat, store: Store
) -> None:
    await chat.say("alice", "/start")
    await chat.say("boss", "/award @alice 100 welcome")
    held = await chat.say("alice", "/ask --bounty 60 Which colour sells out first?")
    assert held.outcome.reply is None
    assert await points(store, chat, "alice") == 40
    too_much = await chat.say("alice", "/ask --bounty 41 And which size?")
    assert too_much.text == (
        "A bounty of 41 points is more than you have (40). Nothing was asked: "
        "offer less, or ask without a bounty."
    )
    bad = await chat.say("alice", "/ask --bounty lots And which size?")
    assert bad.text is not None and bad.text.startswith("A bounty is a whole number of points")
    assert len(rows(store, questions)) == 1
    await chat.say("bob", "/answer 1 The sage green")
    done = await chat.say("alice", "/accept 1")
    assert done.text is not None and "The bounty of 60 points goes to bob." in done.text
    assert await points(store, chat, "bob") == 80 and await points(store, chat, "alice") == 42
    reasons = [row.reason for row in rows(store, ledger)]
    assert reasons.count("bounty") == 1 and reasons.count("bounty_won") == 1


async def test_bad_input_is_answered_politely_and_changes_nothing(chat: Chat, store: Store) -> None:
    for text, start in [
        ("/ask", "Usage: /ask your question (4 to 1,000 characters)"),
        ("/ask   ", "Usage: /ask"),
        ("/ask hi", "That question is too short"),
        ("/ask " + "x" * 1001, "That question is too long (1,001 characters; at most 1,000)"),
        ("/answer", "Usage: /answer QUESTION_NUMBER"),
        ("/answer 1", "Usage: /answer QUESTION_NUMBER"),
        ("/answer x yes", "Usage: /answer QUESTION_NUMBER"),
        ("/answer 99 yes", "There is no question #99 here."),
        ("/accept", "Usage: /accept ANSWER_NUMBER"),
        ("/accept 5", "There is no answer #5 here."),
        ("/questions what", "Usage: /questions lists"),
        ("/questions close 1", "Sorry, /questions close is for community admins only."),
    ]:
        said = await chat.say("alice", text)
        assert said.text is not None and said.text.startswith(start), (text, said.text)
    await chat.say("alice", "/ask Is the store open on Sunday?")
    await chat.say("alice", "/ask And on holidays, too?")
    await chat.say("bob", "/answer 2 yes")
    long = await chat.say("bob", "/answer 1 " + "y" * 2001)
    assert long.text is not None and long.text.startswith("That answer is too long")
    twice = await chat.say("bob", "/answer 2 yes")
    assert twice.text == "You gave that answer to question #2 already (answer #1)."
    elsewhere = await chat.say("alice", "/accept 1 1")
    assert elsewhere.text == "Answer #1 answers question #2, not question #1. Nothing was accepted."
    assert len(rows(store, answers)) == 1 and len(rows(store, questions)) == 2
    assert all(row.accepted_at is None for row in rows(store, answers))


async def test_admins_close_a_question_audited_and_its_bounty_goes_back(
    chat: Chat, store: Store
) -> None:
    await chat.say("alice", "/start")
    await chat.say("boss", "/award @alice 10 hi")
    await chat.say("alice", "/ask --bounty 10 Is this thread still alive?")
    closed = await chat.say("boss", "/questions close 1")
    assert closed.text == (
        "🔒 Question #1 is closed: it takes no more answers. "
        "Its bounty of 10 points went back to the asker."
    )
    assert await points(store, chat, "alice") == 10
    assert [r.action for r in rows(store, audit_log)] == ["award", "question_close"]
    again = await chat.say("boss", "/questions close 1")
    assert again.text == "Question #1 is closed. Nothing was changed."
    refused = await chat.say("bob", "/answer 1 yes")
    assert refused.text == "Question #1 is closed, so it takes no more answers."


async def test_prefixed_questions_open_only_where_the_community_enables_them(
    chat: Chat, store: Store
) -> None:
    plain = await chat.say("alice", "Q: is the sale on?")
    assert plain.outcome.reply is None and rows(store, questions) == []
    reconfigure(store, extra="[questions]\nprefix_questions = true\n")
    await chat.say("alice", "问：这个尺码偏大吗？")
    await chat.say("alice", "q: is the sale on?")
    assert [row.text for row in rows(store, questions)] == ["这个尺码偏大吗？", "is the sale on?"]


async def test_in_chinese(chat: Chat, store: Store) -> None:
    reconfigure(store, locale="zh_CN")
    await ask(chat, "alice", "/ask 这个尺码偏大吗？", message_id="m7")
    posts = [text for _, text in posted(store, "zh_CN", kind="reply")]
    assert posts[-1].startswith("❓ 问题 #1，来自 alice\n这个尺码偏大吗？\n↩️ 回复这条消息即可回答")
    answered = await reply(chat, "bob", "偏大一码，建议选小一号", to="m7")
    assert answered.text == "💬 已记录问题 #1 的回答 #1。alice 可发送 /accept 1 采纳。"
    shown = await chat.say("alice", "/questions 1")
    assert shown.text is not None and "#1 bob（console" in shown.text
    assert "点按钮或发送 /accept 回答编号 即可采纳。" in shown.text
    done = await chat.say("alice", "/accept 1")
    assert done.text == (
        "✅ alice 采纳了 bob 对问题 #1 的回答 #1。bob 获得 20 积分。感谢 alice：+2 积分。"
    )
    empty = await chat.say("bob", "/questions")
    assert empty.text == "目前没有未解决的问题。发送 /ask 你的问题 来提问吧。"
    usage = await chat.say("bob", "/answer")
    assert usage.text is not None and usage.text.startswith("用法：/answer 问题编号")


async def test_two_acceptances_at_once_pay_once(chat: Chat, store: Store) -> None:
    await chat.say("alice", "/ask Where do returns go?")
    await chat.say("bob", "/answer 1 To the Shanghai warehouse")
    await chat.say("carol", "/answer 1 Ask support")
    results = await asyncio.gather(
        chat.say("alice", "/accept 1"),
        chat.say("boss", "/accept 2"),
        chat.press("alice", "/accept 1 1"),
    )
    accepted = [r for r in results if r.text is not None and r.text.startswith("✅")]
    assert len(accepted) == 1
    paid = [row for row in rows(store, ledger) if row.reason == "accepted_answer"]
    assert len(paid) == 1
    assert sum(1 for row in rows(store, answers) if row.accepted_at is not None) == 1


async def test_two_acceptances_in_two_processes_at_once_pay_once(
    chat: Chat, store: Store, db_url: str
) -> None:
    await chat.say("alice", "/start")
    await chat.say("boss", "/award @alice 30 hi")
    await chat.say("alice", "/ask --bounty 30 Which courier is fastest?")
    await chat.say("bob", "/answer 1 SF Express")
    await chat.say("carol", "/answer 1 JD")
    alice = member_id(store, "console", "alice")

    def accept(conn: Connection, answer: int) -> int:
        acme = community_by_slug(conn, "acme")
        assert acme is not None
        done = question_accepting.accept(
            conn,
            acme,
            answer_id=answer,
            question_id=1,
            actor=Actor(alice, "console:alice"),
            is_admin=False,
            at=chat.now,
        )
        return done.answer.id

    other = Store(db_url)  # another process on the same database, with its own writer
    try:
        results = await asyncio.gather(
            store.write(accept, 1), other.write(accept, 2), return_exceptions=True
        )
    finally:
        other.close()
    won = [r for r in results if isinstance(r, int)]
    lost = [r for r in results if isinstance(r, UserError)]
    assert len(won) == 1 and len(lost) == 1
    assert lost[0].key == "questions/already_accepted"
    reasons = [row.reason for row in rows(store, ledger)]
    assert reasons.count("accepted_answer") == 1 and reasons.count("bounty_won") == 1
    assert reasons.count("question_thanks") == 1
