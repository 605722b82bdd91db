"""Telegram commands that point at someone without a typed handle: a reply to their message,
a text_mention of a member who has no @username. Recorded Bot API updates in, whole Events out;
then the real python-telegram-bot against the fake Bot API, paying (or refusing) through the
core."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import pytest

from bot.adapters.telegram import TelegramAdapter
from handlers.router import Dispatcher
from handlers.types import AccountRef, ChatRef, Mention
from storage.schema import audit_log, ledger, members
from storage.store import Store
from tests.fakes.telegram_api import FakeTelegram, command_entities
from tests.harness import ledger_state, member_id
from tests.test_telegram_adapter import (
    BOSS,
    GROUP,
    adopt,
    count_rows,
    group,
    said,
    serving,
    user,
)
from tests.test_telegram_translation import BOSS as RECORDED_BOSS
from tests.test_telegram_translation import CHANNEL, command, only_event
from tests.test_telegram_translation import GROUP as RECORDED_GROUP

BOB = AccountRef("telegram", "333333333", "Bob Li", username="bob_li")
FORUM = ChatRef("telegram", "-1001234567891", title="Acme Forum")
AWARD = ("/award 50 thanks", "award", "50 thanks")
# What the replied messages say: a command that replies carries it (a /submit of one's post).
RETURNS = "You can return it within 30 days, the receipt is in the box."
RECEIVED = "🎁 Alice Wang (@alice) received 5 points."


def test_a_command_replying_to_a_members_message_points_at_its_author() -> None:
    event, incoming = only_event("reply_award_to_member")
    expected = command(815000030, RECORDED_GROUP, RECORDED_BOSS, *AWARD, target=BOB)
    assert event == replace(expected, replied_id="4430", replied_text=RETURNS)
    assert incoming.wants_admin_check


def test_a_text_mention_carries_the_linked_account_and_the_words_shown() -> None:
    event, _ = only_event("text_mention_award")
    text, rest = "/award 🌟小明 50 最佳晒单", "🌟小明 50 最佳晒单"
    xiaoming = AccountRef("telegram", "444444444", "小明 🌟")
    mentioned = (Mention("🌟小明", xiaoming),)  # UTF-16 offsets, cut where Telegram meant
    expected = command(
        815000031, RECORDED_GROUP, RECORDED_BOSS, text, "award", rest, mentions=mentioned
    )
    assert event == expected


def test_a_command_in_a_forum_topic_replies_to_nobody_by_being_there() -> None:
    # Telegram makes every message of a topic "reply" to the topic's opening notice.
    event, _ = only_event("forum_topic_award_is_no_reply")
    assert event == command(815000032, FORUM, RECORDED_BOSS, *AWARD)


def test_a_real_reply_inside_a_forum_topic_points_at_its_author() -> None:
    event, _ = only_event("forum_topic_reply_to_member")
    expected = command(815000033, FORUM, RECORDED_BOSS, *AWARD, target=BOB)
    assert event == replace(expected, replied_id="96", replied_text="my unboxing")


def test_a_reply_to_a_channel_post_points_at_the_channel_not_telegrams_stand_in() -> None:
    event, _ = only_event("reply_award_to_channel_post")
    expected = command(815000034, RECORDED_GROUP, RECORDED_BOSS, *AWARD, target=CHANNEL)
    assert event == replace(
        expected, replied_id="4416", replied_text="签到 starts at 9:00 tomorrow!"
    )


def test_a_reply_to_another_bot_points_at_a_bot() -> None:
    event, _ = only_event("reply_award_to_another_bot")
    helper = AccountRef("telegram", "555555555", "Group Help", "group_help_bot", is_bot=True)
    expected = command(815000035, RECORDED_GROUP, RECORDED_BOSS, *AWARD, target=helper)
    assert event == replace(
        expected, replied_id="4435", replied_text="Welcome to Acme Fans! Read the rules."
    )


def test_a_reply_to_this_bot_addresses_it_and_points_at_nobody() -> None:
    event, _ = only_event("reply_award_to_this_bot")
    expected = command(815000036, RECORDED_GROUP, RECORDED_BOSS, *AWARD, addressed=True)
    assert event == replace(expected, replied_id="4437", replied_text=RECEIVED)


# Against the fake Bot API -----------------------------------------------------------------------

BOB_ID, DAN_ID, HELPER_ID = 21, 22, 23


@pytest.fixture(name="tg")
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture(name="adapter")
async def running_adapter(
    tg: FakeTelegram, dispatcher: Dispatcher, store: Store
) -> AsyncIterator[TelegramAdapter]:
    async with serving(tg, dispatcher, store) as adapter:
        yield adapter


def last_message_id(tg: FakeTelegram, chat_id: int = GROUP) -> int:
    return max(message_id for chat, message_id in tg.messages if chat == chat_id)


async def admin_in_adopted_group(tg: FakeTelegram) -> None:
    tg.set_member_status(GROUP, BOSS, "administrator")
    await adopt(tg)


async def test_an_admin_replying_to_bobs_message_with_award_pays_bob(
    tg: FakeTelegram, adapter: TelegramAdapter, store: Store
) -> None:
    await admin_in_adopted_group(tg)
    tg.push_message(group(tg), user(tg, BOB_ID, "Bob"), "the blue one ships faster")
    bobs = last_message_id(tg)
    tg.push_message(group(tg), user(tg, BOSS, "Boss"), "/award 50 great answer", reply_to=bobs)
    awarded = (await said(tg, 2))[1]
    assert awarded == "🎁 Bob (@bob) received 50 points for: great answer. New balance: 50."
    assert ledger_state(store, "telegram", str(BOB_ID)) == (50, 50)
    # The answer quotes the admin's command, not Bob's message.
    assert tg.calls_to("sendMessage")[1].params["reply_parameters"]["message_id"] == bobs + 1


async def test_a_text_mention_award_pays_the_linked_account(
    tg: FakeTelegram, adapter: TelegramAdapter, store: Store
) -> None:
    await admin_in_adopted_group(tg)
    dan: dict[str, Any] = {"id": DAN_ID, "is_bot": False, "first_name": "Dan", "last_name": "Wu"}
    text = "/award Dan Wu 30 best review"
    mention = {"offset": 7, "length": 6, "type": "text_mention", "user": dan}
    tg.push_message(
        group(tg), user(tg, BOSS, "Boss"), text, entities=[*command_entities(text), mention]
    )
    awarded = (await said(tg, 2))[1]
    # Dan has no handle and never spoke here: Telegram vouches for the account, so he joins.
    assert awarded == (
        f"🎁 Dan Wu (telegram:{DAN_ID}) received 30 points for: best review. New balance: 30."
    )
    assert ledger_state(store, "telegram", str(DAN_ID)) == (30, 30)


async def test_a_reply_award_to_a_bot_or_a_channel_post_is_refused_and_changes_nothing(
    tg: FakeTelegram, adapter: TelegramAdapter, store: Store
) -> None:
    await admin_in_adopted_group(tg)
    helper = {"id": HELPER_ID, "is_bot": True, "first_name": "Helper", "username": "helper_bot"}
    tg.push_message(group(tg), helper, "Welcome! Read the rules.")
    helpers = last_message_id(tg)
    news = tg.channel(-1009, "Acme News", username="acmenews")
    tg.push_message(group(tg), tg.channel_bot(), "Sale starts at 9:00", sender_chat=news)
    post = last_message_id(tg)
    before = [count_rows(store, table) for table in (ledger, audit_log)]
    boss = user(tg, BOSS, "Boss")
    tg.push_message(group(tg), boss, "/award 50 thanks", reply_to=helpers)
    tg.push_message(group(tg), boss, "/deduct 5 spam", reply_to=post)
    to_bot, to_channel = (await said(tg, 3))[1:]
    assert to_bot.startswith("Helper is a bot, so it can't get or lose points.")
    assert to_channel.startswith("Acme News speaks for a chat, not as a member")
    assert [count_rows(store, table) for table in (ledger, audit_log)] == before
    assert member_id(store, "telegram", str(HELPER_ID)) is None
    assert member_id(store, "telegram", "-1009") is None
    assert count_rows(store, members) == 2  # the owner and Boss, who spoke


def test_a_text_mention_in_the_reason_names_nobody_the_command_is_for() -> None:
    # Mallory named herself "@alice": linked in the reason, she must not take over the
    # @alice typed first (found by the review: she was paid instead of alice).
    event, _ = only_event("text_mention_in_the_reason")
    assert event.mentions == ()
    assert event.arg_text == "@alice 50 for helping 🌟 @alice"
