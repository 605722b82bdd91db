"""The fake Telegram Bot API, driven by the real python-telegram-bot over a local socket."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

from tests.fakes.telegram_api import BOT_ID, FakeTelegram, FloodLimits, html_to_plain

TOKEN = "123456:TEST-token"
JSON_HEADERS = {"Content-Type": "application/json"}


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    bot = Bot(TOKEN, base_url=tg.base_url)
    await bot.initialize()
    yield bot
    await bot.shutdown()


async def test_initialize_calls_get_me_and_records_the_token(tg: FakeTelegram, bot: Bot) -> None:
    assert bot.id == BOT_ID and bot.username == "community_bot"
    assert [c.method for c in tg.calls] == ["getMe"]
    assert tg.tokens == {TOKEN}


async def test_html_message_is_recorded_with_what_the_user_sees(tg: FakeTelegram, bot: Bot) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Join", callback_data="/join 7")]])
    first = await bot.send_message(
        -1001, "<b>Hi</b> &amp; <a href='https://x.test/?a=1&amp;b=2'>welcome</a> &#128075;",
        parse_mode="HTML", reply_markup=markup,
    )  # fmt: skip
    second = await bot.send_message(-1001, "again")
    assert (first.message_id, second.message_id) == (1, 2)
    assert first.chat.type == "supergroup" and first.from_user is not None
    assert first.from_user.id == BOT_ID and first.text == "Hi & welcome 👋"
    assert first.reply_markup == markup
    call = tg.calls_to("sendMessage")[0]
    assert call.params["chat_id"] == -1001 and call.params["parse_mode"] == "HTML"
    assert call.params["reply_markup"] == markup.to_dict()  # decoded from the form's JSON
    assert call.params["_plain"] == "Hi & welcome 👋" and call.status == 200
    assert tg.texts(-1001) == ["Hi & welcome 👋", "again"]
    private = await bot.send_message(42, "hello")
    assert private.chat.type == "private" and private.message_id == 1


@pytest.mark.parametrize(
    "text",
    [
        "<foo>x</foo>",
        "<b>x",
        "<b><i>x</b></i>",
        "1 < 2",
        "AT&T",
        "</b>",
        '<span class="x">y</span>',
    ],
)
async def test_bad_html_is_refused(tg: FakeTelegram, bot: Bot, text: str) -> None:
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(1, text, parse_mode="HTML")
    assert tg.texts() == []


def test_html_parser_accepts_every_supported_tag() -> None:
    text = (
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike>"
        '<del>d</del><span class="tg-spoiler">p</span><tg-spoiler>q</tg-spoiler>'
        '<a href="tg://user?id=1">a</a><code>c</code><pre><code class="language-py">x</code></pre>'
        '<blockquote expandable>z</blockquote><tg-emoji emoji-id="5368">👍</tg-emoji>'
        "&lt;&gt;&quot;&#x41;&#65;"
    )
    assert html_to_plain(text) == 'bsieunskdpqacxz👍<>"AA'


async def test_length_is_counted_in_utf16_units_after_parsing(bot: Bot) -> None:
    await bot.send_message(1, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")  # tags are free
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(1, "😀" * 2049)  # 4098 UTF-16 units, 2049 code points
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(1, "<b> </b>", parse_mode="HTML")


async def test_throttle_answers_429_once_then_lets_the_retry_through(
    tg: FakeTelegram, bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # retry_after as a timedelta, no deprecation
    tg.throttle("sendMessage", times=1, retry_after=3)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(1, "first try")
    assert caught.value.retry_after == timedelta(seconds=3)
    await bot.send_message(1, "first try")
    calls = tg.calls_to("sendMessage")
    assert [c.throttled for c in calls] == [True, False] and calls[0].status == 429
    assert tg.texts() == ["first try"]


async def test_disabled_and_failing_methods(tg: FakeTelegram, bot: Bot) -> None:
    tg.disable("setMyCommands")
    # PTB maps every 404 to InvalidToken, even for a known token and a missing method.
    with pytest.raises(InvalidToken, match="Not Found: method not found"):
        await bot.set_my_commands([("start", "Start")])
    tg.fail("getChatMember", 403, "Forbidden: bot was kicked from the supergroup chat")
    with pytest.raises(Exception, match="bot was kicked"):
        await bot.get_chat_member(-1001, 5)
    tg.enable("getChatMember")
    tg.set_member_status(-1001, 5, "administrator")
    assert (await bot.get_chat_member(-1001, 5)).status == "administrator"
    for status in ("creator", "member", "left", "kicked"):
        tg.set_member_status(-1001, 5, status)
        assert (await bot.get_chat_member(-1001, 5)).status == status
    assert (await bot.get_chat(-1001)).type == "supergroup"


async def test_get_updates_is_held_open_until_a_push(tg: FakeTelegram, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(offset=0, timeout=5))
    done, _ = await asyncio.wait({poll}, timeout=0.2)
    assert not done  # nothing queued: the request waits instead of answering [] at once
    user = tg.user(7, "Ann", "ann")
    update_id = tg.push_message(tg.group(-1002, "Fans"), user, "/checkin@community_bot now")
    (update,) = await asyncio.wait_for(poll, 2)
    assert update.update_id == update_id == 1 and update.message is not None
    assert update.message.text == "/checkin@community_bot now"
    assert update.message.entities[0].type == "bot_command"
    assert update.message.entities[0].length == len("/checkin@community_bot")


async def test_offset_confirms_and_drops_updates(tg: FakeTelegram, bot: Bot) -> None:
    confirmed: list[int] = []

    async def on_offset(offset: int) -> None:
        confirmed.append(offset)

    tg.on_offset = on_offset
    chat, user = tg.group(-1003, "Fans"), tg.user(8, "Bo")
    for text in ("one", "two", "three"):
        tg.push_message(chat, user, text)
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [1, 2, 3]
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [1, 2, 3]  # not confirmed
    assert [u.update_id for u in await bot.get_updates(offset=3, timeout=0)] == [3]
    assert await bot.get_updates(offset=4, timeout=0) == ()
    assert tg.offsets == [3, 4] and confirmed == [3, 4] and tg.confirmed_up_to == 3
    assert tg.pending_updates == []


async def test_poll_then_poll_answer_parses(tg: FakeTelegram, bot: Bot) -> None:
    message = await bot.send_poll(-1004, "Pizza?", ["Yes", "No"], is_anonymous=False)
    assert message.poll is not None and not message.poll.is_anonymous
    assert [o.text for o in message.poll.options] == ["Yes", "No"]
    assert tg.calls_to("sendPoll")[0].params["options"] == [{"text": "Yes"}, {"text": "No"}]
    update = tg.poll_answer(message.poll.id, tg.user(9, "Cy"), [1])
    tg.push_update(update)
    parsed = Update.de_json(update, bot)
    assert parsed.poll_answer is not None and parsed.poll_answer.poll_id == message.poll.id
    assert parsed.poll_answer.option_ids == (1,)
    stopped = await bot.stop_poll(-1004, message.message_id)
    assert stopped.is_closed


async def test_callback_query_parses_and_edits_follow_telegram_rules(
    tg: FakeTelegram, bot: Bot
) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="/a")]])
    sent = await bot.send_message(-1005, "Pick one", reply_markup=markup)
    update = tg.callback_query(tg.group(-1005, "Fans"), tg.user(10, "Di"), sent.message_id, "/a")
    tg.push_update(update)
    query = Update.de_json(update, bot).callback_query
    assert query is not None and query.data == "/a" and query.from_user.id == 10
    assert query.message is not None and query.message.message_id == sent.message_id
    assert await query.answer("ok")
    assert tg.calls_to("answerCallbackQuery")[0].params["callback_query_id"] == query.id
    edited = await bot.edit_message_text("Picked", -1005, sent.message_id, reply_markup=markup)
    assert isinstance(edited, Message) and edited.reply_markup == markup
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("Picked", -1005, sent.message_id, reply_markup=markup)
    edited = await bot.edit_message_text("Picked!", -1005, sent.message_id)
    assert isinstance(edited, Message) and edited.reply_markup is None  # dropped, as on Telegram


async def test_polling_application_replies_without_spinning(tg: FakeTelegram) -> None:
    async def echo(update: Update, _: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None
        await update.message.reply_text(f"<i>you said</i> {update.message.text}", parse_mode="HTML")

    app = ApplicationBuilder().token(TOKEN).base_url(tg.base_url).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        user = tg.user(11, "Ed")
        tg.push_message(tg.private_chat(user), user, "hello")
        (reply,) = await tg.wait_for_call("sendMessage")
        assert reply.params["_plain"] == "you said hello" and reply.params["chat_id"] == 11
        await tg.wait_for(lambda t: t.confirmed_up_to == 1)  # PTB confirmed it by offset=2
    finally:  # reverse order of starting
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    polls = tg.calls_to("getUpdates")
    assert [c.method for c in tg.calls[:2]] == ["getMe", "deleteWebhook"]
    assert polls[0].params["timeout"] == 1 and len(polls) < 20


async def test_hold_freezes_a_call_until_released(tg: FakeTelegram, bot: Bot) -> None:
    tg.hold("sendMessage")
    send = asyncio.create_task(bot.send_message(1, "slow"))
    (call,) = await tg.wait_for_call("sendMessage")
    assert call.status == 0 and not send.done()  # arrived, not answered
    tg.release("sendMessage")
    assert (await send).text == "slow" and call.status == 200


async def test_wait_for_times_out_with_the_calls_seen(tg: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(AssertionError, match="getMe x1"):
        await tg.wait_for(lambda t: bool(t.calls_to("sendPoll")), timeout=0.05)


async def test_stop_ends_a_pending_long_poll(tg: FakeTelegram, bot: Bot) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await tg.wait_for_call("getUpdates")
    await tg.stop()
    assert await asyncio.wait_for(poll, 2) == ()


async def test_raw_http_malformed_unknown_and_get(tg: FakeTelegram) -> None:
    async with aiohttp.ClientSession() as http:
        url = f"{tg.base_url}{TOKEN}"
        bad = await http.post(f"{url}/sendMessage", data=b"{", headers=JSON_HEADERS)
        assert bad.status == 400 and (await bad.json())["ok"] is False
        unknown = await http.post(f"{url}/sendTelepathy", data={"chat_id": "1"})
        assert unknown.status == 404
        assert await unknown.json() == {
            "ok": False, "error_code": 404, "description": "Not Found: method not found"
        }  # fmt: skip
        elsewhere = await http.get(f"http://127.0.0.1:{tg.port}/file/x")
        assert elsewhere.status == 404 and (await elsewhere.json())["ok"] is False
        sent = await http.get(f"{url}/SENDMESSAGE", params={"chat_id": "5", "text": "123"})
        assert (await sent.json())["result"]["text"] == "123"
    assert tg.calls[-1].method == "sendMessage" and tg.calls[-1].params["text"] == "123"


async def test_media_and_join_builders_parse(tg: FakeTelegram, bot: Bot) -> None:
    chat, ann, bob = tg.group(-1006, "Fans"), tg.user(1, "Ann"), tg.user(2, "Bob", "bob", "zh-hans")
    photo = Update.de_json(tg.photo_message(chat, ann, "/proof look") | {"update_id": 1}, bot)
    assert photo.message is not None and photo.message.photo[-1].width == 800
    assert photo.message.caption_entities[0].type == "bot_command"
    doc = Update.de_json(tg.document_message(chat, ann, "cv", "cv.pdf") | {"update_id": 2}, bot)
    assert doc.message is not None and doc.message.document is not None
    assert doc.message.document.file_name == "cv.pdf"
    joined = Update.de_json(tg.new_members(chat, ann, [bob]) | {"update_id": 3}, bot)
    assert joined.message is not None and joined.message.new_chat_members[0].username == "bob"
    assert joined.message.message_id == 3  # one message-id sequence per chat


async def test_a_revoked_token_is_refused_everywhere_even_in_a_held_long_poll(
    tg: FakeTelegram, bot: Bot
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=30))
    await tg.wait_for_call("getUpdates")
    tg.revoke_token()
    with pytest.raises(InvalidToken, match="Unauthorized"):
        await asyncio.wait_for(poll, 5)
    with pytest.raises(InvalidToken, match="Unauthorized"):
        await bot.get_me()
    assert [call.status for call in tg.calls[-2:]] == [401, 401]


async def test_replies_and_messages_sent_for_a_chat_parse(tg: FakeTelegram, bot: Bot) -> None:
    group, alice = tg.group(-100, "Acme"), tg.user(1, "Alice")
    first = tg.message(group, alice, "hi")["message"]["message_id"]
    reply = Update.de_json({"update_id": 1, **tg.message(group, alice, "yo", reply_to=first)}, bot)
    assert reply.message is not None and reply.message.reply_to_message is not None
    assert reply.message.reply_to_message.text == "hi"
    anonymous = tg.message(group, tg.anonymous_admin(), "x", sender_chat=group)
    sent = Update.de_json({"update_id": 2, **anonymous}, bot).message
    assert sent is not None and sent.sender_chat is not None and sent.from_user is not None
    assert sent.sender_chat.id == -100 and sent.from_user.username == "GroupAnonymousBot"
    news = tg.channel(-200, "Acme News", username="acmenews")
    posted = tg.message(group, tg.channel_bot(), "y", sender_chat=news)
    sent = Update.de_json({"update_id": 3, **posted}, bot).message
    assert sent is not None and sent.sender_chat is not None
    assert sent.sender_chat.type == "channel" and sent.sender_chat.username == "acmenews"


async def test_flood_limits_answer_429_like_telegram_and_count_what_was_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    async with FakeTelegram(flood_limits=FloodLimits(overall=5, group=3)) as tg:
        bot = Bot(TOKEN, base_url=tg.base_url)
        await bot.initialize()
        try:
            for n in range(3):
                await bot.send_message(-1001, f"group {n}")
            with pytest.raises(RetryAfter) as group_full:
                await bot.send_message(-1001, "a fourth within the minute")
            # Whole seconds until the oldest of the three leaves the 60 s window.
            after = group_full.value.retry_after
            assert isinstance(after, timedelta) and 59 <= after.total_seconds() <= 60
            await bot.send_message(7, "private")
            with pytest.raises(RetryAfter) as private_full:
                await bot.send_poll(7, "Again within a second?", ["y", "n"])
            assert private_full.value.retry_after == timedelta(seconds=1)
            await bot.send_message(8, "the fifth this second")
            with pytest.raises(RetryAfter):  # 5 a second in all
                await bot.send_message(9, "a sixth")
            await bot.answer_callback_query("1")  # only posting counts
        finally:
            await bot.shutdown()
        assert tg.too_many_requests == 3
        assert [(a.chat_id, a.text) for a in tg.accepted] == [
            (-1001, "group 0"), (-1001, "group 1"), (-1001, "group 2"), (7, "private"),
            (8, "the fifth this second"),
        ]  # fmt: skip
        assert tg.duplicates() == []
        assert all(c.throttled for c in tg.calls if c.status == 429)


async def test_forbidden_chats_failures_for_a_while_and_upgraded_groups(
    tg: FakeTelegram, bot: Bot
) -> None:
    tg.forbid(-1001)
    with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
        await bot.send_message(-1001, "anyone there?")
    tg.forbid(5)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(5, "hello")
    tg.allow(5)
    await bot.send_message(5, "hello again")
    tg.fail("sendMessage", 502, "Bad Gateway", times=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(6, "x")
    await bot.send_message(6, "x")  # the third goes through
    tg.upgrade_group(-1002, -1009)
    with pytest.raises(ChatMigrated) as moved:
        await bot.send_message(-1002, "to the old group")
    assert moved.value.new_chat_id == -1009
    assert [(a.chat_id, a.text) for a in tg.accepted] == [(5, "hello again"), (6, "x")]
