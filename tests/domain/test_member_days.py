"""Member-day rules: which moments earn the multiplier, the three jobs a member day fires, and
what its announcement, opening and recap post into every group."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, select

from community import checkins, member_day_posts, member_days
from community.audit import Actor
from community.communities import Community, community_by_id, community_for_chat
from community.config import MemberDayRules
from community.jobs import FiringContext
from community.members import Member
from community.outbox import decode_reply
from loyalty import ledger
from loyalty.errors import UserError
from storage.schema import audit_log, outbox, polls
from tests.conftest import T0
from tests.domain.conftest import Join, local

# DAY1 (day 1) is Monday 2026-11-23: day 5 is Friday 11-27, day 26 is Friday 12-18.
FRIDAY, DEC_18 = 5, 26
SECOND = timedelta(seconds=1)


def with_member_day(community: Community, **fields: Any) -> Community:
    """The community with a member day (enabled unless said otherwise)."""
    rules = MemberDayRules.model_validate({"enabled": True, **fields})
    return replace(community, rules=community.rules.model_copy(update={"member_day": rules}))


def last_second_of(day: int) -> datetime:
    return local(day + 1, 0, 0) - SECOND


# ---- the multiplier ----


def test_the_last_second_of_a_monthly_member_day_earns_double_and_the_next_one_does_not(
    community: Community,
) -> None:
    monthly = with_member_day(community, when="monthly 18 00:00")
    # The start itself counts; the window is [00:00:00, next day 00:00:00).
    assert member_days.multiplier_at(monthly, local(DEC_18, 0, 0)) == 2
    assert member_days.multiplier_at(monthly, last_second_of(DEC_18)) == 2
    assert member_days.multiplier_at(monthly, local(DEC_18 + 1, 0, 0)) == 1
    assert member_days.multiplier_at(monthly, local(DEC_18, 0, 0) - SECOND) == 1
    assert member_days.multiplied(monthly, 10, last_second_of(DEC_18)) == 20
    assert member_days.multiplied(monthly, 10, local(DEC_18 + 1, 0, 0)) == 10


@pytest.fixture
def weekly(community: Community) -> Community:
    """Every Friday from 00:00 for 24 hours, x2."""
    return with_member_day(community, when="fri 00:00")


def test_a_weekly_member_day_runs_from_friday_midnight_to_saturday_midnight(
    weekly: Community,
) -> None:
    assert member_days.multiplier_at(weekly, local(FRIDAY, 0, 0)) == 2
    assert member_days.multiplier_at(weekly, local(FRIDAY, 12)) == 2
    assert member_days.multiplier_at(weekly, last_second_of(FRIDAY)) == 2
    assert member_days.multiplier_at(weekly, local(FRIDAY + 1, 0, 0)) == 1
    assert member_days.multiplier_at(weekly, local(FRIDAY - 1, 23, 59)) == 1
    assert member_days.multiplier_at(weekly, local(FRIDAY + 7, 8)) == 2


def test_the_window_is_read_in_the_communitys_timezone(weekly: Community) -> None:
    # Friday 00:30 in Shanghai is still Thursday in UTC: the community's clock decides.
    moment = local(FRIDAY, 0, 30)
    assert moment.astimezone(UTC).weekday() == 3
    assert member_days.multiplier_at(weekly, moment) == 2


def test_a_48_hour_member_day_covers_two_local_days(community: Community) -> None:
    long = with_member_day(community, when="fri 00:00", hours=48)
    assert member_days.multiplier_at(long, last_second_of(FRIDAY + 1)) == 2
    assert member_days.multiplier_at(long, local(FRIDAY + 2, 0, 0)) == 1


def test_a_member_day_starting_in_the_evening_ends_the_next_day(community: Community) -> None:
    evening = with_member_day(community, when="fri 20:00", hours=6)
    assert member_days.multiplier_at(evening, local(FRIDAY, 19, 59)) == 1
    assert member_days.multiplier_at(evening, local(FRIDAY + 1, 1, 59)) == 2
    assert member_days.multiplier_at(evening, local(FRIDAY + 1, 2, 0)) == 1


def test_a_skipped_day_does_not_multiply_and_the_next_one_still_does(community: Community) -> None:
    skipping = with_member_day(community, when="fri 00:00", skipped=["2026-11-27"])
    assert member_days.multiplier_at(skipping, local(FRIDAY, 12)) == 1
    assert member_days.multiplier_at(skipping, local(FRIDAY + 7, 12)) == 2


def test_a_disabled_member_day_multiplies_nothing(community: Community) -> None:
    off = with_member_day(community, when="fri 00:00", enabled=False)
    assert member_days.multiplier_at(off, local(FRIDAY, 12)) == 1
    assert member_days.multiplied(off, 10, local(FRIDAY, 12)) == 10


@pytest.mark.parametrize(
    "fields",
    [
        {"when": "fri 00:00"},
        {"when": "fri 20:00", "hours": 6, "skipped": ["2026-12-04"]},
        {"when": "mon,thu 12:00", "hours": 48},
        {"when": "monthly 1,28 00:00", "hours": 1},
    ],
)
def test_answers_do_not_depend_on_the_order_moments_are_asked_in(
    community: Community, fields: dict[str, Any]
) -> None:
    # Answers are remembered between moments: asked backwards, each one is worked out anew.
    rules = with_member_day(community, **fields).rules.member_day
    moments = [local(1) + timedelta(minutes=37 * n) for n in range(1, 1400)]
    moments += [local(FRIDAY + 1, 0, 0), last_second_of(FRIDAY), local(FRIDAY, 0, 0)]
    forwards = [member_days.occurrence_at(rules, community.timezone, at) for at in moments]
    backwards = [member_days.occurrence_at(rules, community.timezone, at) for at in moments[::-1]]
    assert forwards == backwards[::-1]
    assert len(set(forwards)) > 3  # it met several member days (and gaps between some)


@pytest.mark.parametrize(
    ("points", "earned"), [(3, 4), (10, 15), (7, 10), (1, 1), (0, 0), (-5, -5)]
)
def test_one_and_a_half_times_rounds_down_and_never_touches_deductions(
    community: Community, points: int, earned: int
) -> None:
    half = with_member_day(community, when="fri 00:00", multiplier=1.5)
    assert member_days.multiplied(half, points, local(FRIDAY, 12)) == earned


def test_a_decimal_multiplier_is_not_lost_to_binary_rounding(community: Community) -> None:
    # 20 x 1.15 is 22.999999999999996 in binary floating point.
    odd = with_member_day(community, when="fri 00:00", multiplier=1.15)
    assert member_days.multiplied(odd, 20, local(FRIDAY, 12)) == 23


# ---- check-ins ----


def test_a_check_in_on_the_member_day_earns_double_into_the_ledger(
    conn: Connection, weekly: Community, join: Join
) -> None:
    alice = join("alice")
    result = checkins.check_in(conn, weekly, alice.id, last_second_of(FRIDAY))
    assert (result.points, result.multiplier, result.balance) == (20, 2, 20)
    after = checkins.check_in(conn, weekly, alice.id, local(FRIDAY + 1, 0, 0))
    assert (after.points, after.multiplier, after.balance) == (10, 1, 30)
    assert ledger.ledger_sum(conn, alice.id) == 30


def test_the_streak_bonus_is_multiplied_too(
    conn: Connection, weekly: Community, join: Join
) -> None:
    alice = join("alice")
    # Days 1..4 and then Friday, day 5, ... the 7th day in a row is Sunday: make Friday the 7th.
    for day in range(FRIDAY - 6, FRIDAY):
        checkins.check_in(conn, weekly, alice.id, local(day, 9))
    seventh = checkins.check_in(conn, weekly, alice.id, local(FRIDAY, 9))
    assert seventh.bonus and seventh.streak == 7
    assert seventh.points == 2 * (10 + 20)


# ---- jobs ----


def test_a_disabled_member_day_has_no_jobs(conn: Connection, community: Community) -> None:
    assert member_day_posts.jobs(conn, community) == []


def test_an_enabled_member_day_announces_opens_and_recaps(
    conn: Connection, weekly: Community
) -> None:
    found = {job.key: job for job in member_day_posts.jobs(conn, weekly)}
    prefix = f"memberday:{weekly.id}"
    assert sorted(found) == [f"{prefix}:announce", f"{prefix}:open", f"{prefix}:recap"]
    start = local(FRIDAY, 0, 0)
    week = (local(1, 0, 0), local(8, 0, 0))
    assert found[f"{prefix}:announce"].firings(*week) == [start - timedelta(hours=24)]
    assert found[f"{prefix}:open"].firings(*week) == [start]
    assert found[f"{prefix}:recap"].firings(*week) == [start + timedelta(hours=24)]


def test_no_announcement_when_its_hours_before_are_zero(
    conn: Connection, community: Community
) -> None:
    quiet = with_member_day(community, when="fri 00:00", announce_hours_before=0)
    phases = [job.key.rsplit(":", 1)[1] for job in member_day_posts.jobs(conn, quiet)]
    assert phases == ["open", "recap"]


def test_jobs_start_at_the_communitys_creation_then_at_the_last_change(
    conn: Connection, weekly: Community, boss: Actor
) -> None:
    assert {job.since for job in member_day_posts.jobs(conn, weekly)} == {T0}
    changed_at = local(3, 15)
    saved = member_days.save(conn, weekly, {"hours": 12}, actor=boss, at=changed_at, change="set")
    assert {job.since for job in member_day_posts.jobs(conn, saved)} == {changed_at}


# ---- what the phases post ----


@pytest.fixture
def groups(conn: Connection, community: Community) -> list[str]:
    """Two groups of the community (and a private chat, which gets no posts)."""
    for chat_id, private in (("-100one", False), ("-100two", False), ("dm-alice", True)):
        community_for_chat(
            conn,
            platform="telegram",
            chat_id=chat_id,
            title=chat_id,
            default_slug=community.slug,
            at=T0,
            private=private,
        )
    return ["-100one", "-100two"]


def fire(conn: Connection, community: Community, phase: str, at: datetime) -> set[str]:
    """Run the member day's `phase` job for its firing at `at`; the platforms it woke."""
    job = next(j for j in member_day_posts.jobs(conn, community) if j.key.endswith(f":{phase}"))
    platforms: set[str] = set()
    job.work(FiringContext(conn, community, at, at + timedelta(seconds=5), platforms))
    return platforms


