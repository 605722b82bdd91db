"""Lucky draws as plain functions: the algorithm recomputed independently of our code, /draw
start's options, and a draw's life on a real database with the clock moved (entries, fees,
conditions, the close drawn once, cancels giving fees back, /link's merge)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import Connection, select, update

from community import draw_admin, draw_entering, draw_jobs, draws
from community.audit import Actor
from community.checkins import check_in
from community.communities import Community
from community.draw_options import Conditions, DrawSpec, read_conditions, read_start
from community.draw_picking import commitment, new_seed, pick
from community.jobs import FiringContext
from community.linking import merge_members
from community.members import Member
from loyalty import ledger
from loyalty.errors import UserError
from storage.draw_tables import draw_entries
from storage.schema import audit_log, balances
from storage.schema import ledger as ledger_table
from tests.domain.conftest import Join, give, local

# The algorithm, re-implemented from the README's words alone: what anyone checking a draw runs.


def recompute(seed: str, numbers: list[int], how_many: int) -> list[int]:
    def key(n: int) -> str:
        return hashlib.sha256(f"{seed}:{n}".encode()).hexdigest()

    return sorted(numbers, key=key)[:how_many]


def test_the_winners_are_the_lowest_scores_as_anyone_recomputes_them() -> None:
    seed = "5" * 64
    numbers = list(range(1, 41))
    assert pick(seed, numbers, 3) == recompute(seed, numbers, 3)
    assert commitment(seed) == hashlib.sha256(seed.encode()).hexdigest()
    # The order entries are handed in is no part of the result.
    assert pick(seed, reversed(numbers), 3) == pick(seed, numbers, 3)
    # Another seed, another result; the same seed, the same result.
    assert pick("6" * 64, numbers, 3) != pick(seed, numbers, 3)


def test_fewer_entrants_than_winners_all_win_and_nobody_is_nobody() -> None:
    seed = new_seed()
    assert len(seed) == 64 and int(seed, 16) >= 0
    assert sorted(pick(seed, [4, 9], 5)) == [4, 9]
    assert pick(seed, [], 3) == []


def test_a_fresh_seed_each_draw() -> None:
    assert len({new_seed() for _ in range(50)}) == 50


# /draw start's words ----------------------------------------------------------------------------


def test_start_reads_english_and_chinese_options(community: Community) -> None:
    now = local(1, 9)
    spec = read_start(
        "A tote bag --winners 3 --until 20:00 --entry checkin,tier>=silver,cost=20 --points 50",
        community,
        now,
    )
    assert spec == DrawSpec(
        "A tote bag", 3, local(1, 20), Conditions(checkin=True, min_tier=1, cost=20), 50
    )
    chinese = read_start("帆布袋 ——名额 ２ --截止 晚上8点 --条件 签到、tier≥金卡", community, now)
    assert chinese == DrawSpec("帆布袋", 2, local(1, 20), Conditions(True, 2, 0), 0)
    dated = read_start("Mug --until 2026-11-25 09:30 --winners=1", community, now)
    assert dated.closes_at == local(3, 9, 30) and dated.winners == 1
    timed = read_start(
        "Mug --winners 1 --for 2h --entry cost = 5 --entry tier >= 1|checkin", community, now
    )
    assert timed.closes_at == now + timedelta(hours=2)
    assert timed.conditions == Conditions(True, 1, 5)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("--winners 3 --until 20:00", "draw/start_usage"),
        ("Mug --until 20:00", "draw/start_usage"),
        ("Mug --winners 3", "draw/start_usage"),
        ("Mug --winners 0 --until 20:00", "draw/bad_winners"),
        ("Mug --winners 101 --until 20:00", "draw/bad_winners"),
        ("Mug --winners three --until 20:00", "draw/bad_winners"),
        ("Mug --winners 1 --until 20:00 --points 10001", "draw/bad_points"),
        ("Mug --winners 1 --until 20:00 --entry cost=1001", "draw/cost_too_big"),
        ("Mug --winners 1 --until 20:00 --entry tier>=platinum", "draw/unknown_tier"),
        ("Mug --winners 1 --until 20:00 --entry luck", "draw/bad_condition"),
        ("Mug --winners 1 --until 20:00 --entry cost=lots", "draw/bad_condition"),
        ("Mug --winners 1 --until 20:00 --prize 3", "draw/bad_option"),
        ("Mug --winners 1 --winners 2 --until 20:00", "draw/bad_option"),
        ("Mug --winners 1 --until 20:00 --for 2h", "draw/bad_option"),
        ("Mug --winners 1 --until soon", "draw/bad_until"),
        ("Mug --winners 1 --until 2026-11-22 20:00", "draw/until_past"),
        ("Mug --winners 1 --until 2027-06-01 20:00", "draw/until_out_of_range"),
        ("Mug --winners 1 --for 31d", "draw/until_out_of_range"),
        ("M" * 101 + " --winners 1 --until 20:00", "draw/prize_too_long"),
    ],
)
def test_bad_start_options_are_refused_with_what_is_wrong(
    community: Community, typed: str, key: str
) -> None:
    with pytest.raises(UserError) as refused:
        read_start(typed, community, local(1, 9))
    assert refused.value.key == key


def test_a_tier_is_named_in_either_language_by_its_start_or_by_number(
    community: Community,
) -> None:
    tiers, rules = community.rules.tiers, community.rules.draws
    for name in ("Gold", "gold", "金卡会员", "金卡", "2"):
        assert read_conditions(f"tier>={name}", tiers, rules).min_tier == 2
    assert read_conditions("tier>=0", tiers, rules).min_tier is None  # everyone: no condition
    with pytest.raises(UserError):
        read_conditions("tier>=会员", tiers, rules)  # the end of every name, the start of none


# A draw's life -----------------------------------------------------------------------------------

ANYONE = Conditions()


def start(
    conn: Connection,
    community: Community,
    boss: Actor,
    *,
    winners: int = 2,
    points: int = 0,
    conditions: Conditions = ANYONE,
) -> draws.Draw:
    spec = DrawSpec("A tote bag", winners, local(1, 20), conditions, points)
    return draw_admin.start(conn, community, spec, actor=boss, at=local(1, 9)).draw


def enter(
    conn: Connection, community: Community, draw: draws.Draw, member: Member, hour: int = 10
) -> draw_entering.Entered:
    return draw_entering.enter(conn, community, draw.id, member=member, at=local(1, hour))


def sweep(conn: Connection, community: Community, hour: int, minute: int = 0) -> int:
    at = local(1, hour, minute)
    return draw_jobs.close_due(FiringContext(conn, community, at, at, set()))


def refusal(call: object) -> str:
    with pytest.raises(UserError) as refused:
        call()  # type: ignore[operator]
    return refused.value.key


def test_a_draw_is_entered_closed_once_and_its_winners_paid_once(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    draw = start(conn, community, boss, winners=2, points=50)
    assert draw.commitment == commitment(draw.seed) and draw.revealed_seed is None
    people = [join(name) for name in ("alice", "bob", "carol", "dan")]
    numbers = [enter(conn, community, draw, person).entry for person in people]
    assert numbers == [1, 2, 3, 4]
    assert refusal(lambda: enter(conn, community, draw, people[0])) == "draw/already_entered"
    assert sweep(conn, community, 19, 59) == 0  # not yet
    late = join("erin")
    # Past the close, before the sweep: refused, and it would not count anyway.
    assert refusal(lambda: enter(conn, community, draw, late, hour=20)) == "draw/closed"
    assert sweep(conn, community, 20) == 1
    assert sweep(conn, community, 21) == 0  # a second firing draws nothing twice
    drawn = draws.draw_by_id(conn, community.id, draw.id)
    assert drawn is not None and drawn.state == draws.DRAWN and drawn.revealed_seed == draw.seed
    won = draws.winners_of(conn, draw.id)
    assert [w.number for w in won] == recompute(draw.seed, [1, 2, 3, 4], 2)
    for person in people:
        expected = 50 if any(w.member_id == person.id for w in won) else 0
        assert ledger.balance(conn, person.id) == expected
    prizes = conn.execute(
        select(ledger_table.c.idempotency_key).where(ledger_table.c.reason == "draw_prize")
    ).scalars()
    assert sorted(prizes) == sorted(f"draw_prize:{draw.id}:{w.member_id}" for w in won)
    closes = conn.execute(select(audit_log.c.details).where(audit_log.c.action == "draw_close"))
    [details] = closes.scalars()
    assert details["seed"] == draw.seed and details["winners"] == [w.number for w in won]
    assert refusal(lambda: enter(conn, community, draw, late, hour=22)) == "draw/closed"


def test_fewer_entrants_than_winners_all_win(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    draw = start(conn, community, boss, winners=5, points=10)
    alice, bob = join("alice"), join("bob")
    enter(conn, community, draw, alice)
    enter(conn, community, draw, bob)
    sweep(conn, community, 20)
    assert {w.member_id for w in draws.winners_of(conn, draw.id)} == {alice.id, bob.id}
    assert ledger.balance(conn, alice.id) == ledger.balance(conn, bob.id) == 10


def test_the_fee_is_paid_with_the_entry_and_too_few_points_change_nothing(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    draw = start(conn, community, boss, conditions=Conditions(cost=20))
    alice, bob = join("alice"), join("bob")
    give(conn, alice, 25)
    give(conn, bob, 19)
    entered = enter(conn, community, draw, alice)
    assert (entered.fee, entered.balance) == (20, 5)
    assert refusal(lambda: enter(conn, community, draw, bob)) == "draw/too_few_points"
    assert ledger.balance(conn, bob.id) == 19
    found = draws.draw_by_id(conn, community.id, draw.id)
    assert found is not None and found.entrants == 1


def test_conditions_are_checked_at_entry(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    draw = start(conn, community, boss, conditions=Conditions(checkin=True, min_tier=1))
    alice = join("alice")
    assert refusal(lambda: enter(conn, community, draw, alice)) == "draw/tier_too_low"
    conn.execute(update(balances).where(balances.c.member_id == alice.id).values(tier=1))
    silver = replace(alice, tier=None)
    assert refusal(lambda: enter(conn, community, draw, silver)) == "draw/needs_checkin"
    check_in(conn, community, alice.id, local(1, 10))
    assert enter(conn, community, draw, silver, hour=11).entry == 1


def test_a_cancelled_draw_gives_every_fee_back_and_draws_nothing(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    draw = start(conn, community, boss, conditions=Conditions(cost=20))
    alice = join("alice")
    give(conn, alice, 30)
    enter(conn, community, draw, alice)
    done = draw_admin.cancel(conn, community, draw.id, actor=boss, at=local(1, 12))
    assert (done.refunds, done.refunded) == (1, 20)
    assert ledger.balance(conn, alice.id) == ledger.ledger_sum(conn, alice.id) == 30
    with pytest.raises(UserError) as again:
        draw_admin.cancel(conn, community, draw.id, actor=boss, at=local(1, 13))
    assert again.value.key == "draw/not_open"
    assert sweep(conn, community, 20) == 0
    assert refusal(lambda: enter(conn, community, draw, join("bob"))) == "draw/closed"


def test_too_many_open_draws_are_refused(
    conn: Connection, community: Community, boss: Actor
) -> None:
    for _ in range(community.rules.draws.max_open):
        start(conn, community, boss)
    assert refusal(lambda: start(conn, community, boss)) == "draw/too_many_open"


def test_the_close_fires_on_its_minute_and_a_catch_up_sweep_follows(
    conn: Connection, community: Community, boss: Actor
) -> None:
    draw = start(conn, community, boss)
    found = {job.key: job for job in draw_jobs.jobs(conn, community)}
    close = found[f"draw:{draw.id}:close"]
    assert close.firings(local(1, 9), local(2, 9)) == [local(1, 20)]
    sweeps = [job for key, job in found.items() if key.startswith("draws:")]
    hourly = sorted(at for job in sweeps for at in job.firings(local(1, 9), local(1, 23, 30)))
    assert hourly == [local(1, 20), local(1, 21), local(1, 22), local(1, 23)]
    sweep(conn, community, 20)
    assert draw_jobs.jobs(conn, community) == []


def test_linked_members_who_both_entered_keep_one_entry_and_the_other_fee_comes_back(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    draw = start(conn, community, boss, winners=3, conditions=Conditions(cost=10))
    alice, on_discord = join("alice"), join("alice2", "discord")
    give(conn, alice, 10)
    give(conn, on_discord, 10)
    enter(conn, community, draw, alice)
    enter(conn, community, draw, on_discord)
    merge_members(
        conn, community, keep=alice.id, absorb=on_discord.id, at=local(1, 12), account="x"
    )
    assert draws.entry_of(conn, draw.id, alice.id) == 1
    found = draws.draw_by_id(conn, community.id, draw.id)
    assert found is not None and found.entrants == 1
    assert refusal(lambda: enter(conn, community, draw, alice, hour=13)) == "draw/already_entered"
    sweep(conn, community, 20)
    assert [w.number for w in draws.winners_of(conn, draw.id)] == [1]  # the withdrawn one: no
    assert ledger.balance(conn, alice.id) == ledger.ledger_sum(conn, alice.id) == 10
    withdrawn = conn.execute(
        select(draw_entries.c.withdrawn).where(draw_entries.c.number == 2)
    ).scalar_one()
    assert withdrawn is True


def test_the_entrants_list_shows_scores_only_after_the_draw(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    draw = start(conn, community, boss, winners=1)
    enter(conn, community, draw, join("alice"))
    enter(conn, community, draw, join("bob"))
    open_list, held = draws.entrants_csv(conn, draw, community)
    lines = open_list.content.decode("utf-8-sig").splitlines()
    assert held == 2 and lines[0] == "entry,name,entered_at,taking_part,score,winner"
    assert lines[1].startswith("1,Alice,2026-11-23T10:00:00+08:00,yes,,")
    sweep(conn, community, 20)
    drawn = draws.draw_by_id(conn, community.id, draw.id)
    assert drawn is not None
    after = draws.entrants_csv(conn, drawn, community)[0].content.decode("utf-8-sig")
    rows = [line.split(",") for line in after.splitlines()[1:]]
    scores = {int(row[0]): row[4] for row in rows}
    assert scores == {n: hashlib.sha256(f"{drawn.seed}:{n}".encode()).hexdigest() for n in (1, 2)}
    assert [row[0] for row in rows if row[5] == "1"] == [str(recompute(drawn.seed, [1, 2], 1)[0])]
