"""Lucky draws attacked: who can steer a draw or make it unverifiable. The tier an open draw asks
for removed from community.toml; a /link racing the close or an entry on PostgreSQL (a winner
withdrawn and refunded after the draw, two entries for one person); an entrants' list too big
for one file; the README's check run on the CSV as a member would; a close missed while the bot
was down."""

from __future__ import annotations

import csv
import hashlib
import io
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import Connection, Engine, insert, select, text

from community import draw_admin, draw_entering, draws
from community.audit import Actor
from community.communities import Community, apply_config
from community.config import parse_config
from community.draw_closing import close
from community.draw_options import Conditions, DrawSpec
from community.linking import merge_members
from community.members import Member, identify
from handlers.firings import Firings
from loyalty import ledger
from loyalty.errors import UserError
from storage.draw_tables import draw_entries
from storage.draw_tables import draws as draws_table
from storage.engine import make_engine
from storage.schema import ledger as ledger_table
from storage.store import Store
from tests.conftest import T0, TEST_COMMUNITY
from tests.domain.conftest import give, local
from tests.harness import Chat, Clock, posted, rows

BOSS = Actor(None, "console:boss")
ANYONE = Conditions()
CLOSE = local(1, 20)


def _join(conn: Connection, community: Community, name: str, platform: str = "telegram") -> Member:
    return identify(
        conn,
        community_id=community.id,
        platform=platform,
        user_id=name,
        display_name=name.title(),
        username=name,
        at=local(1, 8),
    )


def _start(
    conn: Connection,
    community: Community,
    *,
    winners: int = 2,
    conditions: Conditions = ANYONE,
    points: int = 0,
) -> draws.Draw:
    spec = DrawSpec("A tote bag", winners, CLOSE, conditions, points)
    return draw_admin.start(conn, community, spec, actor=BOSS, at=local(1, 9)).draw


def readme_winners(csv_bytes: bytes, seed: str, commitment: str, how_many: int) -> list[int]:
    """The README's check, as a member runs it on the file /draw entrants sends."""
    assert hashlib.sha256(seed.encode()).hexdigest() == commitment
    with io.StringIO(csv_bytes.decode("utf-8-sig"), newline="") as file:
        taking_part = [
            int(row["entry"]) for row in csv.DictReader(file) if row["taking_part"] == "yes"
        ]
    ranked = sorted(taking_part, key=lambda n: hashlib.sha256(f"{seed}:{n}".encode()).hexdigest())
    return ranked[:how_many]


# Settings changed between runs ------------------------------------------------------------------


def test_an_open_draw_for_a_tier_the_operator_removed_takes_the_highest_tier_left(
    conn: Connection, community: Community
) -> None:
    draw = _start(conn, community, conditions=Conditions(min_tier=3))  # Diamond and above
    rules = community.rules
    three = rules.tiers.model_copy(update={"levels": rules.tiers.levels[:3]})
    shrunk = replace(community, rules=rules.model_copy(update={"tiers": three}))
    gold, silver = _join(conn, shrunk, "gold"), _join(conn, shrunk, "silver")
    # The draw now reads "Gold members and above": Gold, the highest tier left, gets in.
    assert draws.describe(draw, shrunk)["tier"]["en"] == "Gold"
    entered = draw_entering.enter(
        conn, shrunk, draw.id, member=replace(gold, tier=2), at=local(1, 10)
    )
    assert entered.entry == 1
    with pytest.raises(UserError) as refused:
        draw_entering.enter(conn, shrunk, draw.id, member=replace(silver, tier=1), at=local(1, 10))
    assert refused.value.key == "draw/tier_too_low"
    assert refused.value.context["tier"]["en"] == "Gold"


# The entrants' list is what was drawn among: /link racing the close and entries (PostgreSQL) ---


@dataclass
class Two:
    """The test community on two engines (two bot processes), a draw open until 20:00 and two
    members who are one person on two platforms, both entered (the Discord one second)."""

    engines: tuple[Engine, Engine]
    community: Community
    alice: Member
    on_discord: Member
    draw: draws.Draw
    postgresql: bool


@pytest.fixture
def two(db_url: str) -> Iterator[Two]:
    engines = (make_engine(db_url, writer=True), make_engine(db_url, writer=True))
    config, digest = parse_config(TEST_COMMUNITY)
    with engines[0].begin() as conn:
        community = apply_config(
            conn, config, digest, default_timezone="UTC", default_locale="en", at=T0
        )
        alice = _join(conn, community, "alice")
        on_discord = _join(conn, community, "alice2", "discord")
        draw = _start(conn, community, winners=2, conditions=Conditions(cost=10))
    yield Two(engines, community, alice, on_discord, draw, db_url.startswith("postgresql"))
    for engine in engines:
        engine.dispose()