def posts(conn: Connection) -> list[tuple[str, str, dict[str, Any]]]:
    """(chat, template, context) of every group post queued, in order."""
    rows = conn.execute(select(outbox).where(outbox.c.kind == "post").order_by(outbox.c.id))
    return [
        (row.chat_id, (reply := decode_reply(row.payload, "en")).template, dict(reply.context))
        for row in rows
    ]


def test_the_announcement_goes_to_every_group_with_the_window_multiplier_and_perks(
    conn: Connection, community: Community, groups: list[str]
) -> None:
    perks = with_member_day(community, when="fri 00:00", perks=["Free shipping"], multiplier=3)
    woke = fire(conn, perks, "announce", local(FRIDAY - 1, 0, 0))
    assert woke == {"telegram"}
    found = posts(conn)
    assert [(chat, template) for chat, template, _ in found] == [
        (chat, "memberday/announce") for chat in groups
    ]
    context = found[0][2]
    assert context["start"] == "2026-11-27T00:00:00+08:00"
    assert context["end"] == "2026-11-28T00:00:00+08:00"
    assert (context["multiplier"], context["hours"], context["perks"]) == (3, 24, ["Free shipping"])


def test_a_firing_run_twice_queues_its_posts_once(
    conn: Connection, weekly: Community, groups: list[str]
) -> None:
    fire(conn, weekly, "open", local(FRIDAY, 0, 0))
    fire(conn, weekly, "open", local(FRIDAY, 0, 0))
    assert len(posts(conn)) == len(groups)


