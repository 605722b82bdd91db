"""Life of a group: /settings (and moving a group to another community), newcomers, the inbox."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from community import checkins
from handlers.ports import Inbox
from handlers.router import Dispatcher
from storage.schema import audit_log, communities, groups
from storage.store import Store
from tests.harness import Chat, Clock, ledger_state


def community_of(store: Store, chat_id: str) -> str:
    """The slug of the community a group belongs to."""
    query = (
        select(communities.c.slug)
        .join(groups, groups.c.community_id == communities.c.id)
        .where(groups.c.chat_id == chat_id)
    )
    return str(store.read_now(lambda c: c.execute(query).scalar_one()))


def slugs(store: Store) -> list[str]:
    query = select(communities.c.slug).order_by(communities.c.id)
    return store.read_now(lambda c: list(c.execute(query).scalars()))


def audit_actions(store: Store) -> list[str]:
    query = select(audit_log.c.action).order_by(audit_log.c.id)
    return store.read_now(lambda c: list(c.execute(query).scalars()))


async def first_line(chat: Chat, who: str, text: str) -> str:
    said = await chat.say(who, text)
    assert said.text is not None
    return said.text.splitlines()[0]


@pytest.fixture
def other_group(dispatcher: Dispatcher, clock: Clock) -> Chat:
    """A second group of the same community."""
    return Chat(dispatcher, clock, chat_id="group-2")


async def test_settings_shows_the_communitys_settings_to_admins(chat: Chat) -> None:
    said = await chat.say("boss", "/settings")
    assert said.text == (
        "⚙️ Community: Acme Fans (acme)\n"
        "Timezone: Asia/Shanghai · Language: en\n"
        "Check-in: 10 points · Poll vote: 2 points\n"
        "Move this group to another community: /settings community NAME"
        " · Post in this channel (Discord): /settings channel"
        " · Tag this group: /settings tags vip cn"
    )


async def test_non_admin_settings_is_refused_and_moves_nothing(chat: Chat, store: Store) -> None:
    said = await chat.say("alice", "/settings community mine")
    assert said.text == "Sorry, /settings is for community admins only."
    assert slugs(store) == ["acme"] and community_of(store, "group-1") == "acme"


async def test_moving_a_group_to_a_new_community_copies_the_rules_and_is_audited(
    chat: Chat, store: Store
) -> None:
    said = await chat.say("boss", "/settings community VIP-club")
    assert said.text == (
        "✅ This group now belongs to the community vip-club (new, with the rules of acme)."
        " Points earned here from now on count there."
    )
    assert community_of(store, "group-1") == "vip-club"
    shown = await chat.say("boss", "/settings")
    assert shown.text is not None
    assert shown.text.startswith("⚙️ Community: vip-club (vip-club)\nTimezone: Asia/Shanghai")
    assert "Check-in: 10 points · Poll vote: 2 points" in shown.text
    rows = store.read_now(lambda c: c.execute(select(audit_log)).all())
    assert [r.action for r in rows] == ["group_moved"]
    assert rows[0].details == {
        "by": "console:boss",
        "chat": "console:group-1",
        "to_community": "vip-club",
        "created": True,
    }


async def test_moving_to_an_existing_community_joins_it(
    chat: Chat, other_group: Chat, store: Store
) -> None:
    await chat.say("boss", "/settings community vip")
    said = await other_group.say("boss", "/settings community vip")
    assert said.text == (
        "✅ This group now belongs to the community vip."
        " Points earned here from now on count there."
    )
    assert slugs(store) == ["acme", "vip"]
    assert community_of(store, "group-2") == "vip"


async def test_a_group_admin_cannot_move_into_a_community_that_does_not_name_them(
    chat: Chat, dispatcher: Dispatcher, clock: Clock, store: Store
) -> None:
    await chat.say("boss", "/settings community vip")
    strangers = Chat(dispatcher, clock, chat_id="group-x", admins={"mallory"})
    await strangers.say("boss", "/settings")  # adopted: mallory is an admin of acme here
    said = await strangers.say("mallory", "/settings community vip")
    assert said.text == (
        "Only the admins listed in community.toml can move a group into an existing community"
        " such as vip: ask one of them, or choose a new name."
    )
    assert community_of(store, "group-x") == "acme"
    assert audit_actions(store) == ["group_moved"]
    own = await strangers.say("mallory", "/settings community mallory-fans")
    assert own.text is not None and own.text.startswith("✅ This group now belongs")


async def test_after_a_move_the_group_earns_in_the_new_community_only(
    chat: Chat, other_group: Chat, store: Store
) -> None:
    await chat.say("alice", "/checkin")
    await chat.say("boss", "/settings community vip")
    chat.now += timedelta(days=1)
    said = await chat.say("alice", "/checkin")
    assert said.text is not None and "Streak: 1 day" in said.text
    assert "Balance: 10 points" in said.text
    await chat.say("boss", "/award @alice 5 first in vip")
    assert await first_line(chat, "alice", "/points") == "💰 alice, you have 15 points."
    assert await first_line(other_group, "alice", "/points") == "💰 alice, you have 10 points."
    me = await other_group.say("alice", "/me")
    assert me.text is not None and "not checked in yet today" in me.text
    top = await chat.say("bob", "/top")
    assert top.text is not None and top.text.startswith("🏆 Top members of vip")
    assert ledger_state(store, "console", "alice", "acme") == (10, 10)
    assert ledger_state(store, "console", "alice", "vip") == (15, 15)


async def test_bad_community_names_are_refused_and_move_nothing(chat: Chat, store: Store) -> None:
    for args, answer in (
        ("community Bad!Name", "“Bad!Name” can't be a community name"),
        ("community -acme", "“-acme” can't be a community name"),
        ("community 品牌", "“品牌” can't be a community name"),
        ("community " + "a" * 65, "“" + "a" * 64 + "” can't be a community name"),
        ("community", "Usage: /settings, /settings community NAME, /settings channel"),
        ("community two words", "“two words” can't be a community name"),
        ("timezone UTC", "Usage: /settings"),
    ):
        said = await chat.say("boss", f"/settings {args}")
        assert said.text is not None and said.text.startswith(answer), args
    assert slugs(store) == ["acme"] and community_of(store, "group-1") == "acme"
    assert audit_actions(store) == []


async def test_a_private_chat_cannot_be_moved(chat: Chat, store: Store) -> None:
    private = replace(chat, chat_id="dm-boss", private=True)
    said = await private.say("boss", "/settings community vip")
    assert said.text == "Send this in the group you want to move."
    assert slugs(store) == ["acme"] and audit_actions(store) == []


async def test_a_newcomer_is_welcomed(chat: Chat) -> None:
    said = await chat.joins("Dora")
    assert said.text == (
        "👋 Welcome to Acme Fans, Dora! Send /help to see what you can do here"
        " — and check in every day with /checkin (or just say 签到)."
    )
    chatter = await chat.say("Dora", "hello everyone")
    assert chatter.outcome.reply is None


async def test_a_newcomer_is_welcomed_in_the_groups_current_community(chat: Chat) -> None:
    await chat.say("boss", "/settings community vip")
    said = await chat.joins("Dora")
    assert said.text is not None and said.text.startswith("👋 Welcome to vip, Dora!")


async def test_a_handled_event_leaves_the_inbox(chat: Chat, dispatcher: Dispatcher) -> None:
    await Inbox(dispatcher.store).keep("test", [("test:u900", '{"n": 900}'), ("test:u901", "{}")])
    assert await Inbox(dispatcher.store).pending("test") == [
        ("test:u900", '{"n": 900}'),
        ("test:u901", "{}"),
    ]
    event = replace(chat.event("alice", "/checkin", event_id="test:u900"), from_inbox=True)
    said = await chat.deliver(event)
    assert said.text is not None and "+10 points" in said.text
    assert await Inbox(dispatcher.store).pending("test") == [("test:u901", "{}")]
    assert await Inbox(dispatcher.store).pending("discord") == []


async def test_a_redelivered_inbox_event_is_removed_without_paying_twice(
    chat: Chat, dispatcher: Dispatcher
) -> None:
    event = replace(chat.event("alice", "/checkin", event_id="test:u900"), from_inbox=True)
    await Inbox(dispatcher.store).keep("test", [("test:u900", "{}")])
    await chat.deliver(event)
    # Fetched again after a crash between handling it and telling the platform.
    await Inbox(dispatcher.store).keep("test", [("test:u900", "{}")])
    again = await chat.deliver(event)
    assert again.outcome.duplicate and again.text is None
    assert await Inbox(dispatcher.store).pending("test") == []
    assert await first_line(chat, "alice", "/points") == "💰 alice, you have 10 points."


async def test_an_event_that_fails_leaves_the_inbox_so_a_retry_cannot_pay_twice(
    chat: Chat, dispatcher: Dispatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = replace(chat.event("alice", "/checkin", event_id="test:u900"), from_inbox=True)
    await Inbox(dispatcher.store).keep("test", [("test:u900", "{}")])

    def broken(*args: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(checkins, "check_in", broken)
    failed = await chat.deliver(event)
    assert failed.text is not None and failed.text.startswith("Something went wrong")
    # The member was told to try again; replaying this update at the next start as well
    # could pay twice, so it is gone from the inbox.
    assert await Inbox(dispatcher.store).pending("test") == []
    monkeypatch.undo()
    retried = await chat.say("alice", "/checkin")
    assert retried.text is not None and "+10 points" in retried.text
