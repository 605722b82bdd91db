"""The outbox and its senders, through the real dispatcher and store, with a recording
messenger standing in for a platform (the platforms' own messengers are tested against the
fakes in test_telegram_messenger.py and test_discord_messenger.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from bot.delivery.budget import Budget
from bot.delivery.messenger import Limits, Rate, Refused, RetryLater
from bot.delivery.sender import Sender, SenderSettings
from bot.rendering import Renderer, plain_text
from community.outbox import Kind, Outgoing
from handlers.ports import Deliveries
from handlers.router import Dispatcher
from storage.schema import communities, groups, outbox
from storage.store import Store
from tests.harness import Chat, Clock

PLAIN = Renderer(plain_text)
OPEN = Rate(0, 1)
ADMIN = "1000"  # listed in the test community as telegram:1000 and discord:1000


@dataclass
class FakeTime:
    """The budget's clock (limits run on real seconds), moved by hand."""

    now: float = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Recorder:
    """A platform that accepts everything it is sent, unless told to fail the next sends."""

    platform: str = "console"
    limits: Limits = field(default_factory=lambda: Limits(OPEN, OPEN, OPEN))
    sent: list[Outgoing] = field(default_factory=list)
    failures: list[Exception] = field(default_factory=list)
    refusing: set[str] = field(default_factory=set)

    async def send(self, message: Outgoing) -> tuple[str, ...]:
        if message.chat_id in self.refusing:
            raise Refused("403 Forbidden: bot was kicked from the group chat")
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(message)
        return (f"m{len(self.sent)}",)

    def texts(self) -> list[str]:
        return [PLAIN.render(m.reply) for m in self.sent]


async def drain_all(drain: Sender) -> None:
    """Rounds until nothing more can go now."""
    for _ in range(100):
        if await drain.drain_once() > 0:
            return


def sender(store: Store, clock: Clock, recorder: Recorder, **settings: object) -> Sender:
    budget = Budget(recorder.limits, clock=FakeTime())
    options = SenderSettings(**settings)  # type: ignore[arg-type]
    return Sender(recorder, Deliveries(store, clock), options, holder="test", budget=budget)


async def test_an_answer_waits_in_the_outbox_until_its_sender_delivers_it(
    chat: Chat, store: Store, clock: Clock
) -> None:
    said = await chat.say("alice", "/checkin")
    assert len(said.outcome.queued) == 1
    deliveries = Deliveries(store, clock)
    (waiting,) = await deliveries.due("console", 10)
    assert (waiting.kind, waiting.chat_id, waiting.reply.template) == (
        Kind.REPLY,
        "group-1",
        "checkin/done",
    )
    recorder = Recorder()
    await sender(store, clock, recorder).drain_once()
    assert recorder.texts() == [said.text]
    assert await deliveries.due("console", 10) == []


async def test_a_redelivered_event_queues_no_second_answer(chat: Chat, store: Store) -> None:
    first = await chat.say("alice", "/checkin", event_id="same")
    again = await chat.say("alice", "/checkin", event_id="same")
    assert again.outcome.duplicate and again.outcome.queued == ()
    assert _count(store) == len(first.outcome.queued) == 1


async def test_a_busy_group_gets_one_merged_message_naming_everyone(
    dispatcher: Dispatcher, store: Store, clock: Clock
) -> None:
    chat = Chat(dispatcher, clock)
    names = ["alice", "bob", "carol", "dave", "erin"]
    for name in names:
        await chat.say(name, "签到")
    await chat.say("alice", "签到")  # once more: "already checked in" merges too
    recorder = Recorder(limits=Limits(OPEN, group=Rate(3, 60), private=OPEN))
    await sender(store, clock, recorder).drain_once()
    # Six answers waiting, room for three: all of them in one message, one line each.
    (merged,) = recorder.sent
    assert merged.reply.template == "delivery/merged"
    lines = PLAIN.render(merged.reply).splitlines()
    assert len(lines) == 6
    for name, line in zip([*names, "alice"], lines, strict=True):
        assert name in line
    assert "+10" in lines[0] and "already" in lines[5]
    assert await Deliveries(store, clock).due("console", 10) == []


