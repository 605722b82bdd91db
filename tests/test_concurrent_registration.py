"""Two bots on one database at once: the same new members, the same updates, the same handles.

Two Stores (two engines, two writer threads) in this process, and two real OS processes, each
handle events about the same people at the same moment. Whoever loses a race must find the
winner's rows and answer normally: one member, one account and one balance per person, the
ledger balanced, an update handled once, a handle held by one account.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
import traceback
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pytest
from sqlalchemy import Connection, func, select

from community.communities import apply_config, community_for_chat
from community.config import parse_config
from handlers.parsing import event_from_text
from handlers.router import Dispatcher, Outcome
from handlers.types import AccountRef, ChatRef, Event, EventKind
from loyalty.ledger import ledger_sum
from storage.schema import accounts, balances, ledger, members
from storage.store import Store
from tests.conftest import T0, TEST_COMMUNITY, make_dispatcher

CHAT = ChatRef("console", "group-1", title="group-1")
PEOPLE = 30
# A unit of work that fails only ever answers this; racing must never produce it.
FAILED = "common/internal_error"


def _event(event_id: str, user: str, text: str, *, handle: str | None = None) -> Event:
    actor = AccountRef("console", user, user.title(), username=handle or user)
    return event_from_text(event_id=event_id, chat=CHAT, actor=actor, text=text, occurred_at=T0)


def _dispatcher(store: Store) -> Dispatcher:
    return make_dispatcher(store, lambda: T0)


def _open_group(store: Store) -> None:
    """The group is known already, as it mostly is: its first sighting would otherwise order
    the two bots' units of work (both insert its row), and they would never really race."""
    store.write_now(
        community_for_chat,
        platform=CHAT.platform,
        chat_id=CHAT.chat_id,
        title=CHAT.title,
        default_slug="acme",
        at=T0,
    )


def _hold(_conn: Connection, gate: threading.Event) -> None:
    """Keeps a writer busy until the gate opens, so everything behind it forms one batch."""
    assert gate.wait(30), "gate never opened"


@dataclass
class Bot:
    """One bot instance: its own store (engine, writer thread) and dispatcher."""

    store: Store
    dispatcher: Dispatcher


@pytest.fixture
async def bots(db_url: str, request: pytest.FixtureRequest) -> AsyncIterator[tuple[Bot, Bot]]:
    """Two bot instances on one database with the test community loaded."""
    max_batch = getattr(request, "param", 128)
    first = Store(db_url, max_batch=max_batch)
    config, digest = parse_config(TEST_COMMUNITY)
    first.write_now(
        apply_config, config, digest, default_timezone="UTC", default_locale="en", at=T0
    )
    _open_group(first)
    second = Store(db_url, max_batch=max_batch)
    try:
        yield Bot(first, _dispatcher(first)), Bot(second, _dispatcher(second))
    finally:
        first.close()
        second.close()


async def _at_once(plan: Sequence[tuple[Bot, Sequence[Event]]]) -> list[list[Outcome]]:
    """Hand each bot its events while its writer is held, then let all writers go together."""
    gates = [threading.Event() for _ in plan]
    held = [
        asyncio.ensure_future(bot.store.write(_hold, gate))
        for (bot, _), gate in zip(plan, gates, strict=True)
    ]
    runs = [
        asyncio.ensure_future(asyncio.gather(*(bot.dispatcher.handle(e) for e in events)))
        for bot, events in plan
    ]
    await asyncio.sleep(0.05)  # let every unit of work reach its writer's queue
    for gate in gates:
        gate.set()
    await asyncio.gather(*held)
    return [list(outcomes) for outcomes in await asyncio.gather(*runs)]


@dataclass(frozen=True)
class Books:
    """Who is registered and what they hold, read straight from the tables."""

    members: list[int]
    accounts: dict[str, int]  # platform user id -> member id
    balances: dict[int, int]  # member id -> points
    sums: dict[int, int]  # member id -> sum of their ledger entries
    checkins: int  # ledger entries paid for a check-in


def _books(conn: Connection) -> Books:
    member_ids = list(conn.execute(select(members.c.id)).scalars())
    account_rows = conn.execute(select(accounts.c.platform_user_id, accounts.c.member_id)).all()
    balance_rows = conn.execute(select(balances.c.member_id, balances.c.points)).all()
    paid = conn.execute(
        select(func.count()).select_from(ledger).where(ledger.c.reason == "checkin")
    ).scalar_one()
    return Books(
        members=member_ids,
        accounts={row.platform_user_id: row.member_id for row in account_rows},
        balances={row.member_id: row.points for row in balance_rows},
        sums={m: ledger_sum(conn, m) for m in member_ids},
        checkins=int(paid),
    )


def _assert_one_of_each(books: Books, people: Sequence[str]) -> None:
    assert sorted(books.accounts) == sorted(people)
    # No member without an account (a lost race's leftover), none shared by two people.
    assert sorted(books.accounts.values()) == sorted(books.members)
    assert sorted(books.balances) == sorted(books.members)
    assert books.balances == books.sums