def _link(two: Two) -> Callable[[Connection], None]:
    def run(conn: Connection) -> None:
        merge_members(
            conn,
            two.community,
            keep=two.alice.id,
            absorb=two.on_discord.id,
            at=local(1, 19, 59),
            account="discord:alice2",
        )

    return run


def _close(two: Two) -> Callable[[Connection], None]:
    def run(conn: Connection) -> None:
        close(conn, two.community, two.draw.id, CLOSE)

    return run


def _enter(two: Two, member: Member) -> Callable[[Connection], None]:
    def run(conn: Connection) -> None:
        draw_entering.enter(conn, two.community, two.draw.id, member=member, at=local(1, 19, 59))

    return run


def _first_then(
    two: Two, first: Callable[[Connection], None], second: Callable[[Connection], None]
) -> None:
    """`first` in a transaction left open while `second` runs on the other engine (waiting
    for it where the database makes it wait), then `first` commits and `second` finishes."""
    with ThreadPoolExecutor(1) as pool:
        with two.engines[0].begin() as conn:
            first(conn)
            later: Future[None] = pool.submit(_in_transaction, two.engines[1], second)
            _until_waiting_or_done(two, later)
        later.result(timeout=60)


def _in_transaction(engine: Engine, work: Callable[[Connection], None]) -> None:
    with engine.begin() as conn:
        work(conn)


def _until_waiting_or_done(two: Two, later: Future[None]) -> None:
    """Until `later` waits for a lock the open transaction holds, or has finished (it did not
    need to wait). SQLite's writers take turns whatever happens: it waits for the commit."""
    if not two.postgresql:
        return
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + 30
    with two.engines[0].connect() as watcher:
        while not later.done() and time.monotonic() < deadline:
            if watcher.execute(waiting).scalar_one():
                return
            watcher.rollback()
            time.sleep(0.02)


def _entries(two: Two) -> list[tuple[int, int, bool, int | None]]:
    with two.engines[0].connect() as conn:
        found = conn.execute(
            select(
                draw_entries.c.number,
                draw_entries.c.member_id,
                draw_entries.c.withdrawn,
                draw_entries.c.rank,
            )
            .where(draw_entries.c.draw_id == two.draw.id)
            .order_by(draw_entries.c.number)
        ).all()
    return [(row[0], row[1], bool(row[2]), row[3]) for row in found]


def _both_entered(two: Two) -> None:
    with two.engines[0].begin() as conn:
        for member in (two.alice, two.on_discord):
            give(conn, member, 10)
            draw_entering.enter(conn, two.community, two.draw.id, member=member, at=local(1, 10))


def _the_csv_recomputes_the_drawn_winners(two: Two) -> None:
    with two.engines[0].connect() as conn:
        drawn = draws.draw_by_id(conn, two.community.id, two.draw.id)
        assert drawn is not None and drawn.state == draws.DRAWN
        document, _ = draws.entrants_csv(conn, drawn, two.community)
        won = [w.number for w in draws.winners_of(conn, drawn.id)]
    assert readme_winners(document.content, drawn.seed, drawn.commitment, drawn.winners) == won


@pytest.mark.parametrize("linked_first", [True, False], ids=["link-then-close", "close-then-link"])
def test_a_link_racing_the_close_never_withdraws_an_entry_that_was_drawn_among(
    two: Two, linked_first: bool
) -> None:
    _both_entered(two)
    if linked_first:
        _first_then(two, _link(two), _close(two))
    else:
        _first_then(two, _close(two), _link(two))
    entries = _entries(two)
    # Either the link came first (entry 2 withdrawn, never drawn, its fee back) or the close
    # did (both entries drawn, as they stood): never a withdrawn entry with a place.
    assert [e for e in entries if e[2] and e[3] is not None] == []
    _the_csv_recomputes_the_drawn_winners(two)
    with two.engines[0].connect() as conn:
        refunded = conn.execute(
            select(ledger_table.c.idempotency_key).where(ledger_table.c.reason == "draw_refund")
        ).scalars()
        withdrawn = [f"draw_refund:{two.draw.id}:{e[0]}" for e in entries if e[2]]
        assert sorted(refunded) == withdrawn
        assert ledger.balance(conn, two.alice.id) == ledger.ledger_sum(conn, two.alice.id)


