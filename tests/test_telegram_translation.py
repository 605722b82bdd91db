"""Telegram updates as the Bot API sends them (tests/recorded/telegram/*.json, written from the
Bot API docs) into the Events the core receives: each whole Event is checked, so a field the
adapter forgets or fills wrongly (who is anonymous, who is an admin, whom a message is meant
for, whether the answer can be private) shows here, with no network and no database."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from telegram import Update

from bot.adapters.telegram_updates import Incoming, read_update
from handlers.types import AccountRef, ChatRef, Event, EventKind

RECORDED = Path(__file__).parent / "recorded" / "telegram"
BOT_ID, BOT_USERNAME = 999000, "community_bot"
NOW = datetime(2026, 11, 23, 1, 0, 5, tzinfo=UTC)  # when a button press or vote is read
SENT = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)  # the recorded messages' date
EDITED_AT = datetime(2026, 11, 23, 1, 1, tzinfo=UTC)  # the recorded edits' edit_date

GROUP = ChatRef("telegram", "-1001234567890", title="Acme Fans")
ALICE = AccountRef("telegram", "111111111", "Alice Wang", username="alice")
BOSS = AccountRef("telegram", "222222222", "Boss", username="boss")
NO_CHAT = ChatRef("telegram", "")  # a poll answer names only its poll
# Someone speaking for a chat: Telegram's stand-in users (GroupAnonymousBot, Channel_Bot,
# "Telegram") never become the actor; the chat they speak for does.
ANONYMOUS_ADMIN = AccountRef(
    "telegram",
    "-1001234567890",
    "Acme Fans",
    username="acmefans",
    is_platform_admin=True,
    anonymous=True,
)
CHANNEL = AccountRef("telegram", "-1009876543210", "Acme News", username="acmenews", anonymous=True)


def recorded(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RECORDED / f"{name}.json").read_text(encoding="utf-8"))
    return data


def read(name: str) -> Incoming | None:
    update = Update.de_json(recorded(name), None)
    return read_update(update, bot_username=BOT_USERNAME, bot_id=BOT_ID, now=NOW)


def only_event(name: str) -> tuple[Event, Incoming]:
    """The one event of a recorded update. Its answer quotes the message it came from (a
    message, an edit; a button press quotes nothing): checked here for every recording, and
    left out of the event returned, which the tests compare whole."""
    incoming = read(name)
    assert incoming is not None
    (event,) = incoming.events
    data = recorded(name)
    message = data.get("message") or data.get("edited_message")
    assert event.message_id == (str(message["message_id"]) if message else "")
    return replace(event, message_id=""), incoming


def message(
    update_id: int,
    chat: ChatRef,
    actor: AccountRef,
    text: str,
    kind: EventKind = EventKind.MESSAGE,
    **fields: Any,
) -> Event:
    """The event a recorded message is (every one of them kept in the inbox until handled)."""
    return Event(f"telegram:{update_id}", chat, actor, SENT, kind, text, from_inbox=True, **fields)


def command(
    update_id: int, chat: ChatRef, actor: AccountRef, text: str, name: str, rest: str, **kw: Any
) -> Event:
    words = {"command": name, "args": tuple(rest.split()), "arg_text": rest}
    return message(update_id, chat, actor, text, EventKind.COMMAND, **words, **kw)


def test_a_group_message_is_a_plain_unaddressed_message() -> None:
    event, incoming = only_event("group_message")
    assert event == message(815000001, GROUP, ALICE, "签到！")
    assert not incoming.wants_admin_check


def test_a_private_message_is_addressed_and_can_be_answered_privately() -> None:
    event, _ = only_event("private_message")
    chat = ChatRef("telegram", "111111111", title="Alice Wang", private=True)
    assert event == message(
        815000002, chat, ALICE, "hello there", addressed=True, private_reply=True
    )


def test_a_command_naming_this_bot_is_addressed_and_asks_who_is_admin() -> None:
    event, incoming = only_event("command_for_this_bot")
    text = "/award@community_bot @alice 50 great photo"
    rest = "@alice 50 great photo"
    assert event == command(815000003, GROUP, BOSS, text, "award", rest, addressed=True)
    assert incoming.wants_admin_check


def test_a_command_naming_another_bot_is_only_a_message() -> None:
    event, _ = only_event("command_for_other_bot")
    assert event == message(815000004, GROUP, BOSS, "/ban@group_help_bot spammer")


def test_a_bare_command_in_a_group_is_not_addressed() -> None:
    event, _ = only_event("command_in_group")
    assert event == command(815000005, GROUP, ALICE, "/ban spammer", "ban", "spammer")


def test_a_command_replying_to_the_bot_is_addressed() -> None:
    event, _ = only_event("reply_to_bot")
    expected = command(815000006, GROUP, ALICE, "/ban spammer", "ban", "spammer", addressed=True)
    # A reply to a question answers it; what the replied message says goes along.
    assert event == replace(
        expected, replied_id="4405", replied_text="Alice checked in: +10 points"
    )


def test_a_command_replying_to_a_member_is_not_addressed() -> None:
    event, _ = only_event("reply_to_member")
    # It points at the member replied to (tests/test_telegram_targeting.py): the core decides.
    expected = command(815000007, GROUP, BOSS, "/ban", "ban", "", target=ALICE)
    assert event == replace(expected, replied_id="4407", replied_text="buy cheap followers here")


def test_a_forum_topic_the_bot_opened_does_not_address_every_message_in_it() -> None:
    event, _ = only_event("forum_topic_message")
    forum = ChatRef("telegram", "-1001234567891", title="Acme Forum")
    assert event == command(815000008, forum, ALICE, "/ban spammer", "ban", "spammer")


def test_a_button_press_is_an_addressed_button_event_answered_to_the_presser() -> None:
    event, incoming = only_event("callback_query")
    assert event == Event(
        "telegram:815000009",
        GROUP,
        ALICE,
        NOW,
        EventKind.BUTTON,
        "/vote 3 2",
        command="vote",
        args=("3", "2"),
        arg_text="3 2",
        private_reply=True,
        addressed=True,
        from_inbox=True,
        answered_inline=True,  # the adapter answers the press (an alert for the presser alone)
    )
    assert incoming.callback_query_id == "4382bfdwdsb323b2d9" and incoming.wants_admin_check


@pytest.mark.parametrize(
    ("name", "update_id", "voter", "options"),
    [
        ("poll_answer", 815000010, ALICE, (1,)),
        ("poll_answer_retracted", 815000011, ALICE, ()),
        # An anonymous admin's vote: the group votes, not Channel_Bot (Telegram's stand-in).
        (
            "poll_answer_anonymous_admin",
            815000012,
            AccountRef(
                "telegram", "-1001234567890", "Acme Fans", username="acmefans", anonymous=True
            ),
            (0,),
        ),
    ],
)
def test_a_poll_answer_is_a_vote_in_that_poll(
    name: str, update_id: int, voter: AccountRef, options: tuple[int, ...]
) -> None:
    event, _ = only_event(name)
    assert event == Event(
        f"telegram:{update_id}",
        NO_CHAT,
        voter,
        NOW,
        EventKind.VOTE,
        "",
        poll_ref="5379898311542235139",
        options=options,
        from_inbox=True,
    )


def test_new_members_join_one_by_one_and_bots_are_left_out() -> None:
    incoming = read("new_members")
    assert incoming is not None
    assert incoming.events == tuple(
        Event(f"telegram:815000013:joined:{user_id}", GROUP, actor, SENT, EventKind.JOINED, "")
        for user_id, actor in (
            (333333333, AccountRef("telegram", "333333333", "Carol")),
            (555555555, AccountRef("telegram", "555555555", "Dan Li", username="danli")),
        )
    )


def test_an_anonymous_admin_speaks_for_the_group_and_telegram_vouches_for_them() -> None:
    event, incoming = only_event("anonymous_admin_command")
    rest = "@alice 50"
    expected = command(815000014, GROUP, ANONYMOUS_ADMIN, "/award @alice 50", "award", rest)
    assert event == expected
    assert not incoming.wants_admin_check  # nobody to look up: the group itself spoke


def test_an_anonymous_admins_check_in_word_is_the_groups_not_a_members() -> None:
    event, _ = only_event("anonymous_admin_checkin")
    assert event == message(815000015, GROUP, ANONYMOUS_ADMIN, "签到")


def test_a_message_sent_on_behalf_of_a_channel_is_the_channels_and_no_admins() -> None:
    event, incoming = only_event("message_on_behalf_of_channel")
    assert event == command(815000016, GROUP, CHANNEL, "/checkin", "checkin", "")
    assert not incoming.wants_admin_check


def test_an_automatic_forward_from_the_linked_channel_is_the_channels() -> None:
    event, _ = only_event("automatic_forward_from_linked_channel")
    assert event == message(815000017, GROUP, CHANNEL, "签到 starts at 9:00 tomorrow!")


def test_a_supergroup_migration_moves_the_chat_and_asks_nothing_else() -> None:
    incoming = read("supergroup_migration")
    assert incoming == Incoming(815000019, (), migrated=("-4012345678", "-1001234567890"))


def test_a_captioned_photo_is_a_message_with_its_largest_size_attached() -> None:
    event, _ = only_event("photo_with_caption")
    assert event == message(
        815000021, GROUP, ALICE, "打卡", attachments=("photo:AgACAgUAAxkBAAIBZ2aLarge",)
    )


def edit(update_id: int, chat: ChatRef, actor: AccountRef, text: str, **fields: Any) -> Event:
    """The event a recorded edit is: what the message now shows, at the time it was edited,
    never a command (kept in the inbox until handled, like every message)."""
    return Event(
        f"telegram:{update_id}",
        chat,
        actor,
        EDITED_AT,
        EventKind.EDITED,
        text,
        from_inbox=True,
        **fields,
    )


def test_an_edited_message_is_an_edit_showing_its_new_text() -> None:
    event, incoming = only_event("edited_message")
    assert event == edit(815000023, GROUP, ALICE, "签到!!")
    # Answered (if at all) as a reply to the edited message; no admin rights matter.
    assert incoming == Incoming(815000023, (replace(event, message_id="4401"),))


def test_an_edit_that_now_reads_as_a_command_for_this_bot_is_still_no_command() -> None:
    event, incoming = only_event("edited_command_replying_to_bot")
    assert event == edit(815000024, GROUP, ALICE, "/checkin@community_bot", addressed=True)
    assert event.command is None and event.args == () and event.arg_text == ""
    assert not incoming.wants_admin_check


def test_an_edit_in_a_private_chat_can_be_answered_privately() -> None:
    event, _ = only_event("edited_private_message")
    chat = ChatRef("telegram", "111111111", title="Alice Wang", private=True)
    assert event == edit(815000025, chat, ALICE, "/link", addressed=True, private_reply=True)


def test_an_edited_caption_is_the_text_and_the_photo_stays_attached() -> None:
    event, _ = only_event("edited_caption")
    photo = ("photo:AgACAgUAAxkBAAIBZ2aLarge",)
    assert event == edit(815000026, GROUP, ALICE, "my code: K7QM 3XPA", attachments=photo)


@pytest.mark.parametrize(
    ("name", "update_id", "actor", "text"),
    [
        ("edited_by_anonymous_admin", 815000027, ANONYMOUS_ADMIN, "签到"),
        ("edited_on_behalf_of_channel", 815000028, CHANNEL, "/award @acmenews 5"),
    ],
)
def test_an_edit_by_someone_speaking_for_a_chat_is_that_chats(
    name: str, update_id: int, actor: AccountRef, text: str
) -> None:
    event, incoming = only_event(name)
    assert event == edit(update_id, GROUP, actor, text)
    assert not incoming.wants_admin_check


@pytest.mark.parametrize(
    "name",
    ["channel_post", "group_migrated_notice", "message_from_another_bot", "edited_by_another_bot"],
)
def test_what_the_bot_does_not_act_on_gives_no_events(name: str) -> None:
    incoming = read(name)
    assert incoming is None or incoming.events == ()


def test_a_quote_from_another_chat_is_shown_text_and_no_command() -> None:
    event, _ = only_event("reply_in_another_chat_with_quote")
    assert event == message(
        815000060,
        GROUP,
        ALICE,
        "what do I do with this?",
        quoted="Your link code: XU3KJNH2",
        shows_private_chat=True,
    )


def test_a_reply_showing_the_private_chat_with_the_bot_says_so() -> None:
    # Telegram passes on none of the shown message's text; the core spends what the bot told
    # Alice privately.
    event, _ = only_event("reply_in_another_chat_without_quote")
    assert event == message(815000061, GROUP, ALICE, "look", shows_private_chat=True)
