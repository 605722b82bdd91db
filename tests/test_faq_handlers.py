"""The FAQ through the real core: admins keep the entries, members search and read them, and a
question typed in a group is answered by itself (once per entry, chat and repeat_minutes) with
👍/👎 buttons whose presses count once per member."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import insert

from handlers.router import Dispatcher
from handlers.types import Visibility
from storage.faq_tables import faq_answers, faq_entries, faq_votes
from storage.qa_tables import answers, questions
from storage.schema import audit_log
from storage.store import Store
from tests.conftest import reconfigure
from tests.harness import Chat, Clock, Said, member_id, rows

SALE = (
    "/faq add When does the sale start? 大促什么时候开始？"
    " | On the 18th at 00:00. 每月18日0点开始。 | sale, 促销, 打折"
)
SIZE = "/faq add Does the size run large? 尺码偏大吗？ | True to size. 尺码标准。 | size, fit, 尺码"


def _template(said: Said) -> str | None:
    return None if said.outcome.reply is None else said.outcome.reply.template


async def test_admins_keep_the_entries_and_members_read_and_search_them(
    chat: Chat, store: Store
) -> None:
    added = await chat.say("boss", SALE)
    assert added.text is not None and added.text.startswith("✅ Added FAQ #1: When does the sale")
    assert "🔑 sale, 促销, 打折" in added.text
    await chat.say("boss", SIZE)
    listed = await chat.say("alice", "/faq")
    assert listed.text is not None
    assert "#1 When does the sale start? 大促什么时候开始？" in listed.text
    assert "#2 Does the size run large?" in listed.text
    found = await chat.say("alice", "/faq sale start")
    assert found.text is not None and found.text.startswith("❓ FAQ #1: When does the sale")
    assert "💬 On the 18th at 00:00." in found.text
    assert (await chat.say("alice", "/faq 2")).text == (
        "❓ FAQ #2: Does the size run large? 尺码偏大吗？\n💬 True to size. 尺码标准。"
    )
    nothing = await chat.say("alice", "/faq parking")
    assert nothing.text is not None and nothing.text.startswith("Nothing in the FAQ matches")
    edited = await chat.say("boss", "/faq edit 2 Does the size run small? | Take one size up.")
    assert edited.text is not None and "Saved FAQ #2: Does the size run small?" in edited.text
    assert "🔑 size, fit, 尺码" in edited.text  # keywords left out are kept
    removed = await chat.say("boss", "/faq remove 1")
    assert removed.text == "🗑 Removed FAQ #1: When does the sale start? 大促什么时候开始？"
    assert (await chat.say("alice", "/faq 1")).text == "There is no FAQ #1. Send /faq for the list."
    actions = [r.action for r in rows(store, audit_log) if r.action.startswith("faq_")]
    assert actions == ["faq_add", "faq_add", "faq_edit", "faq_remove"]
    assert [r.removed_at is not None for r in rows(store, faq_entries)] == [True, False]


async def test_bad_faq_input_says_why_and_changes_nothing(chat: Chat, store: Store) -> None:
    await chat.say("boss", SALE)
    said = {
        text: (await chat.say(who, text)).text
        for who, text in [
            ("alice", "/faq add Q? | A"),
            ("alice", "/faq remove 1"),
            ("boss", "/faq add only a question"),
            ("boss", "/faq add | an answer"),
            ("boss", "/faq add Q? | A | b | c"),
            ("boss", "/faq add " + "x" * 301 + " | A"),
            ("boss", "/faq add Q? | A | " + ", ".join(f"k{n}" for n in range(21))),
            ("boss", "/faq add when does the SALE start? 大促什么时候开始 | again"),
            ("boss", "/faq edit 9 Q? | A"),
            ("boss", "/faq edit 1"),
            ("boss", "/faq remove x"),
            ("boss", "/faq promote 5"),
        ]
    }
    answers_ = list(said.values())
    assert answers_[0] == "Sorry, /faq add is for community admins only."
    assert answers_[1] == "Sorry, /faq remove is for community admins only."
    assert all(text is not None and text.startswith("Usage:") for text in answers_[2:5])
    assert answers_[5] == (
        "That question is 301 characters long; at most 300 fit. Nothing was changed."
    )
    assert answers_[6] == "21 keywords is too many: at most 20. Nothing was changed."
    assert answers_[7] is not None and answers_[7].startswith("FAQ #1 asks that question already")
    assert answers_[8] == "There is no FAQ #9. Send /faq for the list."
    assert answers_[9] is not None and answers_[9].startswith("Usage:")
    assert answers_[10] is not None and answers_[10].startswith("Usage:")
    assert answers_[11] == "There is no question #5 here. /questions shows them."
    assert len(rows(store, faq_entries)) == 1
    assert [r.action for r in rows(store, audit_log)] == ["faq_add"]


async def test_a_group_question_is_answered_once_per_chat_and_votes_count_once(
    chat: Chat, store: Store, dispatcher: Dispatcher, clock: Clock
) -> None:
    await chat.say("boss", SALE)
    await chat.say("boss", SIZE)
    asked = await chat.say("alice", "hey, when does the sale start?")
    reply = asked.outcome.reply
    assert reply is not None and reply.template == "faq/auto_answer"
    assert asked.text == (
        "💡 On the 18th at 00:00. 每月18日0点开始。\n"
        "(FAQ #1: When does the sale start? 大促什么时候开始？) Did this help?"
    )
    assert [c.command for c in reply.choices] == ["/faqvote 1 1", "/faqvote 1 0"]
    chat.now += timedelta(minutes=5)
    assert (await chat.say("bob", "When does the sale start??")).outcome.reply is None
    other = Chat(dispatcher, clock, chat_id="group-2")
    assert _template(await other.say("bob", "大促什麼時候開始？")) == "faq/auto_answer"
    assert _template(await chat.say("bob", "尺码偏大吗")) == "faq/auto_answer"  # another entry
    chat.now += timedelta(minutes=6)  # repeat_minutes (10) after the first answer
    assert _template(await chat.say("bob", "when does the sale start?")) == "faq/auto_answer"

    up = await chat.press("alice", asked.button(0))
    assert up.text == "👍 Thanks, glad it helped!"
    assert up.outcome.reply is not None and up.outcome.reply.visibility is Visibility.PRIVATE
    again = await chat.press("alice", asked.button(0))
    assert again.text == "You said 👍 already; it is counted."
    down = await chat.press("alice", asked.button(1))
    assert down.text is not None and down.text.startswith("👎 Thanks for telling us")
    await chat.press("bob", asked.button(1))
    elsewhere = await other.press("carol", asked.button(0))
    assert elsewhere.text is not None and elsewhere.text.startswith("That answer is no longer")
    forged = await chat.press("carol", "/faqvote 999 1")
    assert forged.text is not None and forged.text.startswith("That answer is no longer")
    votes = [(r.answer_id, r.helpful) for r in rows(store, faq_votes)]
    assert votes == [(1, False), (1, False)]
    listed = await chat.say("boss", "/faq list")
    assert listed.text is not None
    assert "answered 3 times · 👍 0 · 👎 2" in listed.text  # entry 1, in two chats
    assert "answered 1 time · 👍 0 · 👎 0" in listed.text
    assert "⚠️" not in listed.text  # 2 votes are fewer than min_votes (5)
    for voter in ("dan", "erin", "fay"):
        await chat.press(voter, asked.button(1))
    flagged = await chat.say("boss", "/faq list")
    assert flagged.text is not None and "⚠️ 1 often rated 👎" in flagged.text
    assert "⚠️ often not helpful: reword it?" in flagged.text
    recorded = rows(store, faq_answers)
    assert [(r.entry_id, r.chat_id) for r in recorded] == [
        (1, "group-1"),
        (1, "group-2"),
        (2, "group-1"),
        (1, "group-1"),
    ]
    assert recorded[0].member_id == member_id(store, "console", "alice")


async def test_who_and_what_the_faq_never_answers_by_itself(
    chat: Chat, store: Store, dispatcher: Dispatcher, clock: Clock
) -> None:
    await chat.say("boss", SALE)
    quiet = [
        await chat.say("boss", "when does the sale start?"),  # an admin
        await chat.say("alice", "the sale was great last month"),  # no question
        await chat.say("alice", "what's the weather like today?"),  # no entry
        await Chat(dispatcher, clock, chat_id="alice", private=True).say(
            "alice", "when does the sale start?"
        ),
        await chat.deliver(
            replace(chat.event("alice", "when does the sale start?"), replied_id="77")
        ),
    ]
    anonymous = chat.event("alice", "when does the sale start?")
    anonymous = replace(anonymous, actor=replace(anonymous.actor, anonymous=True))
    quiet.append(await chat.deliver(anonymous))
    assert [said.outcome.reply for said in quiet] == [None] * 6
    reconfigure(store, extra="[faq]\nauto_answer = false\n")
    off = Chat(dispatcher, clock)
    assert (await off.say("alice", "when does the sale start?")).outcome.reply is None
    assert rows(store, faq_answers) == []


async def test_promoting_an_accepted_answer_and_the_share_answered_without_a_human(
    chat: Chat, store: Store
) -> None:
    await chat.say("alice", "hello")
    await chat.say("bob", "hello")
    alice, bob = member_id(store, "console", "alice"), member_id(store, "console", "bob")

    def ask(conn: object, accepted: bool) -> None:
        at = chat.now
        place = {"platform": "console", "chat_id": "group-1", "created_at": at}
        number = conn.execute(  # type: ignore[attr-defined]
            insert(questions).returning(questions.c.id),
            {"community_id": 1, "member_id": alice, "text": "Can I pay with PayPal?", **place},
        ).scalar_one()
        answer = conn.execute(  # type: ignore[attr-defined]
            insert(answers).returning(answers.c.id),
            {
                "community_id": 1,
                "question_id": number,
                "member_id": bob,
                "text": "Yes, at checkout.",
                "accepted_at": at if accepted else None,
                **place,
            },
        ).scalar_one()
        if accepted:
            conn.execute(  # type: ignore[attr-defined]
                questions.update()
                .where(questions.c.id == number)
                .values(accepted_answer_id=answer, state="accepted")
            )

    store.write_now(ask, False)
    store.write_now(ask, True)
    assert (await chat.say("boss", "/faq promote 1")).text == (
        "Question #1 has no accepted answer yet: accept one first, then promote it."
    )
    promoted = await chat.say("boss", "/faq promote 2")
    assert promoted.text is not None
    assert promoted.text.startswith("✅ Question #2 is now FAQ #1: Can I pay with PayPal?")
    assert "💬 Yes, at checkout." in promoted.text
    twice = await chat.say("boss", "/faq promote 2")
    assert twice.text == "Question #2 is FAQ #1 already. Nothing was changed."
    asked = await chat.say("carol", "can i pay with paypal?")
    assert _template(asked) == "faq/auto_answer"
    await chat.say("dan", "could I pay by paypal??")
    await chat.press("carol", asked.button(1))  # the asker says it did not help
    stats = await chat.say("boss", "/faq stats")
    assert stats.text == (
        "📈 The FAQ since it began:\n"
        "1 automatic answer, 1 rated 👎 by the one who asked\n"
        "2 questions asked to people with /ask\n"
        "Answered by the FAQ without a human: 0% (0 of 3)\n"
        "1 entry in the FAQ."
    )
    chat.now += timedelta(days=10)
    recent = await chat.say("boss", "/faq stats 7")
    assert recent.text is not None and "in the last 7 days" in recent.text
    assert "Nothing asked yet." in recent.text
    assert [r.action for r in rows(store, audit_log)] == ["faq_promote"]


async def test_in_chinese_members_are_answered_and_admins_told_in_chinese(
    store: Store, dispatcher: Dispatcher, clock: Clock
) -> None:
    reconfigure(store, locale="zh_CN")
    chat = Chat(dispatcher, clock)
    added = await chat.say("boss", "/faq 添加 积分会过期吗？ | 积分有效期12个月。 | 过期, 有效期")
    assert (
        added.text == "✅ 已添加常见问题 #1：积分会过期吗？\n💬 积分有效期12个月。\n🔑 过期、有效期"
    )
    asked = await chat.say("alice", "請問積分會過期嗎")
    assert asked.text == "💡 积分有效期12个月。\n（常见问题 #1：积分会过期吗？）这个回答有帮助吗？"
    thanks = await chat.press("alice", asked.button(0))
    assert thanks.text == "👍 谢谢，很高兴能帮到你！"
    found = await chat.say("bob", "/faq 有效期")
    assert found.text == "❓ 常见问题 #1：积分会过期吗？\n💬 积分有效期12个月。"
    refused = await chat.say("bob", "/faq 删除 1")
    assert refused.text == "抱歉，/faq 删除 仅限社群管理员使用。"
    listed = await chat.say("boss", "/faq 列表")
    assert listed.text is not None and "自动回答 1 次 · 👍 1 · 👎 0" in listed.text