def test_the_opening_opens_the_poll_in_each_group(
    conn: Connection, community: Community, groups: list[str]
) -> None:
    polling = with_member_day(community, when="fri 00:00", poll="Best perk? | Shipping | Gift")
    fire(conn, polling, "open", local(FRIDAY, 0, 0))
    found = posts(conn)
    assert [(chat, template) for chat, template, _ in found] == [
        (groups[0], "memberday/open"),
        (groups[1], "memberday/open"),
        (groups[0], "polls/posted"),
        (groups[1], "polls/posted"),
    ]
    opened = conn.execute(select(polls.c.chat_id, polls.c.question).order_by(polls.c.id)).all()
    assert [tuple(row) for row in opened] == [(chat, "Best perk?") for chat in groups]
    payloads = conn.execute(
        select(outbox.c.payload).where(outbox.c.kind == "post").order_by(outbox.c.id)
    ).scalars()
    spec = [p["poll"] for p in payloads if "poll" in p]
    assert [(s["question"], s["options"]) for s in spec] == [
        ("Best perk?", ["Shipping", "Gift"])
    ] * 2


def test_a_poll_that_cannot_be_opened_leaves_the_opening_post(
    conn: Connection, community: Community, groups: list[str]
) -> None:
    broken = with_member_day(community, when="fri 00:00", poll="Only a question?")
    fire(conn, broken, "open", local(FRIDAY, 0, 0))
    assert [template for _, template, _ in posts(conn)] == ["memberday/open"] * len(groups)
    assert conn.execute(select(polls.c.id)).first() is None


