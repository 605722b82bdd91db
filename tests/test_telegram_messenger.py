"""The outbox's messages sent on Telegram: the real python-telegram-bot, through our messenger,
against the fake Bot API on 127.0.0.1. What a member sees, and what each Telegram answer means
for the sender (wait how long, or give up)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select
from telegram import Bot

from bot.adapters.telegram_messenger import TelegramMessenger
from bot.delivery.messenger import Refused, RetryLater
from community.audit import Actor
from community.communities import community_by_slug, community_for_chat
from community.outbox import Kind, Outgoing
from community.polls import open_poll, poll_by_native
from handlers.ports import Chats, Polls
from handlers.types import Choice, PollSpec, Reply
from storage.schema import groups
from storage.store import Store
from tests.conftest import T0
from tests.fakes.telegram_api import FakeTelegram, FloodLimits

TOKEN = "123456:TEST-token"
GROUP, ALICE = -1001, 11
_ids = itertools.count(1)


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def messenger(tg: FakeTelegram, store: Store) -> AsyncIterator[TelegramMessenger]:
    bot = Bot(TOKEN, base_url=tg.base_url)
    await bot.initialize()
    yield TelegramMessenger(bot, chats=Chats(store), polls=Polls(store))
    await bot.shutdown()


def outgoing(
    reply: Reply, chat_id: int = GROUP, kind: Kind = Kind.REPLY, **fields: Any
) -> Outgoing:
    """A message as the sender reads it from the outbox."""
    return Outgoing(next(_ids), 1, "telegram", str(chat_id), kind, reply, **fields)


def unknown(command: str = "/x") -> Reply:
    return Reply("common/unknown_command", {"command": command})


def asked(tg: FakeTelegram, text: str = "/x") -> str:
    """A member's message in the group, for an answer to quote."""
    message = tg.message(tg.group(GROUP, "Acme Fans"), tg.user(ALICE, "Alice"), text)
    return str(message["message"]["message_id"])


async def test_a_reply_quotes_the_asking_message_in_telegram_html(
    tg: FakeTelegram, messenger: TelegramMessenger
) -> None:
    question = asked(tg, "/nope")
    ids = await messenger.send(outgoing(unknown("<b>&"), reply_to=question))
    (call,) = tg.calls_to("sendMessage")
    assert call.params["parse_mode"] == "HTML" and "<b>&" in call.params["_plain"]
    assert call.params["reply_parameters"] == {
        "message_id": int(question),
        "allow_sending_without_reply": True,  # the question may be deleted by then
    }
    assert ids == (str(call.result["message_id"]),)
    assert messenger.limits.group.count == 20 and messenger.limits.private.count == 1


async def test_a_long_reply_is_split_quoting_once_with_the_buttons_under_the_last_part(
    tg: FakeTelegram, messenger: TelegramMessenger
) -> None:
    word = "<&>" * 3000  # 9,000 visible characters, each escaped as an HTML entity
    choice = Choice("polls/option", "/vote 1 0", {"text": "Mint"})
    reply = Reply("common/unknown_command", {"command": word}, choices=(choice,))
    ids = await messenger.send(outgoing(reply, reply_to=asked(tg)))
    calls = tg.calls_to("sendMessage")
    assert len(ids) == len(calls) == 3 and ids == tuple(str(c.result["message_id"]) for c in calls)
    assert "".join(tg.texts(GROUP)).count("<&>") == 3000
    assert [("reply_parameters" in c.params) for c in calls] == [True, False, False]
    assert [("reply_markup" in c.params) for c in calls] == [False, False, True]
    (button,) = calls[-1].params["reply_markup"]["inline_keyboard"][0]
    assert button == {"text": "Mint", "callback_data": "/vote 1 0"}


async def test_a_direct_message_goes_to_the_members_private_chat(
    tg: FakeTelegram, messenger: TelegramMessenger
) -> None:
    await messenger.send(outgoing(unknown(), chat_id=ALICE, kind=Kind.DIRECT))
    assert len(tg.texts(ALICE)) == 1 and tg.texts(GROUP) == []


