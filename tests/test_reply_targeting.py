"""/award and /deduct aimed without a typed handle: at the author of the message a command
replies to, or at a person the platform linked in the text (a Telegram text_mention). Through
the real core; the console, which has neither, keeps its typed form."""

from __future__ import annotations

from sqlalchemy import func, select

from handlers.router import Dispatcher
from handlers.types import AccountRef
from storage.schema import audit_log, ledger, members
from storage.store import Store
from tests.harness import Chat, ledger_state, member_id
from tests.test_console import run_console

# People the platform names when a command points at their message, never typed by anyone.
QUIET = AccountRef("console", "quiet", "Quiet Person")  # has no handle, never spoke to the bot
OTHER_BOT = AccountRef("console", "helper_bot", "Helper", username="helper_bot", is_bot=True)
CHANNEL = AccountRef("console", "-100500", "Acme News", username="acmenews", anonymous=True)


def count(store: Store, table: object) -> int:
    query = select(func.count()).select_from(table)  # type: ignore[arg-type]
    return int(store.read_now(lambda conn: conn.execute(query).scalar_one()))


async def test_an_award_or_deduction_replying_to_a_members_message_aims_at_that_member(
    chat: Chat, store: Store
) -> None:
    await chat.say("alice", "/checkin")
    said = await chat.say("boss", "/award 50 great answer", replying_to="alice")
    assert said.text == "🎁 alice (@alice) received 50 points for: great answer. New balance: 60."
    said = await chat.say("boss", "/deduct ５ spam", replying_to="alice")
    assert said.text is not None and said.text.startswith("➖ 5 points were deducted from alice")
    assert ledger_state(store, "console", "alice") == (55, 55)


async def test_a_typed_handle_wins_over_the_message_replied_to(chat: Chat, store: Store) -> None:
    await chat.say("alice", "/start")
    await chat.say("bob", "/start")
    said = await chat.say("boss", "/award @bob 7 thanks", replying_to="alice")
    assert said.text is not None and "(@bob) received 7 points" in said.text
    assert ledger_state(store, "console", "bob") == (7, 7)
    assert ledger_state(store, "console", "alice") == (0, 0)


async def test_a_reply_to_someone_the_bot_never_saw_registers_and_pays_them(
    chat: Chat, store: Store
) -> None:
    said = await chat.say("boss", "/award 20 first post", replying_to=QUIET)
    # No handle to name them by: the account id, as /me shows it, says whom it paid.
    assert said.text == (
        "🎁 Quiet Person (console:quiet) received 20 points for: first post. New balance: 20."
    )
    assert ledger_state(store, "console", "quiet") == (20, 20)


async def test_a_redelivered_reply_award_pays_once(chat: Chat, store: Store) -> None:
    await chat.say("alice", "/start")
    event = chat.event("boss", "/award 50 thanks", replying_to="alice")
    await chat.deliver(event)
    again = await chat.deliver(event)
    assert again.outcome.duplicate and again.text is None
    assert ledger_state(store, "console", "alice") == (50, 50)


async def test_a_reply_to_a_bot_or_a_chat_is_refused_and_changes_nothing(
    chat: Chat, store: Store
) -> None:
    await chat.say("boss", "/start")
    before = (count(store, members), count(store, ledger))
    bot = await chat.say("boss", "/award 50 thanks", replying_to=OTHER_BOT)
    channel = await chat.say("boss", "/deduct 5 spam", replying_to=CHANNEL)
    assert bot.text == (
        "Helper is a bot, so it can't get or lose points. "
        "Reply to a member's own message, or name them: @member."
    )
    assert channel.text is not None
    assert channel.text.startswith("Acme News speaks for a chat, not as a member")
    assert (count(store, members), count(store, ledger)) == before
    assert count(store, audit_log) == 0
    assert member_id(store, "console", "helper_bot") is None


async def test_a_members_reply_award_is_refused_and_registers_nobody(
    chat: Chat, store: Store
) -> None:
    said = await chat.say("carol", "/award 50 thanks", replying_to=QUIET)
    assert said.text == "Sorry, /award is for community admins only."
    assert member_id(store, "console", "quiet") is None


async def test_a_reply_whose_words_do_not_start_with_an_amount_reads_as_typed(
    chat: Chat, store: Store
) -> None:
    await chat.say("alice", "/start")
    usage = await chat.say("boss", "/award thanks a lot", replying_to="alice")
    assert usage.text is not None and usage.text.startswith("Usage: /award @member AMOUNT")
    assert "reply to the member's message with /award AMOUNT [reason]" in usage.text
    bare = await chat.say("boss", "/award", replying_to="alice")
    assert bare.text == usage.text
    assert ledger_state(store, "console", "alice") == (0, 0)


async def test_an_amount_first_without_a_reply_is_the_usage(chat: Chat) -> None:
    said = await chat.say("boss", "/award 50 great answer")
    assert said.text is not None and said.text.startswith("Usage: /award @member AMOUNT")


async def test_a_linked_mention_pays_the_account_it_links(chat: Chat, store: Store) -> None:
    bob = AccountRef("console", "4242", "Bob Smith")  # no handle: only the link names him
    said = await chat.say("boss", "/award Bob Smith 30 great photo", mentioning={"Bob Smith": bob})
    assert said.text == (
        "🎁 Bob Smith (console:4242) received 30 points for: great photo. New balance: 30."
    )
    assert ledger_state(store, "console", "4242") == (30, 30)


async def test_a_mention_wins_over_the_reply_and_one_in_the_reason_aims_at_nobody(
    chat: Chat, store: Store
) -> None:
    await chat.say("alice", "/start")
    bob = AccountRef("console", "4242", "Bob Smith")
    await chat.say("boss", "/award Bob Smith 3", mentioning={"Bob Smith": bob}, replying_to="alice")
    await chat.say("boss", "/award @alice 4 thanks to Bob Smith", mentioning={"Bob Smith": bob})
    assert ledger_state(store, "console", "4242") == (3, 3)
    assert ledger_state(store, "console", "alice") == (4, 4)


async def test_a_mention_of_a_bot_is_refused(chat: Chat, store: Store) -> None:
    said = await chat.say("boss", "/award Helper 5", mentioning={"Helper": OTHER_BOT})
    assert said.text is not None and said.text.startswith("Helper is a bot")
    assert count(store, ledger) == 0


async def test_the_console_keeps_typed_handles_and_shows_the_reply_form(
    dispatcher: Dispatcher,
) -> None:
    output = await run_console(
        dispatcher, ":as bob\n/start\n:as boss\n/award @bob 5 hi\n/award 5 hi\n"
    )
    assert "bob (@bob) received 5 points for: hi" in output
    assert "or reply to the member's message with /award AMOUNT [reason]" in output
