"""Discord payloads as the gateway sends them (tests/recorded/discord/*.json, written from the
Discord API docs) into the Events the core receives, through discord.py's own models: each whole
Event is checked (who is an admin, whom a message is meant for, whether the answer can be
private), with no network and no database.

discord.py builds its models from a connection state that knows the server; the state is filled
the way the gateway's READY and GUILD_CREATE fill it, through the state's own (private) entry
points, since there is no public one that does not connect.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord
import pytest
from discord.state import ConnectionState

from bot.adapters.discord import INTENTS
from bot.adapters.discord_events import (
    edited_event,
    joined_event,
    message_event,
    vote_event,
)
from bot.adapters.discord_interactions import (
    button_event,
    interaction_chat,
    slash_event,
    slash_line,
    slash_name,
)
from handlers.adjust import ADJUST_PARAMS
from handlers.types import AccountRef, ChatRef, Event, EventKind, Mention

RECORDED = Path(__file__).parent / "recorded" / "discord"
GUILD, BOT_ID = 1041234567890120001, 1181234567890120100
GENERAL, ALICE_DM_CHANNEL = 1041234567890120002, 1181234567890120777  # the server's system channel
ALICE_ID, MOD_ID = 401234567890120011, 401234567890120012
T = 1574227987660800000  # the recorded messages' snowflakes count up from this one
AT = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # ... which Discord made at this time
EDITED_AT = "2026-11-23T01:01:00.000000+00:00"  # the recorded edits' edited_timestamp

SERVER = ChatRef("discord", str(GUILD), title="Acme Fans", needs_channel=True)
ALICE_DM = ChatRef("discord", f"dm:{ALICE_ID}", title="alice", private=True)
# Where an answer goes: the channel an event happened in (a server is no channel).
CHANNEL_OF = {SERVER: str(GENERAL), ALICE_DM: str(ALICE_DM_CHANNEL)}
ALICE = AccountRef("discord", str(ALICE_ID), "Alice", username="alice")
MOD = AccountRef("discord", str(MOD_ID), "mod", username="mod", is_platform_admin=True)


def recorded(name: str) -> Any:
    return json.loads((RECORDED / f"{name}.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def state() -> ConnectionState[Any]:
    """discord.py's state after READY and the server's GUILD_CREATE, with the adapter's intents."""
    client = discord.Client(intents=discord.Intents(**dict.fromkeys(INTENTS, True)))
    state = client._connection
    guild = recorded("guild_create")
    state.user = discord.ClientUser(state=state, data=guild["members"][0]["user"])  # the bot
    state._add_guild_from_data(guild)
    return state


def read_message(state: ConnectionState[Any], name: str) -> Event | None:
    """A MESSAGE_CREATE as the adapter reads it (the usernames of those mentioned go along)."""
    data = recorded(name)
    channel, _ = state._get_guild_channel(data)
    message = discord.Message(state=state, channel=channel, data=data)  # type: ignore[arg-type]
    handles = {user.id: user.name for user in message.mentions}
    return message_event(message, handles=handles, bot_username="communitybot", bot_id=BOT_ID)


def read_edit(state: ConnectionState[Any], name: str) -> Event | None:
    """A MESSAGE_UPDATE as the adapter reads it from on_raw_message_edit: discord.py builds the
    updated message from the payload (no cache needed) and hands both over."""
    data = recorded(name)
    channel, _ = state._get_guild_channel(data)
    message = discord.Message(state=state, channel=channel, data=data)  # type: ignore[arg-type]
    raw = discord.RawMessageUpdateEvent(data=data, message=message)
    handles = {user.id: user.name for user in message.mentions}
    return edited_event(raw, handles=handles, bot_id=BOT_ID)


def interaction(state: ConnectionState[Any], name: str) -> discord.Interaction[Any]:
    return discord.Interaction(data=recorded(name), state=state)


def read_slash(state: ConnectionState[Any], name: str) -> Event:
    """An application command as the adapter reads it, before it resolves <@id> mentions in
    text (that takes the network). /award's options are its declared ones; the other
    commands' recordings send the single text option of older versions."""
    used = interaction(state, name)
    declared = ADJUST_PARAMS if slash_name(used) == "award" else ()
    line = slash_line(used, declared, {p.name: p for p in declared})
    return slash_event(
        used,
        name=slash_name(used),
        text=line.text,
        chat=interaction_chat(used),
        mentions=line.mentions,
    )