async def test_a_quiet_group_gets_each_answer_on_its_own(
    chat: Chat, store: Store, clock: Clock
) -> None:
    for name in ["alice", "bob"]:
        await chat.say(name, "签到")
    recorder = Recorder(limits=Limits(OPEN, group=Rate(20, 60), private=OPEN))
    await drain_all(sender(store, clock, recorder))
    assert [m.reply.template for m in recorder.sent] == ["checkin/done", "checkin/done"]


async def test_a_429_is_waited_out_and_the_message_then_sent_once(
    chat: Chat, store: Store, clock: Clock
) -> None:
    await chat.say("alice", "/points")
    recorder = Recorder(failures=[RetryLater("429", after=30)])
    drain = sender(store, clock, recorder)
    await drain.drain_once()
    assert recorder.sent == []
    deliveries = Deliveries(store, clock)
    assert await deliveries.due("console", 10) == []  # not before 30 s
    clock.now += timedelta(seconds=31)
    (again,) = await deliveries.due("console", 10)
    assert again.attempts == 1
    drain._budget._clock.now += 31  # type: ignore[attr-defined]
    await drain.drain_once()
    assert [m.reply.template for m in recorder.sent] == ["points/points"]


async def test_network_errors_back_off_then_give_up(chat: Chat, store: Store, clock: Clock) -> None:
    await chat.say("alice", "/points")
    recorder = Recorder(failures=[RetryLater("timeout")] * 3)
    drain = sender(store, clock, recorder, max_attempts=3)
    waits = []
    for _ in range(3):
        await drain.drain_once()
        row = _rows(store)[0]
        waits.append(row.not_before - clock.now)
        clock.now = row.not_before
    assert waits[:2] == [timedelta(seconds=1), timedelta(seconds=2)]
    row = _rows(store)[0]
    assert row.state == "failed" and "gave up after 3" in row.failure
    assert recorder.sent == []


async def test_a_group_that_keeps_refusing_is_skipped_until_it_speaks(
    dispatcher: Dispatcher, store: Store, clock: Clock
) -> None:
    gone = Chat(dispatcher, clock, chat_id="gone")
    here = Chat(dispatcher, clock, chat_id="here")
    boss = Chat(dispatcher, clock, chat_id="gone", trusted=True)
    for _ in range(3):
        await gone.say("alice", "/points")
    await here.say("bob", "/points")
    recorder = Recorder(refusing={"gone"})
    await drain_all(sender(store, clock, recorder, refusals_to_idle=3))
    states = {(r.chat_id, r.state) for r in _rows(store)}
    assert ("gone", "failed") in states and ("here", "sent") in states
    assert _inactive(store) == {"gone"}
    announced = await Chat(dispatcher, clock, chat_id="here").say("boss", "/announce Sale!")
    assert announced.outcome.reply is not None
    assert announced.outcome.reply.context["inactive"] == 1
    posts = [r.chat_id for r in _rows(store) if r.kind == "post"]
    assert posts == ["here"]
    await boss.say("alice", "hello again")  # the group speaks: reachable again
    assert _inactive(store) == set()