@pytest.mark.parametrize("entered_first", [True, False], ids=["enter-then-link", "link-then-enter"])
def test_an_entry_racing_a_link_leaves_the_person_one_entry(two: Two, entered_first: bool) -> None:
    with two.engines[0].begin() as conn:
        give(conn, two.alice, 10)
        give(conn, two.on_discord, 10)
        draw_entering.enter(
            conn, two.community, two.draw.id, member=two.on_discord, at=local(1, 10)
        )
    try:
        if entered_first:
            _first_then(two, _enter(two, two.alice), _link(two))
        else:
            _first_then(two, _link(two), _enter(two, two.alice))
    except UserError as refusal:  # the link came first: alice holds the entry she linked
        assert refusal.key == "draw/already_entered" and not entered_first
    taking_part = [e for e in _entries(two) if not e[2]]
    assert [e[1] for e in taking_part] == [two.alice.id]


# The entrants' list too big for one file ----------------------------------------------------------


async def test_an_entrants_list_cut_to_fit_a_file_says_how_many_it_leaves_out(
    chat: Chat, store: Store
) -> None:
    await chat.say("boss", "/draw start Mug --winners 1 --until 20:00")
    [draw] = rows(store, draws_table)
    made = 15_000  # entries with long Chinese names: more than the 8 MB a file may carry

    def fill(conn: Connection) -> None:
        member = identify(
            conn,
            community_id=draw.community_id,
            platform="console",
            user_id="crowd",
            display_name="长" * 200,
            username=None,
            at=T0,
        )
        conn.execute(
            insert(draw_entries),
            [
                {
                    "draw_id": draw.id,
                    "number": n,
                    "member_id": member.id,
                    "fee": 0,
                    "created_at": T0,
                    "withdrawn": False,
                }
                for n in range(1, made + 1)
            ],
        )

    store.write_now(fill)
    listed = await chat.say("zed", "/draw entrants 1")
    assert listed.outcome.reply is not None and listed.outcome.reply.document is not None
    held = len(listed.outcome.reply.document.content.decode("utf-8-sig").splitlines()) - 1
    assert 0 < held < made
    assert listed.text is not None
    assert f"only the first {held:,} of {made:,} entries" in listed.text


# The README's check, on the CSV a member downloads ----------------------------------------------


def test_the_readme_check_on_the_csv_finds_the_winners_with_a_withdrawn_entry(
    conn: Connection, community: Community
) -> None:
    draw = _start(conn, community, winners=3, points=5)
    people = [_join(conn, community, name) for name in ("ann", "bo", "cy", "di", "=evil")]
    twin = _join(conn, community, "ann2", "discord")
    for person in [*people[:3], twin, *people[3:]]:
        draw_entering.enter(conn, community, draw.id, member=person, at=local(1, 10))
    merge_members(conn, community, keep=people[0].id, absorb=twin.id, at=local(1, 11), account="x")
    before = draws.entrants_csv(conn, draw, community)[0].content
    assert readme_winners(before, draw.seed, draw.commitment, 3)  # the list, before the seed
    close(conn, community, draw.id, CLOSE)
    drawn = draws.draw_by_id(conn, community.id, draw.id)
    assert drawn is not None
    after = draws.entrants_csv(conn, drawn, community)[0].content
    won = [w.number for w in draws.winners_of(conn, draw.id)]
    assert readme_winners(after, drawn.seed, draw.commitment, 3) == won
    assert 4 not in readme_winners(after, drawn.seed, draw.commitment, 6)  # withdrawn: no part


# A close missed while the bot was down ----------------------------------------------------------


async def test_a_close_missed_while_the_bot_was_down_is_drawn_when_it_is_back(
    chat: Chat, store: Store, clock: Clock
) -> None:
    await Firings(store, clock=clock).sweep(clock.now)
    await chat.say("boss", "/draw start Mug --winners 1 --until 20:00")
    await chat.say("alice", "/draw enter 1")
    # Down from 19:00 to 23:50: the close's own firing is past its grace; the hourly sweep of
    # 23:00 is within it, and draws the draw as the bot starts.
    clock.now = datetime(2026, 11, 23, 15, 50, tzinfo=UTC)
    late = await chat.press("bob", "/draw enter 1")  # before the first sweep: no entry either
    assert late.text is not None and "is closed and its winners are being drawn" in late.text
    await Firings(store, clock=clock).sweep(clock.now)
    [draw] = rows(store, draws_table)
    assert draw.state == "drawn"
    [entry] = rows(store, draw_entries)
    assert entry.rank == 1
    assert [text for _, text in posted(store) if text.startswith("🎉")]
