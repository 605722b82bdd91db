"""The real python-telegram-bot, through our adapter and core, against a fake Bot API server:
updates in through the inbox, answers out through the outbox and its sender."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from bot.adapters.telegram import TelegramAdapter, TelegramOptions
from bot.adapters.telegram_limits import NO_LIMITS
from bot.delivery.sender import Sender, SenderSettings
from handlers.ports import Chats, Deliveries, Inbox, Polls
from handlers.router import Dispatcher
from storage.schema import checkins, inbox, ledger, link_codes, outbox, processed_events, votes
from storage.store import Store
from tests.conftest import TELEGRAM_OWNER
from tests.fakes.telegram_api import FakeTelegram
from tests.harness import add_sticker, moving_on, redeemed_and_held, serving_with_sender

TOKEN = "123456:TEST-token"
GROUP = -1001
ALICE, BOSS, CAROL = 11, 12, 13
# The sender looks at the outbox this often when nobody wakes it (the test dispatcher does not).
SENDER = SenderSettings(poll_seconds=0.02)


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


def telegram_adapter(
    tg: FakeTelegram, dispatcher: Dispatcher, store: Store, **options: Any
) -> TelegramAdapter:
    """The adapter as `run` wires it. No flood limits unless asked: tests count messages, and
    Telegram's limits are the fake's and the sender's to test."""
    chosen: dict[str, Any] = {"poll_timeout": 1} | options
    return TelegramAdapter(
        dispatcher,
        TelegramOptions(token=TOKEN, base_url=tg.base_url, **chosen),
        inbox=Inbox(store),
        chats=Chats(store),
        polls=Polls(store),
        deliveries=Deliveries(store, moving_on(dispatcher.clock)),
        default_locale="en",
        limits=NO_LIMITS,
    )


def serving(
    tg: FakeTelegram, dispatcher: Dispatcher, store: Store, *, sending: bool = True, **options: Any
) -> contextlib.AbstractAsyncContextManager[TelegramAdapter]:
    """The adapter started, with a sender draining its outbox (unless `sending=False`)."""
    adapter = telegram_adapter(tg, dispatcher, store, **options)
    return serving_with_sender(
        adapter, Deliveries(store, moving_on(dispatcher.clock)), SENDER, sending=sending
    )


@pytest.fixture
async def adapter(
    tg: FakeTelegram, dispatcher: Dispatcher, store: Store
) -> AsyncIterator[TelegramAdapter]:
    async with serving(tg, dispatcher, store) as adapter:
        yield adapter


def group(tg: FakeTelegram) -> dict[str, Any]:
    return tg.group(GROUP, "Acme Fans")


def user(tg: FakeTelegram, user_id: int, name: str) -> dict[str, Any]:
    return tg.user(user_id, name, username=name.lower())


async def said(tg: FakeTelegram, count: int = 1, chat_id: int = GROUP) -> list[str]:
    """Wait until the bot has sent `count` messages to the chat; return their visible texts."""
    await tg.wait_for(lambda t: len(t.texts(chat_id)) >= count)
    return tg.texts(chat_id)


async def adopt(tg: FakeTelegram) -> None:
    """The community's listed owner sends /settings in the group: its own admins count from
    now on. Waits for the answer."""
    before = len(tg.texts(GROUP))
    tg.push_message(group(tg), user(tg, TELEGRAM_OWNER, "Owner"), "/settings")
    await said(tg, before + 1)


def count_rows(store: Store, table: Any) -> int:
    return int(
        store.read_now(
            lambda conn: conn.execute(select(func.count()).select_from(table)).scalar_one()
        )
    )


async def test_a_group_checkin_is_answered_with_the_points(
    tg: FakeTelegram, adapter: TelegramAdapter
) -> None:
    tg.push_message(group(tg), user(tg, ALICE, "Alice"), "/checkin@community_bot")
    (text,) = await said(tg)
    assert "+10" in text
    sent = tg.calls_to("sendMessage")[0]
    assert sent.params["parse_mode"] == "HTML"
    assert tg.calls_to("getChatMember") == []  # a check-in is the same for admins: no lookup
    assert sent.params["reply_parameters"]["allow_sending_without_reply"] is True


async def test_the_plain_word_checks_in_and_a_command_for_another_bot_is_ignored(
    tg: FakeTelegram, adapter: TelegramAdapter, store: Store
) -> None:
    tg.push_message(group(tg), user(tg, ALICE, "Alice"), "/checkin@other_bot")
    tg.push_message(group(tg), user(tg, ALICE, "Alice"), "签到！")
    (text,) = await said(tg)
    assert "+10" in text
    await tg.wait_for(lambda t: t.confirmed_up_to >= 2)
    assert count_rows(store, checkins) == 1