async def test_an_announcement_goes_to_every_group_once_in_each_communitys_language(
    dispatcher: Dispatcher, store: Store, clock: Clock
) -> None:
    telegram = Chat(dispatcher, clock, chat_id="-100", platform="telegram")
    discord = Chat(dispatcher, clock, chat_id="guild-1", platform="discord", needs_channel=True)
    silent = Chat(dispatcher, clock, chat_id="guild-2", platform="discord", needs_channel=True)
    chinese = Chat(dispatcher, clock, chat_id="-200", platform="telegram")
    private = Chat(dispatcher, clock, chat_id="555", platform="telegram", private=True)
    for place in (telegram, silent, chinese, private):
        await place.say("alice", "hi")
    await discord.deliver(replace(discord.event(ADMIN, "/settings channel"), channel_id="chan-9"))
    await chinese.say(ADMIN, "/settings community shanghai")
    store.write_now(
        lambda c: c.execute(
            update(communities).where(communities.c.slug == "shanghai").values(locale="zh_CN")
        )
    )
    console = Chat(dispatcher, clock, trusted=True)
    said = await console.say("boss", "/announce Double points today!", event_id="ann-1")
    again = await console.say("boss", "/announce Double points today!", event_id="ann-1")
    assert again.outcome.duplicate
    assert said.outcome.reply is not None
    assert said.outcome.reply.context == {"groups": 3, "inactive": 0, "no_channel": 1}
    deliveries = Deliveries(store, clock)
    posts = {
        (m.platform, m.chat_id): PLAIN.render(m.reply)
        for platform in ("telegram", "discord", "console")
        for m in await deliveries.due(platform, 100)
        if m.kind is Kind.POST
    }
    # Every group of the announcing community, the Discord one in its posting channel; not
    # the private chat, not the server without a channel, not the other community's group.
    assert set(posts) == {("telegram", "-100"), ("discord", "chan-9"), ("console", "group-1")}
    assert all("Double points today!" in text for text in posts.values())


async def test_a_shanghai_group_reads_its_post_in_chinese(
    dispatcher: Dispatcher, store: Store, clock: Clock
) -> None:
    chinese = Chat(dispatcher, clock, chat_id="-200", platform="telegram")
    await chinese.say(ADMIN, "/settings community shanghai")
    store.write_now(
        lambda c: c.execute(
            update(communities).where(communities.c.slug == "shanghai").values(locale="zh_CN")
        )
    )
    await chinese.say(ADMIN, "/announce 双倍积分")
    found = await Deliveries(store, clock).due("telegram", 100)
    post = next(m for m in found if m.kind is Kind.POST)
    assert post.reply.locale == "zh_CN"
    reply = next(m for m in found if m.kind is Kind.REPLY and "announce" in m.reply.template)
    assert "公告已排入 1 个群" in PLAIN.render(reply.reply)


async def test_adoption_makes_the_channel_the_posting_channel(
    dispatcher: Dispatcher, store: Store, clock: Clock
) -> None:
    discord = Chat(dispatcher, clock, chat_id="guild-7", platform="discord", needs_channel=True)
    await discord.deliver(replace(discord.event(ADMIN, "/settings"), channel_id="general"))
    assert _posting_channels(store) == {"guild-7": "general"}
    moved = await discord.deliver(
        replace(discord.event(ADMIN, "/settings channel"), channel_id="news")
    )
    assert (
        moved.outcome.reply is not None and moved.outcome.reply.template == "settings/channel_set"
    )
    assert _posting_channels(store) == {"guild-7": "news"}
    welcome = await discord.joins("newcomer")  # no channel of its own: the posting channel
    assert _rows(store)[-1].chat_id == "news" and welcome.outcome.queued
    telegram = Chat(dispatcher, clock, chat_id="-5", platform="telegram")
    said = await telegram.say(ADMIN, "/settings channel")
    assert said.outcome.reply is not None
    assert said.outcome.reply.template == "settings/channel_not_needed"


async def test_an_answer_given_inline_is_not_sent_again_unless_the_adapter_died(
    chat: Chat, store: Store, clock: Clock
) -> None:
    answered = await chat.deliver(replace(chat.event("alice", "/points"), answered_inline=True))
    lost = await chat.deliver(replace(chat.event("bob", "/points"), answered_inline=True))
    deliveries = Deliveries(store, clock)
    assert await deliveries.due("console", 10) == []  # both held for the adapter
    await deliveries.answered(answered.outcome.queued)
    clock.now += timedelta(seconds=31)
    (left,) = await deliveries.due("console", 10)
    assert left.id == lost.outcome.queued[0]


