"""/invite on each platform: the messenger makes the platform's invite as it sends the answer (a
named Telegram invite link, a Discord invite, the console's code), the core keeps its link, and
a newcomer who joins through it is credited to the inviter."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.adapters.console import ConsoleAdapter
from bot.adapters.discord import DiscordAdapter, DiscordOptions
from bot.adapters.telegram import TelegramAdapter, TelegramOptions
from bot.adapters.telegram_limits import NO_LIMITS
from bot.delivery.messenger import Limits, Rate
from bot.delivery.sender import SenderSettings
from bot.rendering import Renderer, plain_text
from handlers.invite import Invitations
from handlers.ports import Chats, Deliveries, Inbox, Polls
from handlers.types import Event, EventKind
from storage.schema import invitations, invited
from storage.store import Store
from tests.fakes.discord_api import FakeDiscord
from tests.fakes.probe import probing_dispatcher
from tests.fakes.telegram_api import BOT_ID, FakeTelegram
from tests.harness import Clock, member_id, moving_on, rows, serving_with_sender

TOKEN = "123456:TEST-token"
GROUP, ALICE, NEWBIE = -1001, 11, 77
SENDER = SenderSettings(poll_seconds=0.02)


def telegram(tg: FakeTelegram, store: Store, clock: Clock, seen: list[Event]) -> Any:
    adapter = TelegramAdapter(
        probing_dispatcher(store, clock, seen),
        TelegramOptions(token=TOKEN, base_url=tg.base_url, poll_timeout=1),
        inbox=Inbox(store),
        chats=Chats(store),
        polls=Polls(store),
        deliveries=Deliveries(store, moving_on(clock)),
        default_locale="en",
        limits=NO_LIMITS,
        invitations=Invitations(store),
    )
    return serving_with_sender(adapter, Deliveries(store, moving_on(clock)), SENDER)


async def test_telegram_invite_link_is_named_for_the_code_and_credits_the_join(
    store: Store, clock: Clock
) -> None:
    seen: list[Event] = []
    async with FakeTelegram() as tg:
        group, alice = tg.group(GROUP, "Acme Fans"), tg.user(ALICE, "Alice", username="alice")
        tg.set_member_status(GROUP, BOT_ID, "administrator")
        async with telegram(tg, store, clock, seen):
            tg.push_message(group, alice, "/invite")
            await tg.wait_for(lambda t: len(t.texts(GROUP)) >= 1)
            (made,) = rows(store, invitations)
            (call,) = tg.calls_to("createChatInviteLink")
            assert call.params == {"chat_id": GROUP, "name": made.code}
            link = call.result["invite_link"]
            assert link in tg.texts(GROUP)[0] and made.link == link
            tg.push_chat_member_joined(group, tg.user(NEWBIE, "Newbie"), link)
            await tg.wait_for(lambda _: bool(rows(store, invited)), every=0.05)
    (joined,) = rows(store, invited)
    assert joined.member_id == member_id(store, "telegram", str(NEWBIE))
    assert joined.invitation_id == made.id and joined.known is False
    assert [e.invite for e in seen if e.kind is EventKind.JOINED] == [made.code]


async def test_telegram_says_politely_when_the_bot_may_not_invite(
    store: Store, clock: Clock
) -> None:
    async with FakeTelegram() as tg:
        group, alice = tg.group(GROUP, "Acme Fans"), tg.user(ALICE, "Alice", username="alice")
        async with telegram(tg, store, clock, []):
            tg.push_message(group, alice, "/invite")
            await tg.wait_for(lambda t: len(t.texts(GROUP)) >= 1)
            (text,) = tg.texts(GROUP)
    assert "could not make an invitation link" in text and "admin" in text
    (made,) = rows(store, invitations)
    assert made.link is None


# Discord -------------------------------------------------------------------------------------

GUILD, CHANNEL, OWNER, BOB, NEWCOMER = 900_001, 900_002, 900_003, 900_011, 900_077
UNLIMITED = Limits(overall=Rate(0, 1), group=Rate(0, 1), private=Rate(0, 1))


async def test_discord_invite_is_made_and_a_join_is_told_by_its_uses(
    store: Store, clock: Clock
) -> None:
    seen: list[Event] = []
    async with FakeDiscord() as fake:
        fake.add_guild(GUILD, "Acme", owner_id=OWNER, system_channel_id=CHANNEL)
        fake.add_channel(GUILD, CHANNEL, "general")
        fake.add_member(GUILD, BOB, "bob")
        with fake.patch_discord():
            adapter = DiscordAdapter(
                probing_dispatcher(store, clock, seen),
                DiscordOptions(token="fake-token"),
                polls=Polls(store),
                deliveries=Deliveries(store, moving_on(clock)),
                default_locale="en",
                guild_ready_timeout=0.05,
                limits=UNLIMITED,
                members_intent=True,
                invitations=Invitations(store),
            )
            deliveries = Deliveries(store, moving_on(clock))
            async with serving_with_sender(adapter, deliveries, SENDER):
                await fake.send_message(CHANNEL, BOB, "/invite")
                await fake.wait_for(lambda: len(fake.sent_in(CHANNEL)) >= 1)
                (code,) = fake.invites
                assert fake.invites[code]["max_age"] == 0 and fake.invites[code]["unique"]
                assert f"https://discord.gg/{code}" in fake.sent_in(CHANNEL)[0]
                await fake.member_join(GUILD, NEWCOMER, "newcomer", invite=code)
                await fake.wait_for(lambda: len(fake.sent_in(CHANNEL)) >= 2)  # the welcome
    (made,) = rows(store, invitations)
    assert made.link == f"https://discord.gg/{code}"
    (joined,) = rows(store, invited)
    assert joined.member_id == member_id(store, "discord", str(NEWCOMER))
    assert joined.invitation_id == made.id and joined.known is False


async def test_discord_joins_are_told_without_an_invite_when_invites_are_unreadable(
    store: Store, clock: Clock
) -> None:
    seen: list[Event] = []
    async with FakeDiscord() as fake:
        fake.add_guild(GUILD, "Acme", owner_id=OWNER, system_channel_id=CHANNEL)
        fake.add_channel(GUILD, CHANNEL, "general")
        fake.invites_denied = True
        with fake.patch_discord():
            adapter = DiscordAdapter(
                probing_dispatcher(store, clock, seen),
                DiscordOptions(token="fake-token"),
                polls=Polls(store),
                deliveries=Deliveries(store, moving_on(clock)),
                default_locale="en",
                guild_ready_timeout=0.05,
                limits=UNLIMITED,
                members_intent=True,
            )
            async with serving_with_sender(adapter, Deliveries(store, moving_on(clock)), SENDER):
                await fake.member_join(GUILD, NEWCOMER, "newcomer")
                await fake.wait_for(lambda: len(fake.sent_in(CHANNEL)) >= 1)  # still welcomed
    (joined,) = [e for e in seen if e.kind is EventKind.JOINED]
    assert joined.invite == "" and rows(store, invited) == []


# Console -------------------------------------------------------------------------------------


async def console(store: Store, clock: Clock, script: str) -> str:
    out = io.StringIO()
    adapter = ConsoleAdapter(
        probing_dispatcher(store, clock, []),
        Renderer(plain_text),
        locale="en",
        timezone=ZoneInfo("Asia/Shanghai"),
        stdin=io.StringIO(script),
        stdout=out,
        interactive=False,
        deliveries=Deliveries(store, clock),
        clock=lambda: datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
        invitations=Invitations(store),
    )
    await adapter.run()
    return out.getvalue()


async def test_the_console_invitation_is_its_code_and_join_uses_it(
    store: Store, clock: Clock
) -> None:
    said = await console(store, clock, ":as alice\n/invite\n")
    (made,) = rows(store, invitations)
    assert made.code in said and made.link == made.code
    await console(store, clock, f":as newbie\n:join {made.code}\n")
    (joined,) = rows(store, invited)
    assert joined.member_id == member_id(store, "console", "newbie")
    assert joined.known is False
