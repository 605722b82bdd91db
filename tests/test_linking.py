"""/link: one member across platforms. A code shown on one platform, entered on the other."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, select

from community import linking
from handlers.router import Dispatcher
from handlers.types import Visibility
from storage.schema import accounts, audit_log, balances, checkins, ledger, link_codes, members
from storage.store import Store
from tests.conftest import DISCORD_OWNER
from tests.harness import Chat, Clock, Said, ledger_state, member_id


@pytest.fixture
def discord(dispatcher: Dispatcher, clock: Clock) -> Chat:
    """A Discord group of the same community; `mod` is an admin there (the operator's own
    server, so no adoption is needed)."""
    return Chat(
        dispatcher,
        clock,
        platform="discord",
        chat_id="discord-group",
        admins={"mod"},
        trusted=True,
    )


def dm(chat: Chat) -> Chat:
    """A private chat with the bot on the platform of `chat`."""
    return Chat(
        chat.dispatcher,
        chat.clock,
        chat_id=f"dm-{chat.platform}",
        platform=chat.platform,
        private=True,
    )


async def code_for(chat: Chat, who: str) -> str:
    said = await dm(chat).say(who, "/link")
    assert said.outcome.reply is not None and said.outcome.reply.template == "link/code"
    return str(said.outcome.reply.context["code"])


async def enter(chat: Chat, who: str, code: str) -> Said:
    """`who` types /link CODE and, asked whom it joins them to, presses the confirm button."""
    said = await chat.say(who, f"/link {code}")
    reply = said.outcome.reply
    if reply is None or reply.template != "link/confirm":
        return said  # refused before anything could be confirmed
    assert reply.visibility is Visibility.PRIVATE and "never enter a code" in (said.text or "")
    return await chat.press(who, reply.choices[0].command)


async def link(issuing: Chat, entering: Chat, who: str, by: str | None = None) -> Said:
    """`who` gets a code on `issuing`'s platform; `by` (else `who`) enters it on `entering`'s."""
    code = await code_for(issuing, who)
    return await enter(dm(entering), by or who, code)


async def points(chat: Chat, who: str) -> str:
    said = await chat.say(who, "/points")
    assert said.text is not None
    return said.text.splitlines()[0]


def snapshot(store: Store) -> tuple[Any, ...]:
    """The rows a refused or failed link must leave exactly as they were."""

    def read(c: Connection) -> tuple[Any, ...]:
        people = c.execute(select(members.c.id, members.c.display_name).order_by(members.c.id))
        return (
            people.all(),
            *(
                c.execute(select(table).order_by(*table.primary_key.columns)).all()
                for table in (accounts, balances, ledger, checkins, audit_log)
            ),
        )

    return store.read_now(read)


async def test_link_in_a_group_is_refused_and_shows_no_code(chat: Chat, store: Store) -> None:
    said = await chat.say("alice", "/link")
    assert said.text is not None and said.text.startswith("🔒 /link shows something only you")
    assert store.read_now(lambda c: c.execute(select(link_codes)).all()) == []


async def test_link_in_private_shows_a_one_time_code_for_ten_minutes(chat: Chat) -> None:
    said = await dm(chat).say("alice", "/link")
    assert said.outcome.reply is not None
    assert said.outcome.reply.visibility is Visibility.PRIVATE
    code = said.outcome.reply.context["code"]
    assert len(code) == 8 and set(code) <= set("ABCDEFGHJKLMNPQRSTUVWXYZ23456789")
    assert said.text is not None and f"send /link {code}" in said.text and "10 minutes" in said.text


async def test_linking_merges_balance_history_and_accounts(
    chat: Chat, discord: Chat, store: Store
) -> None:
    await chat.say("alice", "/checkin")
    await chat.say("boss", "/award @alice 50 unboxing")
    await discord.say("alice", "/checkin")
    absorbed = member_id(store, "discord", "alice")
    said = await link(chat, discord, "alice")
    assert said.text == (
        "✅ Linked! Your accounts on console and discord are now one member. Balance: 70 points."
    )
    kept = member_id(store, "console", "alice")
    assert kept is not None and member_id(store, "discord", "alice") == kept
    assert await points(chat, "alice") == "💰 alice, you have 70 points."
    assert await points(discord, "alice") == "💰 alice, you have 70 points."
    top = await discord.say("alice", "/top")
    assert top.text is not None and top.text.count("alice") == 1
    assert ledger_state(store, "discord", "alice") == (70, 70)
    gone = select(members.c.id).where(members.c.id == absorbed)
    assert store.read_now(lambda c: c.execute(gone).all()) == []


async def test_merged_streak_counts_the_days_of_both_platforms(chat: Chat, discord: Chat) -> None:
    await chat.say("alice", "/checkin")
    chat.now += timedelta(days=1)
    await chat.say("alice", "/checkin")
    chat.now += timedelta(days=1)
    await discord.say("alice", "/checkin")
    await link(discord, chat, "alice")
    me = await chat.say("alice", "/me")
    assert me.text is not None and "Streak: 3 days · checked in today" in me.text
    again = await chat.say("alice", "/checkin")
    assert again.text is not None and "already checked in today" in again.text
    for _ in range(4):
        chat.now += timedelta(days=1)
        said = await discord.say("alice", "/checkin")
    assert said.text is not None and "Streak: 7 days" in said.text and "streak bonus" in said.text


async def test_a_day_checked_in_on_both_platforms_counts_once_in_the_streak(
    chat: Chat, discord: Chat, store: Store
) -> None:
    await chat.say("alice", "/checkin")
    await discord.say("alice", "/checkin")
    chat.now += timedelta(days=1)
    await discord.say("alice", "/checkin")
    await link(chat, discord, "alice")
    me = await discord.say("alice", "/me")
    assert me.text is not None and "Streak: 2 days" in me.text and "Points: 30" in me.text
    assert ledger_state(store, "console", "alice") == (30, 30)


async def test_votes_follow_the_merge_and_a_poll_counts_the_member_once(
    chat: Chat, discord: Chat, store: Store
) -> None:
    posted = await chat.say("boss", "/poll Best flavour? | Mango | Lychee")
    other = await discord.say("mod", "/poll Next drop? | Tea | Coffee")
    await chat.press("alice", posted.button(0))
    await discord.press("alice", other.button(0))
    await link(discord, chat, "alice")
    # The merged member changes the vote the absorbed account cast: a change earns nothing.
    changed = await discord.press("alice", other.button(1))
    assert changed.text == "🗳 Your vote on “Next drop?”: Coffee."
    assert ledger_state(store, "discord", "alice") == (4, 4)
    results = await discord.say("mod", "/closepoll 2")
    assert results.text is not None and "1 voter." in results.text


async def test_admin_actions_of_the_absorbed_account_follow_the_merge(
    chat: Chat, discord: Chat, store: Store
) -> None:
    await discord.say("alice", "/start")
    await discord.say("mod", "/award @alice 5 welcome")
    posted = await discord.say("mod", "/poll Best flavour? | Mango | Lychee")
    # @mod names the account on the platform it is typed on: a listed admin on Discord.
    await discord.say(str(DISCORD_OWNER), "/award @mod 7 helping")
    said = await link(chat, discord, "mod")
    assert said.text is not None and "Balance: 7 points" in said.text
    kept = member_id(store, "console", "mod")
    rows = store.read_now(lambda c: c.execute(select(audit_log).order_by(audit_log.c.id)).all())
    assert [r.action for r in rows] == ["award", "poll_open", "award", "link"]
    assert rows[0].actor_member_id == rows[1].actor_member_id == kept
    assert rows[2].target_member_id == kept and rows[3].details["points_moved"] == 7
    awarded_by = select(ledger.c.actor_member_id).where(ledger.c.note == "welcome")
    assert store.read_now(lambda c: c.execute(awarded_by).scalar_one()) == kept
    voted = await discord.press("alice", posted.button(1))
    assert voted.text is not None and voted.text.endswith("+2 points (balance 7).")


async def test_a_pending_code_of_the_joining_account_does_not_block_the_merge_and_dies(
    chat: Chat, discord: Chat, store: Store
) -> None:
    own = await code_for(discord, "alice")
    said = await link(chat, discord, "alice")
    assert said.text is not None and said.text.startswith("✅ Linked!")
    assert store.read_now(lambda c: c.execute(select(link_codes)).all()) == []
    stale = await enter(dm(chat), "alice", own)
    assert stale.text is not None and stale.text.startswith("That link code is not valid")


async def test_a_code_works_once(chat: Chat, discord: Chat, store: Store) -> None:
    code = await code_for(chat, "alice")
    await enter(dm(discord), "alice", code)
    console = Chat(chat.dispatcher, chat.clock, platform="console", chat_id="tty", private=True)
    await console.say("alice", "/start")
    before = snapshot(store)
    said = await enter(console, "alice", code)
    assert said.text is not None and said.text.startswith("That link code is not valid")
    assert snapshot(store) == before


async def test_wrong_code_is_refused_and_changes_nothing(
    chat: Chat, discord: Chat, store: Store
) -> None:
    await chat.say("alice", "/checkin")
    await code_for(chat, "alice")
    await discord.say("alice", "/checkin")
    before = snapshot(store)
    said = await enter(dm(discord), "alice", "ABCD2345")
    assert said.text is not None and said.text.startswith("That link code is not valid")
    assert snapshot(store) == before


async def test_expired_code_is_refused_and_changes_nothing(
    chat: Chat, discord: Chat, store: Store
) -> None:
    await discord.say("alice", "/checkin")
    code = await code_for(chat, "alice")
    before = snapshot(store)
    chat.now += timedelta(minutes=10)
    said = await enter(dm(discord), "alice", code)
    assert said.text is not None and said.text.startswith("That link code has expired")
    assert snapshot(store) == before


async def test_code_is_read_without_case_spaces_or_dashes(chat: Chat, discord: Chat) -> None:
    code = await code_for(chat, "alice")
    chat.now += timedelta(minutes=9)
    typed = f"{code[:4].lower()}-{code[4:].lower()}"
    said = await enter(dm(discord), "alice", typed)
    assert said.text is not None and said.text.startswith("✅ Linked!")


async def test_a_new_code_replaces_the_previous_one(chat: Chat, discord: Chat) -> None:
    first = await code_for(chat, "alice")
    second = await code_for(chat, "alice")
    old = await enter(dm(discord), "alice", first)
    assert old.text is not None and old.text.startswith("That link code is not valid")
    new = await enter(dm(discord), "alice", second)
    assert new.text is not None and new.text.startswith("✅ Linked!")


async def test_code_entered_on_its_own_platform_is_refused(chat: Chat, store: Store) -> None:
    code = await code_for(chat, "alice")
    await chat.say("bob", "/checkin")
    before = snapshot(store)
    other = await enter(dm(chat), "bob", code)
    assert other.text == (
        "This code was made on console. Enter it on your other platform, not on console."
    )
    own = await enter(dm(chat), "alice", code)
    assert own.text is not None and own.text.startswith("This code is yours")
    assert snapshot(store) == before


async def test_members_that_both_have_an_account_on_a_platform_are_not_merged(
    chat: Chat, discord: Chat, store: Store
) -> None:
    await link(chat, discord, "alice")
    await discord.say("bob", "/checkin")
    before = snapshot(store)
    said = await link(chat, discord, "alice", by="bob")
    assert said.text is not None and "both already have a discord account" in said.text
    assert snapshot(store) == before
    assert await points(discord, "bob") == "💰 bob, you have 10 points."


async def test_a_code_typed_in_a_group_is_spent_so_nobody_reading_it_can_redeem_it(
    chat: Chat, discord: Chat, store: Store
) -> None:
    code = await code_for(chat, "alice")
    public = await enter(discord, "alice", code)
    assert public.outcome.reply is not None
    assert public.outcome.reply.template == "link/spent_in_public"
    assert store.read_now(lambda c: c.execute(select(link_codes)).all()) == []
    before = snapshot(store)
    for thief in ("mallory", "alice"):
        said = await enter(dm(discord), thief, code)
        assert said.outcome.reply is not None
        assert said.outcome.reply.template == "link/bad_code"
    assert snapshot(store)[3:] == before[3:]  # no ledger entry, check-in or audit line


def _full_width(text: str) -> str:
    return "".join(chr(ord(ch) + 0xFEE0) if ch.isalnum() else ch for ch in text)


@pytest.mark.parametrize(
    ("shown", "how"),
    [
        ("/link {code} confirm", "with confirm"),
        ("/link {a} {b}", "in two pieces"),
        ("/link {c1} {c2} {c3} {c4}", "in four pieces"),
        ("/link {a} - {b}", "with a dash"),
        ("/link code: {code}", "after a word"),
        ("/link {code}!", "with punctuation"),
        ("/link {lower}", "in lower case"),
        ("/link {wide}", "in full-width letters"),
        ("/link@OtherBot {code}", "to another bot"),
        ("my link code is {code}, don't tell anyone", "in a plain message"),
        ("{a}\u200b{b}", "with an invisible character"),
    ],
)
async def test_a_code_shown_in_a_group_in_any_form_is_spent(
    chat: Chat, discord: Chat, shown: str, how: str
) -> None:
    code = await code_for(chat, "alice")
    text = shown.format(
        code=code,
        a=code[:4],
        b=code[4:],
        c1=code[:2],
        c2=code[2:4],
        c3=code[4:6],
        c4=code[6:],
        lower=code.lower(),
        wide=_full_width(code),
    )
    said = await discord.say("alice", text)
    assert said.outcome.reply is not None, how
    assert said.outcome.reply.template == "link/spent_in_public", how
    thief = await enter(dm(discord), "mallory", code)
    assert thief.outcome.reply is not None
    assert thief.outcome.reply.template == "link/bad_code", how


async def test_a_code_is_spent_wherever_it_shows_in_public(
    chat: Chat, discord: Chat, dispatcher: Dispatcher, clock: Clock
) -> None:
    # A group of another community, an edit that reveals it, an anonymous sender.
    code = await code_for(chat, "alice")
    elsewhere = Chat(dispatcher, clock, platform="discord", chat_id="vip-group", trusted=True)
    await elsewhere.say("mod", "/settings community vip")
    assert (await elsewhere.say("alice", f"/link {code}")).outcome.reply.template == (  # type: ignore[union-attr]
        "link/spent_in_public"
    )
    code = await code_for(chat, "alice")
    edited = await discord.edits("alice", f"oops: {code}")
    assert edited.outcome.reply is not None
    assert edited.outcome.reply.template == "link/spent_in_public"
    code = await code_for(chat, "alice")
    as_chat = discord.event("-100", f"/link {code}")
    as_chat = replace(as_chat, actor=replace(as_chat.actor, anonymous=True))
    spent = await discord.deliver(as_chat)
    assert spent.outcome.reply is not None
    assert spent.outcome.reply.template == "link/spent_in_public"
    for late in (code,):
        refused = await enter(dm(discord), "mallory", late)
        assert refused.outcome.reply.template == "link/bad_code"  # type: ignore[union-attr]


async def test_a_wrong_code_typed_in_a_group_is_not_said_to_be_spent(discord: Chat) -> None:
    said = await discord.say("alice", "/link ABCDEFGH")
    assert said.outcome.reply is not None
    assert said.outcome.reply.template == "common/private_only"
    plain = await discord.say("alice", "see you at ABCDEFGH street")
    assert plain.outcome.reply is None


async def test_a_merge_that_fails_half_way_changes_nothing(
    chat: Chat, discord: Chat, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    await chat.say("alice", "/checkin")
    await discord.say("alice", "/checkin")
    code = await code_for(chat, "alice")
    before = snapshot(store)

    def broken(conn: Connection, *, keep: int, absorb: int) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(linking, "_merge_checkins", broken)
    failed = await enter(dm(discord), "alice", code)
    assert failed.text is not None and failed.text.startswith("Something went wrong")
    assert snapshot(store) == before
    monkeypatch.undo()
    retried = await enter(dm(discord), "alice", code)
    assert retried.text is not None and "Balance: 20 points" in retried.text


async def test_entering_a_code_only_asks_and_merges_nothing_until_confirmed(
    chat: Chat, discord: Chat, store: Store
) -> None:
    await chat.say("mallory", "/checkin")
    code = await code_for(chat, "mallory")
    await discord.say("alice", "/checkin")
    before = snapshot(store)
    asked = await dm(discord).say("alice", f"/link {code}")
    assert asked.text is not None and "joins you to mallory on console" in asked.text
    assert snapshot(store) == before  # talked into typing it, alice still has her own points
    assert await points(discord, "alice") == "💰 alice, you have 10 points."


async def test_typing_the_confirmation_only_asks_again(
    chat: Chat, discord: Chat, store: Store
) -> None:
    code = await code_for(chat, "mallory")
    await discord.say("alice", "/checkin")
    before = snapshot(store)
    # A scammer can tell alice what to type, but not make her press a button she never saw.
    typed = await dm(discord).say("alice", f"/link {code} confirm")
    assert typed.outcome.reply is not None and typed.outcome.reply.template == "link/confirm"
    assert snapshot(store) == before


def test_every_column_that_points_at_a_member_is_merged() -> None:
    from loyalty import merging
    from storage.schema import earn_tallies, invited, metadata, votes

    pointing = {
        (fk.parent.table.name, fk.parent.name)
        for table in metadata.tables.values()
        for fk in table.foreign_keys
        if fk.column.table is members
    }
    by_hand = {
        (balances.name, "member_id"),
        (checkins.name, "member_id"),
        (votes.name, "member_id"),
        (link_codes.name, "member_id"),
        (earn_tallies.name, "member_id"),
        (invited.name, "member_id"),
    }
    activities = (c for activity in linking.ACTIVITIES for c in activity.MEMBER_COLUMNS)
    follow = (*linking._PLAIN_REFERENCES, *merging.FOLLOWING, *activities)
    plain = {(c.table.name, c.name) for c in follow}
    assert pointing == plain | by_hand, "a new reference to members must be merged by /link"


async def test_a_code_quoted_or_forwarded_into_a_group_is_spent(chat: Chat, discord: Chat) -> None:
    code = await code_for(chat, "alice")
    forwarded = replace(discord.event("alice", ""), quoted=f"🔗 Your link code: {code}")
    said = await discord.deliver(forwarded)
    assert said.outcome.reply is not None
    assert said.outcome.reply.template == "link/spent_in_public"
    assert (await enter(dm(discord), "mallory", code)).outcome.reply.template == "link/bad_code"  # type: ignore[union-attr]


async def test_a_reply_showing_the_private_chat_with_the_bot_spends_the_members_codes(
    chat: Chat, discord: Chat
) -> None:
    # Telegram's "reply in another chat" shows the private message it answers, but passes
    # on no text: whatever code the bot gave that member privately is spent.
    code = await code_for(chat, "alice")
    reply = replace(chat.event("alice", "what do I do with this?"), shows_private_chat=True)
    said = await chat.deliver(reply)
    assert said.outcome.reply is not None
    assert said.outcome.reply.template == "link/spent_in_public"
    assert (await enter(dm(discord), "mallory", code)).outcome.reply.template == "link/bad_code"  # type: ignore[union-attr]


async def test_a_public_slash_answer_spends_a_code_it_echoes(chat: Chat, discord: Chat) -> None:
    # A Discord slash command can be answered privately, but /poll answers everyone.
    code = await code_for(chat, "alice")
    slash = replace(discord.event("mod", f"/poll Which one? | {code} | other"), private_reply=True)
    await discord.deliver(slash)
    assert (await enter(dm(discord), "mallory", code)).outcome.reply.template == "link/bad_code"  # type: ignore[union-attr]
