"""The Discord adapter: the real discord.py against a fake Discord (gateway + REST on 127.0.0.1),
the real core behind it, and the real sender draining the outbox through the adapter's
messenger. Each test reads what a Discord user would see."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import re
import warnings
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import discord
import discord.http
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from discord import app_commands
from sqlalchemy import func, select

from bot.adapters.discord import DiscordAdapter, DiscordOptions
from bot.adapters.discord_events import discord_markdown
from bot.adapters.failure import TokenRefused
from bot.adapters.splitting import DISCORD_LIMIT
from bot.delivery.messenger import Limits, Rate
from bot.delivery.sender import Sender, SenderSettings
from community.config import parse_config
from handlers.ports import Deliveries, Polls
from handlers.router import Dispatcher, Outcome
from handlers.types import Event, EventKind
from storage.schema import checkins, link_codes, outbox
from storage.store import Store
from tests.conftest import DISCORD_OWNER, TEST_COMMUNITY
from tests.fakes.discord_api import (
    APP_ID,
    BOT_ID,
    DIRECT_MESSAGE_POLLS,
    GUILD_MESSAGE_POLLS,
    FakeDiscord,
    FakeInteraction,
    FakeLimits,
    SentMessage,
)
from tests.harness import Clock, add_sticker, redeemed_and_held, serving_with_sender

GUILD, CHANNEL, OWNER = 800_000_000_000_000_001, 800_000_000_000_000_002, 800_000_000_000_000_003
ALICE, MOD, BOB = 800_000_000_000_000_011, 800_000_000_000_000_012, 800_000_000_000_000_013
NEWBIE, STRANGER = 800_000_000_000_000_077, 800_000_000_000_000_088  # not in the fixture's server
TOO_LONG = "x" * 56  # Discord's poll answers hold 55 characters: such a poll gets buttons
# Discord's limits are the messenger's and the sender's tests' (test_discord_messenger.py); here
# answers go at once, however many a test asks for.
UNLIMITED = Limits(overall=Rate(0, 1), group=Rate(0, 1), private=Rate(0, 1))
SENDING = SenderSettings(poll_seconds=0.02)  # the outbox looked at often: answers come soon


@contextlib.asynccontextmanager
async def acme_fans(limits: FakeLimits | None = None) -> AsyncIterator[FakeDiscord]:
    """A server "Acme Fans" with #general (where newcomers are greeted), alice, bob and mod
    (who has Manage Server); Discord's limits kept when given."""
    async with FakeDiscord(limits=limits) as fake:
        fake.add_guild(GUILD, "Acme Fans", owner_id=OWNER, system_channel_id=CHANNEL)
        fake.add_channel(GUILD, CHANNEL, "general")
        fake.add_member(GUILD, ALICE, "alice", global_name="Alice")
        fake.add_member(GUILD, MOD, "mod", manage_guild=True)
        fake.add_member(GUILD, DISCORD_OWNER, "owner")  # listed in the community's admins
        fake.add_member(GUILD, BOB, "bob", global_name="**bold** @everyone")
        with fake.patch_discord():
            yield fake


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with acme_fans() as fake:
        yield fake


@dataclass(frozen=True)
class Ports:
    """The doors into the store the adapter is given, on the test's clock."""

    polls: Polls
    deliveries: Deliveries

    @classmethod
    def over(cls, store: Store, clock: Clock) -> Ports:
        return cls(Polls(store), Deliveries(store, clock))


@pytest.fixture
def ports(store: Store, clock: Clock) -> Ports:
    return Ports.over(store, clock)


def make_adapter(
    dispatcher: Dispatcher, ports: Ports, *, locale: str = "en", **knobs: Any
) -> DiscordAdapter:
    """The adapter as bot/app.py builds it: the default community's rules bound its options."""
    knobs = {"rules": parse_config(TEST_COMMUNITY)[0].rules, "limits": UNLIMITED, **knobs}
    return DiscordAdapter(
        dispatcher,
        DiscordOptions(token="fake-token", sharded=knobs.pop("sharded", False)),
        polls=ports.polls,
        deliveries=ports.deliveries,
        default_locale=locale,
        guild_ready_timeout=0.05,
        **knobs,
    )


def running(
    dispatcher: Dispatcher, ports: Ports, *, sending: bool = True, **knobs: Any
) -> contextlib.AbstractAsyncContextManager[DiscordAdapter]:
    """The adapter, started (logged in, READY, commands synced), and its sender draining the
    outbox through its messenger (as bot/app.py runs them); then both stopped."""
    adapter = make_adapter(dispatcher, ports, **knobs)
    return serving_with_sender(adapter, ports.deliveries, SENDING, sending=sending)


@contextlib.asynccontextmanager
async def serving(
    fake: FakeDiscord, dispatcher: Dispatcher, ports: Ports, **knobs: Any
) -> AsyncIterator[DiscordAdapter]:
    """The adapter running, in a server the community's listed owner adopted: they send
    /settings there, after which its Manage Server members count as community admins (in a
    server nobody listed adopted they don't)."""
    async with running(dispatcher, ports, **knobs) as adapter:
        await slash(fake, DISCORD_OWNER, "settings")
        yield adapter


