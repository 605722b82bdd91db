"""Polls through the real core: admins open and close them, members vote by button or natively."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Row, Table, select

from handlers.ports import Polls
from handlers.router import Dispatcher
from handlers.types import PollSpec, Visibility
from storage.schema import audit_log, polls, votes
from storage.store import Store
from tests.harness import Chat, Clock, ledger_state, member_id

POLL = "/poll Best flavour? | Mango | Lychee | Yuzu"


def rows(store: Store, table: Table) -> list[Row[Any]]:
    query = select(table).order_by(*table.primary_key.columns)
    return store.read_now(lambda c: list(c.execute(query).all()))


async def test_admin_poll_posts_a_native_poll_spec_and_vote_buttons(chat: Chat) -> None:
    said = await chat.say("boss", POLL)
    reply = said.outcome.reply
    assert reply is not None
    assert reply.poll == PollSpec(1, "Best flavour?", ("Mango", "Lychee", "Yuzu"))
    assert [c.command for c in reply.choices] == ["/vote 1 0", "/vote 1 1", "/vote 1 2"]
    assert said.text == (
        "📊 Best flavour?\n1. Mango\n2. Lychee\n3. Yuzu\n"
        "Vote with a button below: +2 points for taking part."
    )


async def test_non_admin_poll_is_refused_and_opens_nothing(chat: Chat, store: Store) -> None:
    said = await chat.say("alice", POLL)
    assert said.text == "Sorry, /poll is for community admins only."
    assert rows(store, polls) == []


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("/poll", "Usage: /poll Question?"),
        ("/poll Best flavour?", "Usage: /poll Question?"),
        ("/poll Best flavour? | Mango", "Usage: /poll Question?"),
        ("/poll | Mango | Lychee", "Usage: /poll Question?"),
        ("/poll Best? | Mango | | ", "Usage: /poll Question?"),
        ("/poll Best? | Mango | Mango", "Each option must be different."),
        ("/poll Best? | " + " | ".join(str(n) for n in range(11)), "A poll can have at most 10"),
        ("/poll Best? | Mango | " + "x" * 101, "Too long"),
    ],
)
async def test_bad_poll_input_answers_why_and_opens_nothing(
    chat: Chat, store: Store, text: str, answer: str
) -> None:
    said = await chat.say("boss", text)
    assert said.text is not None and said.text.startswith(answer)
    assert said.outcome.reply is not None and said.outcome.reply.poll is None
    assert rows(store, polls) == [] and rows(store, audit_log) == []


async def test_first_vote_earns_points_once_and_changing_it_earns_nothing(
    chat: Chat, store: Store
) -> None:
    posted = await chat.say("boss", POLL)
    first = await chat.press("alice", posted.button(0))
    assert first.text == "🗳 Your vote on “Best flavour?”: Mango. +2 points (balance 2)."
    assert first.outcome.reply is not None
    assert first.outcome.reply.visibility is Visibility.PRIVATE
    changed = await chat.press("alice", posted.button(2))
    assert changed.text == "🗳 Your vote on “Best flavour?”: Yuzu."
    again = await chat.press("alice", posted.button(0))
    assert again.text == "🗳 Your vote on “Best flavour?”: Mango."
    assert ledger_state(store, "console", "alice") == (2, 2)
    assert len(rows(store, votes)) == 1


async def test_each_poll_pays_its_own_first_vote(chat: Chat, store: Store) -> None:
    one = await chat.say("boss", POLL)
    two = await chat.say("boss", "/poll Next drop? | Tea | Coffee")
    await chat.press("alice", one.button(1))
    said = await chat.press("alice", two.button(1))
    assert said.text is not None and said.text.endswith("+2 points (balance 4).")
    await chat.press("bob", two.button(0))
    assert ledger_state(store, "console", "alice") == (4, 4)
    assert ledger_state(store, "console", "bob") == (2, 2)


async def test_redelivered_button_press_counts_once(chat: Chat, store: Store) -> None:
    posted = await chat.say("boss", POLL)
    pressed = await chat.press("alice", posted.button(0))
    again = await chat.deliver(pressed.event)
    assert again.outcome.duplicate and again.text is None
    assert ledger_state(store, "console", "alice") == (2, 2)


async def test_native_vote_finds_its_poll_and_earns_once(
    chat: Chat, dispatcher: Dispatcher, store: Store
) -> None:
    await chat.say("boss", POLL)
    await Polls(dispatcher.store).posted(1, native_id="tg-5001", message_id="77")
    voted = await chat.vote_natively("alice", "tg-5001", [1])
    assert voted.text == "🗳 Your vote on “Best flavour?”: Lychee. +2 points (balance 2)."
    changed = await chat.vote_natively("alice", "tg-5001", [2])
    assert changed.text == "🗳 Your vote on “Best flavour?”: Yuzu."
    assert ledger_state(store, "console", "alice") == (2, 2)
    results = await chat.say("boss", "/closepoll")
    assert results.outcome.reply is not None and results.outcome.reply.ends_poll == "77"
    assert results.text is not None and "Yuzu — 1 (100%)" in results.text


async def test_native_vote_in_a_poll_we_never_posted_is_ignored(chat: Chat, store: Store) -> None:
    said = await chat.vote_natively("alice", "someone-elses-poll", [0])
    assert said.outcome.reply is None
    assert member_id(store, "console", "alice") is None


async def test_withdrawn_native_vote_keeps_its_points_and_is_not_counted(
    chat: Chat, dispatcher: Dispatcher, store: Store
) -> None:
    await chat.say("boss", POLL)
    await Polls(dispatcher.store).posted(1, native_id="tg-5001", message_id="77")
    await chat.vote_natively("alice", "tg-5001", [0])
    withdrawn = await chat.vote_natively("alice", "tg-5001", [])
    assert withdrawn.text == "🗳 Your vote on “Best flavour?”: withdrawn."
    again = await chat.vote_natively("alice", "tg-5001", [1])
    assert again.text == "🗳 Your vote on “Best flavour?”: Lychee."
    await chat.vote_natively("alice", "tg-5001", [])
    results = await chat.say("boss", "/closepoll")
    assert results.text is not None and results.text.endswith("0 voters.")
    assert ledger_state(store, "console", "alice") == (2, 2)


async def test_a_withdrawal_without_an_earlier_vote_earns_nothing(
    chat: Chat, dispatcher: Dispatcher, store: Store
) -> None:
    # The vote itself was missed (it came before the poll's native id was known).
    await chat.say("boss", POLL)
    await Polls(dispatcher.store).posted(1, native_id="tg-5001", message_id="77")
    await chat.vote_natively("alice", "tg-5001", [])
    assert ledger_state(store, "console", "alice") == (0, 0)
    voted = await chat.vote_natively("alice", "tg-5001", [0])
    assert voted.text is not None and voted.text.endswith("+2 points (balance 2).")


async def test_closepoll_closes_the_newest_open_poll_and_shows_counts(chat: Chat) -> None:
    one = await chat.say("boss", POLL)
    two = await chat.say("boss", "/poll Next drop? | Tea | Coffee")
    for who, option in (("alice", 0), ("bob", 1), ("carol", 1)):
        await chat.press(who, two.button(option))
    await chat.press("alice", one.button(2))
    closed = await chat.say("boss", "/closepoll")
    assert closed.text == ("📊 Results: Next drop?\nTea — 1 (33%)\nCoffee — 2 (67%)\n3 voters.")
    older = await chat.say("boss", "/closepoll")
    assert older.text is not None and older.text.startswith("📊 Results: Best flavour?")
    assert "Yuzu — 1 (100%)" in older.text and older.text.endswith("1 voter.")
    none = await chat.say("boss", "/closepoll")
    assert none.text == "There is no open poll here."


async def test_closepoll_by_number_and_its_refusals(chat: Chat) -> None:
    await chat.say("boss", POLL)
    await chat.say("boss", "/poll Next drop? | Tea | Coffee")
    closed = await chat.say("boss", "/closepoll #1")
    assert closed.text is not None and closed.text.startswith("📊 Results: Best flavour?")
    twice = await chat.say("boss", "/closepoll 1")
    assert twice.text == "The poll “Best flavour?” is closed."
    assert (await chat.say("boss", "/closepoll 99")).text == "There is no open poll here."
    assert (await chat.say("boss", "/closepoll one")).text == "Usage: /closepoll [poll number]"
    refused = await chat.say("alice", "/closepoll 2")
    assert refused.text == "Sorry, /closepoll is for community admins only."
    latest = await chat.say("boss", "/closepoll")
    assert latest.text is not None and latest.text.startswith("📊 Results: Next drop?")


async def test_votes_after_closing_are_refused_and_pay_nothing(
    chat: Chat, dispatcher: Dispatcher, store: Store
) -> None:
    posted = await chat.say("boss", POLL)
    await Polls(dispatcher.store).posted(1, native_id="tg-5001", message_id="77")
    await chat.press("alice", posted.button(0))
    await chat.say("boss", "/closepoll")
    late = await chat.press("bob", posted.button(1))
    assert late.text == "The poll “Best flavour?” is closed."
    native = await chat.vote_natively("carol", "tg-5001", [1])
    assert native.text == "The poll “Best flavour?” is closed."
    change = await chat.press("alice", posted.button(1))
    assert change.text == "The poll “Best flavour?” is closed."
    assert ledger_state(store, "console", "bob") == (0, 0)
    assert ledger_state(store, "console", "carol") == (0, 0)
    assert len(rows(store, votes)) == 1


async def test_button_for_an_unknown_poll_says_it_is_gone(chat: Chat, store: Store) -> None:
    await chat.say("boss", POLL)
    for command in ("/vote 99 0", "/vote 1", "/vote x 0", "/vote 1 0 0"):
        said = await chat.press("alice", command)
        assert said.text == "That poll no longer exists.", command
    assert rows(store, votes) == []


async def test_button_for_an_option_the_poll_lacks_is_refused(chat: Chat, store: Store) -> None:
    await chat.say("boss", POLL)
    said = await chat.press("alice", "/vote 1 3")
    assert said.text == "That option is not in this poll."
    assert rows(store, votes) == [] and ledger_state(store, "console", "alice") == (0, 0)


async def test_unknown_button_command_is_a_stale_button(chat: Chat) -> None:
    said = await chat.press("alice", "/frobnicate 3")
    assert said.text == "That button no longer works. Try /help for what you can do."


async def test_opening_and_closing_polls_is_audited(chat: Chat, store: Store) -> None:
    await chat.say("boss", POLL)
    await chat.say("boss", "/closepoll")
    actions = store.read_now(
        lambda c: c.execute(select(audit_log.c.action).order_by(audit_log.c.id)).scalars().all()
    )
    assert actions == ["poll_open", "poll_close"]


async def test_closing_a_poll_from_another_chat_does_not_end_a_native_poll_here(
    chat: Chat, dispatcher: Dispatcher, clock: Clock
) -> None:
    elsewhere = Chat(dispatcher, clock, chat_id="group-2")
    await elsewhere.say("boss", POLL)
    await Polls(dispatcher.store).posted(1, native_id="tg-5001", message_id="77")
    # Message 77 of this chat is some other message: stopping it would be wrong.
    closed = await chat.say("boss", "/closepoll 1")
    assert closed.outcome.reply is not None and closed.outcome.reply.ends_poll is None
    assert closed.text is not None and closed.text.startswith("📊 Results: Best flavour?")


async def test_after_a_group_moves_its_old_polls_stay_with_the_old_community(
    chat: Chat, store: Store
) -> None:
    posted = await chat.say("boss", POLL)
    await chat.say("boss", "/settings community vip")
    pressed = await chat.press("alice", posted.button(0))
    assert pressed.text == "That poll no longer exists."
    closed = await chat.say("boss", "/closepoll")
    assert closed.text == "There is no open poll here."
    assert [r.action for r in rows(store, audit_log)] == ["poll_open", "group_moved"]


async def test_a_refused_button_press_is_shown_to_the_presser_alone(chat: Chat) -> None:
    posted = await chat.say("boss", POLL)
    await chat.say("boss", "/closepoll")
    for command in (posted.button(0), "/vote 99 0", "/vote 1 7", "/vote x"):
        said = await chat.press("alice", command)
        assert said.outcome.reply is not None, command
        assert said.outcome.reply.visibility is Visibility.PRIVATE, command


async def test_a_vote_typed_in_the_group_is_not_answered_there_with_a_balance(
    chat: Chat,
) -> None:
    opened = await chat.say("boss", "/poll Tea? | Green | Black")
    assert opened.outcome.reply is not None
    typed = await chat.say("alice", opened.outcome.reply.choices[0].command)
    assert typed.outcome.reply is not None
    assert typed.outcome.reply.template == "common/private_only"
    assert typed.text is not None and "balance" not in typed.text


async def test_a_vote_typed_in_a_private_chat_reaches_no_poll_of_a_group(
    chat: Chat, store: Store
) -> None:
    await chat.say("boss", POLL)
    private = Chat(chat.dispatcher, chat.clock, chat_id="dm-mallory", private=True)
    typed = await private.say("mallory", "/vote 1 0")
    assert typed.outcome.reply is not None
    assert typed.outcome.reply.template == "polls/not_here"
    assert typed.outcome.reply.visibility is Visibility.PRIVATE
    # Nor does a button of that poll pressed in another group of the community.
    elsewhere = Chat(chat.dispatcher, chat.clock, chat_id="group-2")
    pressed = await elsewhere.press("mallory", "/vote 1 0")
    assert pressed.outcome.reply is not None
    assert pressed.outcome.reply.template == "polls/not_here"
    assert rows(store, votes) == []
    # The poll's own chat counts the same press.
    here = await chat.press("mallory", "/vote 1 0")
    assert here.outcome.reply is not None and here.outcome.reply.template == "polls/voted"


@pytest.mark.parametrize(
    ("data", "chosen"),
    [("/vote 1 00001", (1,)), ("/vote 1 0002", (2,)), ("/vote 0001 1", (1,))],
)
async def test_leading_zeros_choose_the_option_they_say(
    chat: Chat, store: Store, data: str, chosen: tuple[int, ...]
) -> None:
    await chat.say("boss", POLL)
    said = await chat.press("alice", data)
    assert said.outcome.reply is not None and said.outcome.reply.template == "polls/voted"
    assert [tuple(row.options) for row in rows(store, votes)] == [chosen]


@pytest.mark.parametrize(
    "data", ["/vote 1 10000", "/vote 1 99999999999999999999", "/vote 1000000000000000001 0"]
)
async def test_numbers_are_never_cut_to_fit(chat: Chat, store: Store, data: str) -> None:
    await chat.say("boss", POLL)
    said = await chat.press("alice", data)
    assert said.outcome.reply is not None
    assert said.outcome.reply.template in ("polls/gone", "polls/unknown_option")
    assert rows(store, votes) == []


async def test_full_width_bars_separate_options_as_chinese_keyboards_type_them(
    chat: Chat,
) -> None:
    said = await chat.say("boss", "/poll 最爱哪个口味？｜芒果｜荔枝 | 柚子")
    assert said.outcome.reply is not None and said.outcome.reply.poll is not None
    assert said.outcome.reply.poll.options == ("芒果", "荔枝", "柚子")


@pytest.mark.parametrize(
    "text",
    [
        "/poll " + "Q" * 5000 + " | a | b",
        "/poll " + "Q" * 4000,
        "/poll Best? | " + "a" * 101 + " | b",
        "/poll " + "Q" * 301 + " | a | b",
    ],
)
async def test_a_poll_over_the_limits_says_too_long_not_usage(
    chat: Chat, store: Store, text: str
) -> None:
    said = await chat.say("boss", text)
    assert said.outcome.reply is not None
    assert said.outcome.reply.template == "polls/too_long"
    assert rows(store, polls) == []
