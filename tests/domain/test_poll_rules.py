"""Poll rules: how "/poll Question | A | B" reads, and what voting earns (a first vote, once)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import Connection, select

from community.audit import Actor
from community.communities import Community
from community.config import PollRules, Rules
from community.members import Member
from community.polls import (
    MAX_OPTIONS,
    OPTION_LIMIT,
    QUESTION_LIMIT,
    TEXT_LIMIT,
    Poll,
    close_poll,
    open_poll,
    parse_poll,
    poll_by_id,
    tally,
    vote,
)
from loyalty import ledger
from loyalty.errors import UserError
from storage.schema import audit_log, votes
from tests.domain.conftest import VOTE_POINTS, Join, local

NOW = local(1, 12)
TEA = "Tea or coffee? | Tea | Coffee"


def ask(conn: Connection, community: Community, actor: Actor, text: str = TEA) -> Poll:
    return open_poll(
        conn, community, platform="telegram", chat_id="-100group", text=text, actor=actor, at=NOW
    )


def choose(conn: Connection, poll: Poll, member: Member, *options: int) -> tuple[int, int]:
    """`member` votes for `options`; the points it earned and their balance after."""
    result = vote(conn, poll, member_id=member.id, options=options, at=NOW)
    return result.points, result.balance


def parse_error(text: str) -> UserError:
    with pytest.raises(UserError) as refused:
        parse_poll(text)
    return refused.value


@pytest.mark.parametrize(
    "text",
    [
        "Tea or coffee? | Tea | Coffee",
        "Tea or coffee?｜Tea｜Coffee",
        "Tea or coffee? ｜ Tea | Coffee",
        "  Tea or coffee?|Tea||  Coffee  |",
    ],
)
def test_ascii_and_full_width_bars_both_separate_the_options(text: str) -> None:
    assert parse_poll(text) == ("Tea or coffee?", ("Tea", "Coffee"))


@pytest.mark.parametrize("text", ["Tea or coffee? | Tea", "Tea or coffee?", " | Tea | Coffee", ""])
def test_a_poll_needs_a_question_and_two_options(text: str) -> None:
    assert parse_error(text).key == "polls/usage"


@pytest.mark.parametrize(
    "text",
    [
        "Q" * (QUESTION_LIMIT + 1) + " | A | B",
        "Q? | A | " + "B" * (OPTION_LIMIT + 1),
        "Q? | A | B" + " " * TEXT_LIMIT,
    ],
    ids=["question", "option", "whole text"],
)
def test_too_long_a_question_an_option_or_a_text_is_refused(text: str) -> None:
    refused = parse_error(text)
    assert (refused.key, refused.context) == (
        "polls/too_long",
        {"question": QUESTION_LIMIT, "option": OPTION_LIMIT},
    )


def test_the_longest_question_and_options_are_accepted() -> None:
    question, options = "Q" * QUESTION_LIMIT, ("A" * OPTION_LIMIT, "B" * OPTION_LIMIT)
    assert parse_poll(" | ".join((question, *options))) == (question, options)


@pytest.mark.parametrize("text", ["Q" * (QUESTION_LIMIT + 1), "Q" * (TEXT_LIMIT + 1)])
def test_too_long_is_said_before_usage(text: str) -> None:
    assert parse_error(text).key == "polls/too_long"


def test_at_most_max_options_options() -> None:
    options = [f"option {n}" for n in range(MAX_OPTIONS + 1)]
    assert len(parse_poll(" | ".join(["Which?", *options[:MAX_OPTIONS]]))[1]) == MAX_OPTIONS
    refused = parse_error(" | ".join(["Which?", *options]))
    assert (refused.key, refused.context) == ("polls/too_many_options", {"limit": MAX_OPTIONS})


def test_an_option_may_not_be_given_twice() -> None:
    assert parse_error("Which? | Tea | Coffee | Tea").key == "polls/duplicate_options"


def test_opening_a_poll_fixes_its_points_and_is_audited(
    conn: Connection, community: Community, boss: Actor
) -> None:
    poll = ask(conn, community, boss)
    assert (poll.question, poll.options, poll.points, poll.closed) == (
        "Tea or coffee?",
        ("Tea", "Coffee"),
        VOTE_POINTS,
        False,
    )
    assert poll_by_id(conn, community.id, poll.id) == poll
    row = conn.execute(select(audit_log)).one()
    assert (row.action, row.actor_member_id, row.details) == (
        "poll_open",
        boss.member_id,
        {"by": "console:boss", "poll_id": poll.id, "question": "Tea or coffee?"},
    )


def test_a_first_vote_pays_the_polls_points(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    poll, alice = ask(conn, community, boss), join("alice")
    assert choose(conn, poll, alice, 0) == (VOTE_POINTS, VOTE_POINTS)
    assert ledger.recent_entries(conn, alice.id)[0].reason == "vote"


def test_changing_a_vote_pays_nothing_and_moves_the_count(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    poll, alice = ask(conn, community, boss), join("alice")
    choose(conn, poll, alice, 0)
    assert choose(conn, poll, alice, 1) == (0, VOTE_POINTS)
    assert tally(conn, poll).counts == (0, 1)


def test_withdrawing_a_vote_keeps_the_points_and_voting_again_pays_nothing(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    poll, alice = ask(conn, community, boss), join("alice")
    choose(conn, poll, alice, 0)
    assert choose(conn, poll, alice) == (0, VOTE_POINTS)
    assert (tally(conn, poll).counts, tally(conn, poll).voters) == ((0, 0), 0)
    assert choose(conn, poll, alice, 1) == (0, VOTE_POINTS)
    assert ledger.ledger_sum(conn, alice.id) == VOTE_POINTS


def test_withdrawing_a_vote_never_seen_records_nothing_and_pays_nothing(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    poll, alice = ask(conn, community, boss), join("alice")
    assert choose(conn, poll, alice) == (0, 0)
    assert conn.execute(select(votes)).first() is None
    assert choose(conn, poll, alice, 0) == (VOTE_POINTS, VOTE_POINTS)


def test_a_vote_for_an_option_the_poll_has_not_is_refused(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    poll, alice = ask(conn, community, boss), join("alice")
    for options in ((2,), (-1,), (0, 5)):
        with pytest.raises(UserError) as refused:
            choose(conn, poll, alice, *options)
        assert refused.value.key == "polls/unknown_option"
    assert ledger.balance(conn, alice.id) == 0


def test_the_tally_counts_every_option_chosen_and_every_voter(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    poll = ask(conn, community, boss, "Which? | A | B | C")
    choose(conn, poll, join("alice"), 0, 2)
    choose(conn, poll, join("bob"), 2, 2)  # an option chosen twice counts once
    choose(conn, poll, join("carol"), 1)
    result = tally(conn, poll)
    assert (result.counts, result.voters) == ((1, 1, 2), 3)


def test_a_closed_poll_refuses_votes(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    poll, alice = ask(conn, community, boss), join("alice")
    choose(conn, poll, alice, 0)
    closed = close_poll(conn, poll, actor=boss, at=local(1, 13)).poll
    stored = poll_by_id(conn, community.id, poll.id)
    assert closed.closed and stored is not None and stored.closed
    for later in (closed, stored):
        with pytest.raises(UserError) as refused:
            choose(conn, later, alice, 1)
        assert (refused.value.key, refused.value.context) == (
            "polls/closed",
            {"question": "Tea or coffee?"},
        )
    assert tally(conn, stored).counts == (1, 0)


def test_closing_counts_the_votes_and_a_poll_closes_once(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    poll = ask(conn, community, boss)
    choose(conn, poll, join("alice"), 1)
    result = close_poll(conn, poll, actor=boss, at=local(1, 13))
    assert (result.counts, result.voters) == ((0, 1), 1)
    with pytest.raises(UserError) as refused:
        close_poll(conn, result.poll, actor=boss, at=local(1, 14))
    assert refused.value.key == "polls/closed"
    actions = conn.execute(select(audit_log.c.action).order_by(audit_log.c.id)).scalars().all()
    assert actions == ["poll_open", "poll_close"]


def test_a_poll_keeps_the_points_it_opened_with(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    generous = replace(community, rules=Rules(polls=PollRules(vote_points=5)))
    poll, alice = ask(conn, generous, boss), join("alice")
    assert poll.points == 5
    stored = poll_by_id(conn, community.id, poll.id)
    assert stored is not None
    assert choose(conn, stored, alice, 0) == (5, 5)


def test_a_poll_that_pays_nothing_still_counts_votes(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    unpaid = replace(community, rules=Rules(polls=PollRules(vote_points=0)))
    poll, alice = ask(conn, unpaid, boss), join("alice")
    assert choose(conn, poll, alice, 1) == (0, 0)
    assert ledger.recent_entries(conn, alice.id) == []
    assert tally(conn, poll).counts == (0, 1)
