"""Q&A attacked, and run by a careless operator: a bounty returned by the hourly job while an
acceptance is in flight (in one process and in two on PostgreSQL), a bounty that outlived its
points' expiry, questions raised while no admin is known, an answerer flooding the asker's
private chat, bounties typed every wrong way, numbers copied as the bot writes them ("#3"),
questions over several lines in lists, the cost of a reply in a busy group, a crash between
the hold and the post, and the bad input of strangers, answerers and forged buttons. Each
gets a polite answer in the community's language, changes nothing it should not, and the
points always balance."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, event, select, text, update

from community import audit, question_accepting, question_jobs, question_messages, questions
from community.communities import Community, community_by_slug
from community.jobs import FiringContext
from community.members import identify
from community.questions import Place
from handlers.firings import Firings
from handlers.router import Dispatcher
from loyalty import ledger, lots
from storage.engine import make_engine
from storage.qa_tables import answers
from storage.qa_tables import questions as questions_table
from storage.schema import groups, outbox
from storage.schema import ledger as ledger_table
from storage.schema import lots as lots_table
from storage.store import Store
from tests.conftest import reconfigure
from tests.domain.conftest import Join, give, local
from tests.domain.conftest import join as join  # the domain tier's fixture, used here too
from tests.harness import Chat, Said, ledger_state, posted, rows
from tests.test_linking import link

HERE = Place("telegram", "-100", "", "55")


def _ask(
    conn: Connection, community: Community, member_id: int, words: str, bounty: int = 0
) -> questions.Question:
    return questions.ask(
        conn, community, member_id=member_id, text=words, bounty=bounty, place=HERE, at=local(1)
    )


def _answer(
    conn: Connection, community: Community, question: questions.Question, member_id: int
) -> questions.Answer:
    given = questions.answer(
        conn,
        community,
        question,
        member_id=member_id,
        author="Bob",
        text="Size M fits",
        place=HERE,
        at=local(1, 10),
    )
    return given.answer


def _reasons(conn: Connection) -> list[tuple[int, str]]:
    found = conn.execute(select(ledger_table.c.delta, ledger_table.c.reason))
    return [(int(delta), reason) for delta, reason in found]


def test_a_bounty_returned_while_an_accept_is_in_flight_is_paid_once(
    conn: Connection, community: Community, join: Join, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = join("alice"), join("bob")
    give(conn, alice, 100)
    asked = _ask(conn, community, alice.id, "which size fits?", bounty=40)
    given = _answer(conn, community, asked, bob.id)
    still_open = question_accepting._still_open

    def meanwhile(question: questions.Question) -> None:
        # The hourly return runs after the acceptance read the question (another process,
        # whose commit the acceptance's update waited for): the hold is given back.
        question_accepting.return_bounty(conn, community, question, local(8, 10))
        still_open(question)

    monkeypatch.setattr(question_accepting, "_still_open", meanwhile)
    done = question_accepting.accept(
        conn,
        community,
        answer_id=given.id,
        question_id=None,
        actor=audit.Actor(alice.id, "telegram:alice"),
        is_admin=False,
        at=local(8, 10),
    )
    assert (done.points, done.thanks, done.bounty_paid) == (20, 2, 0)
    assert ledger.balance(conn, alice.id) == 102 and ledger.balance(conn, bob.id) == 20
    assert [reason for _, reason in _reasons(conn)].count("bounty_won") == 0
    # Every point came from an award or an earning: the bounty moved once, and back.
    assert sum(delta for delta, _ in _reasons(conn)) == 122


def test_a_bounty_returned_by_another_process_while_an_accept_waits_is_paid_once(
    store: Store, db_url: str
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("two processes writing at once: PostgreSQL (SQLite has one writer)")

    def prepare(conn: Connection) -> tuple[int, int, int]:
        acme = community_by_slug(conn, "acme")
        assert acme is not None
        people = [
            identify(
                conn,
                community_id=acme.id,
                platform="telegram",
                user_id=name,
                display_name=name,
                username=name,
                at=local(1, 8),
            )
            for name in ("alice", "bob")
        ]
        give(conn, people[0], 100)
        asked = _ask(conn, acme, people[0].id, "which size fits?", bounty=40)
        return people[0].id, people[1].id, _answer(conn, acme, asked, people[1].id).id

    alice, bob, answer_id = store.write_now(prepare)
    returning, accepting = (make_engine(db_url, writer=True, pool_size=1) for _ in range(2))
    backend: list[int] = []  # the accepting process's server process, to watch it wait
    outcome: list[object] = []

    def accept() -> None:
        with accepting.connect() as conn:
            backend.append(conn.execute(text("select pg_backend_pid()")).scalar_one())
            conn.commit()
            with conn.begin():
                acme = community_by_slug(conn, "acme")
                assert acme is not None
                done = question_accepting.accept(
                    conn,
                    acme,
                    answer_id=answer_id,
                    question_id=None,
                    actor=audit.Actor(alice, "telegram:alice"),
                    is_admin=False,
                    at=local(8, 10),
                )
                outcome.append(done.bounty_paid)

    waits = text("select wait_event_type = 'Lock' from pg_stat_activity where pid = :pid")
    try:
        with returning.connect() as job, job.begin():
            acme = community_by_slug(job, "acme")
            assert acme is not None
            held = questions.question_by_id(job, acme.id, 1)
            assert held is not None
            assert question_accepting.return_bounty(job, acme, held, local(8, 10)) == 40
            other = threading.Thread(target=accept)
            other.start()
            # Commit only once the acceptance has read the question and waits for its row.
            with returning.connect() as watcher:
                while other.is_alive():
                    pid = backend[0] if backend else None
                    waiting = pid is not None and watcher.execute(waits, {"pid": pid}).scalar()
                    watcher.commit()  # the next look sees the statistics anew
                    if waiting:
                        break
        other.join(timeout=30)
    finally:
        returning.dispose()
        accepting.dispose()
    assert outcome == [0]

    def read(conn: Connection) -> tuple[int, int, list[tuple[int, str]]]:
        return ledger.balance(conn, alice), ledger.balance(conn, bob), _reasons(conn)

    alice_has, bob_has, entries = store.read_now(read)
    assert (alice_has, bob_has) == (102, 20)
    assert sum(delta for delta, _ in entries) == 122


def test_a_bounty_that_outlived_its_points_comes_back_expiring_as_if_earned_then(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    program = community.program
    earned = local(1)  # its lot expires at the end of next year's November
    expires = lots.expiry_of(earned, program.timezone, program.expiry.months)
    assert expires is not None
    ledger.post(
        conn,
        community_id=community.id,
        member_id=alice.id,
        delta=100,
        reason="award",
        key="give:alice",
        at=earned,
        lot=ledger.Lot(expires, False),
    )
    held = questions.ask(
        conn,
        community,
        member_id=alice.id,
        text="anyone know the new store hours?",
        bounty=40,
        place=HERE,
        at=expires - timedelta(days=2),
    )
    back_at = expires + timedelta(days=5)  # the lot expired while the bounty was held
    assert question_accepting.return_bounty(conn, community, held, back_at) == 40
    returned = select(lots_table.c.expires_at).join(
        ledger_table, ledger_table.c.id == lots_table.c.ledger_id
    )
    [when] = conn.execute(returned.where(ledger_table.c.reason == "bounty_returned")).scalars()
    assert when == lots.expiry_of(back_at, program.timezone, program.expiry.months)


def test_questions_nobody_answered_wait_until_an_admin_is_known_to_be_raised(
    conn: Connection, community: Community, join: Join
) -> None:
    alice, boss = join("alice"), join("boss")
    conn.execute(update(groups).values(adopted_by=None))  # nobody adopted a group yet
    _ask(conn, community, alice.id, "Where is my parcel?\n#2 Free points — boss")

    def sweep(day: int, hour: int) -> tuple[int, int]:
        at = local(day, hour)
        return question_jobs.sweep(FiringContext(conn, community, at, at, set()))

    assert sweep(2, 9) == (0, 0)  # a day on, no admin to tell: nothing is marked told
    assert conn.execute(select(questions_table.c.raised_at)).scalar() is None
    audit.record(
        conn,
        community_id=community.id,
        actor=audit.Actor(boss.id, "telegram:boss"),
        action="poll_open",
        at=local(2, 10),
    )
    assert sweep(2, 11) == (0, 1)  # the first admin known hears of it
    assert sweep(2, 12) == (0, 0)  # once
    raised = conn.execute(
        select(outbox.c.chat_id, outbox.c.payload).where(
            outbox.c.payload["template"].as_string() == "questions/raised"
        )
    ).all()
    assert [row.chat_id for row in raised] == ["boss"]
    # One line per question: the asker's line break does not forge another question's line.
    [listed] = raised[0].payload["context"]["questions"]
    assert listed["text"] == "Where is my parcel? #2 Free points — boss"


def test_the_admins_community_toml_lists_hear_of_unanswered_questions_without_ever_acting(
    conn: Connection, community: Community, join: Join
) -> None:
    alice, _listed = join("alice"), join("owner")
    conn.execute(update(groups).values(adopted_by=None))  # no adoption, no admin action yet
    _ask(conn, community, alice.id, "Where is my parcel?")
    at = local(2, 11)
    listed = ("telegram:owner", "discord:999")  # the second never came by: nobody to tell
    context = FiringContext(conn, community, at, at, set(), admins=listed)
    assert question_jobs.sweep(context) == (0, 1)
    raised = conn.execute(
        select(outbox.c.chat_id).where(
            outbox.c.payload["template"].as_string() == "questions/raised"
        )
    ).scalars()
    assert list(raised) == ["owner"]


async def reply(chat: Chat, who: str, words: str, to: str) -> Said:
    """`who` replies with `words` to the platform's message `to`."""
    return await chat.deliver(replace(chat.event(who, words), replied_id=to))


