"""The FAQ's automatic answer on the real python-telegram-bot against the fake Bot API: a
member's question in the group is answered under their message with 👍/👎 buttons, a press is
counted once and answered to the presser alone; another bot's message and a reply between
people get nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import Connection

from bot.adapters.telegram import TelegramAdapter, TelegramOptions
from bot.adapters.telegram_limits import NO_LIMITS
from bot.delivery.sender import SenderSettings
from community import faq
from community.audit import Actor
from community.communities import community_by_slug
from handlers.ports import Chats, Deliveries, Inbox, Polls
from handlers.router import Dispatcher
from storage.faq_tables import faq_answers, faq_votes
from storage.store import Store
from tests.fakes.telegram_api import FakeTelegram
from tests.harness import moving_on, rows, serving_with_sender

GROUP, ALICE, BOB = -1001, 11, 13
QUESTION = "When does the sale start? 大促什么时候开始？"


@pytest.fixture
async def tg(dispatcher: Dispatcher, store: Store) -> AsyncIterator[FakeTelegram]:
    def add(conn: Connection) -> None:
        acme = community_by_slug(conn, "acme")
        assert acme is not None
        line = f"{QUESTION} | On the 18th at 00:00. | sale, 大促"
        faq.add_entry(conn, acme, line, actor=Actor(None, "console:boss"), at=dispatcher.clock())

    store.write_now(add)
    async with FakeTelegram() as fake:
        deliveries = Deliveries(store, moving_on(dispatcher.clock))
        adapter = TelegramAdapter(
            dispatcher,
            TelegramOptions(token="1:X", base_url=fake.base_url, poll_timeout=1),
            inbox=Inbox(store),
            chats=Chats(store),
            polls=Polls(store),
            deliveries=deliveries,
            default_locale="en",
            limits=NO_LIMITS,
        )
        async with serving_with_sender(adapter, deliveries, SenderSettings(poll_seconds=0.02)):
            yield fake


def _buttons(tg: FakeTelegram) -> list[tuple[int, str, str]]:
    return [
        (message_id, button["text"], button["callback_data"])
        for (chat_id, message_id), message in sorted(tg.messages.items())
        if chat_id == GROUP
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
        for button in row
    ]


async def test_a_group_question_gets_the_answer_and_a_press_counts_once(
    tg: FakeTelegram, store: Store
) -> None:
    group: dict[str, Any] = tg.group(GROUP, "Acme Fans")
    alice, bob = tg.user(ALICE, "Alice", "alice"), tg.user(BOB, "Bob", "bob")
    other_bot = tg.user(77, "Shop bot", "shop_bot") | {"is_bot": True}
    tg.push_message(group, other_bot, "when does the sale start?")
    tg.push_message(group, alice, "hi all, when does the sale start?")
    await tg.wait_for(lambda t: len(t.texts(GROUP)) >= 1)
    (answer,) = tg.texts(GROUP)
    assert answer.startswith("💡 On the 18th at 00:00.\n(FAQ #1: When does the sale start?")
    (sent,) = tg.calls_to("sendMessage")
    (hers,) = [m for (c, m), sent_ in tg.messages.items() if sent_["from"]["id"] == ALICE]
    assert sent.params["reply_parameters"]["message_id"] == hers  # under her message
    buttons = _buttons(tg)
    assert [(text, data) for _, text, data in buttons] == [
        ("👍 Helpful", "/faqvote 1 1"),
        ("👎 Not helpful", "/faqvote 1 0"),
    ]
    message_id = buttons[0][0]
    # Bob answers Alice by replying to her: people talking, not asking the bot.
    tg.push_message(group, bob, "when does the sale start? no idea", reply_to=message_id)
    tg.push_callback_query(group, bob, message_id, "/faqvote 1 1")
    tg.push_callback_query(group, bob, message_id, "/faqvote 1 1")
    presses = await tg.wait_for_call("answerCallbackQuery", count=2)
    alerts = [call.params.get("text") for call in presses]
    assert alerts == ["👍 Thanks, glad it helped!", "You said 👍 already; it is counted."]
    assert all(call.params.get("show_alert") for call in presses)
    assert len(tg.texts(GROUP)) == 1  # the reply, the bot's post and the presses: nothing said
    assert [(v.answer_id, v.helpful) for v in rows(store, faq_votes)] == [(1, True)]
    assert [(a.entry_id, a.chat_id) for a in rows(store, faq_answers)] == [(1, str(GROUP))]
