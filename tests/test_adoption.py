"""Whose group admins are community admins: only in groups a listed community admin adopted.

Anyone can add the bot to a group they own and be its admin there; without adoption that
would make them an admin of the brand's community, able to award themselves points.
"""

from __future__ import annotations

from dataclasses import replace

from handlers.router import Dispatcher
from handlers.types import Event
from tests.harness import Chat, Clock


def strangers_group(dispatcher: Dispatcher, clock: Clock) -> Chat:
    """A group on a real platform (not the operator's console), owned by mallory."""
    return Chat(dispatcher, clock, chat_id="mallorys-group", admins={"mallory"}, trusted=False)


async def test_a_group_owner_is_no_community_admin_before_adoption(
    dispatcher: Dispatcher, clock: Clock
) -> None:
    group = strangers_group(dispatcher, clock)
    await group.say("mallory", "/checkin")
    refused = await group.say("mallory", "/award @mallory 1000")
    assert refused.text is not None and "once a community admin" in refused.text
    points = await group.say("mallory", "/points")
    assert points.text is not None and "10 points" in points.text
    moved = await group.say("mallory", "/settings community mine")
    assert moved.text is not None and "once a community admin" in moved.text


async def test_a_listed_admin_adopts_the_group_with_an_admin_command(
    dispatcher: Dispatcher, clock: Clock
) -> None:
    group = strangers_group(dispatcher, clock)
    await group.say("alice", "hi")
    await group.say("boss", "/settings")  # boss is listed in the community's admins
    awarded = await group.say("mallory", "/award @alice 5 nice photo")
    assert awarded.text is not None and "alice (@alice) received 5 points" in awarded.text


async def test_a_listed_admin_who_only_chats_joins_or_asks_for_help_adopts_nothing(
    dispatcher: Dispatcher, clock: Clock
) -> None:
    group = strangers_group(dispatcher, clock)
    await group.joins("boss")  # mallory added boss to her group
    await group.say("boss", "hello?")
    await group.say("boss", "/help")
    refused = await group.say("mallory", "/award @mallory 1000")
    assert refused.text is not None and "once a community admin" in refused.text


async def test_a_member_without_group_rights_stays_refused_after_adoption(
    dispatcher: Dispatcher, clock: Clock
) -> None:
    group = strangers_group(dispatcher, clock)
    await group.say("boss", "/settings")
    refused = await group.say("alice", "/award @alice 5")
    assert refused.text is not None and "for community admins only" in refused.text


async def test_when_the_platform_cannot_say_who_is_admin_the_core_does_not_guess(
    dispatcher: Dispatcher, clock: Clock
) -> None:
    group = strangers_group(dispatcher, clock)
    await group.say("alice", "hi")
    await group.say("boss", "/settings")  # adopted: mallory's platform admin rights count

    def unknown(text: str) -> Event:
        event = group.event("mallory", text)
        return replace(event, actor=replace(event.actor, is_platform_admin=None))

    asked = await group.deliver(unknown("/award @alice 5"))
    assert asked.outcome.reply is not None
    assert asked.outcome.reply.template == "common/admin_check_failed"
    help_ = await group.deliver(unknown("/help"))
    assert help_.outcome.reply is not None and help_.outcome.reply.context["is_admin"] is False
    points = await group.say("alice", "/points")
    assert points.text is not None and "0 points" in points.text
    # A listed admin needs no answer from the platform.
    listed = group.event("boss", "/award @alice 5")
    listed = replace(listed, actor=replace(listed.actor, is_platform_admin=None))
    awarded = await group.deliver(listed)
    assert awarded.outcome.reply is not None
    assert awarded.outcome.reply.template == "points/awarded"
