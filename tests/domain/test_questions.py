"""Q&A's rules as plain functions on a real database: asking (limits, bounties held), answering,
who earns what when an answer is accepted, bounties returned, questions raised to admins."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Connection, select, update

from community import audit, question_accepting, question_jobs, question_messages, questions
from community.communities import Community
from community.jobs import FiringContext
from community.questions import Place
from handlers.questions import BadBounty, _after_prefix, read_bounty
from loyalty import ledger
from loyalty.errors import UserError
from storage.qa_tables import question_messages as question_messages_table
from storage.qa_tables import questions as questions_table
from storage.schema import groups, outbox
from storage.schema import ledger as ledger_table
from tests.domain.conftest import Join, give, local

HERE = Place("telegram", "-100", "", "55")


def ask(
    conn: Connection, community: Community, member_id: int, text: str, bounty: int = 0, day: int = 1
) -> questions.Question:
    return questions.ask(
        conn, community, member_id=member_id, text=text, bounty=bounty, place=HERE, at=local(day)
    )


def answer(
    conn: Connection, community: Community, question: questions.Question, member_id: int, text: str
) -> questions.Answer:
    given = questions.answer(
        conn,
        community,
        question,
        member_id=member_id,
        author="someone",
        text=text,
        place=HERE,
        at=local(1, 10),
    )
    return given.answer


def accept(
    conn: Connection, community: Community, answer_id: int, by: int | None, *, admin: bool = False
) -> question_accepting.Accepted:
    return question_accepting.accept(
        conn,
        community,
        answer_id=answer_id,
        question_id=None,
        actor=audit.Actor(by, "telegram:x"),
        is_admin=admin,
        at=local(1, 11),
    )


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("Is it big?", (0, "Is it big?")),
        ("--bounty 50 Is it big?", (50, "Is it big?")),
        ("--BOUNTY=５０ Is it big?", (50, "Is it big?")),
        ("—bounty 5 big?", (5, "big?")),
        ("--悬赏 20 尺码偏大吗？", (20, "尺码偏大吗？")),
        ("--bounty 50", (50, "")),
    ],
)
def test_a_bounty_is_read_before_the_question(typed: str, read: tuple[int, str]) -> None:
    assert read_bounty(typed) == read


@pytest.mark.parametrize(
    "typed", ["--bounty", "--bounty lots why?", "--bounty -5 why?", "--bounty 0 x", "--bountyful x"]
)
def test_a_bounty_without_a_whole_positive_number_is_refused(typed: str) -> None:
    with pytest.raises(BadBounty):
        read_bounty(typed)


def test_a_prefix_opens_a_question_in_any_case_and_nothing_else_does() -> None:
    prefixes = ("问:", "问：", "Q:")
    assert _after_prefix("  q: when is the sale?", prefixes) == " when is the sale?"
    assert _after_prefix("问：这个尺码偏大吗", prefixes) == "这个尺码偏大吗"
    assert _after_prefix("Quick question", prefixes) is None
    assert _after_prefix("hello 问: x", prefixes) is None


def test_limits_of_length_and_per_day_refuse_and_open_nothing(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    with pytest.raises(UserError) as short:
        ask(conn, community, alice.id, " ok ")
    assert short.value.key == "questions/too_short"
    with pytest.raises(UserError) as long:
        ask(conn, community, alice.id, "x" * 1001)
    assert long.value.context == {"length": 1001, "limit": 1000}
    for n in range(10):
        ask(conn, community, alice.id, f"question number {n}")
    with pytest.raises(UserError) as many:
        ask(conn, community, alice.id, "one too many")
    assert many.value.key == "questions/too_many_today"
    assert ask(conn, community, alice.id, "a new day, a new question", day=2).id == 11


def test_one_member_gives_one_question_at_most_answers_per_question_answers(
    conn: Connection, community: Community, join: Join
) -> None:
    alice, bob, cat = join("alice"), join("bob"), join("cat")
    question = ask(conn, community, alice.id, "Which colour fades least?")
    for n in range(3):
        answer(conn, community, question, bob.id, f"the navy one, really ({n})")
    with pytest.raises(UserError) as flood:
        answer(conn, community, question, bob.id, "the navy one, I insist")
    assert flood.value.key == "questions/too_many_answers"
    assert flood.value.context == {"limit": 3, "question": question.id}
    assert answer(conn, community, question, cat.id, "black").id == 4  # others still answer


def test_a_bounty_is_held_in_the_ledger_and_refused_beyond_the_balance(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    give(conn, alice, 60)
    with pytest.raises(UserError) as poor:
        ask(conn, community, alice.id, "which size runs large?", bounty=61)
    assert (poor.value.key, poor.value.context) == (
        "questions/bounty_insufficient",
        {"bounty": 61, "balance": 60},
    )
    with pytest.raises(UserError) as big:
        ask(conn, community, alice.id, "which size runs large?", bounty=1001)
    assert big.value.key == "questions/bounty_too_big"
    asked = ask(conn, community, alice.id, "which size runs large?", bounty=50)
    assert asked.bounty_held == 50 and ledger.balance(conn, alice.id) == 10
    hold = conn.execute(
        select(ledger_table.c.delta, ledger_table.c.reason).where(
            ledger_table.c.idempotency_key == f"bounty:{asked.id}"
        )
    ).one()
    assert tuple(hold) == (-50, "bounty")


def test_an_accepted_answer_pays_its_author_the_thanks_and_the_bounty_once(
    conn: Connection, community: Community, join: Join
) -> None:
    alice, bob, carol = join("alice"), join("bob"), join("carol")
    give(conn, alice, 100)
    asked = ask(conn, community, alice.id, "when does the sale start?", bounty=30)
    first = answer(conn, community, asked, bob.id, "Friday 20:00")
    second = answer(conn, community, asked, carol.id, "next week")
    with pytest.raises(UserError) as not_hers:
        accept(conn, community, second.id, carol.id)
    assert not_hers.value.key == "questions/not_yours"
    done = accept(conn, community, first.id, alice.id)
    assert (done.points, done.thanks, done.bounty_paid, done.bounty_returned) == (20, 2, 30, 0)
    assert ledger.balance(conn, bob.id) == 50 and ledger.balance(conn, alice.id) == 72
    for again in (first.id, second.id):
        with pytest.raises(UserError) as twice:
            accept(conn, community, again, None, admin=True)
        assert twice.value.key == "questions/already_accepted"
    now = questions.question_by_id(conn, community.id, asked.id)
    assert now is not None and now.bounty_held == 0
    with pytest.raises(UserError) as late:
        answer(conn, community, now, carol.id, "too late")
    assert late.value.key == "questions/not_open"
    row = conn.execute(select(questions_table).where(questions_table.c.id == asked.id)).one()
    assert (row.state, row.accepted_answer_id) == ("accepted", first.id)


def test_nobody_earns_by_accepting_their_own_answer_and_the_bounty_goes_back(
    conn: Connection, community: Community, join: Join
) -> None:
    alice, admin = join("alice"), join("admin")
    give(conn, alice, 40)
    mine = ask(conn, community, alice.id, "found it myself?", bounty=40)
    own = answer(conn, community, mine, alice.id, "yes: the size chart")
    done = accept(conn, community, own.id, alice.id)
    assert (done.points, done.thanks, done.bounty_paid, done.bounty_returned) == (0, 0, 0, 40)
    assert ledger.balance(conn, alice.id) == 40
    other = ask(conn, community, alice.id, "what about shipping?")
    official = answer(conn, community, other, admin.id, "two days")
    by_admin = accept(conn, community, official.id, admin.id, admin=True)
    assert (by_admin.points, by_admin.thanks) == (0, 0)
    assert ledger.balance(conn, admin.id) == 0


def test_an_expired_bounty_returns_once_and_unanswered_questions_are_raised_once(
    conn: Connection, community: Community, join: Join
) -> None:
    alice, bob, boss = join("alice"), join("bob"), join("boss")
    give(conn, alice, 50)
    held = ask(conn, community, alice.id, "is the shop open on Sunday?", bounty=25)
    answered = ask(conn, community, alice.id, "what is the member day?")
    answer(conn, community, answered, bob.id, "the 18th")
    conn.execute(
        update(groups).values(adopted_by=None)
    )  # no adopters: the admin is who acted as one
    audit.record(
        conn,
        community_id=community.id,
        actor=audit.Actor(boss.id, "x"),
        action="poll_open",
        at=local(1),
    )
    audit.record(
        conn,
        community_id=community.id,
        actor=audit.Actor(bob.id, "y"),
        action="link",
        at=local(1),
        target_member_id=bob.id,
    )
    assert question_jobs.admin_members(conn, community.id) == {boss.id}

    def sweep(at_day: int, hour: int) -> tuple[int, int]:
        at = local(at_day, hour)
        ctx = FiringContext(conn, community, at, at, set())
        return question_jobs.sweep(ctx)

    assert sweep(1, 12) == (0, 0)  # 3 hours on: nothing due yet
    assert sweep(1, 22) == (0, 1)  # 12 hours on: the unanswered one is raised, once
    assert sweep(1, 23) == (0, 0)
    assert sweep(8, 10) == (1, 0)  # 7 days on: the bounty returns, once
    assert sweep(8, 11) == (0, 0)
    assert ledger.balance(conn, alice.id) == 50
    raised = conn.execute(
        select(outbox.c.payload).where(
            outbox.c.payload["template"].as_string() == "questions/raised"
        )
    ).all()
    assert len(raised) == 1 and raised[0][0]["context"]["questions"][0]["number"] == held.id


def test_a_reply_finds_its_question_once_the_post_was_sent(
    conn: Connection, community: Community, join: Join
) -> None:
    from community.messages import Reply

    alice = join("alice")
    asked = ask(conn, community, alice.id, "where is my parcel?")
    question_messages.remember(conn, asked.id, "telegram", "-100", "55")
    posted = question_messages.post(
        conn,
        community,
        asked.id,
        Reply("questions/posted"),
        platform="telegram",
        group_chat_id="-100",
        target="-100",
        reply_to="55",
        at=local(1),
    )

    def found(message: str, chat: str = "-100") -> int | None:
        return question_messages.question_replied_to(conn, community.id, "telegram", chat, message)

    assert found("55") == asked.id and found("55", chat="-200") is None
    assert found("900") is None  # the post is not sent yet
    conn.execute(
        update(outbox).where(outbox.c.id == posted).values(state="sent", sent_ids="900,901")
    )
    assert found("901") == asked.id and found("900") == asked.id
    rows = conn.execute(select(question_messages_table.c.message_id)).scalars().all()
    assert sorted(rows) == ["55", "900", "901"]


def test_the_sweep_is_scheduled_only_while_something_will_come_due(
    conn: Connection, community: Community, join: Join
) -> None:
    assert question_jobs.jobs(conn, community) == []
    alice = join("alice")
    asked = ask(conn, community, alice.id, "is the shop open on Sunday?")
    found = question_jobs.jobs(conn, community)
    assert [job.key for job in found] == [f"questions:{community.id}:{n}" for n in range(4)]
    assert {job.since for job in found} == {asked.created_at + timedelta(hours=12)}
    firings = sorted(at for job in found for at in job.firings(local(1), local(2)))
    assert firings[0] == local(1, 21) and firings[1] - firings[0] == timedelta(hours=1)
    answer(conn, community, asked, join("bob").id, "yes, 10 to 6")
    assert question_jobs.jobs(conn, community) == []
