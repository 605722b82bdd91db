"""Slash commands with typed options, against the fake Discord: what is synced (a user picker for
a member, a number field within the community's limits, choices, autocomplete, localized names
and descriptions, admin commands hidden from members by default), how a filled-in command reaches
the core, and the open polls autocomplete offers; and the user context menu "Award points",
whose form is /award for the member right-clicked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.adapters.discord import DiscordAdapter
from bot.app import ROUTERS
from bot.rendering import Renderer, plain_text
from community.config import parse_config
from handlers.router import Dispatcher
from handlers.routes import ParamKind, Route
from storage.store import Store
from tests.conftest import TEST_COMMUNITY
from tests.fakes.discord_api import BOT_ID, FakeDiscord, FakeInteraction, Json, SentMessage
from tests.harness import Clock
from tests.test_discord_adapter import (
    ALICE,
    BOB,
    CHANNEL,
    GUILD,
    MOD,
    NEWBIE,
    Ports,
    acme_fans,
    answers,
    serving,
    slash,
)

MANAGE_GUILD = 1 << 5
MENU = "Award points"
# The option type Discord shows for each kind of parameter.
OPTION_TYPES = {
    ParamKind.MEMBER: 6,
    ParamKind.INTEGER: 4,
    ParamKind.TEXT: 3,
    ParamKind.CHOICE: 3,
    ParamKind.POLL: 4,
    ParamKind.FILE: 11,  # an attachment field
}
LABELS = Renderer(plain_text)
RULES = parse_config(TEST_COMMUNITY)[0].rules
ROUTES = {route.command: route for router in ROUTERS for route in router.routes}


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """Acme Fans: alice, bob, mod (Manage Server) and the listed owner."""
    async with acme_fans() as fake:
        yield fake


@pytest.fixture
def ports(store: Store, clock: Clock) -> Ports:
    return Ports.over(store, clock)


@pytest.fixture
async def adapter(
    fake: FakeDiscord, dispatcher: Dispatcher, ports: Ports
) -> AsyncIterator[DiscordAdapter]:
    """Started (commands synced), in a server the listed owner adopted."""
    async with serving(fake, dispatcher, ports) as adapter:
        yield adapter


def synced(fake: FakeDiscord) -> dict[str, Json]:
    """The slash commands synced (type 1; user context menus are type 2)."""
    return {command["name"]: command for command in fake.commands[None] if command["type"] == 1}


async def pick(
    fake: FakeDiscord, user: int, name: str, *, users: dict[str, int], **options: Any
) -> SentMessage:
    """`user` runs /name in #general with members picked and options filled in."""
    inter = await fake.slash_command(GUILD, CHANNEL, user, name, options or None, users=users)
    [answer] = await answers(fake, inter)
    return answer


async def choices(fake: FakeDiscord, name: str, focused: str, typed: str = "") -> list[Json]:
    """What autocomplete offers mod for `focused` of /name, having typed `typed`."""
    inter: FakeInteraction = await fake.autocomplete(GUILD, CHANNEL, MOD, name, focused, typed)
    await fake.wait_for(lambda: bool(inter.responses))
    [response] = inter.responses
    assert response["type"] == 8
    found: list[Json] = response["data"]["choices"]
    return found


# What is synced ------------------------------------------------------------------------------