def typed(
    number: int,
    chat: ChatRef,
    actor: AccountRef,
    text: str,
    kind: EventKind = EventKind.MESSAGE,
    **fields: Any,
) -> Event:
    """The event the `number`th recorded message is, answered in its channel, quoting it."""
    where = {"message_id": str(T + number), "channel_id": CHANNEL_OF[chat], **fields}
    return Event(f"discord:{T + number}", chat, actor, AT, kind, text, **where)


def inline(event: Event) -> Event:
    """The event an interaction is, rather than a message: addressed to the bot, answerable
    privately, answered through itself (nothing to quote)."""
    return replace(event, addressed=True, private_reply=True, answered_inline=True, message_id="")


def command(
    number: int, chat: ChatRef, actor: AccountRef, text: str, name: str, rest: str, **fields: Any
) -> Event:
    words = {"command": name, "args": tuple(rest.split()), "arg_text": rest}
    return typed(number, chat, actor, text, EventKind.COMMAND, **words, **fields)


# Messages ------------------------------------------------------------------------------------


def test_a_plain_word_in_a_channel_is_an_unaddressed_message(state: ConnectionState[Any]) -> None:
    assert read_message(state, "message_word") == typed(1, SERVER, ALICE, "签到！")


def test_a_typed_command_names_members_by_handle_and_knows_manage_server(
    state: ConnectionState[Any],
) -> None:
    event = read_message(state, "message_command_with_mention")
    text = "/award @alice 50 great photo"
    assert event == command(2, SERVER, MOD, text, "award", "@alice 50 great photo")


def test_a_message_mentioning_the_bot_is_addressed(state: ConnectionState[Any]) -> None:
    event = read_message(state, "message_mentions_bot")
    assert event == typed(3, SERVER, ALICE, "@communitybot /ban spammer", addressed=True)


def test_a_command_replying_to_the_bot_is_addressed(state: ConnectionState[Any]) -> None:
    event = read_message(state, "message_reply_to_bot")
    expected = command(4, SERVER, ALICE, "/ban spammer", "ban", "spammer", addressed=True)
    assert event == replace(expected, replied_id="1574227984660800000")


def test_a_command_replying_to_a_member_is_not_addressed(state: ConnectionState[Any]) -> None:
    expected = command(5, SERVER, MOD, "/ban", "ban", "")
    assert read_message(state, "message_reply_to_member") == replace(
        expected, replied_id="1574227985660800000"
    )


def test_a_bare_command_in_a_channel_is_not_addressed(state: ConnectionState[Any]) -> None:
    event = read_message(state, "message_command_in_channel")
    assert event == command(6, SERVER, ALICE, "/ban spammer", "ban", "spammer")


def test_a_direct_message_is_private_addressed_and_answered_privately(
    state: ConnectionState[Any],
) -> None:
    event = read_message(state, "message_dm")
    assert event == command(
        7, ALICE_DM, ALICE, "/link", "link", "", addressed=True, private_reply=True
    )


def test_another_bots_message_is_ignored(state: ConnectionState[Any]) -> None:
    assert read_message(state, "message_from_another_bot") is None


def test_an_image_is_attached_as_a_photo(state: ConnectionState[Any]) -> None:
    event = read_message(state, "message_with_attachment")
    url = recorded("message_with_attachment")["attachments"][0]["url"]
    assert event == typed(9, SERVER, ALICE, "打卡", attachments=(f"photo:{url}",))


# Edits ---------------------------------------------------------------------------------------


def edit(number: int, chat: ChatRef, actor: AccountRef, text: str, **fields: Any) -> Event:
    """The event an edit of the `number`th recorded message is: what it now shows, at the time
    it was edited, never a command."""
    at = datetime.fromisoformat(EDITED_AT)
    key = f"discord:edit:{T + number}:{EDITED_AT}"
    where = {"message_id": str(T + number), "channel_id": CHANNEL_OF[chat], **fields}
    return Event(key, chat, actor, at, EventKind.EDITED, text, **where)


def test_an_edited_message_is_an_edit_with_handles_and_no_command(
    state: ConnectionState[Any],
) -> None:
    event = read_edit(state, "message_update")
    text = "/checkin thanks @mod, my code is K7QM 3XPA"
    assert event == edit(1, SERVER, ALICE, text)
    assert event is not None and event.command is None and event.args == ()