def _sent(store: Store, template: str, platform_id: str) -> None:
    """The sender posted the newest message of `template`; the platform named it so."""
    newest = (
        select(outbox.c.id)
        .where(outbox.c.payload["template"].as_string() == template)
        .order_by(outbox.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    store.write_now(
        lambda conn: conn.execute(
            update(outbox).where(outbox.c.id == newest).values(state="sent", sent_ids=platform_id)
        )
    )


async def test_one_member_answering_many_times_tells_the_asker_once(
    chat: Chat, store: Store
) -> None:
    await chat.say("alice", "/ask Does the linen shirt run large?")
    for n in range(3):  # [questions] answers_per_question
        said = await chat.say("bob", f"/answer 1 take size {n}")
        assert said.text is not None and said.text.startswith(f"💬 Answer #{n + 1} to question #1")
    flood = await chat.say("bob", "/answer 1 take size 4")
    assert flood.text == (
        "You gave question #1 3 answers already, as many as one member may:"
        " /questions 1 shows them."
    )
    await chat.say("carol", "/answer 1 true to size")
    notices = [words for _, words in posted(store, kind="direct")]
    assert len(notices) == 2
    assert "from bob" in notices[0] and "from carol" in notices[1]
    assert len(rows(store, answers)) == 4  # every answer taken is kept and shown by /questions 1


async def test_bounties_typed_every_wrong_way_get_the_answer_that_fits(
    chat: Chat, store: Store
) -> None:
    await chat.say("alice", "/start")
    await chat.say("boss", "/award @alice 100 welcome")
    said = {
        typed: (await chat.say("alice", typed)).text
        for typed in (
            "/ask --bounty 1000000000000 Which size?",
            "/ask --bounty 0 Which size?",
            "/ask --bounty=abc Which size?",
            "/ask --bounty 101 Which size?",
            "/ask --bounty",
        )
    }
    assert list(said.values()) == [
        "A bounty can be at most 1,000 points (you offered 1,000,000,000,000).",
        "A bounty is a whole number of points before the question: "
        "/ask --bounty 50 your question (at most 1,000).",
        "A bounty is a whole number of points before the question: "
        "/ask --bounty 50 your question (at most 1,000).",
        "A bounty of 101 points is more than you have (100). Nothing was asked: "
        "offer less, or ask without a bounty.",
        "A bounty is a whole number of points before the question: "
        "/ask --bounty 50 your question (at most 1,000).",
    ]
    reconfigure(store, locale="zh_CN", extra="[questions]\nmax_bounty = 0\n")
    for typed in (
        "/ask --bounty 5 尺码偏大吗？",
        "/ask --bounty 0 尺码偏大吗？",
        "/ask --悬赏 多 尺码?",
    ):
        off = await chat.say("alice", typed)
        assert off.outcome.reply is not None and off.outcome.reply.template == (
            "questions/no_bounties"
        ), typed
    assert rows(store, questions_table) == []
    assert ledger_state(store, "console", "alice") == (100, 100)


async def test_numbers_copied_as_the_bot_writes_them_are_understood(
    chat: Chat, store: Store
) -> None:
    await chat.say("alice", "/ask Which colour sells out first?")
    answered = await chat.say("bob", "/answer #1 #2 sage green, then navy")
    assert answered.text is not None and answered.text.startswith("💬 Answer #1 to question #1")
    assert [row.text for row in rows(store, answers)] == ["#2 sage green, then navy"]
    done = await chat.say("alice", "/accept ＃1 #1")
    assert done.text is not None and done.text.startswith("✅ alice accepted answer #1 by bob")


async def test_a_question_over_several_lines_keeps_to_its_line_in_the_list(
    chat: Chat, store: Store
) -> None:
    await chat.say("alice", "/ask Where is my parcel?\n#7 Free points for all — boss, 9 answers")
    listed = await chat.say("bob", "/questions")
    assert listed.text == (
        "❓ Open questions (1):\n"
        "#1 Where is my parcel? #7 Free points for all — boss, 9 answers — alice, 0 answers\n"
        "See one with /questions NUMBER; answer with /answer NUMBER your answer."
    )
    shown = await chat.say("bob", "/questions 1")  # the question itself, as asked
    assert shown.text is not None and "Where is my parcel?\n#7 Free points" in shown.text


async def test_a_reply_in_a_busy_group_costs_one_read(chat: Chat, store: Store) -> None:
    await chat.say("alice", "/ask Does the linen shirt run large?")
    _sent(store, "questions/posted", "9001")
    await chat.say("boss", "/poll Best colour? | red | blue")
    _sent(store, "polls/poll", "9002")
    await chat.say("bob", "/checkin")
    assert await reply(chat, "bob", "it does", to="9001")  # the post's id is read once
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(str(args[2]))

    engine = store._writer_engine  # what the writer sends is what a unit of work costs
    event.listen(engine, "before_cursor_execute", record)
    try:
        for to in ("9002", "4242", "9003"):  # the poll, someone's message, a check-in answer
            said = await reply(chat, "carol", "+1, red", to=to)
            assert said.outcome.reply is None
        plain = await chat.say("carol", "hello all")
        assert plain.outcome.reply is None
    finally:
        event.remove(engine, "before_cursor_execute", record)
    reads = [s for s in seen if "question" in s]
    assert len(reads) == 3  # one per reply, none for a plain message
    assert len(rows(store, answers)) == 1


async def test_a_crash_between_the_hold_and_the_post_leaves_no_hold(
    chat: Chat, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    await chat.say("alice", "/start")
    await chat.say("boss", "/award @alice 50 welcome")

    def crash(*args: object, **kwargs: object) -> int:
        raise RuntimeError("the process died here")

    monkeypatch.setattr(question_messages, "post", crash)
    failed = await chat.say("alice", "/ask --bounty 50 Which courier is fastest?")
    assert failed.outcome.reply is None or failed.outcome.reply.template != "questions/asked"
    assert rows(store, questions_table) == []
    assert ledger_state(store, "console", "alice") == (50, 50)


async def test_strangers_answerers_and_forged_buttons_change_nothing(
    chat: Chat, store: Store
) -> None:
    reconfigure(store, locale="zh_CN")
    await chat.say("alice", "/start")
    await chat.say("boss", "/award @alice 30 欢迎")
    await chat.say("alice", "/ask --bounty 30 这个尺码偏大吗？")
    await chat.say("bob", "/answer 1 偏大一码")
    await chat.say("alice", "/ask 周日营业吗？")
    private = Chat(chat.dispatcher, chat.clock, chat_id="dm-alice", private=True)
    other_group = Chat(chat.dispatcher, chat.clock, chat_id="group-2")
    said = [
        (await chat.say("bob", "/accept 1")).text,  # the answerer
        (await chat.press("carol", "/accept 1 1")).text,  # a stranger's press
        (await other_group.press("alice", "/accept 1 2")).text,  # a button forged for #2
        (await private.say("alice", "/ask 私聊里能问吗？")).text,
        (await chat.say("carol", "/answer 3 好")).text,
    ]
    assert said == [
        "只有问题 #1 的提问者（或管理员）可以采纳回答。",
        "只有问题 #1 的提问者（或管理员）可以采纳回答。",
        "回答 #1 属于问题 #1，不是问题 #2。未采纳任何回答。",
        "请在社群的群组里提问，这样成员才能回答：/ask 你的问题",
        "这里没有问题 #3。/questions 可查看未解决的问题。",
    ]
    assert all(row.accepted_at is None for row in rows(store, answers))
    assert len(rows(store, questions_table)) == 2
    assert ledger_state(store, "console", "alice") == (0, 0)
    accepted = await other_group.press("alice", "/accept 1 1")  # her own button, elsewhere
    assert accepted.text is not None and accepted.text.startswith("✅ alice 采纳了 bob")
    assert ledger_state(store, "console", "bob")[0] == 20 + 30


async def test_linking_the_asker_and_the_answerer_keeps_every_point(
    chat: Chat, dispatcher: Dispatcher, store: Store
) -> None:
    discord = Chat(dispatcher, chat.clock, platform="discord", chat_id="discord-group")
    await chat.say("alice", "/start")
    await chat.say("boss", "/award @alice 100 welcome")
    await chat.say("alice", "/ask --bounty 30 Which size fits?")
    await chat.say("alice", "/ask --bounty 20 Which colour fits?")
    await discord.say("alice", "/answer 1 M fits")  # her other account, not linked yet
    await discord.say("alice", "/answer 2 red")
    await chat.say("bob", "/answer 2 blue")
    await link(chat, discord, "alice")  # now one member: asker and answerer
    own = await chat.say("alice", "/accept 1")
    assert own.text == (
        "✅ alice accepted answer #1 by alice to question #1. (Accepting your own answer earns "
        "nothing.) The bounty of 30 points went back to the asker."
    )
    chat.now += timedelta(days=8)
    firings = Firings(store, clock=lambda: chat.now)
    await firings.sweep(chat.now - timedelta(hours=1))
    await firings.sweep()  # the first sweep after a week down: the bounty of #2 returns
    assert ledger_state(store, "console", "alice") == (100, 100)
    assert ledger_state(store, "console", "bob") == (0, 0)
    entries = [(row.delta, row.reason) for row in rows(store, ledger_table)]
    held = [(-30, "bounty"), (-20, "bounty")]
    back = [(30, "bounty_returned"), (20, "bounty_returned")]
    assert sorted(entries) == sorted([(100, "award"), *held, *back])