async def test_commands_menus_are_published_per_locale_at_start(
    tg: FakeTelegram, adapter: TelegramAdapter
) -> None:
    languages = {call.params.get("language_code") for call in tg.calls_to("setMyCommands")}
    assert {None, "en", "zh"} <= languages
    zh_member_menu = next(
        call.params["commands"]
        for call in tg.calls_to("setMyCommands")
        if call.params.get("language_code") == "zh" and "scope" not in call.params
    )
    names = {command["command"] for command in zh_member_menu}
    assert {"checkin", "points", "link"} <= names and "award" not in names
    assert any("签到" in command["description"] for command in zh_member_menu)


async def test_the_menus_list_what_help_lists_for_members_and_for_admins(
    tg: FakeTelegram, adapter: TelegramAdapter, dispatcher: Dispatcher
) -> None:
    # One declaration of the commands: Telegram's menus and /help come from the same routes.
    for call in tg.calls_to("setMyCommands"):
        admins = "scope" in call.params
        menu = [command["command"] for command in call.params["commands"]]
        assert menu == [route.command for route in dispatcher.visible_commands(admins)]


async def test_a_member_cannot_award_but_a_chat_admin_of_an_adopted_group_can(
    tg: FakeTelegram, adapter: TelegramAdapter, store: Store
) -> None:
    tg.set_member_status(GROUP, BOSS, "administrator")
    tg.push_message(group(tg), user(tg, ALICE, "Alice"), "hello")  # registers @alice
    tg.push_message(group(tg), user(tg, CAROL, "Carol"), "/award @alice 50")
    (refusal,) = await said(tg)
    assert "admins only" in refusal
    # Anyone can own a group: its admins count only once a listed admin has been here.
    tg.push_message(group(tg), user(tg, BOSS, "Boss"), "/award @alice 50")
    texts = await said(tg, 2)
    assert "once a community admin" in texts[1]
    await adopt(tg)
    tg.push_message(group(tg), user(tg, BOSS, "Boss"), "/award @alice 50 great photo")
    texts = await said(tg, 4)
    assert "50" in texts[3] and "Alice" in texts[3]
    asked = {call.params["user_id"] for call in tg.calls_to("getChatMember")}
    assert asked == {CAROL, BOSS, TELEGRAM_OWNER}


async def test_a_native_poll_is_posted_and_its_votes_pay_once(
    tg: FakeTelegram, adapter: TelegramAdapter, store: Store
) -> None:
    tg.set_member_status(GROUP, BOSS, "creator")
    await adopt(tg)
    tg.push_message(group(tg), user(tg, BOSS, "Boss"), "/poll Best flavour? | Mint | Mango")
    (poll_call,) = await tg.wait_for_call("sendPoll")
    assert poll_call.params["is_anonymous"] is False
    poll_id = next(iter(tg.polls))
    await tg.wait_for(lambda t: count_rows(store, votes) == 0 and _poll_attached(store), every=0.01)
    tg.push_poll_answer(poll_id, user(tg, ALICE, "Alice"), [1])
    tg.push_poll_answer(poll_id, user(tg, ALICE, "Alice"), [0])  # a change of mind earns nothing
    await tg.wait_for(lambda t: t.confirmed_up_to >= 4)
    await tg.wait_for(lambda t: count_rows(store, inbox) == 0, every=0.01)
    tg.push_message(group(tg), user(tg, ALICE, "Alice"), "/points")
    points = (await said(tg, 2))[1]  # after the owner's /settings
    assert "2 points" in points
    assert count_rows(store, votes) == 1


def _poll_attached(store: Store) -> bool:
    from storage.schema import polls

    native = store.read_now(lambda conn: conn.execute(select(polls.c.native_id)).scalar_one())
    return native is not None


def outbox_rows(store: Store) -> list[tuple[str, str, str | None]]:
    """Every outgoing message: (chat, state, the ids Telegram gave it)."""
    found = select(outbox.c.chat_id, outbox.c.state, outbox.c.sent_ids).order_by(outbox.c.id)
    return [tuple(row) for row in store.read_now(lambda conn: conn.execute(found).all())]