def _templates(outcomes: Sequence[Outcome]) -> list[str | None]:
    return [o.reply.template if o.reply else None for o in outcomes]


PEOPLE_NAMES = [f"p{n}" for n in range(PEOPLE)]


@pytest.mark.parametrize("bots", [128, 1], indirect=True, ids=["batched", "one_per_commit"])
@pytest.mark.parametrize("order", ["same_order", "reversed"])
async def test_two_bots_registering_the_same_members_at_once_make_one_of_each(
    bots: tuple[Bot, Bot], order: str
) -> None:
    first, second = bots
    checking_in = [_event(f"test:a-{p}", p, "/checkin") for p in PEOPLE_NAMES]
    asking = [_event(f"test:b-{p}", p, "/points") for p in PEOPLE_NAMES]
    if order == "reversed":
        asking.reverse()
    done_first, done_second = await _at_once([(first, checking_in), (second, asking)])
    assert _templates(done_first) == ["checkin/done"] * PEOPLE
    assert _templates(done_second) == ["points/points"] * PEOPLE
    books = first.store.read_now(_books)
    _assert_one_of_each(books, PEOPLE_NAMES)
    assert sorted(books.balances.values()) == [10] * PEOPLE
    assert books.checkins == PEOPLE


async def test_one_update_handled_by_two_bots_at_once_counts_once(bots: tuple[Bot, Bot]) -> None:
    first, second = bots
    # The same updates reach both bots (a redelivery landing on the other instance).
    updates = [_event(f"test:same-{p}", p, "/checkin") for p in PEOPLE_NAMES]
    done_first, done_second = await _at_once([(first, updates), (second, updates)])
    for one, other in zip(done_first, done_second, strict=True):
        assert sorted([one.duplicate, other.duplicate]) == [False, True]
        handled = other if one.duplicate else one
        assert handled.reply is not None and handled.reply.template == "checkin/done"
    books = first.store.read_now(_books)
    _assert_one_of_each(books, PEOPLE_NAMES)
    assert books.checkins == PEOPLE


async def test_two_accounts_claiming_one_handle_at_once_leave_it_to_one(
    bots: tuple[Bot, Bot],
) -> None:
    first, second = bots
    # The platform gave each handle to someone new; the old holder's stale update arrives at
    # the other bot at the same moment. Either may win; never both.
    olds = [_event(f"test:o-{n}", f"old{n}", "hi", handle=f"h{n}") for n in range(PEOPLE)]
    news = [_event(f"test:n-{n}", f"new{n}", "hi", handle=f"h{n}") for n in range(PEOPLE)]
    done_first, done_second = await _at_once([(first, olds), (second, news)])
    assert FAILED not in _templates(done_first + done_second)
    held = first.store.read_now(
        lambda conn: conn.execute(
            select(accounts.c.username_key, func.count())
            .where(accounts.c.username_key.is_not(None))
            .group_by(accounts.c.username_key)
        ).all()
    )
    assert {key: count for key, count in held} == {f"h{n}": 1 for n in range(PEOPLE)}


# Two real processes: each runs its own bot (store, writer thread, dispatcher) and waits at a
# barrier, so their first units of work start together.


def _bot_process(url: str, max_batch: int, events: list[Event], barrier: Any, results: Any) -> None:
    try:
        results.put(asyncio.run(_serve(url, max_batch, events, barrier)))
    except BaseException:
        barrier.abort()  # the other process stops waiting for this one
        results.put(traceback.format_exc())
        raise


async def _serve(
    url: str, max_batch: int, events: list[Event], barrier: Any
) -> list[tuple[str | None, bool]]:
    store = Store(url, max_batch=max_batch)
    try:
        dispatcher = _dispatcher(store)
        barrier.wait(60)
        outcomes = await asyncio.gather(*(dispatcher.handle(e) for e in events))
        return [(o.reply.template if o.reply else None, o.duplicate) for o in outcomes]
    finally:
        store.close()


def _in_processes(
    url: str, max_batch: int, plans: Sequence[list[Event]]
) -> list[list[tuple[str | None, bool]]]:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(plans))
    queues = [context.Queue() for _ in plans]
    processes = [
        context.Process(
            target=_bot_process, args=(url, max_batch, plan, barrier, queue), daemon=True
        )
        for plan, queue in zip(plans, queues, strict=True)
    ]
    for process in processes:
        process.start()
    try:
        results = [queue.get(timeout=120) for queue in queues]
        for result in results:
            if isinstance(result, str):
                pytest.fail(f"a bot process failed:\n{result}")
    finally:
        for process in processes:
            process.join(30)
            if process.is_alive():
                process.kill()
    assert [p.exitcode for p in processes] == [0] * len(plans)
    return results