async def test_two_senders_on_one_database_take_turns_and_send_each_message_once(
    db_url: str, dispatcher: Dispatcher, store: Store, clock: Clock
) -> None:
    for index in range(40):
        await Chat(dispatcher, clock, chat_id=f"g{index % 4}").say(f"m{index}", "/points")
    other_store = Store(db_url)
    recorder = Recorder()
    try:
        first = Sender(
            recorder, Deliveries(store, clock), SenderSettings(poll_seconds=0.01), holder="a"
        )
        second = Sender(
            recorder, Deliveries(other_store, clock), SenderSettings(poll_seconds=0.01), holder="b"
        )
        first.start()
        second.start()
        for _ in range(200):
            await asyncio.sleep(0.02)
            if len(recorder.sent) >= 40:
                break
        await first.stop()
        await second.stop()
    finally:
        other_store.close()
    ids = [m.id for m in recorder.sent]
    assert len(ids) == 40 and len(set(ids)) == 40


def _rows(store: Store) -> list[Any]:
    return store.read_now(lambda c: list(c.execute(select(outbox).order_by(outbox.c.id))))


def _count(store: Store) -> int:
    return len(_rows(store))


def _inactive(store: Store) -> set[str]:
    query = select(groups.c.chat_id).where(groups.c.inactive_since.is_not(None))
    return set(store.read_now(lambda c: c.execute(query).scalars().all()))


def _posting_channels(store: Store) -> dict[str, str]:
    query = select(groups.c.chat_id, groups.c.posting_channel).where(
        groups.c.posting_channel.is_not(None)
    )
    return dict(store.read_now(lambda c: c.execute(query).all()))


async def test_a_newcomer_to_a_server_without_a_channel_is_welcomed_nowhere(
    dispatcher: Dispatcher, store: Store
) -> None:
    server = Chat(dispatcher, chat_id="guild-9", platform="discord", needs_channel=True)
    said = await server.joins("newcomer")
    assert said.outcome.reply is not None and said.outcome.queued == ()
    assert _count(store) == 0


async def test_a_row_this_version_cannot_read_holds_up_no_other(
    chat: Chat, store: Store, clock: Clock
) -> None:
    await chat.say("alice", "/points")
    await chat.say("bob", "/points")
    first = _rows(store)[0].id
    store.write_now(
        lambda c: c.execute(update(outbox).where(outbox.c.id == first).values(kind="hologram"))
    )
    recorder = Recorder()
    await drain_all(sender(store, clock, recorder))
    assert [m.recipient for m in recorder.sent] == ["bob"]


async def test_a_sender_taking_the_drain_over_counts_what_was_sent_this_minute(
    dispatcher: Dispatcher, store: Store, clock: Clock
) -> None:
    chat = Chat(dispatcher, clock)
    for name in ["alice", "bob", "carol"]:
        await chat.say(name, "/points")
    limits = Limits(OPEN, group=Rate(3, 60), private=OPEN)
    first = Recorder(limits=limits)
    await drain_all(sender(store, clock, first))
    assert len(first.sent) == 3
    await chat.say("dave", "/points")  # the group's minute is spent
    second = Recorder(limits=limits)
    taking_over = sender(store, clock, second)
    assert await taking_over._leading()  # a new process takes the lease: it recalls the minute
    await taking_over.drain_once()
    assert second.sent == []


async def test_a_sender_woken_as_it_is_stopped_stops(store: Store, clock: Clock) -> None:
    drain = Sender(Recorder(), Deliveries(store, clock), SenderSettings(poll_seconds=5))
    drain.start()
    await asyncio.sleep(0.2)  # waiting for work
    for turns in range(3):  # the cancel comes in the wake-up's turn, or one or two later
        drain.wake()
        for _ in range(turns):
            await asyncio.sleep(0)
        task = drain._task
        assert task is not None
        task.cancel()
        await asyncio.wait({task}, timeout=1)
        assert task.done(), f"a cancel {turns} turn(s) after a wake-up was lost"
        drain.start()
        await asyncio.sleep(0.05)
    await drain.stop()