async def test_a_429_is_waited_out_for_as_long_as_telegram_says(
    tg: FakeTelegram, messenger: TelegramMessenger
) -> None:
    tg.throttle("sendMessage", times=1, retry_after=7)
    with pytest.raises(RetryLater) as later:
        await messenger.send(outgoing(unknown()))
    assert later.value.after == 7 and not later.value.whole_platform
    assert tg.texts() == []


async def test_a_long_reply_stopped_by_a_429_goes_on_where_it_stopped(
    tg: FakeTelegram, messenger: TelegramMessenger
) -> None:
    tg.flood_limits = FloodLimits(group=1)
    message = outgoing(Reply("common/unknown_command", {"command": "x" * 5000}))
    with pytest.raises(RetryLater) as later:
        await messenger.send(message)
    assert later.value.after == 60  # the rest of the group's minute
    tg.flood_limits = None
    await messenger.send(message)  # the sender's next try
    assert len(tg.accepted) == 2 and tg.duplicates() == []


@pytest.mark.parametrize(
    ("code", "description"),
    [(500, "Internal Server Error"), (502, "Bad Gateway"), (503, "Service Unavailable")],
)
async def test_a_5xx_is_tried_again_after_a_back_off(
    tg: FakeTelegram, messenger: TelegramMessenger, code: int, description: str
) -> None:
    tg.fail("sendMessage", code, description, times=1)
    with pytest.raises(RetryLater) as later:
        await messenger.send(outgoing(unknown()))
    assert later.value.after is None  # the sender backs off as it sees fit


async def test_an_unreachable_bot_api_is_tried_again(store: Store, unused_tcp_port: int) -> None:
    bot = Bot(TOKEN, base_url=f"http://127.0.0.1:{unused_tcp_port}/bot")
    messenger = TelegramMessenger(bot, chats=Chats(store), polls=Polls(store))
    with pytest.raises(RetryLater) as later:
        await messenger.send(outgoing(unknown()))
    assert later.value.after is None
    await bot.shutdown()


@pytest.mark.parametrize(
    ("chat_id", "said"),
    [(GROUP, "bot was kicked from the group chat"), (ALICE, "bot was blocked by the user")],
)
async def test_a_chat_that_removed_or_blocked_the_bot_refuses_for_good(
    tg: FakeTelegram, messenger: TelegramMessenger, chat_id: int, said: str
) -> None:
    tg.forbid(chat_id)
    with pytest.raises(Refused, match=said):
        await messenger.send(outgoing(unknown(), chat_id=chat_id))


async def test_a_chat_telegram_does_not_know_refuses_for_good(
    tg: FakeTelegram, messenger: TelegramMessenger
) -> None:
    tg.fail("sendMessage", 400, "Bad Request: chat not found")
    with pytest.raises(Refused) as refused:
        await messenger.send(outgoing(unknown()))
    assert refused.value.reason == "Chat not found"  # as PTB words Telegram's description


async def test_a_group_that_became_a_supergroup_gets_it_there_and_moves_along(
    tg: FakeTelegram, messenger: TelegramMessenger, store: Store
) -> None:
    supergroup = -1009
    community = store.read_now(lambda conn: community_by_slug(conn, "acme"))
    assert community is not None
    store.write_now(
        community_for_chat,
        platform="telegram",
        chat_id=str(GROUP),
        title="Acme Fans",
        default_slug="acme",
        at=T0,
    )
    tg.upgrade_group(GROUP, supergroup)
    ids = await messenger.send(outgoing(unknown()))
    assert len(tg.texts(supergroup)) == 1 and ids
    chats = store.read_now(lambda conn: conn.execute(select(groups.c.chat_id)).scalars().all())
    assert chats == [str(supergroup)]  # its community, adoption and polls went along


def poll_in_group(store: Store) -> PollSpec:
    community = store.read_now(lambda conn: community_by_slug(conn, "acme"))
    assert community is not None
    opened = store.write_now(
        open_poll,
        community,
        platform="telegram",
        chat_id=str(GROUP),
        text="Best flavour? | Mint | Mango",
        actor=Actor(None, "telegram:1000"),
        at=T0,
    )
    return PollSpec(opened.id, opened.question, opened.options)