@pytest.fixture
async def adapter(
    fake: FakeDiscord, dispatcher: Dispatcher, ports: Ports
) -> AsyncIterator[DiscordAdapter]:
    async with serving(fake, dispatcher, ports) as adapter:
        yield adapter


async def answers(fake: FakeDiscord, inter: FakeInteraction, count: int = 1) -> list[SentMessage]:
    """The first `count` messages sent in answer to an interaction (waits for them)."""

    def sent() -> list[SentMessage]:
        return [m for m in fake.messages if m.where == inter.id]

    await fake.wait_for(lambda: len(sent()) >= count)
    return sent()


async def slash(
    fake: FakeDiscord, user: int, name: str, text: str | None = None, count: int = 1
) -> list[SentMessage]:
    """`user` runs /name in #general; returns what the bot answered."""
    options: dict[str, str | int] | None = {"text": text} if text is not None else None
    inter = await fake.slash_command(GUILD, CHANNEL, user, name, options)
    return await answers(fake, inter, count)


async def said_in_channel(fake: FakeDiscord, channel: int, before: int) -> SentMessage:
    """The first message the bot posts in `channel` after the first `before` sends."""

    def found() -> list[SentMessage]:
        return [m for m in fake.messages[before:] if m.kind == "channel" and m.where == channel]

    await fake.wait_for(lambda: bool(found()))
    return found()[0]


def no_pings(message: SentMessage) -> bool:
    """Whether a message was sent with allowed_mentions that ping nobody."""
    allowed = message.allowed_mentions or {}
    return allowed.get("parse") == [] and not allowed.get("users") and not allowed.get("roles")


def callbacks(fake: FakeDiscord, inter: FakeInteraction) -> list[dict[str, Any]]:
    return fake.interactions[inter.id].responses


class CoreWatch:
    """What the core finished that no Discord message shows (native votes handled, polls tied
    to their Discord message, answers given inline marked delivered), so a test can wait for
    it."""

    def __init__(
        self, dispatcher: Dispatcher, ports: Ports, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self.votes: list[Event] = []
        self.handled: list[Event] = []  # every event, once the core is done with it
        self.polls: list[str] = []  # message ids as the adapter gave them to the core
        self.answered: list[int] = []  # outbox ids the adapter answered inline
        self._changed = asyncio.Condition()
        handle, poll_posted = dispatcher.handle, ports.polls.posted
        mark_answered = ports.deliveries.answered

        async def handled(event: Event) -> Outcome:
            outcome = await handle(event)
            if event.kind is EventKind.VOTE:
                await self._note(self.votes, event)
            await self._note(self.handled, event)
            return outcome

        async def posted(poll_id: int, *, native_id: str, message_id: str) -> None:
            await poll_posted(poll_id, native_id=native_id, message_id=message_id)
            await self._note(self.polls, message_id)

        async def answered(message_ids: Sequence[int]) -> None:
            await mark_answered(message_ids)
            for message_id in message_ids:
                await self._note(self.answered, message_id)

        monkeypatch.setattr(dispatcher, "handle", handled)
        monkeypatch.setattr(ports.polls, "posted", posted)
        monkeypatch.setattr(ports.deliveries, "answered", answered)

    async def _note(self, into: list[Any], item: Any) -> None:
        async with self._changed:
            into.append(item)
            self._changed.notify_all()

    async def until(self, predicate: Callable[[], bool]) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), 10)


@pytest.fixture
def watch(dispatcher: Dispatcher, ports: Ports, monkeypatch: pytest.MonkeyPatch) -> CoreWatch:
    return CoreWatch(dispatcher, ports, monkeypatch)


def count_rows(store: Store, table: Any) -> int:
    query = select(func.count()).select_from(table)
    return int(store.read_now(lambda conn: conn.execute(query).scalar_one()))


def calls_to(fake: FakeDiscord, method: str, path: str) -> list[int]:
    """The statuses of the REST calls made to `path`."""
    return [c.status for c in fake.calls if (c.method, c.path) == (method, path)]


# Slash commands ------------------------------------------------------------------------------


