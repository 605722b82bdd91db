"""The ambassador programme on the real platforms: python-telegram-bot and discord.py against
their fakes. An admin appoints an ambassador (a typed @handle in a Telegram group, a member
picked in Discord's slash form), the ambassador is told in a private chat, and /mytasks shows
their progress there (Telegram) or to them alone (Discord)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from bot.adapters.telegram import TelegramAdapter
from handlers.ports import Deliveries, Polls
from handlers.router import Dispatcher
from storage.ambassador_tables import ambassadors
from storage.store import Store
from tests.conftest import TELEGRAM_OWNER
from tests.fakes.discord_api import BOT_ID, FakeDiscord
from tests.fakes.telegram_api import FakeTelegram
from tests.harness import Clock, moving_on, rows
from tests.test_discord_adapter import ALICE as D_ALICE
from tests.test_discord_adapter import CHANNEL, GUILD, MOD, Ports, acme_fans, answers, slash
from tests.test_discord_adapter import serving as discord_serving
from tests.test_telegram_adapter import ALICE, group, said, serving, user


@pytest.fixture(autouse=True)
def platform_time(clock: Clock) -> None:
    """The platforms date messages by the real clock: the core's must agree, or a private
    notice (queued at the command's time) waits for a moment the sender never reaches."""
    clock.now = datetime.now(UTC)


@pytest.fixture(name="tg")
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture(name="telegram")
async def running_telegram(
    tg: FakeTelegram, dispatcher: Dispatcher, store: Store
) -> AsyncIterator[TelegramAdapter]:
    async with serving(tg, dispatcher, store) as adapter:
        yield adapter


async def test_on_telegram_an_admin_appoints_and_the_ambassador_reads_their_tasks_privately(
    tg: FakeTelegram, telegram: TelegramAdapter, store: Store
) -> None:
    alice = user(tg, ALICE, "Alice")
    tg.push_message(tg.private_chat(alice), alice, "/start")  # alice can be written to
    await said(tg, 1, chat_id=ALICE)
    tg.push_message(group(tg), alice, "hello")  # the group knows @alice
    owner = user(tg, TELEGRAM_OWNER, "Owner")
    tg.push_message(group(tg), owner, "/ambassador add @alice ambassador")
    [added] = await said(tg, 1)
    assert added.startswith("🌟 Alice (@alice) is now a brand ambassador: Ambassador.")
    told = (await said(tg, 2, chat_id=ALICE))[1]
    assert told.startswith("🌟 Congratulations Alice, you are now a brand ambassador: Ambassador!")

    tg.push_message(tg.private_chat(alice), alice, "/mytasks")
    mine = (await said(tg, 3, chat_id=ALICE))[2]
    assert "⬜ Approved submissions 0/4\n⬜ Featured 0/1\n⬜ Questions answered 0/5" in mine
    assert "Meet them all by the month's end for 150 points." in mine
    # A member presses the admin's command by hand: refused, nothing changes.
    tg.push_message(group(tg), alice, "/ambassador level @alice senior")
    refused = (await said(tg, 2))[1]
    assert "for community admins only" in refused
    [row] = rows(store, ambassadors)
    assert row.level == "ambassador"


@pytest.fixture(name="fake")
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    async with acme_fans() as fake:
        yield fake


async def test_on_discord_a_picked_member_is_appointed_and_their_tasks_shown_to_them_alone(
    fake: FakeDiscord, dispatcher: Dispatcher, store: Store, clock: Clock
) -> None:
    ports = Ports(Polls(store), Deliveries(store, moving_on(clock)))
    async with discord_serving(fake, dispatcher, ports):
        inter = await fake.slash_command(
            GUILD,
            CHANNEL,
            MOD,
            "ambassador",
            {"action": "add", "level": "资深大使"},
            users={"member": D_ALICE},
        )
        [added] = await answers(fake, inter)
        assert (added.content or "").startswith(
            "🌟 Alice (@alice) is now a brand ambassador: Senior ambassador."
        )
        await fake.wait_for(lambda: D_ALICE in fake.dms and bool(fake.sent_in(fake.dms[D_ALICE])))
        [told] = fake.sent_in(fake.dms[D_ALICE])
        assert told.startswith("🌟 Congratulations Alice, you are now a brand ambassador")

        [mine] = await slash(fake, D_ALICE, "mytasks")
        assert mine.ephemeral  # progress is the ambassador's own business
        assert "⬜ Approved submissions 0/6" in (mine.content or "")

        # The bot itself picked: nobody to appoint, said politely.
        inter = await fake.slash_command(
            GUILD, CHANNEL, MOD, "ambassador", {"action": "add"}, users={"member": BOT_ID}
        )
        [bot] = await answers(fake, inter)
        assert "is a bot" in (bot.content or "")
    [row] = rows(store, ambassadors)
    assert row.level == "senior"