def poll_reply(spec: PollSpec) -> Reply:
    choices = tuple(
        Choice("polls/option", f"/vote {spec.poll_id} {n}", {"text": text})
        for n, text in enumerate(spec.options)
    )
    context = {"question": spec.question, "options": list(spec.options), "points": 2}
    return Reply("polls/posted", context, choices=choices, poll=spec)


async def test_a_poll_is_posted_natively_and_its_votes_will_find_it(
    tg: FakeTelegram, messenger: TelegramMessenger, store: Store
) -> None:
    spec = poll_in_group(store)
    ids = await messenger.send(outgoing(poll_reply(spec)))
    (call,) = tg.calls_to("sendPoll")
    assert call.params["is_anonymous"] is False and tg.calls_to("sendMessage") == []
    assert ids == (str(call.result["message_id"]),)
    native = call.result["poll"]["id"]
    found = store.read_now(lambda conn: poll_by_native(conn, "telegram", native))
    assert found is not None and found.id == spec.poll_id


async def test_a_poll_telegram_will_not_have_is_posted_as_buttons(
    tg: FakeTelegram, messenger: TelegramMessenger, store: Store
) -> None:
    spec = poll_in_group(store)
    tg.disable("sendPoll")  # a Bot API server without polls
    await messenger.send(outgoing(poll_reply(spec)))
    (text,) = tg.texts(GROUP)
    assert "Best flavour?" in text
    markup = tg.calls_to("sendMessage")[0].params["reply_markup"]
    assert [row[0]["callback_data"] for row in markup["inline_keyboard"]] == [
        f"/vote {spec.poll_id} 0",
        f"/vote {spec.poll_id} 1",
    ]


async def test_a_429_on_a_poll_is_waited_out_not_degraded(
    tg: FakeTelegram, messenger: TelegramMessenger, store: Store
) -> None:
    tg.throttle("sendPoll", times=1, retry_after=3)
    with pytest.raises(RetryLater):
        await messenger.send(outgoing(poll_reply(poll_in_group(store))))
    assert tg.texts() == []


async def test_an_edit_changes_the_message_in_place(
    tg: FakeTelegram, messenger: TelegramMessenger
) -> None:
    (posted,) = await messenger.send(outgoing(unknown("/first")))
    edit = outgoing(unknown("/second"), kind=Kind.EDIT, edits=posted)
    assert await messenger.send(edit) == (posted,)
    assert await messenger.send(edit) == (posted,)  # "not modified" is no failure
    assert tg.messages[(GROUP, int(posted))]["text"].count("/second") == 1
    assert len(tg.texts(GROUP)) == 1


async def test_an_edit_of_a_message_that_is_gone_is_posted_anew(
    tg: FakeTelegram, messenger: TelegramMessenger
) -> None:
    ids = await messenger.send(outgoing(unknown("/again"), kind=Kind.EDIT, edits="4242"))
    (call,) = tg.calls_to("sendMessage")
    assert ids == (str(call.result["message_id"]),) and "/again" in tg.texts(GROUP)[0]


async def test_results_end_the_native_poll_and_a_poll_closed_already_is_no_failure(
    tg: FakeTelegram, messenger: TelegramMessenger, store: Store
) -> None:
    (poll_message,) = await messenger.send(outgoing(poll_reply(poll_in_group(store))))
    results = Reply("polls/none_open", ends_poll=poll_message)
    await messenger.send(outgoing(results))
    assert tg.polls[next(iter(tg.polls))]["is_closed"]
    assert await messenger.send(outgoing(Reply("polls/none_open"), kind=Kind.END_POLL,
                                         edits=poll_message)) == ()  # fmt: skip
    assert [c.status for c in tg.calls_to("stopPoll")] == [200, 400]
    assert len(tg.texts(GROUP)) == 1


async def test_ending_a_poll_while_telegram_is_down_is_tried_again(
    tg: FakeTelegram, messenger: TelegramMessenger
) -> None:
    tg.fail("stopPoll", 502, "Bad Gateway", times=1)
    with pytest.raises(RetryLater):
        await messenger.send(outgoing(Reply("polls/none_open", ends_poll="5"), kind=Kind.END_POLL))