def test_a_skipped_occurrence_posts_nothing_in_any_phase(
    conn: Connection, community: Community, groups: list[str]
) -> None:
    skipping = with_member_day(
        community, when="fri 00:00", skipped=["2026-11-27"], poll="Q? | a | b"
    )
    start = local(FRIDAY, 0, 0)
    assert fire(conn, skipping, "announce", start - timedelta(hours=24)) == set()
    assert fire(conn, skipping, "open", start) == set()
    assert fire(conn, skipping, "recap", start + timedelta(hours=24)) == set()
    assert posts(conn) == []
    assert conn.execute(select(polls.c.id)).first() is None


def scripted_day(conn: Connection, weekly: Community, join: Join) -> dict[str, Member]:
    """Friday's story: Alice, Bob and Carol check in on the day, Carol is also awarded 15 and
    Bob loses 5; Dave checks in at 00:00 on Saturday, outside the window."""
    people = {name: join(name) for name in ("alice", "bob", "carol", "dave")}
    checkins.check_in(conn, weekly, people["alice"].id, local(FRIDAY, 9))
    checkins.check_in(conn, weekly, people["bob"].id, last_second_of(FRIDAY))
    checkins.check_in(conn, weekly, people["carol"].id, local(FRIDAY, 0, 0))
    for name, delta in (("carol", 15), ("bob", -5)):
        ledger.post(
            conn,
            community_id=weekly.id,
            member_id=people[name].id,
            delta=delta,
            reason="award" if delta > 0 else "deduct",
            key=f"test:{name}",
            at=local(FRIDAY, 12),
        )
    checkins.check_in(conn, weekly, people["dave"].id, local(FRIDAY + 1, 0, 0))
    return people


def test_the_recap_counts_only_the_window(conn: Connection, weekly: Community, join: Join) -> None:
    scripted_day(conn, weekly, join)
    start = local(FRIDAY, 0, 0)
    recap = member_day_posts.recap_of(conn, weekly, start, start + timedelta(hours=24))
    assert (recap.participants, recap.checkins, recap.points) == (3, 3, 20 + 20 + 20 + 15)
    # Alice and Bob tie (Bob's deduction is no earning undone): they share second place.
    assert recap.top == [(1, "Carol", 35), (2, "Alice", 20), (2, "Bob", 20)]


def test_the_recap_post_names_the_top_members(
    conn: Connection, community: Community, join: Join, groups: list[str]
) -> None:
    top_two = with_member_day(community, when="fri 00:00", top_members=2)
    scripted_day(conn, top_two, join)
    fire(conn, top_two, "recap", local(FRIDAY + 1, 0, 0))
    found = posts(conn)
    assert [template for _, template, _ in found] == ["memberday/recap"] * len(groups)
    context = found[0][2]
    assert (context["participants"], context["checkins"], context["points"]) == (3, 3, 75)
    assert context["top"] == [
        {"rank": 1, "name": "Carol", "points": 35},
        {"rank": 2, "name": "Alice", "points": 20},
    ]
    assert context["start"] == "2026-11-27T00:00:00+08:00"


# ---- changing it ----