async def test_slash_checkin_is_answered_with_the_points(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    [answer] = await slash(fake, ALICE, "checkin")
    assert answer.kind == "response"
    assert not answer.ephemeral
    assert "Checked in, Alice! +10 points" in (answer.content or "")
    assert no_pings(answer)


async def test_second_slash_checkin_the_same_day_is_politely_refused(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    await slash(fake, ALICE, "checkin")
    [again] = await slash(fake, ALICE, "checkin")
    assert "already checked in today" in (again.content or "")


async def test_award_needs_manage_server_and_finds_the_mentioned_member(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    await slash(fake, BOB, "checkin")  # the core meets bob
    [refused] = await slash(fake, ALICE, "award", f"<@{BOB}> 5 thanks")
    assert "for community admins only" in (refused.content or "")
    # A mention typed into the text option arrives as <@id>; the core finds members by @handle.
    [done] = await slash(fake, MOD, "award", f"<@{BOB}> 5 thanks")
    assert "received 5 points for: thanks. New balance: 15" in (done.content or "")
    [by_handle] = await slash(fake, MOD, "award", "@bob 1")
    assert "New balance: 16" in (by_handle.content or "")


async def test_a_mention_of_someone_the_bot_never_saw_is_looked_up(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    fake.add_member(GUILD, NEWBIE, "newbie")  # joined after the bot connected; never spoke

    def lookups(user: int) -> list[tuple[str, int]]:
        path = f"/guilds/{GUILD}/members/{user}"
        return [(c.method, c.status) for c in fake.calls if c.path == path]

    # Discord tells the adapter newbie's username, but the core only knows members who have
    # talked to the bot: it cannot find newbie yet, and says so.
    [unknown] = await slash(fake, MOD, "award", f"<@{NEWBIE}> 5")
    assert "I can't find @newbie in this community" in (unknown.content or "")
    assert lookups(NEWBIE) == [("GET", 200)]
    await slash(fake, NEWBIE, "checkin")
    [done] = await slash(fake, MOD, "award", f"<@{NEWBIE}> 5")
    assert "received 5 points" in (done.content or "")
    assert lookups(NEWBIE) == [("GET", 200)]  # remembered
    # Not in the server: Discord answers 10007 Unknown Member and the mention stays as typed.
    [stranger] = await slash(fake, MOD, "award", f"<@{STRANGER}> 5")
    assert f"I can't find \\<@{STRANGER}> in this community" in (stranger.content or "")
    assert lookups(STRANGER) == [("GET", 404)]


async def test_unknown_slash_command_gets_a_polite_answer(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    # Discord may still list a command the core dropped since the last sync.
    [answer] = await slash(fake, ALICE, "oldcommand")
    assert "I don't know /oldcommand" in (answer.content or "")


async def test_display_names_are_escaped_and_cannot_ping(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    [answer] = await slash(fake, BOB, "checkin")
    text = answer.content or ""
    assert "Checked in, \\*\\*bold\\*\\* @\u200beveryone!" in text
    assert "@everyone" not in text
    assert no_pings(answer)


async def test_same_interaction_delivered_twice_changes_nothing(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    inter = await fake.slash_command(GUILD, CHANNEL, ALICE, "checkin")
    await answers(fake, inter)
    await fake.dispatch("INTERACTION_CREATE", inter.payload)  # e.g. replayed after a RESUME
    # The writer runs units of work in order: once /points is answered, the repeat was handled.
    [points] = await slash(fake, ALICE, "points")
    assert "you have 10 points" in (points.content or "")
    assert len(callbacks(fake, inter)) == 1
    assert len([m for m in fake.messages if m.where == inter.id]) == 1


async def test_commands_are_synced_with_chinese_descriptions(
    fake: FakeDiscord, adapter: DiscordAdapter, dispatcher: Dispatcher
) -> None:
    # The slash commands (type 1); the user context menu is tested in test_discord_context_menu.
    synced = {c["name"]: c for c in fake.commands[None] if c["type"] == 1}
    assert set(synced) == {name for name, _ in dispatcher.command_menu()}
    assert "vote" not in synced  # hidden: only buttons send it
    checkin = synced["checkin"]
    assert checkin["description"] == "daily check-in (or just say 签到 / 打卡)"
    assert checkin["description_localizations"]["zh-CN"].startswith("每日签到")
    assert checkin["options"] == []  # it takes nothing (tests/test_discord_options.py: options)
    assert all(1 <= len(c["description"]) <= 100 for c in synced.values())


async def test_english_descriptions_when_the_community_speaks_chinese(
    fake: FakeDiscord, dispatcher: Dispatcher, ports: Ports
) -> None:
    adapter = make_adapter(dispatcher, ports, locale="zh_CN")
    await adapter.start()
    await adapter.stop()
    top = next(c for c in fake.commands[None] if c["name"] == "top")
    assert top["description"] == "积分排行榜"
    assert top["description_localizations"] == {
        "en-US": "the leaderboard",
        "en-GB": "the leaderboard",
    }


async def test_sharded_client_serves_the_same(
    fake: FakeDiscord, dispatcher: Dispatcher, ports: Ports
) -> None:
    async with running(dispatcher, ports, sharded=True) as adapter:
        assert isinstance(adapter.client, discord.AutoShardedClient)
        [answer] = await slash(fake, ALICE, "checkin")
        assert "+10 points" in (answer.content or "")
        await fake.send_message(CHANNEL, BOB, "签到")
        posted = await said_in_channel(fake, CHANNEL, 0)
        assert "+10 points" in (posted.content or "")


async def test_a_failed_sync_is_logged_once_and_the_bot_still_serves(
    fake: FakeDiscord,
    dispatcher: Dispatcher,
    ports: Ports,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def refused(*args: Any, **kwargs: Any) -> Any:
        raise discord.HTTPException(_Response(403), {"code": 50001, "message": "Missing Access"})

    monkeypatch.setattr(app_commands.CommandTree, "sync", refused)
    async with running(dispatcher, ports):
        [answer] = await slash(fake, ALICE, "checkin")
        assert "+10 points" in (answer.content or "")
    failures = [r for r in caplog.records if r.getMessage() == "discord command sync failed"]
    assert len(failures) == 1


# Plain messages ------------------------------------------------------------------------------


async def test_plain_word_checks_in_and_the_reply_pings_nobody(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    await fake.send_message(CHANNEL, ALICE, "签到")
    answer = await said_in_channel(fake, CHANNEL, 0)
    assert "+10 points" in (answer.content or "")
    assert no_pings(answer)
    sent = next(c for c in fake.calls if c.method == "POST" and c.path.endswith("/messages"))
    assert sent.json["allowed_mentions"]["parse"] == []
    assert sent.json["message_reference"]["fail_if_not_exists"] is False


async def test_text_commands_and_mentions_in_messages_work(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    await fake.send_message(CHANNEL, BOB, "/checkin")
    first = await said_in_channel(fake, CHANNEL, 0)
    assert "+10 points" in (first.content or "")
    before = len(fake.messages)
    await fake.send_message(CHANNEL, MOD, f"/award <@{BOB}> 3")
    answer = await said_in_channel(fake, CHANNEL, before)
    assert "received 3 points" in (answer.content or "")


async def test_chatter_gets_no_answer_and_own_messages_are_ignored(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    before = len(fake.messages)
    await fake.send_message(CHANNEL, ALICE, "hello everyone")
    await fake.send_message(CHANNEL, ALICE, "打卡")
    answer = await said_in_channel(fake, CHANNEL, before)
    assert "+10 points" in (answer.content or "")
    # The fake echoes the bot's own message back over the gateway; the bot must not answer it.
    [points] = await slash(fake, ALICE, "points")
    assert "you have 10 points" in (points.content or "")
    assert [m.kind for m in fake.messages[before:]] == ["channel", "response"]


async def test_an_unknown_typed_command_is_answered_only_when_meant_for_this_bot(
    fake: FakeDiscord, adapter: DiscordAdapter, watch: CoreWatch
) -> None:
    await fake.send_message(CHANNEL, ALICE, "/checkin")
    ours = await said_in_channel(fake, CHANNEL, 0)
    before = len(fake.messages)
    other = await fake.send_message(CHANNEL, ALICE, "/ban spammer")  # some other bot's command
    reply = await fake.send_message(CHANNEL, ALICE, "/ban spammer", reply_to=ours.message_id)
    mention = await fake.send_message(CHANNEL, ALICE, f"/ban spammer <@{BOT_ID}>")
    wanted = {f"discord:{other}", f"discord:{reply}", f"discord:{mention}"}
    await watch.until(lambda: wanted <= {event.event_id for event in watch.handled})
    await fake.wait_for(lambda: len(fake.messages) >= before + 2)
    answers = [m for m in fake.messages[before:] if m.kind == "channel"]
    assert len(answers) == 2 and all("/ban" in (m.content or "") for m in answers)


async def test_dm_is_a_private_chat(fake: FakeDiscord, adapter: DiscordAdapter) -> None:
    dm = fake.open_dm(ALICE)
    await fake.send_message(dm, ALICE, "/points")
    answer = await said_in_channel(fake, dm, 0)
    assert "you have 0 points" in (answer.content or "")


async def test_an_edit_runs_nothing_but_a_link_code_edited_in_is_spent_at_once(
    fake: FakeDiscord, adapter: DiscordAdapter, watch: CoreWatch, store: Store
) -> None:
    [shown] = await slash(fake, ALICE, "link")
    assert shown.ephemeral
    found = re.search(r"link code: (\w+)", shown.content or "")
    assert found is not None
    code = found[1]
    posted = await fake.send_message(CHANNEL, ALICE, "https://acme.example/daily")
    await watch.until(lambda: f"discord:{posted}" in {e.event_id for e in watch.handled})
    before = len(fake.messages)
    # Its link unfurling into an embed is no edit; then it is edited to the check-in word,
    # then to show the code: an edit is no command, but what it shows is read.
    await fake.unfurl_links(posted)
    await fake.edit_message(posted, "签到")
    await fake.edit_message(posted, f"my code is <@{BOB}> {code}")
    spent = await said_in_channel(fake, CHANNEL, before)
    assert "no longer works" in (spent.content or "")
    assert no_pings(spent)
    reply = [c for c in fake.calls if c.method == "POST" and c.path.endswith("/messages")][-1]
    assert int(reply.json["message_reference"]["message_id"]) == posted

    def edits() -> list[Event]:
        return [e for e in watch.handled if e.kind is EventKind.EDITED]

    await watch.until(lambda: len(edits()) == 2)
    # Mentions read as @handles, as in messages; each edit is an event of its own.
    shown_text = {"签到", f"my code is @bob {code}"}
    assert {edit.text for edit in edits()} == shown_text
    assert all(edit.command is None for edit in edits())
    ids = {edit.event_id for edit in edits()}
    assert len(ids) == 2 and all(i.startswith(f"discord:edit:{posted}:") for i in ids)
    assert count_rows(store, checkins) == 0 and count_rows(store, link_codes) == 0
    assert [m.kind for m in fake.messages[before:]] == ["channel"]


async def test_an_edit_that_reads_as_a_command_is_not_run(
    fake: FakeDiscord, adapter: DiscordAdapter, watch: CoreWatch, store: Store
) -> None:
    dm = fake.open_dm(ALICE)
    posted = await fake.send_message(dm, ALICE, "hi")
    await watch.until(lambda: f"discord:{posted}" in {e.event_id for e in watch.handled})
    await fake.edit_message(posted, "/checkin https://acme.example")
    await fake.unfurl_links(posted)  # after the edit: the same edit again, handled once

    def edits() -> list[Event]:
        return [e for e in watch.handled if e.kind is EventKind.EDITED]

    await watch.until(lambda: len(edits()) == 2)
    [points] = await slash(fake, ALICE, "points")
    assert "you have 0 points" in (points.content or "")
    edit, again = edits()
    assert edit.chat.private and edit.private_reply and edit.command is None
    assert again.event_id == edit.event_id
    assert count_rows(store, checkins) == 0
    assert [m.kind for m in fake.messages if m.where == dm] == []


# Buttons and polls ---------------------------------------------------------------------------


async def test_a_poll_is_native_and_its_votes_earn_points_once(
    fake: FakeDiscord, adapter: DiscordAdapter, watch: CoreWatch
) -> None:
    inter = await fake.slash_command(GUILD, CHANNEL, MOD, "poll", {"text": "Best? | A | B"})
    [posted] = await answers(fake, inter)
    # The interaction's answer is the poll itself: Discord's own, no buttons.
    assert [c["type"] for c in callbacks(fake, inter)] == [4]
    assert (posted.kind, posted.ephemeral, posted.components) == ("response", False, [])
    assert posted.poll is not None
    assert posted.poll["question"] == {"text": "Best?"}
    assert [a["poll_media"]["text"] for a in posted.poll["answers"]] == ["A", "B"]
    assert (posted.poll["duration"], posted.poll["allow_multiselect"]) == (24, False)
    await watch.until(lambda: len(watch.polls) == 1)
    assert watch.polls == [f"{CHANNEL}/{posted.message_id}"]

    async def vote(user: int, answer: int, *, remove: bool = False) -> None:
        await fake.poll_vote(GUILD, CHANNEL, posted.message_id, user, answer, remove=remove)

    async def handled(count: int) -> None:
        await watch.until(lambda: len(watch.votes) == count)

    await vote(BOT_ID, 1)  # its own vote: ignored
    await vote(ALICE, 2)  # Discord numbers answers from 1: this is "B"
    await handled(1)
    [points] = await slash(fake, ALICE, "points")
    assert "Alice, you have 2 points" in (points.content or "")
    # Changing her mind is a remove and an add, back to back: handled in that order, for free.
    await vote(ALICE, 2, remove=True)
    await vote(ALICE, 1)
    # Bob (whom the bot has not cached) votes and takes it back: he keeps his points, and his
    # vote counts for nothing.
    await vote(BOB, 1)
    await vote(BOB, 1, remove=True)
    await handled(5)

    def choices(user: int) -> list[tuple[int, ...]]:
        return [e.options for e in watch.votes if e.actor.user_id == str(user)]

    assert (choices(ALICE), choices(BOB)) == ([(1,), (), (0,)], [(0,), ()])
    assert len({e.event_id for e in watch.votes}) == 5
    assert {(e.chat.chat_id, e.poll_ref) for e in watch.votes} == {
        (str(GUILD), str(posted.message_id))
    }
    # Who voted is asked of Discord once (members are not cached without the members intent).
    bob = next(e.actor for e in watch.votes if e.actor.user_id == str(BOB))
    assert (bob.display_name, bob.username) == ("**bold** @everyone", "bob")
    assert calls_to(fake, "GET", f"/guilds/{GUILD}/members/{BOB}") == [200]
    [points] = await slash(fake, ALICE, "points")
    assert "Alice, you have 2 points" in (points.content or "")
    [points] = await slash(fake, BOB, "points")
    assert "you have 2 points" in (points.content or "")

    [results] = await slash(fake, MOD, "closepoll")
    text = results.content or ""
    assert "Results: Best?" in text
    assert "A — 1 (100%)" in text and "B — 0 (0%)" in text and "1 voter." in text
    expire = f"/channels/{CHANNEL}/polls/{posted.message_id}/expire"
    await fake.wait_for(lambda: calls_to(fake, "POST", expire) == [200])


async def test_a_vote_in_a_poll_the_bot_did_not_post_counts_for_nothing(
    fake: FakeDiscord, adapter: DiscordAdapter, watch: CoreWatch
) -> None:
    someone_elses = await fake.send_message(CHANNEL, BOB, "a poll of bob's")
    await fake.poll_vote(GUILD, CHANNEL, someone_elses, ALICE, 1)
    await watch.until(lambda: len(watch.votes) == 1)
    [points] = await slash(fake, ALICE, "points")
    assert "you have 0 points" in (points.content or "")


async def test_a_poll_typed_as_text_is_native_and_closepoll_ends_it(
    fake: FakeDiscord, adapter: DiscordAdapter, watch: CoreWatch
) -> None:
    await fake.send_message(CHANNEL, MOD, "/poll Lunch? | Pizza | Sushi")
    posted = await said_in_channel(fake, CHANNEL, 0)
    assert posted.poll is not None
    assert [a["poll_media"]["text"] for a in posted.poll["answers"]] == ["Pizza", "Sushi"]
    await watch.until(lambda: watch.polls == [f"{CHANNEL}/{posted.message_id}"])
    await fake.poll_vote(GUILD, CHANNEL, posted.message_id, ALICE, 2)
    await watch.until(lambda: len(watch.votes) == 1)
    before = len(fake.messages)
    await fake.send_message(CHANNEL, MOD, "/closepoll")
    results = await said_in_channel(fake, CHANNEL, before)
    assert "Sushi — 1 (100%)" in (results.content or "")
    expire = f"/channels/{CHANNEL}/polls/{posted.message_id}/expire"
    await fake.wait_for(lambda: calls_to(fake, "POST", expire) == [200])


async def test_a_poll_discord_refuses_goes_out_with_buttons(
    fake: FakeDiscord,
    adapter: DiscordAdapter,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr("bot.adapters.discord_polls.POLL_HOURS", 1000)  # Discord allows 768
    inter = await fake.slash_command(GUILD, CHANNEL, MOD, "poll", {"text": "Best? | A | B"})
    [posted] = await answers(fake, inter)
    assert posted.poll is None
    assert [b["label"] for b in posted.components] == ["A", "B"]
    refused = [c for c in fake.calls if c.status == 400]
    assert [c.json["data"]["poll"]["duration"] for c in refused] == [1000]
    assert "discord refused a native poll; posting it with buttons" in caplog.messages


async def test_poll_buttons_record_one_vote(fake: FakeDiscord, adapter: DiscordAdapter) -> None:
    # An option too long for Discord's polls: the poll goes out as text with buttons.
    [posted] = await slash(fake, MOD, "poll", f"Best? | {TOO_LONG} | B")
    assert posted.poll is None
    assert "Best?" in (posted.content or "")
    assert [b["label"] for b in posted.components] == [TOO_LONG, "B"]
    custom_id = posted.components[1]["custom_id"]
    assert re.fullmatch(r"/vote \d+ 1", custom_id)

    press = await fake.press_button(GUILD, CHANNEL, ALICE, custom_id, posted.message_id)
    [voted] = await answers(fake, press)
    assert voted.ephemeral
    assert "Your vote on “Best?”: B. +2 points (balance 2)" in (voted.content or "")

    again = await fake.press_button(GUILD, CHANNEL, ALICE, custom_id, posted.message_id)
    [second] = await answers(fake, again)
    assert second.ephemeral
    assert "+2" not in (second.content or "")
    [points] = await slash(fake, ALICE, "points")
    assert "you have 2 points" in (points.content or "")


async def test_poll_by_a_member_is_refused(fake: FakeDiscord, adapter: DiscordAdapter) -> None:
    [refused] = await slash(fake, ALICE, "poll", "Best? | A | B")
    assert "for community admins only" in (refused.content or "")
    assert refused.components == []


async def test_unknown_button_gets_a_polite_answer(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    press = await fake.press_button(GUILD, CHANNEL, ALICE, "left over from an old version")
    [answer] = await answers(fake, press)
    assert "That button no longer works" in (answer.content or "")


async def test_interactions_from_an_unknown_server_and_from_a_dm_are_answered(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    # A server added after the bot connected: the client has no cache of it.
    fake.add_guild(GUILD + 100, "Elsewhere", owner_id=OWNER)
    fake.add_channel(GUILD + 100, CHANNEL + 100, "lobby")
    fake.add_member(GUILD + 100, ALICE, "alice")
    inter = await fake.slash_command(GUILD + 100, CHANNEL + 100, ALICE, "points")
    [answer] = await answers(fake, inter)
    assert "you have 0 points" in (answer.content or "")
    press = await fake.press_button(GUILD + 100, CHANNEL + 100, ALICE, "/vote 999 0")
    [gone] = await answers(fake, press)
    assert gone.content
    dm = fake.open_dm(ALICE)
    inter = await fake.slash_command(None, dm, ALICE, "checkin")
    [answer] = await answers(fake, inter)
    assert "+10 points" in (answer.content or "")


# Slow core, long replies, refusals -----------------------------------------------------------


async def test_slow_answers_are_deferred_then_followed_up(
    fake: FakeDiscord, dispatcher: Dispatcher, ports: Ports
) -> None:
    # "The core is slow": defer every time.
    async with running(dispatcher, ports, defer_after=0):
        await slash(fake, DISCORD_OWNER, "settings")  # adopts the server for its moderators
        # Discord drops a poll from the follow-up that replaces "thinking…": a slow native poll
        # is posted in the channel instead, and the placeholder removed.
        before = len(fake.messages)
        inter = await fake.slash_command(GUILD, CHANNEL, MOD, "poll", {"text": "Best? | A | B"})
        native = await said_in_channel(fake, CHANNEL, before)
        assert native.poll is not None
        assert callbacks(fake, inter) == [{"type": 5}]
        await fake.wait_for(lambda: fake.deleted == [inter.message_id])

        poll = f"Best? | {TOO_LONG} | B"  # a poll with buttons
        inter = await fake.slash_command(GUILD, CHANNEL, MOD, "poll", {"text": poll})
        [posted] = await answers(fake, inter)
        assert callbacks(fake, inter) == [{"type": 5}]  # "communitybot is thinking…"
        assert posted.kind == "followup"  # which the answer replaces
        assert not posted.ephemeral
        assert "Best?" in (posted.content or "")
        assert len(posted.components) == 2

        press = await fake.press_button(GUILD, CHANNEL, ALICE, posted.components[0]["custom_id"])
        [voted] = await answers(fake, press)
        assert callbacks(fake, press) == [{"type": 6}]  # a button: acknowledged silently
        assert voted.ephemeral
        assert "+2 points" in (voted.content or "")


async def test_a_slow_private_answer_never_takes_the_public_placeholder(
    fake: FakeDiscord, dispatcher: Dispatcher, ports: Ports
) -> None:
    async with running(dispatcher, ports, defer_after=0):
        inter = await fake.slash_command(GUILD, CHANNEL, ALICE, "link")
        await fake.wait_for(lambda: any(m.ephemeral for m in fake.messages))
    [code] = [m for m in fake.messages if m.ephemeral]
    assert code.kind == "followup"
    assert "Your link code:" in (code.content or "")
    # The public "thinking…" message was deleted first; the code went out as a new, private one.
    assert [m for m in fake.messages if not m.ephemeral] == []
    hook = f"/webhooks/{APP_ID}/{inter.token}"
    to_hook = [(c.method, c.path, c.status) for c in fake.calls if c.path.startswith(hook)]
    assert to_hook == [("DELETE", f"{hook}/messages/@original", 204), ("POST", hook, 200)]
    assert fake.deleted == [inter.message_id]


async def test_long_replies_are_split_below_discords_limit(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    # Escaping doubles every '*': 2,600+ characters, which Discord would reject in one message.
    options = " | ".join(f"{index}" + "*" * 99 for index in range(10))
    inter = await fake.slash_command(
        GUILD, CHANNEL, MOD, "poll", {"text": f"{'*' * 299}? | {options}"}
    )
    parts = await answers(fake, inter, 2)
    assert [p.kind for p in parts] == ["response", "followup"]
    assert all(len(p.content or "") <= DISCORD_LIMIT for p in parts)
    assert parts[0].components == []
    assert len(parts[1].components) == 10  # the buttons go under the last part
    assert all(c.status < 400 for c in fake.calls)


# The outbox -----------------------------------------------------------------------------------


def outbox_rows(store: Store) -> list[Any]:
    return list(store.read_now(lambda conn: conn.execute(select(outbox)).all()))


async def test_a_messages_answer_waits_in_the_outbox_until_the_sender_posts_it(
    fake: FakeDiscord, dispatcher: Dispatcher, ports: Ports, watch: CoreWatch, store: Store
) -> None:
    async with running(dispatcher, ports, sending=False) as adapter:
        asked = await fake.send_message(CHANNEL, ALICE, "签到")
        await watch.until(lambda: f"discord:{asked}" in {e.event_id for e in watch.handled})
        [row] = outbox_rows(store)
        assert (row.chat_id, row.reply_to, row.state) == (str(CHANNEL), str(asked), "pending")
        assert fake.accepted == []  # nothing is said until the sender says it

        sender = Sender(adapter.messenger, ports.deliveries, SENDING)
        await sender.drain_once()
        [answer] = fake.accepted
        assert (answer.channel, answer.nonce) == (CHANNEL, f"o{row.id}-0")
        assert "Checked in, Alice! +10 points" in answer.content
        [sent] = [c for c in fake.calls if c.path == f"/channels/{CHANNEL}/messages"]
        assert sent.json["message_reference"]["message_id"] == asked
        [row] = outbox_rows(store)
        assert (row.state, row.sent_ids) == ("sent", str(answer.message_id))
        await sender.drain_once()
        assert len(fake.accepted) == 1


async def test_an_interaction_is_answered_inline_and_marked_delivered(
    fake: FakeDiscord, dispatcher: Dispatcher, ports: Ports, watch: CoreWatch, store: Store
) -> None:
    async with running(dispatcher, ports, sending=False) as adapter:
        [answer] = await slash(fake, ALICE, "checkin")
        assert answer.kind == "response"
        await watch.until(lambda: len(watch.answered) == 1)
        [row] = outbox_rows(store)
        assert row.id == watch.answered[0] and row.state == "sent"
        assert (row.chat_id, row.reply_to, row.sent_ids) == (str(CHANNEL), None, "")
        await Sender(adapter.messenger, ports.deliveries, SENDING).drain_once()
    assert [m.kind for m in fake.messages] == ["response"]


async def test_an_interaction_answered_too_late_is_posted_by_the_sender(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    fake.too_late = True  # Discord answers 10062 Unknown interaction
    before = len(fake.messages)
    inter = await fake.slash_command(GUILD, CHANNEL, ALICE, "checkin")
    posted = await said_in_channel(fake, CHANNEL, before)
    assert "Checked in, Alice! +10 points" in (posted.content or "")
    assert callbacks(fake, inter) == []
    assert "message_reference" not in fake.calls[-1].json  # an interaction is no message
    # A private answer goes privately: to the member's DMs.
    await fake.slash_command(GUILD, CHANNEL, ALICE, "link")
    await fake.wait_for(lambda: ALICE in fake.dms and bool(fake.sent_in(fake.dms[ALICE])))
    [code] = fake.sent_in(fake.dms[ALICE])
    assert "Your link code:" in code


# Joins, start and stop -----------------------------------------------------------------------


async def test_newcomer_is_welcomed_in_the_system_channel(
    fake: FakeDiscord, dispatcher: Dispatcher, ports: Ports
) -> None:
    async with running(dispatcher, ports, members_intent=True):
        await fake.member_join(GUILD, NEWBIE, "newbie", global_name="Newbie")
        welcome = await said_in_channel(fake, CHANNEL, 0)
        assert "Welcome to Acme Fans, Newbie!" in (welcome.content or "")


async def test_the_bot_asks_for_poll_votes(fake: FakeDiscord, adapter: DiscordAdapter) -> None:
    [identify] = [frame for frame in fake.gateway_log if frame.get("op") == 2]
    wanted = GUILD_MESSAGE_POLLS | DIRECT_MESSAGE_POLLS  # the "polls" intent: not privileged
    assert identify["d"]["intents"] & wanted == wanted


async def test_bad_token_fails_start_without_leaks(
    dispatcher: Dispatcher, ports: Ports, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unauthorized(request: web.Request) -> web.Response:
        return web.Response(status=401, text="401: Unauthorized")

    server = web.Application()
    server.router.add_route("*", "/{tail:.*}", unauthorized)
    async with TestServer(server, host="127.0.0.1") as discord_api:
        monkeypatch.setattr(discord.http.Route, "BASE", str(discord_api.make_url("/api/v10")))
        adapter = make_adapter(dispatcher, ports)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(TokenRefused, match="DISCORD_TOKEN"):
                await adapter.start()
            gc.collect()
    assert adapter.client.is_closed()
    assert [str(w.message) for w in caught] == []


async def test_stop_closes_everything_cleanly(
    fake: FakeDiscord, dispatcher: Dispatcher, ports: Ports, caplog: pytest.LogCaptureFixture
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with running(dispatcher, ports) as adapter:
            await slash(fake, ALICE, "checkin")
            await fake.send_message(CHANNEL, BOB, "签到")
            await said_in_channel(fake, CHANNEL, 0)
        gc.collect()
    assert adapter.client.is_closed()
    assert [str(w.message) for w in caught] == []
    left = [
        t.get_name()
        for t in asyncio.all_tasks()
        if not t.done() and t.get_name().startswith(("discord", "CommandTree", "sender"))
    ]
    assert left == []
    noisy = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in noisy] == []


def test_markdown_escaping_keeps_user_text_as_typed() -> None:
    assert discord_markdown("**hi** _x_ `c` ~~s~~ ||p||") == (
        "\\*\\*hi\\*\\* \\_x\\_ \\`c\\` \\~\\~s\\~\\~ \\|\\|p\\|\\|"
    )
    assert discord_markdown("@everyone @here") == "@\u200beveryone @\u200bhere"
    assert discord_markdown("<@123> <#4>") == "\\<@123> \\<#4>"
    assert discord_markdown("bell\x07 ok\n") == "bell ok\n"


class _Response:
    """The bits of an aiohttp response discord.HTTPException reads."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.reason = "Forbidden"


async def test_a_slash_redemption_is_confirmed_with_a_button_once(
    fake: FakeDiscord, adapter: DiscordAdapter, store: Store, dispatcher: Dispatcher
) -> None:
    [checked] = await slash(fake, ALICE, "checkin")
    assert "+10" in (checked.content or "")
    number = add_sticker(store, dispatcher.clock())
    asked = await fake.slash_command(GUILD, CHANNEL, ALICE, "redeem", {"reward": number})
    [confirm] = await answers(fake, asked)
    assert "Sticker" in (confirm.content or "")
    press = confirm.components[0]["custom_id"]
    assert press.startswith(f"/redeem {number} confirm ")
    pressed = await fake.press_button(GUILD, CHANNEL, ALICE, press, confirm.message_id)
    [done] = await answers(fake, pressed)
    assert "Sticker" in (done.content or "") and redeemed_and_held(store) == (1, 5)
    again = await fake.press_button(GUILD, CHANNEL, ALICE, press, confirm.message_id)
    await answers(fake, again)
    assert redeemed_and_held(store) == (1, 5)  # the double press paid once