def test_an_edit_in_a_dm_is_private_and_addressed(state: ConnectionState[Any]) -> None:
    event = read_edit(state, "message_update_dm")
    assert event == edit(7, ALICE_DM, ALICE, "/points", addressed=True, private_reply=True)


@pytest.mark.parametrize(
    "name",
    [
        # Links unfurling into embeds send MESSAGE_UPDATE too, with no edit time: no edit.
        "message_update_embeds",
        "message_update_from_bot",
    ],
)
def test_what_is_no_persons_edit_gives_no_event(state: ConnectionState[Any], name: str) -> None:
    assert read_edit(state, name) is None


# Interactions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "number", "chat", "actor", "command_name", "rest"),
    [
        ("interaction_slash_checkin", 21, SERVER, ALICE, "checkin", ""),
        # The text option as typed; Manage Server from the permissions Discord resolved.
        ("interaction_slash_award", 22, SERVER, MOD, "award", f"<@{ALICE_ID}> 50 great photo"),
        # In a DM nobody is an admin, and the DM is the chat.
        ("interaction_slash_dm", 23, ALICE_DM, ALICE, "points", ""),
    ],
)
def test_a_slash_command_is_addressed_and_can_be_answered_privately(
    state: ConnectionState[Any],
    name: str,
    number: int,
    chat: ChatRef,
    actor: AccountRef,
    command_name: str,
    rest: str,
) -> None:
    line = f"/{command_name} {rest}".strip()
    expected = command(number, chat, actor, line, command_name, rest)
    assert read_slash(state, name) == inline(expected)


def test_typed_options_are_read_in_declared_order_and_the_picked_member_goes_along(
    state: ConnectionState[Any],
) -> None:
    # Filled in as reason, member, amount; read as /award's parameters are declared. The
    # member picked is @alice in the text, and her very account (with the server's nickname)
    # as the mention that stands there, so the core pays exactly her.
    rest = "@alice 50 great photo"
    expected = command(25, SERVER, MOD, f"/award {rest}", "award", rest)
    picked = AccountRef("discord", str(ALICE_ID), "Ali", username="alice")
    assert read_slash(state, "interaction_slash_award_options") == replace(
        inline(expected), mentions=(Mention("@alice", picked),)
    )


def test_a_button_press_sends_its_command_line_to_the_presser_alone(
    state: ConnectionState[Any],
) -> None:
    pressed = interaction(state, "interaction_button")
    event = button_event(pressed, chat=interaction_chat(pressed))
    expected = command(24, SERVER, ALICE, "/vote 3 2", "vote", "3 2")
    assert event == replace(inline(expected), kind=EventKind.BUTTON)


# Gateway events without a message ----------------------------------------------------------


def test_a_vote_in_a_native_poll_is_that_answer_counted_from_zero() -> None:
    data = recorded("poll_vote_add")
    raw = discord.RawPollVoteActionEvent(data)
    event = vote_event(raw, actor=ALICE, guild_name="Acme Fans", added=True, at=AT, stamp=42)
    key = f"discord:vote:{data['message_id']}:{ALICE_ID}:2:add:42"
    assert event == Event(
        key, SERVER, ALICE, AT, EventKind.VOTE, "", poll_ref=data["message_id"], options=(1,)
    )


def test_a_newcomer_joins_the_server_they_joined(state: ConnectionState[Any]) -> None:
    data = recorded("guild_member_add")
    guild = state._get_guild(GUILD)
    assert guild is not None
    member = discord.Member(data=data, guild=guild, state=state)
    event = joined_event(member, now=AT)
    newbie = AccountRef("discord", data["user"]["id"], "Newbie", username="newbie")
    key = f"discord:joined:{GUILD}:{newbie.user_id}:{int(AT.timestamp())}"
    # Greeted in the system channel, where Discord says they joined.
    joined = Event(key, SERVER, newbie, AT, EventKind.JOINED, "", channel_id=str(GENERAL))
    assert event == joined


def test_a_forwarded_message_shows_its_words_as_quoted_text(state: ConnectionState[Any]) -> None:
    # A forward has no content of its own; the original's words are in its snapshot, and
    # everyone in the channel reads them (a /link code among them is spent by the core).
    event = read_message(state, "message_forward")
    assert event == typed(21, SERVER, ALICE, "", quoted="🔗 Your link code: ABCD2345")