async def test_a_commands_answer_waits_in_the_outbox_until_a_sender_sends_it(
    tg: FakeTelegram, dispatcher: Dispatcher, store: Store
) -> None:
    async with serving(tg, dispatcher, store, sending=False) as adapter:
        tg.push_message(group(tg), user(tg, ALICE, "Alice"), "/checkin")
        await tg.wait_for(
            lambda t: count_rows(store, inbox) == 0 and bool(outbox_rows(store)), every=0.01
        )
        assert outbox_rows(store) == [(str(GROUP), "pending", None)]
        assert tg.texts() == []  # the adapter itself sends no answer
        await Sender(adapter.messenger, Deliveries(store, moving_on(dispatcher.clock))).drain_once()
        (text,) = await said(tg)
        assert "+10" in text
        posted = tg.calls_to("sendMessage")[0].result["message_id"]
        assert outbox_rows(store) == [(str(GROUP), "sent", str(posted))]


async def test_a_button_press_runs_its_command_and_is_answered_in_the_group_at_once(
    tg: FakeTelegram, adapter: TelegramAdapter
) -> None:
    tg.push_callback_query(group(tg), user(tg, ALICE, "Alice"), 1, "/checkin")
    # Kept back for an inline answer only while the press is answered: had the adapter not
    # left it to the sender, it would wait out the 30 s hold (and this test's timeout).
    (text,) = await said(tg)
    assert "+10" in text
    (answer,) = await tg.wait_for_call("answerCallbackQuery")
    assert not answer.params.get("show_alert")


async def test_an_unknown_button_gets_a_private_alert_marked_delivered_and_nothing_more(
    tg: FakeTelegram, adapter: TelegramAdapter, store: Store
) -> None:
    tg.push_callback_query(group(tg), user(tg, ALICE, "Alice"), 1, "no-such-thing")
    (answer,) = await tg.wait_for_call("answerCallbackQuery")
    assert answer.params["show_alert"] is True and "no longer works" in answer.params["text"]
    await tg.wait_for(lambda t: [row[1] for row in outbox_rows(store)] == ["sent"], every=0.01)
    assert outbox_rows(store) == [(str(ALICE), "sent", "")]  # delivered as the alert
    assert tg.texts(GROUP) == [] and tg.texts(ALICE) == []


async def test_a_private_answer_whose_alert_failed_goes_to_the_pressers_private_chat(
    tg: FakeTelegram, adapter: TelegramAdapter, store: Store
) -> None:
    tg.fail("answerCallbackQuery", 400, "Bad Request: query is too old")
    tg.push_callback_query(group(tg), user(tg, ALICE, "Alice"), 1, "no-such-thing")
    (text,) = await said(tg, chat_id=ALICE)
    assert "no longer works" in text and tg.texts(GROUP) == []


async def test_link_in_a_group_points_to_a_private_chat_and_works_there(
    tg: FakeTelegram, adapter: TelegramAdapter
) -> None:
    alice = user(tg, ALICE, "Alice")
    tg.push_message(group(tg), alice, "/link")
    (where,) = await said(tg)
    assert "private chat" in where
    tg.push_message(tg.private_chat(alice), alice, "/link")
    (code,) = await said(tg, chat_id=ALICE)
    assert "link code" in code
    # Nothing about /link depends on being an admin: Telegram was never asked.
    assert tg.calls_to("getChatMember") == []


async def test_429s_are_waited_out_and_nothing_is_lost(
    tg: FakeTelegram, adapter: TelegramAdapter
) -> None:
    tg.throttle("sendMessage", times=1, retry_after=1)
    tg.push_message(group(tg), user(tg, ALICE, "Alice"), "/checkin")
    tg.push_message(group(tg), user(tg, CAROL, "Carol"), "/checkin")
    texts = await said(tg, 2)
    assert sorted(texts) == sorted(set(texts)) and all("+10" in text for text in texts)
    assert len([c for c in tg.calls_to("sendMessage") if c.throttled]) == 1
    assert tg.duplicates() == []


async def test_a_newcomer_is_welcomed_and_pointed_to_help(
    tg: FakeTelegram, adapter: TelegramAdapter, store: Store
) -> None:
    bot = tg.user(999000, "Community Bot", username="community_bot")
    bot["is_bot"] = True
    tg.push_new_members(group(tg), user(tg, BOSS, "Boss"), [user(tg, ALICE, "Alice"), bot])
    (welcome,) = await said(tg)
    assert "Alice" in welcome and "/help" in welcome
    await tg.wait_for(lambda t: count_rows(store, inbox) == 0, every=0.01)


