"""Anonymous group admins and channels speak for a chat, not as a person: they are no members
and earn nothing, but an anonymous admin's admin commands work where Telegram vouches."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import func, select

from handlers.types import Event, EventKind, Visibility
from storage.schema import accounts, audit_log, members
from storage.store import Store
from tests.harness import Chat, Said, ledger_state


def anonymous(chat: Chat, text: str, *, admin: bool) -> Event:
    """A message sent as the group itself (an anonymous admin) or as a channel."""
    event = chat.event("-100777", text)
    actor = replace(event.actor, display_name="Acme Fans", anonymous=True, is_platform_admin=admin)
    return replace(event, actor=actor)


def template(said: Said) -> str | None:
    return None if said.outcome.reply is None else said.outcome.reply.template


def count(store: Store, table: object) -> int:
    return store.read_now(lambda c: c.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


async def test_check_ins_and_votes_as_a_chat_get_a_hint_and_make_no_member(
    chat: Chat, store: Store
) -> None:
    await chat.say("boss", "/poll Tea? | Yes | No")
    people = count(store, members)
    for text in ("/checkin", "签到", "/points", "/me", "/link"):
        said = await chat.deliver(anonymous(chat, text, admin=True))
        assert template(said) == "common/post_as_yourself", text
    channel = await chat.deliver(anonymous(chat, "签到", admin=False))
    assert template(channel) == "common/post_as_yourself"
    assert count(store, members) == people
    assert count(store, accounts) == people
    # A plain message as the chat changes nothing and gets no answer.
    assert template(await chat.deliver(anonymous(chat, "hello all", admin=True))) is None


async def test_an_anonymous_admin_of_an_adopted_group_runs_admin_commands_audited(
    chat: Chat, store: Store
) -> None:
    await chat.say("alice", "/start")
    before = await chat.deliver(anonymous(chat, "/award @alice 5", admin=True))
    assert template(before) == "common/group_not_adopted"
    await chat.say("boss", "/settings")  # a listed admin adopts the group
    awarded = await chat.deliver(anonymous(chat, "/award @alice 5 thanks", admin=True))
    assert template(awarded) == "points/awarded"
    assert ledger_state(store, "console", "alice") == (5, 5)
    row = store.read_now(
        lambda c: c.execute(select(audit_log).where(audit_log.c.action == "award")).one()
    )
    assert row.actor_member_id is None and row.details["by"] == "console:-100777"
    poll = await chat.deliver(anonymous(chat, "/poll Tea? | Yes | No", admin=True))
    assert template(poll) == "polls/posted"
    helped = await chat.deliver(anonymous(chat, "/help", admin=True))
    assert template(helped) == "help/help"
    # A channel posting into the group is no admin, adopted group or not.
    refused = await chat.deliver(anonymous(chat, "/award @alice 5", admin=False))
    assert template(refused) == "common/admins_only"


async def test_a_refused_button_press_is_told_to_the_presser_alone(chat: Chat) -> None:
    pressed = replace(
        anonymous(chat, "/vote 1 0", admin=True),
        kind=EventKind.BUTTON,
        private_reply=True,
        addressed=True,
    )
    said = await chat.deliver(pressed)
    assert said.outcome.reply is not None
    assert said.outcome.reply.template == "common/post_as_yourself"
    assert said.outcome.reply.visibility is Visibility.PRIVATE
