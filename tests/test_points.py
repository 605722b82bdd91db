"""/points, /me, /top and the admin commands /award and /deduct, through the real core."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from handlers.parsing import event_from_text
from handlers.types import AccountRef
from storage.schema import audit_log
from storage.store import Store
from tests.harness import Chat, ledger_state


async def balance_line(chat: Chat, who: str) -> str:
    said = await chat.say(who, "/points")
    assert said.text is not None
    return said.text.splitlines()[0]


async def test_points_lists_the_last_five_entries_with_reasons(chat: Chat) -> None:
    await chat.say("alice", "/start")
    for _ in range(6):
        await chat.say("alice", "/checkin")
        chat.now += timedelta(days=1)
    await chat.say("boss", "/award @alice 50 best unboxing video")
    said = await chat.say("alice", "/points")
    assert said.text is not None
    lines = said.text.splitlines()
    assert lines[0] == "💰 alice, you have 110 points."
    entries = [line for line in lines if line.startswith("2026-")]
    assert len(entries) == 5
    assert "+50" in entries[0] and "awarded by an admin — best unboxing video" in entries[0]
    assert "daily check-in" in entries[1]


async def test_points_for_a_newcomer_invites_a_checkin(chat: Chat) -> None:
    said = await chat.say("newbie", "/points")
    assert said.text is not None and "0 points" in said.text and "/checkin" in said.text


async def test_me_shows_balance_streak_and_rank(chat: Chat) -> None:
    await chat.say("alice", "/checkin")
    await chat.say("bob", "/checkin")
    await chat.say("boss", "/award @bob 5 thanks")
    said = await chat.say("alice", "/me")
    assert said.text is not None
    assert "Points: 10 · Rank: #2" in said.text
    assert "Streak: 1 day · checked in today" in said.text


async def test_top_lists_ten_and_the_askers_own_rank(chat: Chat) -> None:
    for n in range(12):
        await chat.say(f"m{n:02}", "/start")
        await chat.say("boss", f"/award @m{n:02} {100 - n} contest")
    said = await chat.say("m11", "/top")
    assert said.text is not None
    lines = said.text.splitlines()
    assert lines[1] == "1. m00 — 100"
    assert lines[10] == "10. m09 — 91"
    assert "m10" not in said.text.split("You:")[0]
    assert lines[-1] == "You: #12 with 89 points."


async def test_top_ties_share_a_rank(chat: Chat) -> None:
    await chat.say("alice", "/checkin")
    await chat.say("bob", "/checkin")
    said = await chat.say("alice", "/top")
    assert said.text is not None
    assert "1. alice — 10" in said.text and "1. bob — 10" in said.text


async def test_admin_award_moves_points_and_is_audited(chat: Chat, store: Store) -> None:
    await chat.say("alice", "/start")
    said = await chat.say("boss", "/award @Alice 50 great photo")
    assert said.text == "🎁 alice (@alice) received 50 points for: great photo. New balance: 50."
    assert await balance_line(chat, "alice") == "💰 alice, you have 50 points."
    rows = store.read_now(lambda c: c.execute(select(audit_log)).all())
    assert len(rows) == 1
    assert rows[0].action == "award"
    assert rows[0].details == {
        "by": "console:boss",
        "amount": 50,
        "note": "great photo",
        "balance": 50,
    }


async def test_platform_admin_may_award_once_a_listed_admin_adopted_the_group(chat: Chat) -> None:
    await chat.say("alice", "/start")
    chat.admins.add("mod")
    before = await chat.say("mod", "/award @alice 5")
    assert before.outcome.reply is not None
    assert before.outcome.reply.template == "common/group_not_adopted"
    await chat.say("boss", "/settings")
    said = await chat.say("mod", "/award @alice 5")
    assert said.text is not None and "received 5 points" in said.text


async def test_non_admin_award_is_refused_and_changes_nothing(chat: Chat, store: Store) -> None:
    await chat.say("alice", "/start")
    said = await chat.say("mallory", "/award @mallory 1000 free money")
    assert said.text == "Sorry, /award is for community admins only."
    assert await balance_line(chat, "mallory") == "💰 mallory, you have 0 points."
    assert store.read_now(lambda c: c.execute(select(audit_log)).all()) == []


async def test_malformed_award_answers_usage_and_changes_nothing(chat: Chat) -> None:
    await chat.say("alice", "/checkin")
    for args in (
        "",
        "@alice",
        "@alice abc",
        "@alice -5",
        "@alice 0",
        "@alice 1.5",
        "@alice 1e9",
        "@alice 99999999999999999999",
        "50 @alice",
    ):
        said = await chat.say("boss", f"/award {args}".strip())
        assert said.text is not None and said.text.startswith("Usage: /award @member AMOUNT"), args
    assert await balance_line(chat, "alice") == "💰 alice, you have 10 points."


async def test_award_over_the_limit_names_the_limit(chat: Chat) -> None:
    await chat.say("alice", "/start")
    said = await chat.say("boss", "/award @alice 1001 too generous")
    assert said.text == "The amount must be a whole number from 1 to 1,000. Nothing was changed."
    assert await balance_line(chat, "alice") == "💰 alice, you have 0 points."


async def test_award_to_unknown_member_says_who_is_missing(chat: Chat) -> None:
    said = await chat.say("boss", "/award @ghost 10")
    assert said.text is not None and "I can't find @ghost" in said.text


async def test_award_accepts_fullwidth_digits(chat: Chat) -> None:
    await chat.say("alice", "/start")
    said = await chat.say("boss", "/award @alice ５０ 晒单")
    assert said.text is not None and "received 50 points for: 晒单" in said.text


async def test_deduct_takes_points_and_never_below_zero(chat: Chat, store: Store) -> None:
    await chat.say("alice", "/checkin")
    refused = await chat.say("boss", "/deduct @alice 11 spam")
    assert refused.text is not None and "below zero" in refused.text
    assert await balance_line(chat, "alice") == "💰 alice, you have 10 points."
    done = await chat.say("boss", "/deduct @alice 4 spam")
    assert done.text == "➖ 4 points were deducted from alice (@alice) for: spam. New balance: 6."
    actions = store.read_now(lambda c: c.execute(select(audit_log.c.action)).scalars().all())
    assert actions == ["deduct"]


async def test_help_shows_admin_commands_only_to_admins(chat: Chat) -> None:
    member = await chat.say("alice", "/help")
    admin = await chat.say("boss", "/help")
    assert member.text is not None and admin.text is not None
    assert "/checkin" in member.text and "/award" not in member.text
    assert "/help admin" not in member.text
    # An admin's /help is the members' list and how many of their own /help admin lists: both
    # in one message no longer fit Telegram's 4,096 characters.
    assert "/checkin" in admin.text and "/award" not in admin.text
    assert "admin commands: /help admin" in admin.text
    admins_own = await chat.say("boss", "/help admin")
    assert admins_own.text is not None
    assert "/award" in admins_own.text and "/deduct" in admins_own.text
    assert "/checkin" not in admins_own.text
    refused = await chat.say("alice", "/help admin")  # a member asking gets the members' list
    assert refused.text == member.text


async def test_unknown_command_points_to_help_where_it_is_addressed_to_this_bot(
    chat: Chat,
) -> None:
    private = Chat(chat.dispatcher, chat.clock, chat_id="dm-alice", private=True)
    said = await private.say("alice", "/frobnicate now")
    assert said.text == "I don't know /frobnicate — try /help to see what I can do."
    named = event_from_text(
        event_id=chat.new_id(),
        chat=chat.ref(),
        actor=chat.actor("alice"),
        text="/frobnicate@AcmeBot now",
        occurred_at=chat.now,
        bot_username="acmebot",
    )
    assert named.addressed
    said = await chat.deliver(named)
    assert said.text == "I don't know /frobnicate — try /help to see what I can do."


async def test_an_unknown_command_in_a_group_is_left_to_the_other_bots_there(
    chat: Chat, store: Store
) -> None:
    said = await chat.say("alice", "/ban spammer")
    assert said.outcome.reply is None and not said.outcome.duplicate
    # Alice still counts as seen, like after any message.
    assert await balance_line(chat, "alice") == "💰 alice, you have 0 points."
    # A reply to one of this bot's messages is addressed to it (the adapters mark those).
    replied = replace(chat.event("alice", "/ban spammer"), addressed=True)
    said = await chat.deliver(replied)
    assert said.outcome.reply is not None
    assert said.outcome.reply.template == "common/unknown_command"


async def test_display_names_stay_current(chat: Chat) -> None:
    await chat.say("alice", "/checkin")
    event = chat.event("alice", "/top")
    renamed = type(event.actor)(event.actor.platform, event.actor.user_id, "Alice 🌸")
    said = await chat.deliver(
        type(event)(**{**{f: getattr(event, f) for f in event.__slots__}, "actor": renamed})
    )
    assert said.text is not None and "1. Alice 🌸 — 10" in said.text


async def test_award_goes_to_whoever_holds_the_handle_now(chat: Chat) -> None:
    old = chat.event("bob", "/start")
    await chat.deliver(old)
    # Another account takes the handle @bob (the first one renamed itself on the platform).
    newcomer = chat.event("robert", "/start")
    actor = type(newcomer.actor)("console", "robert", "Robert", username="bob")
    fields = {f: getattr(newcomer, f) for f in newcomer.__slots__}
    await chat.deliver(type(newcomer)(**{**fields, "actor": actor}))
    said = await chat.say("boss", "/award @bob 50 welcome")
    assert said.text is not None and said.text.startswith("🎁 Robert (@bob) received 50 points")


async def test_an_event_without_a_name_keeps_the_members_name_and_handle(chat: Chat) -> None:
    await chat.say("alice", "/checkin")
    # A platform that could not say who this is this time (a failed lookup) sends no name.
    nameless = replace(
        chat.event("alice", "hello"),
        actor=AccountRef("console", "alice", "", username=None),
    )
    await chat.deliver(nameless)
    awarded = await chat.say("boss", "/award @alice 5")
    assert awarded.text is not None and "alice (@alice) received 5 points" in awarded.text


async def test_award_resolves_the_handle_on_the_platform_it_is_typed_on(
    chat: Chat, store: Store
) -> None:
    discord = Chat(chat.dispatcher, chat.clock, platform="discord", chat_id="discord-group")
    await discord.say("bob", "/start")  # @bob exists on Discord only
    said = await chat.say("boss", "/award @bob 50")
    assert said.outcome.reply is not None
    assert said.outcome.reply.template == "points/unknown_member"
    assert ledger_state(store, "discord", "bob") == (0, 0)
    await chat.say("bob", "/start")  # now a different @bob on this platform
    paid = await chat.say("boss", "/award @bob 50")
    assert paid.outcome.reply is not None
    assert paid.outcome.reply.context["handle"] == "@bob"
    assert paid.outcome.reply.context["platform"] == "console"
    assert ledger_state(store, "console", "bob") == (50, 50)
    assert ledger_state(store, "discord", "bob") == (0, 0)
