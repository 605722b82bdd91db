"""Discord's Messenger: outbox messages sent through the real discord.py to the fake Discord on
127.0.0.1, as a member sees them (where, quoting what, with which buttons, once), and what the
sender hears when Discord says no (never: Refused; not now: RetryLater)."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import discord
import discord.http
import pytest

from bot.adapters.discord_messenger import WAIT_CEILING, DiscordMessenger
from bot.adapters.splitting import DISCORD_LIMIT
from bot.delivery.messenger import Refused, RetryLater
from community.outbox import Kind, Outgoing
from handlers.types import Choice, PollSpec, Reply, Visibility
from tests.fakes.discord_api import FakeDiscord, FakeLimits
from tests.test_discord_adapter import ALICE, BOB, CHANNEL, GUILD, acme_fans

OTHER, NOBODY_CHANNEL = 810_000_000_000_000_003, 810_000_000_000_000_099
TOO_LONG = "x" * 56  # Discord's poll answers hold 55 characters
INTENTS = discord.Intents(guilds=True)
discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False  # as the adapter does


@dataclass
class RecordingPolls:
    """The Polls port as the messenger uses it: which Discord message each poll went to."""

    posted_as: list[tuple[int, str, str]] = field(default_factory=list)

    async def posted(self, poll_id: int, *, native_id: str, message_id: str) -> None:
        self.posted_as.append((poll_id, native_id, message_id))


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with acme_fans() as fake:
        yield fake


@pytest.fixture
def polls() -> RecordingPolls:
    return RecordingPolls()


async def logged_in(polls: RecordingPolls, **knobs: Any) -> tuple[discord.Client, DiscordMessenger]:
    """A client logged in (REST only: sending needs no gateway) with its messenger."""
    client = discord.Client(intents=INTENTS, max_ratelimit_timeout=WAIT_CEILING)
    messenger = DiscordMessenger(client, polls, **knobs)  # type: ignore[arg-type]
    await client.login("fake-token")
    return client, messenger


@pytest.fixture
async def messenger(fake: FakeDiscord, polls: RecordingPolls) -> AsyncIterator[DiscordMessenger]:
    client, messenger = await logged_in(polls)
    yield messenger
    await client.close()


def outgoing(
    reply: Reply,
    *,
    number: int = 1,
    chat: int | str = CHANNEL,
    kind: Kind = Kind.REPLY,
    **fields: Any,
) -> Outgoing:
    """Outbox message `number` for a channel of the server (or a DM, by its chat id)."""
    return Outgoing(
        id=number,
        community_id=1,
        platform="discord",
        chat_id=str(chat),
        kind=kind,
        reply=reply,
        group_chat_id=str(GUILD),
        **fields,
    )


def unknown(command: str) -> Reply:
    """A reply of one value, so the feature templates may change freely."""
    return Reply("common/unknown_command", {"command": command})


def poll_reply(*options: str, poll_id: int = 7) -> Reply:
    return Reply(
        "polls/posted",
        {"question": "Best?", "options": list(options), "points": 2},
        choices=tuple(
            Choice("polls/option", f"/vote {poll_id} {index}", {"text": text})
            for index, text in enumerate(options)
        ),
        poll=PollSpec(poll_id, "Best?", options),
    )


def posts(fake: FakeDiscord, path: str) -> list[Any]:
    """The bodies of the POSTs made to `path` (after /api/v10)."""
    return [c.json for c in fake.calls if (c.method, c.path) == ("POST", path)]


def messages_in(channel: int) -> str:
    return f"/channels/{channel}/messages"


# What a member sees ---------------------------------------------------------------------------


async def test_an_answer_quotes_its_message_pings_nobody_and_carries_a_nonce(
    fake: FakeDiscord, messenger: DiscordMessenger
) -> None:
    asked = await fake.send_message(CHANNEL, ALICE, "/ban @everyone")
    ids = await messenger.send(outgoing(unknown("ban @everyone"), reply_to=str(asked)))
    [sent] = fake.accepted
    assert ids == (str(sent.message_id),)
    assert "I don't know /ban @\u200beveryone" in sent.content
    [body] = posts(fake, messages_in(CHANNEL))
    assert body["message_reference"] == {
        "type": 0,  # a reply
        "message_id": asked,
        "channel_id": CHANNEL,
        "fail_if_not_exists": False,
    }
    assert body["allowed_mentions"]["parse"] == []
    assert (body["nonce"], body["enforce_nonce"]) == ("o1-0", True)


async def test_a_message_sent_again_is_posted_once(
    fake: FakeDiscord, messenger: DiscordMessenger
) -> None:
    # Two parts (escaping doubles each '*'): each has its own nonce, both found again.
    long = outgoing(unknown("*" * 1500), number=41)
    first = await messenger.send(long)
    again = await messenger.send(long)
    assert first == again and len(first) == 2
    assert [m.nonce for m in fake.accepted] == ["o41-0", "o41-1"]
    assert fake.deduplicated == 2
    assert all(len(text) <= DISCORD_LIMIT for text in fake.sent_in(CHANNEL))


async def test_an_answer_lost_after_discord_took_it_is_not_posted_twice(
    fake: FakeDiscord, messenger: DiscordMessenger
) -> None:
    fake.fail(CHANNEL, accept=True)  # posted, then 503: the sender cannot know it went
    message = outgoing(unknown("x"), number=5)
    with pytest.raises(RetryLater) as later:
        await messenger.send(message)
    assert later.value.after is None
    [ids] = [await messenger.send(message)]
    assert [str(m.message_id) for m in fake.accepted] == list(ids)
    assert fake.deduplicated == 1


async def test_buttons_go_under_the_last_part(
    fake: FakeDiscord, messenger: DiscordMessenger
) -> None:
    # Options too long for Discord's polls, and a question that escaped takes 2,000 characters.
    reply = poll_reply(*(f"{index}{TOO_LONG}" for index in range(10)))
    await messenger.send(outgoing(replace_question(reply, "*" * 1000)))
    parts = [m for m in fake.messages if m.kind == "channel"]
    assert len(parts) == 2
    assert parts[0].components == [] and len(parts[1].components) == 10
    assert parts[1].components[3]["custom_id"] == "/vote 7 3"


def replace_question(reply: Reply, question: str) -> Reply:
    context = {**reply.context, "question": question}
    return Reply(reply.template, context, choices=reply.choices, poll=reply.poll)


async def test_a_poll_is_discords_own_and_tied_to_its_message(
    fake: FakeDiscord, messenger: DiscordMessenger, polls: RecordingPolls
) -> None:
    [poll_id] = await messenger.send(outgoing(poll_reply("A", "B"), number=3))
    [posted] = fake.messages
    assert posted.poll is not None and posted.components == []
    assert [a["poll_media"]["text"] for a in posted.poll["answers"]] == ["A", "B"]
    assert polls.posted_as == [(7, poll_id, f"{CHANNEL}/{poll_id}")]
    assert posts(fake, messages_in(CHANNEL))[0]["nonce"] == "o3-0"
    # A private answer never carries a poll everybody would vote in.
    private = Reply("polls/posted", poll_reply("A").context, visibility=Visibility.PRIVATE)
    await messenger.send(outgoing(private, chat=f"dm:{ALICE}", number=4))
    assert fake.messages[-1].poll is None


@pytest.mark.parametrize("why", ["an option too long", "Discord refuses it"])
async def test_a_poll_discord_will_not_show_goes_out_with_buttons(
    fake: FakeDiscord,
    messenger: DiscordMessenger,
    polls: RecordingPolls,
    monkeypatch: pytest.MonkeyPatch,
    why: str,
) -> None:
    options = ("A", "B")
    if why == "an option too long":
        options = (TOO_LONG, "B")
    else:
        monkeypatch.setattr("bot.adapters.discord_polls.POLL_HOURS", 1000)  # Discord: 768
    await messenger.send(outgoing(poll_reply(*options)))
    [posted] = [m for m in fake.messages if m.kind == "channel"]
    assert posted.poll is None
    assert [b["label"] for b in posted.components] == list(options)
    assert "Best?" in (posted.content or "") and polls.posted_as == []


async def test_an_edit_edits_and_a_message_gone_is_posted_anew(
    fake: FakeDiscord, messenger: DiscordMessenger
) -> None:
    [board] = await messenger.send(outgoing(unknown("first"), kind=Kind.POST))
    edit = outgoing(unknown("second"), number=2, kind=Kind.EDIT, edits=board)
    assert await messenger.send(edit) == (board,)
    assert [m.kind for m in fake.messages] == ["channel", "channel_edit"]
    assert "/second" in (fake.messages[-1].content or "")
    gone = outgoing(unknown("third"), number=3, kind=Kind.EDIT, edits="12345")
    [new] = await messenger.send(gone)
    assert new != board and "/third" in fake.sent_in(CHANNEL)[-1]
    # Nor can the bot edit a member's message: its words are posted instead.
    theirs = await fake.send_message(CHANNEL, ALICE, "hi")
    await messenger.send(outgoing(unknown("4th"), number=4, kind=Kind.EDIT, edits=str(theirs)))
    assert "/4th" in fake.sent_in(CHANNEL)[-1]


async def test_a_poll_is_ended_once_its_results_are_out(
    fake: FakeDiscord, messenger: DiscordMessenger
) -> None:
    [poll] = await messenger.send(outgoing(poll_reply("A", "B")))
    ref = f"{CHANNEL}/{poll}"
    results = Reply("polls/none_open", ends_poll=ref)
    await messenger.send(outgoing(results, number=2))
    expire = f"/channels/{CHANNEL}/polls/{poll}/expire"
    assert [c.status for c in fake.calls if c.path == expire] == [200]
    # Ending it again (an END_POLL after the results) finds it ended: nothing to do.
    ending = outgoing(Reply("polls/none_open"), number=3, kind=Kind.END_POLL, edits=poll)
    assert await messenger.send(ending) == ()
    assert [c.status for c in fake.calls if c.path == expire] == [200, 400]


async def test_direct_messages_open_the_dm_once(
    fake: FakeDiscord, messenger: DiscordMessenger
) -> None:
    await messenger.send(outgoing(unknown("a"), chat=ALICE, kind=Kind.DIRECT))
    await messenger.send(outgoing(unknown("b"), number=2, chat=f"dm:{ALICE}"))
    dm = fake.dms[ALICE]
    assert [("/a" in t, "/b" in t) for t in fake.sent_in(dm)] == [(True, False), (False, True)]
    assert len(posts(fake, "/users/@me/channels")) == 1


# What the sender hears ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trouble", "code"),
    [("removed", 50001), ("no permission", 50013), ("gone", 10003), ("takes no DMs", 50007)],
)
async def test_what_can_never_go_is_refused_with_its_reason(
    fake: FakeDiscord, messenger: DiscordMessenger, trouble: str, code: int
) -> None:
    chat: int | str = CHANNEL
    if trouble == "gone":
        chat = NOBODY_CHANNEL
    elif trouble == "takes no DMs":
        fake.refuse(fake.open_dm(BOB), code)
        chat = f"dm:{BOB}"
    else:
        fake.refuse(CHANNEL, code)
    with pytest.raises(Refused, match=f"/{code}: "):
        await messenger.send(outgoing(unknown("x"), chat=chat))
    assert fake.accepted == []


async def test_a_server_without_a_channel_to_post_in_is_refused(
    fake: FakeDiscord, messenger: DiscordMessenger
) -> None:
    with pytest.raises(Refused, match="no channel"):
        await messenger.send(outgoing(unknown("x"), chat=GUILD, kind=Kind.POST))
    assert [c for c in fake.calls if c.method != "GET"] == []  # nothing was sent


async def test_server_errors_and_network_errors_are_tried_later(
    fake: FakeDiscord, messenger: DiscordMessenger, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.fail(CHANNEL, status=503)
    with pytest.raises(RetryLater) as later:
        await messenger.send(outgoing(unknown("x")))
    assert (later.value.after, later.value.whole_platform) == (None, False)
    with socket.socket() as nobody:  # a port nothing listens on
        nobody.bind(("127.0.0.1", 0))
        port = nobody.getsockname()[1]
    monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{port}/api/v10")
    with pytest.raises(RetryLater, match="ClientConnectorError"):
        await messenger.send(outgoing(unknown("x")))


async def test_a_short_429_is_sat_out_and_counted(
    fake: FakeDiscord, messenger: DiscordMessenger
) -> None:
    fake.throttle("POST", messages_in(CHANNEL), retry_after=0.05)
    await messenger.send(outgoing(unknown("x")))
    assert len(fake.accepted) == 1
    assert messenger.throttled == fake.throttled == 1


async def test_a_429_longer_than_the_patience_reaches_the_sender(
    fake: FakeDiscord, polls: RecordingPolls
) -> None:
    fake.add_channel(GUILD, OTHER, "announcements")
    client, messenger = await logged_in(polls, patience=0.2)
    try:
        fake.throttle("POST", messages_in(CHANNEL), retry_after=5.0)
        with pytest.raises(RetryLater) as later:
            await messenger.send(outgoing(unknown("x")))
        assert later.value.after is not None and 4.0 < later.value.after <= 5.0
        assert not later.value.whole_platform
        # Longer than discord.py would ever sleep: raised by discord.py at once.
        fake.throttle("POST", messages_in(OTHER), retry_after=WAIT_CEILING + 30)
        with pytest.raises(RetryLater) as later:
            await messenger.send(outgoing(unknown("x"), chat=OTHER))
        assert later.value.after == WAIT_CEILING + 30
        assert fake.accepted == []
    finally:
        await client.close()


async def test_a_global_429_is_sat_out_whole_then_said() -> None:
    # Two requests a second for the whole bot: login took one, the first message the other.
    async with acme_fans(FakeLimits(overall=2, overall_seconds=0.3)) as fake:
        client, messenger = await logged_in(RecordingPolls(), patience=0.05)
        try:
            await messenger.send(outgoing(unknown("1")))
            await messenger.send(outgoing(unknown("2"), number=2))
        finally:
            await client.close()
    # Cut off in its global wait, discord.py would have held every later request for good:
    # the send waited it out (longer than its patience) and went.
    assert fake.throttled_global >= 1
    assert messenger.throttled == fake.throttled
    assert [m.nonce for m in fake.accepted] == ["o1-0", "o2-0"]


async def test_a_spent_channel_is_waited_for_before_discord_says_429(
    polls: RecordingPolls,
) -> None:
    async with acme_fans(FakeLimits(per_channel=2, channel_seconds=0.3)) as fake:
        client, messenger = await logged_in(polls)
        try:
            for number in range(1, 6):
                await messenger.send(outgoing(unknown(str(number)), number=number))
        finally:
            await client.close()
    # The bucket's headers told discord.py when it was spent: it waited, and Discord never
    # had to say 429.
    assert fake.throttled == 0
    assert len(fake.accepted) == 5
    times = [m.at for m in fake.accepted]
    assert times[4] - times[0] >= 0.5  # three windows: two, two, one


async def test_not_logged_in_is_not_yet(fake: FakeDiscord, polls: RecordingPolls) -> None:
    client = discord.Client(intents=INTENTS)
    messenger = DiscordMessenger(client, polls)  # type: ignore[arg-type]
    with pytest.raises(RetryLater, match="not connected"):
        await messenger.send(outgoing(unknown("x")))
    assert fake.calls == []