@pytest.mark.parametrize("max_batch", [128, 1], ids=["batched", "one_per_commit"])
async def test_two_processes_registering_the_same_members_at_once_make_one_of_each(
    store: Store, max_batch: int
) -> None:
    first = [_event(f"test:a-{p}", p, "/checkin") for p in PEOPLE_NAMES]
    second = [_event(f"test:b-{p}", p, "/points") for p in PEOPLE_NAMES]
    # And the same updates reaching both processes: each is handled by one of them.
    same = [_event(f"test:same-{p}", p, "/me") for p in PEOPLE_NAMES]
    _open_group(store)
    results = await asyncio.to_thread(
        _in_processes, store.url, max_batch, [first + same, second + list(reversed(same))]
    )
    replies = [template for result in results for template, _ in result]
    assert FAILED not in replies
    assert [t for t, _ in results[0][:PEOPLE]] == ["checkin/done"] * PEOPLE
    assert [t for t, _ in results[1][:PEOPLE]] == ["points/points"] * PEOPLE
    handled_same = [not dup for result in results for _, dup in result[PEOPLE:]]
    assert handled_same.count(True) == PEOPLE
    books = store.read_now(_books)
    _assert_one_of_each(books, PEOPLE_NAMES)
    assert sorted(books.balances.values()) == [10] * PEOPLE
    assert books.checkins == PEOPLE


@pytest.mark.parametrize("bots", [128, 1], indirect=True, ids=["batched", "one_per_commit"])
async def test_one_member_checking_in_on_two_bots_at_once_checks_in_once(
    bots: tuple[Bot, Bot],
) -> None:
    first, second = bots
    # Known members (different updates, e.g. Telegram and a retry that reached the other
    # instance): the loser of each race is told it is done already, never "went wrong".
    await asyncio.gather(
        *(first.dispatcher.handle(_event(f"test:s-{p}", p, "hi")) for p in PEOPLE_NAMES)
    )
    ones = [_event(f"test:x-{p}", p, "/checkin") for p in PEOPLE_NAMES]
    others = [_event(f"test:y-{p}", p, "签到") for p in reversed(PEOPLE_NAMES)]
    done_first, done_second = await _at_once([(first, ones), (second, others)])
    replies = _templates(done_first) + _templates(done_second)
    assert FAILED not in replies
    assert replies.count("checkin/done") == PEOPLE
    assert replies.count("checkin/already_done") == PEOPLE
    books = first.store.read_now(_books)
    _assert_one_of_each(books, PEOPLE_NAMES)
    assert books.checkins == PEOPLE


async def test_one_member_voting_on_two_bots_at_once_is_paid_once(bots: tuple[Bot, Bot]) -> None:
    first, second = bots
    opened = await first.dispatcher.handle(_event("test:poll", "boss", "/poll Tea? | Yes | No"))
    assert opened.reply is not None and opened.reply.poll is not None
    poll = opened.reply.poll.poll_id
    await asyncio.gather(
        *(first.dispatcher.handle(_event(f"test:s-{p}", p, "hi")) for p in PEOPLE_NAMES)
    )

    def press(bot: str, person: str, option: int) -> Event:
        return replace(
            _event(f"test:{bot}-{person}", person, f"/vote {poll} {option}"),
            kind=EventKind.BUTTON,
            private_reply=True,
        )

    ones = [press("v", p, 0) for p in PEOPLE_NAMES]
    others = [press("w", p, 1) for p in PEOPLE_NAMES]
    done_first, done_second = await _at_once([(first, ones), (second, others)])
    assert _templates(done_first) + _templates(done_second) == ["polls/voted"] * (2 * PEOPLE)
    books = first.store.read_now(_books)
    paid = sorted(books.balances[books.accounts[p]] for p in PEOPLE_NAMES)
    assert paid == [2] * PEOPLE
    assert books.balances == books.sums


async def test_one_link_code_redeemed_on_two_bots_at_once_links_once(
    bots: tuple[Bot, Bot],
) -> None:
    first, second = bots

    def private(platform: str, user: str, text: str, event_id: str, *, button: bool) -> Event:
        chat = ChatRef(platform, f"dm-{user}", title=user, private=True)
        actor = AccountRef(platform, user, user.title(), username=user)
        event = event_from_text(
            event_id=event_id, chat=chat, actor=actor, text=text, occurred_at=T0
        )
        kind = EventKind.BUTTON if button else event.kind
        return replace(event, kind=kind, private_reply=True)

    for round_ in range(5):
        shown = await first.dispatcher.handle(
            private("telegram", f"victim{round_}", "/link", f"test:c{round_}", button=False)
        )
        assert shown.reply is not None and shown.reply.template == "link/code"
        code = shown.reply.context["code"]
        line = f"/link {code} confirm"
        one = private("discord", f"a{round_}", line, f"test:a{round_}", button=True)
        other = private("discord", f"b{round_}", line, f"test:b{round_}", button=True)
        done_first, done_second = await _at_once([(first, [one]), (second, [other])])
        assert sorted(_templates(done_first + done_second)) == ["link/bad_code", "link/done"]
    doubled = first.store.read_now(
        lambda conn: conn.execute(
            select(accounts.c.member_id, accounts.c.platform)
            .group_by(accounts.c.member_id, accounts.c.platform)
            .having(func.count() > 1)
        ).all()
    )
    assert doubled == []
