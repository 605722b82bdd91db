"""Poll rules: how "/poll Question | A | B" reads, and what voting earns (a first vote, once)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Connection, insert, select

from community.audit import Actor
from community.communities import Community, community_by_id
from community.config import MemberDayRules, PollRules, Rules
from community.members import Member
from community.messages import Reply
from community.outbox import Kind, decode_reply
from community.poll_closing import close_on_time, closing_due
from community.poll_ends import parse_end
from community.polls import (
    MAX_OPTIONS,
    OPTION_LIMIT,
    QUESTION_LIMIT,
    TEXT_LIMIT,
    Poll,
    attach_native,
    close_poll,
    open_poll,
    parse_poll,
    poll_by_id,
    tally,
    vote,
)
from loyalty import ledger
from loyalty.errors import UserError
from loyalty.rules import ActionRule, EarningRules
from storage.schema import audit_log, groups, outbox, polls, votes
from tests.domain.conftest import VOTE_POINTS, Join, local
from tests.harness import RENDERER

LONGEST = timedelta(days=PollRules().longest_days)  # the default
NOW = local(1, 12)
TEA = "Tea or coffee? | Tea | Coffee"


def ask(conn: Connection, community: Community, actor: Actor, text: str = TEA) -> Poll:
    return open_poll(
        conn, community, platform="telegram", chat_id="-100group", text=text, actor=actor, at=NOW
    )


def choose(
    conn: Connection,
    poll: Poll,
    member: Member,
    *options: int,
    at: datetime = NOW,
    rules_of: Community | None = None,
) -> tuple[int, int]:
    """`member` votes for `options` (at `at`, under the rules of `rules_of`, else of the poll's
    community as stored); the points it earned and their balance after."""
    community = rules_of or community_by_id(conn, poll.community_id)
    assert community is not None
    result = vote(conn, poll, community=community, member_id=member.id, options=options, at=at)
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
    generous = replace(community, rules=Rules(earning=EarningRules(vote=ActionRule(points=5))))
    poll, alice = ask(conn, generous, boss), join("alice")
    assert poll.points == 5
    stored = poll_by_id(conn, community.id, poll.id)
    assert stored is not None
    assert choose(conn, stored, alice, 0) == (5, 5)


def test_a_poll_that_pays_nothing_still_counts_votes(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    unpaid = replace(community, rules=Rules(earning=EarningRules(vote=ActionRule(points=0))))
    poll, alice = ask(conn, unpaid, boss), join("alice")
    assert choose(conn, poll, alice, 1) == (0, 0)
    assert ledger.recent_entries(conn, alice.id) == []
    assert tally(conn, poll).counts == (0, 1)


# Polls with an end ----------------------------------------------------------------------------

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("--for 2h Q? | a | b", 120),
        ("--for 30m Q? | a | b", 30),
        ("--for 1d Q? | a | b", 24 * 60),
        ("--for 1h30m Q? | a | b", 90),
        ("--for 2 hours 15 minutes Q? | a | b", 135),
        ("--FOR 1H Q? | a | b", 60),
        ("--for 2小时 Q? | a | b", 120),
        ("--for 30分钟 Q? | a | b", 30),
        ("--for 1天 Q? | a | b", 24 * 60),
        ("--for 半小时 Q? | a | b", 30),
        ("——for 1小时30分钟 Q? | a | b", 90),
        ("—for 1h Q? | a | b", 60),
        ("－－ｆｏｒ　２ｈ Q? | a | b", 120),
        ("--for 1m Q? | a | b", 1),
        ("--for 30d Q? | a | b", 30 * 24 * 60),
    ],
)
def test_a_duration_reads_in_english_and_chinese(text: str, minutes: int) -> None:
    closes_at, rest = parse_end(text, SHANGHAI, NOW, LONGEST)
    assert closes_at == NOW + timedelta(minutes=minutes)
    assert rest == "Q? | a | b"


def test_a_chinese_unit_needs_no_space_before_the_question() -> None:
    assert parse_end("--for 2小时最爱哪个？|芒果|荔枝", SHANGHAI, NOW, LONGEST) == (
        NOW + timedelta(hours=2),
        "最爱哪个？|芒果|荔枝",
    )


def test_without_a_flag_the_text_is_the_poll() -> None:
    assert parse_end("--fortune? | yes | no", SHANGHAI, NOW, LONGEST) == (
        None,
        "--fortune? | yes | no",
    )
    assert parse_end("Tea? | a | b", SHANGHAI, NOW, LONGEST) == (None, "Tea? | a | b")


@pytest.mark.parametrize(
    ("text", "local_end"),
    [
        ("--until 18:00 Q? | a | b", local(1, 18)),
        ("--until 9:00 Q? | a | b", local(2, 9)),  # now is 12:00: the next 09:00 is tomorrow
        ("--until 晚上8点 Q? | a | b", local(1, 20)),
        ("--until 2026-11-30 18:00 Q? | a | b", local(8, 18)),
        ("--until 2026年11月30日 18:00 Q? | a | b", local(8, 18)),
    ],
)
def test_until_is_the_next_such_time_in_the_communitys_timezone(
    text: str, local_end: datetime
) -> None:
    assert parse_end(text, SHANGHAI, NOW, LONGEST) == (local_end, "Q? | a | b")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("--for soon Q? | a | b", "polls/bad_duration"),
        ("--for 1.5h Q? | a | b", "polls/bad_duration"),
        ("--for Q? | a | b", "polls/bad_duration"),
        ("--for 0m Q? | a | b", "polls/end_out_of_range"),
        ("--for 31d Q? | a | b", "polls/end_out_of_range"),
        ("--for 30d1m Q? | a | b", "polls/end_out_of_range"),
        ("--until 25:00 Q? | a | b", "polls/bad_until"),
        ("--until tomorrow Q? | a | b", "polls/bad_until"),
        ("--until 18:00,20:00 Q? | a | b", "polls/bad_until"),
        ("--until 2026-11-23 11:00 Q? | a | b", "polls/end_in_the_past"),
        ("--until 2027-01-01 10:00 Q? | a | b", "polls/end_out_of_range"),
    ],
)
def test_an_end_that_cannot_be_is_refused_with_an_example(text: str, key: str) -> None:
    with pytest.raises(UserError) as refused:
        parse_end(text, SHANGHAI, NOW, LONGEST)
    assert refused.value.key == key
    for locale in ("en", "zh_CN"):  # the answer shows how to write it
        answer = RENDERER.render(Reply(refused.value.key, refused.value.context, locale))
        assert "/poll --" in answer


def test_an_until_less_than_a_minute_away_is_too_soon() -> None:
    almost_noon = local(1, 11, 59) + timedelta(seconds=30)
    with pytest.raises(UserError) as refused:
        parse_end("--until 12:00 Q? | a | b", SHANGHAI, almost_noon, LONGEST)
    assert (refused.value.key, refused.value.context["shortest"]) == ("polls/end_out_of_range", 1)


def test_opening_a_poll_with_an_end_stores_it_and_audits_it(
    conn: Connection, community: Community, boss: Actor
) -> None:
    poll = ask(conn, community, boss, "--for 2h " + TEA)
    assert poll.closes_at == NOW + timedelta(hours=2)
    assert poll_by_id(conn, community.id, poll.id) == poll
    details = conn.execute(select(audit_log.c.details)).scalar_one()
    assert details["closes_at"] == (NOW + timedelta(hours=2)).isoformat()


def test_a_bad_end_opens_nothing(conn: Connection, community: Community, boss: Actor) -> None:
    with pytest.raises(UserError):
        ask(conn, community, boss, "--for 0m " + TEA)
    assert conn.execute(select(polls)).first() is None


def test_a_vote_at_the_end_is_refused_even_before_the_scheduler_closes_it(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    poll, alice, bob = ask(conn, community, boss, "--for 1h " + TEA), join("alice"), join("bob")
    assert choose(conn, poll, alice, 0, at=NOW + timedelta(minutes=59)) == (2, 2)
    with pytest.raises(UserError) as refused:
        choose(conn, poll, bob, 0, at=NOW + timedelta(hours=1))
    assert refused.value.key == "polls/closed"


def test_closing_due_lists_open_polls_whose_end_came_oldest_end_first(
    conn: Connection, community: Community, boss: Actor
) -> None:
    later = ask(conn, community, boss, "--for 2h " + TEA)
    sooner = ask(conn, community, boss, "--for 1h " + TEA)
    ask(conn, community, boss, TEA)  # no end
    closed = ask(conn, community, boss, "--for 1h " + TEA)
    close_poll(conn, closed, actor=boss, at=NOW + timedelta(minutes=5))
    assert closing_due(conn, NOW + timedelta(minutes=59)) == []
    assert closing_due(conn, NOW + timedelta(hours=1)) == [sooner.id]
    assert closing_due(conn, NOW + timedelta(hours=3)) == [sooner.id, later.id]


def test_a_poll_closes_on_time_once_and_posts_its_results_in_its_chat(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    conn.execute(
        insert(groups).values(
            platform="telegram", chat_id="-100group", community_id=community.id, created_at=NOW
        )
    )
    poll = ask(conn, community, boss, "--for 1h " + TEA)
    attach_native(conn, poll.id, native_id="tg-1", message_id="77")
    choose(conn, poll, join("alice"), 1)
    end = NOW + timedelta(hours=1, minutes=3)
    platforms: set[str] = set()
    assert close_on_time(conn, poll.id, end, platforms) is True
    assert platforms == {"telegram"}
    stored = poll_by_id(conn, community.id, poll.id)
    assert stored is not None and stored.closed
    row = conn.execute(select(outbox)).one()
    assert (row.platform, row.chat_id, row.group_chat_id, row.kind) == (
        "telegram",
        "-100group",
        "-100group",
        Kind.POST,
    )
    reply = decode_reply(row.payload, "en")
    assert reply.template == "polls/results" and reply.ends_poll == "77"
    assert reply.context["voters"] == 1
    assert [r["count"] for r in reply.context["rows"]] == [0, 1]
    audit = conn.execute(select(audit_log).order_by(audit_log.c.id.desc())).first()
    assert audit is not None
    assert (audit.action, audit.actor_member_id, audit.details["by"]) == (
        "poll_close",
        None,
        "scheduler",
    )
    # A second sweep, or a second process that lost the race, does nothing.
    assert close_on_time(conn, poll.id, end, platforms) is False
    assert len(conn.execute(select(outbox)).all()) == 1
    assert closing_due(conn, end) == []


def test_a_poll_closed_by_hand_before_its_end_is_left_alone(
    conn: Connection, community: Community, boss: Actor
) -> None:
    poll = ask(conn, community, boss, "--for 1h " + TEA)
    close_poll(conn, poll, actor=boss, at=NOW + timedelta(minutes=10))
    platforms: set[str] = set()
    assert close_on_time(conn, poll.id, NOW + timedelta(hours=2), platforms) is False
    assert platforms == set() and conn.execute(select(outbox)).first() is None


def test_a_poll_without_an_end_never_closes_by_itself(
    conn: Connection, community: Community, boss: Actor
) -> None:
    poll = ask(conn, community, boss)
    assert close_on_time(conn, poll.id, NOW + timedelta(days=60), set()) is False
    assert closing_due(conn, NOW + timedelta(days=60)) == []


def test_a_discord_servers_results_go_to_its_posting_channel(
    conn: Connection, community: Community, boss: Actor
) -> None:
    conn.execute(
        insert(groups).values(
            platform="discord",
            chat_id="555",
            community_id=community.id,
            created_at=NOW,
            needs_channel=True,
            posting_channel="777",
        )
    )
    poll = open_poll(
        conn,
        community,
        platform="discord",
        chat_id="555",
        text="--for 1h " + TEA,
        actor=boss,
        at=NOW,
    )
    close_on_time(conn, poll.id, NOW + timedelta(hours=1), set())
    row = conn.execute(select(outbox)).one()
    assert (row.chat_id, row.group_chat_id) == ("777", "555")


def test_a_first_vote_on_the_member_day_earns_its_multiple_by_the_votes_own_time(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    # The member day is day 1 (the 23rd), 00:00 to 24:00 in Shanghai, at x2.
    member_day = MemberDayRules(enabled=True, when="monthly 23 00:00", multiplier=2.0)
    festive = replace(
        community, rules=community.rules.model_copy(update={"member_day": member_day})
    )
    poll = ask(conn, festive, boss, "--for 2d " + TEA)
    alice, bob = join("alice"), join("bob")
    last_minute, next_day = local(1, 23, 59), local(2, 0, 0)
    assert choose(conn, poll, alice, 0, at=last_minute, rules_of=festive) == (2 * VOTE_POINTS,) * 2
    assert choose(conn, poll, alice, 1, at=last_minute, rules_of=festive) == (0, 2 * VOTE_POINTS)
    assert choose(conn, poll, bob, 0, at=next_day, rules_of=festive) == (VOTE_POINTS,) * 2


def test_the_longest_a_poll_may_run_is_the_communitys_setting() -> None:
    week = timedelta(days=7)
    assert parse_end("--for 7d Q? | a | b", SHANGHAI, NOW, week)[0] == NOW + week
    with pytest.raises(UserError) as refused:
        parse_end("--for 8d Q? | a | b", SHANGHAI, NOW, week)
    assert (refused.value.key, refused.value.context["longest"]) == ("polls/end_out_of_range", 7)
