"""Contests attacked: what a hostile member, a careless admin or operator, and bad timing would
do to them, each defect found pinned by a test (see the report of issue 12's part D)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as StillWaiting
from contextlib import suppress
from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from community import contest_voting
from community.contest_rules import ContestRules
from community.contest_terms import read_terms
from handlers.firings import Firings
from handlers.router import Dispatcher
from handlers.types import Visibility
from storage.contest_tables import contest_entries, contest_votes, contests
from storage.schema import ledger
from storage.store import Store
from tests.domain.conftest import SHANGHAI, local
from tests.harness import Chat, Clock, ledger_state, posted, rows
from tests.test_contest import CLOSE, VOTE_END, count, start, submit
from tests.test_contest_races import Vote, voting  # noqa: F401  (voting is a fixture)
from tests.test_linking import dm, link

# --- An entry taken out of the vote -----------------------------------------------------------


async def test_an_entry_whose_approval_is_reversed_in_the_vote_is_shown_and_voted_no_more(
    chat: Chat, store: Store, clock: Clock
) -> None:
    for who in ("alice", "bob", "carol", "dave"):
        await chat.say(who, "/checkin")
    await start(chat)
    alice = submit(store, "alice", "Something unfit", clock.now)
    bob = submit(store, "bob", "Scarf", clock.now)
    clock.now = CLOSE
    await Firings(store, clock=clock).sweep(CLOSE)
    early = await chat.press("dave", f"/contest vote 1 {alice}")  # before the admin saw it
    assert early.outcome.reply is not None and early.outcome.reply.template == "contest/voted"
    reversed_ = await dm(chat).say("boss", f"/review reverse {alice} not a photo of ours")
    assert reversed_.outcome.reply is not None
    assert reversed_.outcome.reply.template == "ugc/reversed"

    late = await chat.press("carol", f"/contest vote 1 {alice}")  # its old button
    assert late.text == (
        f"Entry #{alice} has been withdrawn from contest #1's vote. /contest 1 shows the entries."
    )
    shown = await chat.say("carol", "/contest 1")
    assert shown.text is not None and "Something unfit" not in shown.text
    assert shown.outcome.reply is not None
    assert [c.command for c in shown.outcome.reply.choices] == [f"/contest vote 1 {bob}"]
    # Dave's vote went to an entry that no longer competes: he may give it to another.
    again = await chat.press("dave", f"/contest vote 1 {bob}")
    assert again.outcome.reply is not None and again.outcome.reply.template == "contest/voted"
    clock.now = VOTE_END
    await Firings(store, clock=clock).sweep(VOTE_END)
    [(_, results)] = [p for p in posted(store) if "the vote is over" in p[1]]
    assert f"🥇 1st #{bob} bob — 1 vote: +300 points" in results


# --- One's own entry, voted for from another platform before /link -----------------------------


@pytest.fixture
def discord(dispatcher: Dispatcher, clock: Clock) -> Chat:
    """A Discord group of the same community."""
    return Chat(
        dispatcher, clock, platform="discord", chat_id="discord-group", admins={"mod"}, trusted=True
    )


async def test_a_vote_for_ones_own_entry_from_an_unlinked_account_stops_counting_at_link(
    chat: Chat, discord: Chat, store: Store, clock: Clock
) -> None:
    for who in ("alice", "bob"):
        await chat.say(who, "/checkin")
    await discord.say("alice", "/checkin")  # the same person, not linked yet
    await start(chat)
    alice = submit(store, "alice", "Boots", clock.now)
    bob = submit(store, "bob", "Scarf", clock.now)
    clock.now = CLOSE
    await Firings(store, clock=clock).sweep(CLOSE)
    voted = await discord.press("alice", f"/contest vote 1 {alice}")
    assert voted.outcome.reply is not None and voted.outcome.reply.template == "contest/voted"
    linked = await link(discord, chat, "alice")
    assert linked.outcome.reply is not None and linked.outcome.reply.template == "link/done"
    # Now one member: her vote for her own entry is no vote; she may vote for another's.
    shown = await chat.say("alice", "/contest 1")
    assert shown.text is not None and f"#{alice} alice: Boots — 0 votes" in shown.text
    again = await chat.say("alice", f"/contest vote 1 {bob}")
    assert again.outcome.reply is not None and again.outcome.reply.template == "contest/voted"
    clock.now = VOTE_END
    await Firings(store, clock=clock).sweep(VOTE_END)
    [results] = [t for c, t in posted(store) if c == "group-1" and "the vote is over" in t]
    assert f"🥇 1st #{bob} bob — 1 vote: +300 points" in results
    assert f"#{alice} alice" not in results


# --- A vote racing the vote's end -----------------------------------------------------------


def test_a_vote_racing_the_end_is_counted_in_the_result_or_refused(voting: Vote) -> None:  # noqa: F811
    """A vote's transaction still open when the end runs on another process: the end waits for
    it and counts it (it never ends with a vote the member was told counted, uncounted)."""
    with voting.engines[0].connect() as conn:
        ends = conn.execute(select(contests.c.vote_ends_at)).scalar_one()
    voter = voting.engines[0].connect()
    pending = voter.begin()
    contest_voting.vote(
        voter,
        voting.community,
        1,
        voting.entries[0],
        member_id=voting.voters[0],
        at=ends - timedelta(seconds=1),
    )

    def end() -> None:
        with voting.engines[1].begin() as conn:
            contest_voting.finish(conn, voting.community, 1, ends)

    with ThreadPoolExecutor(1) as pool:
        ending = pool.submit(end)
        with suppress(StillWaiting):  # the end may wait for the vote: it is committed anyway
            ending.result(timeout=1)
        pending.commit()
        voter.close()
        ending.result(timeout=30)
    with voting.engines[0].connect() as conn:
        cast = conn.execute(select(func.count()).select_from(contest_votes)).scalar_one()
        counted = conn.execute(
            select(contest_entries.c.votes).where(
                contest_entries.c.submission_id == voting.entries[0]
            )
        ).scalar_one()
        paid = conn.execute(
            select(ledger.c.delta).where(ledger.c.reason == "contest_prize")
        ).scalars()
        assert (cast, counted, list(paid)) == (1, 1, [300])


# --- The vote asked for before the close has run ---------------------------------------------


async def test_a_vote_before_the_close_has_posted_the_entries_is_not_yet_not_over(
    chat: Chat, store: Store, clock: Clock
) -> None:
    for who in ("alice", "bob"):
        await chat.say(who, "/checkin")
    await start(chat)
    alice = submit(store, "alice", "Boots", clock.now)
    clock.now = CLOSE + timedelta(seconds=30)  # its close is due; the scheduler has not run it
    said = await chat.say("bob", f"/contest vote 1 {alice}")
    assert said.outcome.reply is not None
    assert said.outcome.reply.template == "contest/vote_not_yet"
    assert count(store, contest_votes) == 0


# --- Titles with a dash ---------------------------------------------------------------------


def test_a_title_with_a_spaced_dash_keeps_its_words() -> None:
    now = local(1, 9)
    read = read_terms(
        "Winter - prize edition — category winners --until 11-25",
        ContestRules(),
        (),
        SHANGHAI,
        now,
    )
    assert (read.title, read.closes_at) == (
        "Winter - prize edition — category winners",
        local(4, 0),
    )


# --- community.toml at its extremes ---------------------------------------------------------


@pytest.mark.parametrize("prizes", [(), (300, 0), (-100,)])
def test_prizes_setting_with_no_place_or_a_place_of_no_points_is_refused(
    prizes: tuple[int, ...],
) -> None:
    with pytest.raises(ValidationError):
        ContestRules(prizes=prizes)


async def test_a_prize_setting_of_many_places_pays_only_the_entries_voted_for(
    chat: Chat, store: Store, clock: Clock
) -> None:
    from tests.conftest import reconfigure

    reconfigure(store, extra="[contests]\nprizes = [5, 4, 3, 2, 1, 1, 1, 1, 1, 1]\n")
    for who in ("alice", "bob", "carol"):
        await chat.say(who, "/checkin")
    await chat.say("boss", "/contest start Photos --until 11-25")
    alice = submit(store, "alice", "Boots", clock.now)
    submit(store, "bob", "Scarf", clock.now)
    clock.now = CLOSE
    await Firings(store, clock=clock).sweep(CLOSE)
    await chat.say("carol", f"/contest vote 1 {alice}")
    clock.now = VOTE_END
    await Firings(store, clock=clock).sweep(VOTE_END)
    assert ledger_state(store, "console", "alice") == (15, 15)
    assert ledger_state(store, "console", "bob") == (10, 10)
    assert [row.delta for row in rows(store, ledger) if row.reason == "contest_prize"] == [5]


# --- A refused button press in a group ------------------------------------------------------


async def test_a_refused_vote_button_answers_the_presser_alone_never_the_group(
    chat: Chat, store: Store, clock: Clock
) -> None:
    for who in ("alice", "bob"):
        await chat.say(who, "/checkin")
    await start(chat)
    alice = submit(store, "alice", "Boots", clock.now)
    clock.now = CLOSE
    await Firings(store, clock=clock).sweep(CLOSE)
    await chat.press("bob", f"/contest vote 1 {alice}")
    # A second press would tell the whole group whom Bob voted for; one's own entry, a vote
    # over, a contest unknown: the presser's business alone, as a counted vote is.
    presses = {
        ("bob", f"/contest vote 1 {alice}"): "contest/already_voted",
        ("alice", f"/contest vote 1 {alice}"): "contest/own_entry",
        ("alice", "/contest vote 7 1"): "contest/unknown",
        ("alice", "/contest vote 1 x"): "contest/vote_usage",
    }
    for (who, command), template in presses.items():
        said = await chat.press(who, command)
        assert said.outcome.reply is not None, command
        assert said.outcome.reply.template == template, command
        assert said.outcome.reply.visibility is Visibility.PRIVATE, command
    typed = await chat.say("bob", f"/contest vote 1 {alice}")  # typed in the group: it reads it
    assert typed.outcome.reply is not None and typed.outcome.reply.visibility is Visibility.CHAT


async def test_a_contest_shown_in_a_group_never_says_whom_the_asker_voted_for(
    chat: Chat, store: Store, clock: Clock
) -> None:
    for who in ("alice", "bob", "carol"):
        await chat.say(who, "/checkin")
    await start(chat)
    alice = submit(store, "alice", "Boots", clock.now)
    bob = submit(store, "bob", "Scarf", clock.now)
    clock.now = CLOSE
    await Firings(store, clock=clock).sweep(CLOSE)
    await chat.press("bob", f"/contest vote 1 {alice}")
    shown = await chat.say("bob", "/contest 1")
    assert shown.text is not None and "You voted" not in shown.text
    assert shown.outcome.reply is not None
    # Its buttons are for everyone reading the group: every entry's, Bob's own too.
    assert [c.command for c in shown.outcome.reply.choices] == [
        f"/contest vote 1 {alice}",
        f"/contest vote 1 {bob}",
    ]
    private = await dm(chat).say("bob", "/contest 1")
    assert private.text is not None and private.text.endswith(f"You voted for #{alice}.")


async def test_an_old_vote_button_of_a_cancelled_contest_says_cancelled_not_see_the_result(
    chat: Chat, store: Store, clock: Clock
) -> None:
    for who in ("alice", "bob"):
        await chat.say(who, "/checkin")
    await start(chat)
    alice = submit(store, "alice", "Boots", clock.now)
    clock.now = CLOSE
    await Firings(store, clock=clock).sweep(CLOSE)
    await chat.say("boss", "/contest cancel 1")
    said = await chat.press("bob", f"/contest vote 1 {alice}")
    assert said.text == "Contest #1 has been cancelled already."
    assert count(store, contest_votes) == 0