async def test_a_bot_api_without_optional_methods_still_serves(
    tg: FakeTelegram, dispatcher: Dispatcher, store: Store
) -> None:
    for method in ("setMyCommands", "getChatMember", "sendPoll", "deleteWebhook"):
        tg.disable(method)
    async with serving(tg, dispatcher, store):
        tg.push_message(group(tg), user(tg, ALICE, "Alice"), "/checkin")
        (text,) = await said(tg)
        assert "+10" in text
        tg.push_message(group(tg), user(tg, BOSS, "Boss"), "/poll Q? | A | B")
        texts = await said(tg, 2)
        # No getChatMember, in a group nobody adopted: Telegram's answer would not count
        # anyway, so Boss is refused as anyone unlisted is.
        assert "is for community admins" in texts[1] and "/poll" in texts[1]
        assert tg.calls_to("sendPoll") == []


async def test_a_failed_admin_lookup_is_not_remembered_and_a_retry_works(
    tg: FakeTelegram, adapter: TelegramAdapter, store: Store
) -> None:
    await adopt(tg)
    tg.set_member_status(GROUP, BOSS, "administrator")
    tg.push_message(group(tg), user(tg, ALICE, "Alice"), "hello")  # registers @alice
    tg.fail("getChatMember", 502, "Bad Gateway")
    tg.push_message(group(tg), user(tg, BOSS, "Boss"), "/award @alice 50")
    failed = (await said(tg, 2))[1]
    assert "could not check your admin rights" in failed and "/award" in failed
    assert "admins only" not in failed
    await tg.wait_for(
        lambda t: count_rows(store, inbox) == 0, every=0.01
    )  # answered, not left to replay
    assert count_rows(store, ledger) == 0  # nothing changed
    tg.enable("getChatMember")
    tg.push_message(group(tg), user(tg, BOSS, "Boss"), "/award @alice 50")
    awarded = (await said(tg, 3))[2]
    assert "50" in awarded and "Alice" in awarded
    boss_lookups = [c for c in tg.calls_to("getChatMember") if c.params["user_id"] == BOSS]
    assert [c.status for c in boss_lookups] == [502, 200]


async def test_a_listed_admin_is_served_while_telegram_cannot_check_admins(
    tg: FakeTelegram, adapter: TelegramAdapter, store: Store
) -> None:
    await adopt(tg)
    tg.push_message(group(tg), user(tg, ALICE, "Alice"), "hello")  # registers @alice
    tg.fail("getChatMember", 502, "Bad Gateway")
    tg.push_message(group(tg), user(tg, TELEGRAM_OWNER, "Owner"), "/award @alice 5")
    awarded = (await said(tg, 2))[1]
    assert "received 5 points" in awarded
    assert count_rows(store, ledger) == 1


async def test_a_button_whose_admin_lookup_failed_says_so_to_the_presser_alone(
    tg: FakeTelegram, adapter: TelegramAdapter, store: Store
) -> None:
    await adopt(tg)
    tg.fail("getChatMember", 502, "Bad Gateway")
    tg.push_callback_query(group(tg), user(tg, BOSS, "Boss"), 1, "/closepoll 1")
    (answer,) = await tg.wait_for_call("answerCallbackQuery")
    assert answer.params["show_alert"] is True
    assert "could not check your admin rights" in answer.params["text"]
    assert len(tg.texts(GROUP)) == 1  # the owner's /settings only
    await tg.wait_for(lambda t: count_rows(store, inbox) == 0, every=0.01)