async def test_award_has_a_member_picker_a_bounded_amount_and_an_optional_reason(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    award = synced(fake)["award"]
    member, amount, reason = award["options"]
    assert [(o["name"], o["type"], o["required"]) for o in award["options"]] == [
        ("member", 6, True),
        ("amount", 4, True),
        ("reason", 3, False),
    ]
    assert (amount["min_value"], amount["max_value"]) == (1, 1000)  # the community's max_award
    assert member["description"] == "who gets the points"
    assert member["name_localizations"] == {"zh-CN": "成员"}
    assert amount["description_localizations"] == {"zh-CN": "积分数量"}
    assert reason["name_localizations"] == {"zh-CN": "原因"}
    # Admin commands are shown to Manage Server by default; member commands to everyone.
    assert award["default_member_permissions"] == MANAGE_GUILD
    assert synced(fake)["points"]["default_member_permissions"] is None


async def test_settings_offers_its_choices_and_closepoll_autocompletes(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    setting, value = synced(fake)["settings"]["options"]
    assert [choice["value"] for choice in setting["choices"]] == ["community", "channel", "tags"]
    assert (setting["required"], value["type"], value["required"]) == (False, 3, False)
    [poll] = synced(fake)["closepoll"]["options"]
    assert (poll["type"], poll["autocomplete"], poll["required"]) == (4, True, False)
    [code] = synced(fake)["link"]["options"]
    assert (code["name"], code["type"]) == ("code", 3)


async def test_a_chinese_community_names_options_in_chinese_with_english_localizations(
    fake: FakeDiscord, dispatcher: Dispatcher, ports: Ports
) -> None:
    async with serving(fake, dispatcher, ports, locale="zh_CN"):
        member, amount, _ = synced(fake)["award"]["options"]
        assert (member["name"], member["description"]) == ("成员", "获得积分的成员")
        assert member["name_localizations"] == {"en-US": "member", "en-GB": "member"}
        assert amount["description_localizations"]["en-GB"] == "how many points"
        # Discord sends the option's own (Chinese) name back: it still reaches the core.
        answer = await pick(fake, MOD, "award", users={"成员": BOB}, 积分=7)
        assert "received 7 points" in (answer.content or "")  # the community speaks English
        [points] = await slash(fake, BOB, "points")
        assert "you have 7 points" in (points.content or "")


async def test_the_discord_definitions_agree_with_the_menu_and_the_declarations(
    fake: FakeDiscord, adapter: DiscordAdapter, dispatcher: Dispatcher
) -> None:
    definitions = synced(fake)
    menu = dict(dispatcher.command_menu())
    assert set(definitions) == set(menu)
    for name, admin in menu.items():
        route: Route = ROUTES[name]
        command = definitions[name]
        assert command["default_member_permissions"] == (MANAGE_GUILD if admin else None)
        shown = [(o["name"], o["type"], o["required"]) for o in command["options"]]
        declared = [
            (LABELS.param_label("en", name, p.name), OPTION_TYPES[p.kind], p.required)
            for p in route.params
        ]
        assert shown == declared, name
        for option, param in zip(command["options"], route.params, strict=True):
            assert [c["value"] for c in option.get("choices", [])] == list(param.choices), name
            assert bool(option.get("autocomplete")) == (param.kind is ParamKind.POLL), name
            if param.kind is ParamKind.INTEGER:
                limits = (option.get("min_value"), option.get("max_value"))
                assert limits == (param.minimum, param.most(RULES)), name


# Using them ----------------------------------------------------------------------------------


async def test_an_admin_awards_the_member_they_picked_with_the_amount_they_typed(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    await slash(fake, BOB, "checkin")  # bob: 10 points
    done = await pick(fake, MOD, "award", users={"member": BOB}, amount=5, reason="great answer")
    assert "received 5 points for: great answer. New balance: 15" in (done.content or "")
    assert "@bob" in (done.content or "")
    refused = await pick(fake, ALICE, "award", users={"member": BOB}, amount=5)
    assert "for community admins only" in (refused.content or "")


async def test_a_picked_member_the_community_never_met_is_paid_all_the_same(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    # newbie never talked to the bot: a typed @newbie names nobody the core knows, but the
    # picker gives the account itself, which Discord vouches for.
    fake.add_member(GUILD, NEWBIE, "newbie", global_name="Newbie")
    [typed] = await slash(fake, MOD, "award", "@newbie 5")
    assert "can't find @newbie" in (typed.content or "")
    done = await pick(fake, MOD, "award", users={"member": NEWBIE}, amount=5)
    assert "received 5 points" in (done.content or "")
    [points] = await slash(fake, NEWBIE, "points")
    assert "you have 5 points" in (points.content or "")


async def test_picking_the_bot_itself_is_refused_politely(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    answer = await pick(fake, MOD, "deduct", users={"member": BOT_ID}, amount=5)
    assert "communitybot is a bot, so it can't get or lose points" in (answer.content or "")


async def test_the_old_text_option_still_works(fake: FakeDiscord, adapter: DiscordAdapter) -> None:
    # A command synced by an older version sends one `text` option with the whole line.
    await slash(fake, BOB, "checkin")
    [done] = await slash(fake, MOD, "award", f"<@{BOB}> 5 thanks")
    assert "received 5 points for: thanks. New balance: 15" in (done.content or "")


# Autocomplete --------------------------------------------------------------------------------


async def test_autocomplete_lists_the_open_polls_and_none_once_closed(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    assert await choices(fake, "closepoll", "poll") == []
    for question in ("Lunch? | Pizza | Sushi", "Dinner? | Soup | Salad"):
        inter = await fake.slash_command(GUILD, CHANNEL, MOD, "poll", {"question": question})
        await answers(fake, inter)
    offered = await choices(fake, "closepoll", "poll")
    dinner, lunch = (c["value"] for c in offered)  # the newest first
    assert [c["name"] for c in offered] == [f"#{dinner} Dinner?", f"#{lunch} Lunch?"]
    assert [c["value"] for c in await choices(fake, "closepoll", "poll", "lun")] == [lunch]
    closed = await pick(fake, MOD, "closepoll", users={}, poll=lunch)
    assert "Lunch?" in (closed.content or "")
    assert [c["value"] for c in await choices(fake, "closepoll", "poll")] == [dinner]
    await pick(fake, MOD, "closepoll", users={}, poll=dinner)
    assert await choices(fake, "closepoll", "poll") == []


# The user context menu "Award points" ---------------------------------------------------------


def menus(fake: FakeDiscord) -> dict[str, Json]:
    return {c["name"]: c for c in fake.commands[None] if c.get("type") == 2}


async def right_click(fake: FakeDiscord, user: int, target: int, name: str = MENU) -> Json:
    """`user` right-clicks `target` → Apps → `name`; returns the modal the bot opened."""
    inter = await fake.user_command(GUILD, CHANNEL, user, name, target)
    await fake.wait_for(lambda: bool(inter.responses))
    [response] = inter.responses
    assert response["type"] == 9
    modal: Json = response["data"]
    return modal


async def submit(fake: FakeDiscord, user: int, modal: Json, **values: str) -> SentMessage:
    """`user` fills in the modal and submits it; returns the bot's answer."""
    inter: FakeInteraction = await fake.submit_modal(
        GUILD, CHANNEL, user, modal["custom_id"], values
    )
    [answer] = await answers(fake, inter)
    return answer


async def test_the_menu_is_synced_for_manage_server_with_a_chinese_name(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    menu = menus(fake)[MENU]
    assert menu["default_member_permissions"] == MANAGE_GUILD
    assert menu["name_localizations"] == {"zh-CN": "奖励积分"}
    assert (menu["description"], menu["options"]) == ("", [])
    assert menu["dm_permission"] is False  # in servers only


async def test_a_chinese_community_names_the_menu_in_chinese(
    fake: FakeDiscord, dispatcher: Dispatcher, ports: Ports
) -> None:
    async with serving(fake, dispatcher, ports, locale="zh_CN"):
        menu = menus(fake)["奖励积分"]
        assert menu["name_localizations"] == {"en-US": MENU, "en-GB": MENU}


async def test_right_clicking_a_member_opens_a_form_for_the_amount_and_the_reason(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    modal = await right_click(fake, MOD, BOB)
    assert modal["custom_id"] == f"award-form:{BOB}"
    assert modal["title"].startswith(f"{MENU} · ")
    amount, reason = modal["components"]
    assert (amount["type"], amount["label"]) == (18, "Amount")
    assert amount["description"] == "how many points"
    assert amount["component"]["custom_id"] == "amount"
    assert (amount["component"]["style"], amount["component"]["required"]) == (1, True)
    assert reason["label"] == "Reason"
    assert reason["component"]["custom_id"] == "reason"
    assert (reason["component"]["style"], reason["component"]["required"]) == (2, False)


async def test_submitting_50_thanks_pays_exactly_the_member_right_clicked(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    await slash(fake, BOB, "checkin")  # bob: 10 points
    await slash(fake, ALICE, "checkin")  # alice: 10 points
    modal = await right_click(fake, MOD, BOB)
    done = await submit(fake, MOD, modal, amount="50", reason="thanks")
    assert "received 50 points for: thanks. New balance: 60" in (done.content or "")
    assert "@bob" in (done.content or "")
    assert not done.ephemeral  # /award is answered in the channel, as the slash command is
    [bob] = await slash(fake, BOB, "points")
    assert "you have 60 points" in (bob.content or "")
    [alice] = await slash(fake, ALICE, "points")
    assert "you have 10 points" in (alice.content or "")


async def test_a_bad_amount_is_refused_and_changes_nothing(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    await slash(fake, BOB, "checkin")  # bob: 10 points
    modal = await right_click(fake, MOD, BOB)
    for amount in ("lots", "0", "50 thanks"):
        refused = await submit(fake, MOD, modal, amount=amount, reason="thanks")
        assert "Usage: /award @member AMOUNT [reason]" in (refused.content or ""), amount
    too_many = await submit(fake, MOD, modal, amount="1001")
    assert "received" not in (too_many.content or "")
    # Only admins award, whichever way they ask.
    not_admin = await submit(fake, ALICE, modal, amount="5")
    assert "for community admins only" in (not_admin.content or "")
    [bob] = await slash(fake, BOB, "points")
    assert "you have 10 points" in (bob.content or "")


async def test_a_member_who_left_before_the_form_was_sent_is_refused(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    await slash(fake, BOB, "checkin")
    modal = await right_click(fake, MOD, BOB)
    await fake.member_leave(GUILD, BOB)
    refused = await submit(fake, MOD, modal, amount="50", reason="thanks")
    assert f"can't find \\<@{BOB}> in this community" in (refused.content or "")
    assert "received" not in (refused.content or "")


async def test_picking_someone_who_is_not_in_the_server_pays_nobody(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    # Discord's user option takes any user; one who left (or never joined) is refused as the
    # award form refuses them, not registered and paid (found by the review).
    await slash(fake, BOB, "checkin")  # bob: 10 points
    await fake.member_leave(GUILD, BOB)
    answer = await pick(fake, MOD, "award", users={"member": BOB}, amount=5)
    assert "can't find" in (answer.content or "") and "received" not in (answer.content or "")


async def test_an_amount_of_two_numbers_is_refused_not_run_together(
    fake: FakeDiscord, adapter: DiscordAdapter
) -> None:
    await slash(fake, BOB, "checkin")  # bob: 10 points
    modal = await right_click(fake, MOD, BOB)
    refused = await submit(fake, MOD, modal, amount="10 5", reason="")
    assert "received" not in (refused.content or "")
    [bob] = await slash(fake, BOB, "points")
    assert "you have 10 points" in (bob.content or "")