def test_skip_next_skips_the_next_one_and_a_second_call_the_one_after(
    conn: Connection, weekly: Community, boss: Actor
) -> None:
    now = local(FRIDAY, 12)  # during a member day: the running one is not "next"
    once, day = member_days.skip_next(conn, weekly, actor=boss, at=now)
    assert day.isoformat() == "2026-12-04"
    twice, day = member_days.skip_next(conn, once, actor=boss, at=now)
    assert day.isoformat() == "2026-12-11"
    assert twice.rules.member_day.skipped == ("2026-12-04", "2026-12-11")
    assert member_days.upcoming(twice.rules.member_day, twice.timezone, now, 1) == [
        local(FRIDAY + 21, 0, 0)
    ]
    stored = community_by_id(conn, weekly.id)
    assert stored is not None and stored.rules.member_day.skipped == ("2026-12-04", "2026-12-11")
    back, days = member_days.unskip(conn, twice, actor=boss, at=now)
    assert [d.isoformat() for d in days] == ["2026-12-04", "2026-12-11"]
    assert back.rules.member_day.skipped == ()
    changes = conn.execute(
        select(audit_log.c.details).where(audit_log.c.action == "memberday")
    ).scalars()
    assert [c["change"] for c in changes] == ["skip", "skip", "unskip"]


def test_skipping_forgets_skipped_days_long_past(
    conn: Connection, community: Community, boss: Actor
) -> None:
    old = with_member_day(community, when="fri 00:00", skipped=["2026-01-02"])
    skipped, _ = member_days.skip_next(conn, old, actor=boss, at=local(1))
    assert skipped.rules.member_day.skipped == ("2026-11-27",)


def test_skipping_more_days_than_kept_is_refused(
    conn: Connection, community: Community, boss: Actor
) -> None:
    daily = with_member_day(community, when="daily 00:00")
    for _ in range(50):
        daily, _day = member_days.skip_next(conn, daily, actor=boss, at=local(1))
    with pytest.raises(UserError) as refused:
        member_days.skip_next(conn, daily, actor=boss, at=local(1))
    assert (refused.value.key, refused.value.context) == (
        "memberday/too_many_skipped",
        {"limit": 50},
    )


def test_a_value_out_of_range_is_refused_and_nothing_is_written(
    conn: Connection, weekly: Community, boss: Actor
) -> None:
    with pytest.raises(UserError) as refused:
        member_days.save(conn, weekly, {"multiplier": 11}, actor=boss, at=local(1), change="set")
    assert (refused.value.key, refused.value.context) == (
        "memberday/out_of_range",
        {"what": "multiplier", "low": 1, "high": 10},
    )
    assert conn.execute(select(audit_log.c.id)).first() is None


def test_a_one_off_member_day_in_the_past_is_refused(
    conn: Connection, community: Community, boss: Actor
) -> None:
    with pytest.raises(UserError) as refused:
        member_days.set_schedule(
            conn, community, {"when": "2026-11-20 00:00"}, actor=boss, at=local(1)
        )
    assert refused.value.key == "schedule/in_the_past"


@pytest.mark.parametrize(
    ("when", "hours", "longest"),
    [("daily 00:00", 168, 24), ("mon,tue 20:00", 48, 24), ("monthly 30,31 00:00", 25, 24)],
)
def test_a_member_day_that_would_overlap_the_next_is_refused(
    conn: Connection, community: Community, boss: Actor, when: str, hours: int, longest: int
) -> None:
    with pytest.raises(UserError) as refused:
        member_days.save(
            conn,
            community,
            {"when": when, "hours": hours, "enabled": True},
            actor=boss,
            at=local(1),
            change="set",
        )
    assert (refused.value.key, refused.value.context) == (
        "memberday/overlaps",
        {"hours": hours, "longest": longest},
    )
    stored = community_by_id(conn, community.id)
    assert stored is not None and stored.rules.member_day == community.rules.member_day


def test_back_to_back_member_days_recap_before_the_next_opens(
    conn: Connection, community: Community, boss: Actor
) -> None:
    weekly = member_days.save(
        conn,
        community,
        {"when": "wed 00:00", "hours": 168, "enabled": True},
        actor=boss,
        at=local(1),
        change="set",
    )
    jobs = {job.key.rsplit(":", 1)[1]: job for job in member_day_posts.jobs(conn, weekly)}
    # Due at the same moment (one ends as the next begins): the recap runs first.
    assert jobs["recap"].rank < jobs["open"].rank