async def test_webhook_mode_checks_the_secret_and_handles_a_redelivery_once(
    tg: FakeTelegram, dispatcher: Dispatcher, store: Store, unused_tcp_port: int
) -> None:
    async with serving(
        tg,
        dispatcher,
        store,
        mode="webhook",
        webhook_url=f"http://127.0.0.1:{unused_tcp_port}/telegram",
        webhook_port=unused_tcp_port,
        webhook_secret="s3cret",
    ):
        (hook,) = tg.calls_to("setWebhook")
        assert hook.params["secret_token"] == "s3cret"
        assert "edited_message" in hook.params["allowed_updates"]
        update = {"update_id": 77, **tg.message(group(tg), user(tg, ALICE, "Alice"), "/checkin")}
        url = f"http://127.0.0.1:{unused_tcp_port}/telegram"
        async with aiohttp.ClientSession() as http:
            forged = await http.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "x"}
            )
            assert forged.status == 403
            points = {"update_id": 78, **tg.message(group(tg), user(tg, ALICE, "Alice"), "/points")}
            # Telegram redelivers when it did not see our 200 in time; then Alice asks /points,
            # which is answered after the redelivery was handled (one chat, in order).
            for sending in (update, update, points):
                sent = await http.post(
                    url, json=sending, headers={"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
                )
                assert sent.status == 200
        checked_in, balance = await said(tg, 2)
        assert "+10" in checked_in and "10 points" in balance
        assert count_rows(store, inbox) == 0
        assert count_rows(store, checkins) == 1 and len(tg.texts(GROUP)) == 2


async def test_answers_in_one_chat_come_in_the_order_asked(
    tg: FakeTelegram, adapter: TelegramAdapter
) -> None:
    alice = user(tg, ALICE, "Alice")
    for text in ("/start", "签到", "/me", "/points"):
        tg.push_message(group(tg), alice, text)
    texts = await said(tg, 4)
    assert "welcome" in texts[0] and "+10" in texts[1]
    assert "Rank" in texts[2] and "10 points" in texts[3]


async def test_a_photo_captioned_with_the_word_checks_in(
    tg: FakeTelegram, adapter: TelegramAdapter
) -> None:
    tg.push_photo_message(group(tg), user(tg, ALICE, "Alice"), caption="打卡")
    (text,) = await said(tg)
    assert "+10" in text


async def test_a_group_that_becomes_a_supergroup_keeps_its_adoption(
    tg: FakeTelegram, adapter: TelegramAdapter, store: Store
) -> None:
    supergroup = -1009999
    await adopt(tg)
    moved = tg.message(tg.group(supergroup, "Acme Fans"), user(tg, BOSS, "Boss"), "x")
    for key in ("text", "entities"):
        moved["message"].pop(key, None)
    moved["message"]["migrate_from_chat_id"] = GROUP
    tg.push_update(moved)
    tg.set_member_status(supergroup, BOSS, "administrator")
    tg.push_message(tg.group(supergroup, "Acme Fans"), user(tg, ALICE, "Alice"), "hi")
    tg.push_message(tg.group(supergroup, "Acme Fans"), user(tg, BOSS, "Boss"), "/award @alice 7")
    (awarded,) = await said(tg, chat_id=supergroup)
    assert "7 points" in awarded  # Boss is still an admin: the group's adoption moved along
    assert count_rows(store, inbox) == 0  # the notice of the move is not replayed at restarts


async def test_an_unknown_command_in_a_group_is_answered_only_when_meant_for_this_bot(
    tg: FakeTelegram, adapter: TelegramAdapter, store: Store
) -> None:
    alice = user(tg, ALICE, "Alice")
    tg.push_message(group(tg), alice, "/checkin")
    await said(tg)
    ours = tg.calls_to("sendMessage")[0].result["message_id"]
    tg.push_message(group(tg), alice, "/ban spammer")  # some other bot's command
    tg.push_message(group(tg), alice, "/ban spammer", reply_to=ours)
    tg.push_message(group(tg), alice, "/ban@community_bot spammer")
    texts = await said(tg, 3)  # one chat's answers come in order: the first /ban got none
    assert all("/ban" in text for text in texts[1:])
    await tg.wait_for(lambda t: count_rows(store, inbox) == 0, every=0.01)
    assert len(tg.texts(GROUP)) == 3


async def test_an_anonymous_admin_can_award_but_earns_nothing_and_is_asked_to_post_as_themselves(
    tg: FakeTelegram, adapter: TelegramAdapter, store: Store
) -> None:
    await adopt(tg)
    tg.push_message(group(tg), user(tg, ALICE, "Alice"), "hello")  # registers @alice
    anonymous = tg.anonymous_admin()
    tg.push_message(group(tg), anonymous, "/award @alice 5", sender_chat=group(tg))
    tg.push_message(group(tg), anonymous, "签到", sender_chat=group(tg))
    awarded, hint = (await said(tg, 3))[1:]
    assert "5" in awarded and "Alice" in awarded  # Telegram vouches for an anonymous admin
    assert "as yourself" in hint
    assert count_rows(store, checkins) == 0
    # Nobody to look up: GroupAnonymousBot is every anonymous admin of every group.
    assert tg.calls_to("getChatMember") == [
        call for call in tg.calls_to("getChatMember") if call.params["user_id"] == TELEGRAM_OWNER
    ]


async def test_a_channel_posting_into_the_group_is_no_member_and_no_admin(
    tg: FakeTelegram, adapter: TelegramAdapter, store: Store
) -> None:
    await adopt(tg)
    news = tg.channel(-1007770001, "Acme News", username="acmenews")
    tg.push_message(group(tg), tg.channel_bot(), "/checkin", sender_chat=news)
    tg.push_message(group(tg), tg.channel_bot(), "/award @acmenews 5", sender_chat=news)
    hint, refused = (await said(tg, 3))[1:]
    assert "as yourself" in hint
    assert "admins only" in refused
    assert count_rows(store, checkins) == 0 and count_rows(store, ledger) == 0


def handled(store: Store, event_id: str) -> bool:
    """Whether the core has handled the event (it records every handled event's id)."""
    found = select(processed_events.c.event_id).where(processed_events.c.event_id == event_id)
    return store.read_now(lambda conn: conn.execute(found).first()) is not None


async def test_an_edit_runs_nothing_but_a_link_code_edited_in_is_spent_at_once(
    tg: FakeTelegram, adapter: TelegramAdapter, store: Store
) -> None:
    alice = user(tg, ALICE, "Alice")
    tg.push_message(tg.private_chat(alice), alice, "/link")
    (shown,) = await said(tg, chat_id=ALICE)
    found = re.search(r"link code: (\w+)", shown)
    assert found is not None
    code = found[1]
    posted = tg.message(group(tg), alice, "good morning")
    tg.push_update(posted)
    message_id = posted["message"]["message_id"]
    # Edited to the check-in word, then to show the code: an edit is no command, but what it
    # shows is read (one chat's updates are handled in order).
    checkin_edit = tg.push_edited_message(group(tg), message_id, "签到")
    code_edit = tg.push_edited_message(group(tg), message_id, f"my code is {code}")
    (spent,) = await said(tg)
    assert "no longer works" in spent
    quote = tg.calls_to("sendMessage")[-1].params["reply_parameters"]
    assert quote["message_id"] == message_id  # the answer quotes the edited message
    for update_id in (checkin_edit, code_edit):
        assert handled(store, f"telegram:{update_id}")
    assert count_rows(store, checkins) == 0
    assert count_rows(store, link_codes) == 0
    await tg.wait_for(lambda t: count_rows(store, inbox) == 0, every=0.01)
    allowed = tg.calls_to("getUpdates")[0].params["allowed_updates"]
    assert "edited_message" in allowed


async def test_an_edit_that_reads_as_a_command_is_not_run(
    tg: FakeTelegram, adapter: TelegramAdapter, store: Store
) -> None:
    alice = user(tg, ALICE, "Alice")
    posted = tg.message(group(tg), alice, "hi")
    tg.push_update(posted)
    edit = tg.push_edited_message(group(tg), posted["message"]["message_id"], "/checkin")
    tg.push_message(group(tg), alice, "/points")  # answered after the edit was handled
    (points,) = await said(tg)
    assert "0 points" in points
    assert handled(store, f"telegram:{edit}")
    assert count_rows(store, checkins) == 0 and len(tg.texts(GROUP)) == 1


async def test_a_redemption_is_confirmed_with_a_button_and_a_second_press_pays_nothing(
    tg: FakeTelegram, adapter: TelegramAdapter, store: Store, dispatcher: Dispatcher
) -> None:
    alice = user(tg, ALICE, "Alice")
    tg.push_message(group(tg), alice, "/checkin")
    await said(tg)
    number = add_sticker(store, dispatcher.clock())
    tg.push_message(group(tg), alice, "/rewards")
    listed = (await said(tg, 2))[-1]
    assert "Sticker" in listed and "10 points" in listed
    tg.push_message(group(tg), alice, f"/redeem {number}")
    asked = (await said(tg, 3))[-1]
    assert "Sticker" in asked and "5 will be left" in asked
    presses = [
        (message_id, button["callback_data"])
        for (chat_id, message_id), message in sorted(tg.messages.items())
        if chat_id == GROUP
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
        for button in row
    ]
    ((message_id, press),) = presses
    assert press.startswith(f"/redeem {number} confirm ") and len(press.encode()) <= 64
    tg.push_callback_query(group(tg), alice, message_id, press)
    await tg.wait_for(lambda t: redeemed_and_held(store) == (1, 5))
    tg.push_callback_query(group(tg), alice, message_id, press)
    await tg.wait_for_call("answerCallbackQuery", count=2)
    assert redeemed_and_held(store) == (1, 5)  # the double press paid once
    tg.push_message(group(tg), alice, "/history")
    await tg.wait_for(lambda t: any("redeemed a reward" in text for text in t.texts(GROUP)))
