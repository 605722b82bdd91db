"""The ambassador programme attacked: the settings changed under a roster that names a level
they no longer have, the bot down over the month's end for days, a promotion proposal's button
pressed long after it stopped applying, and admins racing each other, through the real core
(and, for the races, two engines on one database, as two bot processes would have)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, time
from threading import Barrier

import pytest
from sqlalchemy import Connection, Engine

from community import ambassadors
from community.ambassador_months import Month
from community.audit import Actor
from community.communities import Community
from handlers.router import Dispatcher
from loyalty.errors import UserError
from storage.ambassador_tables import ambassador_months
from storage.schema import outbox
from storage.store import Store
from tests.conftest import T0, reconfigure
from tests.domain.conftest import SHANGHAI
from tests.domain.test_ambassador_evaluation import answered, submitted
from tests.harness import Chat, Clock, ledger_state, posted, rows
from tests.races import two_processes
from tests.test_ambassador_console import SETUP, month_console, output_of_the_month
from tests.test_ambassador_handlers import local, member, reply_of, sweep

NOVEMBER = Month(2026, 11)

# community.toml's levels without "senior": an operator took it out between two runs.
TWO_LEVELS = """
[ambassadors]
[[ambassadors.levels]]
key = "trainee"
names = { en = "Trainee", zh_CN = "见习大使" }
tasks = { submissions = 2, featured = 0, answers = 2 }
reward = 50
[[ambassadors.levels]]
key = "ambassador"
names = { en = "Ambassador", zh_CN = "正式大使" }
tasks = { submissions = 4, featured = 1, answers = 5 }
reward = 150
"""


@pytest.fixture
async def people(chat: Chat) -> Chat:
    """alice, bob and asker have talked to the bot; boss is an admin."""
    for who in ("alice", "bob", "asker"):
        await chat.say(who, "/start")
    return chat


def did_in(store: Store, who: str, month: Month, *, approved: int = 0, answers: int = 0) -> None:
    """`who` had `approved` submissions approved and answered `answers` questions of others on
    the 20th of `month`."""
    author, asker = member(store, who), member(store, "asker")
    at = datetime.combine(month.first_day.replace(day=20), time(12), SHANGHAI)

    def write(conn: Connection) -> None:
        submitted(conn, author, at, times=approved)
        for _ in range(answers):
            answered(conn, author, asker, at)

    store.write_now(write)


def directs_to(store: Store, who: str) -> list[str]:
    return [words for to, words in posted(store, kind="direct") if to == who]


def report_payloads(store: Store) -> list[dict[str, object]]:
    return [
        row.payload
        for row in rows(store, outbox)
        if row.kind == "direct" and row.payload["template"] == "ambassador/month_report"
    ]


# What Chinese keyboards type ------------------------------------------------------------------


async def test_full_width_spaces_and_letters_from_a_chinese_keyboard_are_understood(
    people: Chat, store: Store
) -> None:
    reconfigure(store, locale="zh_CN")
    chat = people
    # An IME types U+3000 between words, and ＠ and Latin letters full width.
    added = await chat.say("boss", "/ambassador　任命　＠alice　资深大使")
    assert reply_of(added)[0] == "ambassador/added", added.text
    assert level_of(store, "alice") == "senior"
    moved = await chat.say("boss", "/ambassador 调整 @alice　ＴＲＡＩＮＥＥ")
    assert reply_of(moved)[0] == "ambassador/level_set", moved.text
    assert level_of(store, "alice") == "trainee"
    removed = await chat.say("boss", "/ambassador 移除　@alice")
    assert reply_of(removed)[0] == "ambassador/removed", removed.text
    assert level_of(store, "alice") is None


# A level taken out of the settings ------------------------------------------------------------


async def test_an_ambassador_whose_level_left_the_settings_is_told_so_not_shown_nonsense(
    people: Chat, store: Store, clock: Clock
) -> None:
    chat = people
    await chat.say("boss", "/ambassador add @alice senior")
    did_in(store, "alice", NOVEMBER, approved=6, answers=8)
    reconfigure(store, extra=TWO_LEVELS)
    # Not "Approved submissions 6/0 ... Meet them all by the month's end for 0 points".
    mine = await chat.say("alice", "/mytasks")
    assert reply_of(mine)[0] == "ambassador/level_gone"
    assert mine.text == (
        '🌟 alice, your ambassador level "senior" is no longer part of the programme, so'
        " nothing is counted for you until an admin gives you one of the levels now offered:"
        " Trainee, Ambassador."
    )
    roster = await chat.say("bob", "/ambassadors")
    assert roster.text == (
        "🌟 Brand ambassadors: 1 · 2026-11, 8 days left\n"
        '⏸ alice — "senior" is no longer a level: an admin sets one with /ambassador level'
    )
    await sweep(store, clock, local(2026, 12, 1, 0, 25))
    # Not "your senior tasks were not all met" over three ✅ lines: the admins are asked.
    assert [w for w in directs_to(store, "alice") if "2026-11" in w] == []
    [report] = [words for to, words in posted(store, kind="direct") if to == "boss"][-1:]
    assert (
        "On a level no longer in the settings (nothing counted, no reward); set one with"
        " /ambassador level @member LEVEL:\n• alice (senior)"
    ) in report
    reconfigure(store, locale="zh_CN", extra=TWO_LEVELS)
    mine = await chat.say("alice", "我的任务")
    assert mine.text == (
        "🌟 alice，你的大使等级“senior”已不在大使计划中：在管理员为你设置现有等级（见习大使、"
        "正式大使）之前，不计算任务进度。"
    )
    [zh_report] = [w for to, w in posted(store, "zh_CN", kind="direct") if to == "boss"][-1:]
    assert "• alice（senior）" in zh_report and "/ambassador level @成员 等级" in zh_report


# The bot down over the month's end ------------------------------------------------------------


async def test_a_month_end_missed_while_down_for_days_is_evaluated_when_the_bot_is_back(
    people: Chat, store: Store, clock: Clock
) -> None:
    chat = people
    await chat.say("boss", "/ambassador add @alice")
    did_in(store, "alice", NOVEMBER, approved=2, answers=2)
    await sweep(store, clock, local(2026, 11, 30, 12))
    # Down from before the 1st's evaluation until the 4th: the 1st's, 2nd's and 3rd's firings
    # are all past the grace period.
    await sweep(store, clock, local(2026, 12, 4, 0, 30))
    assert ledger_state(store, "console", "alice") == (50, 50)
    await sweep(store, clock, local(2026, 12, 5, 0, 30))  # and never twice
    await sweep(store, clock, local(2026, 12, 28, 0, 30))
    assert ledger_state(store, "console", "alice") == (50, 50)
    assert len(report_payloads(store)) == 1


# Old proposals --------------------------------------------------------------------------------


async def exceeded_then_proposed(chat: Chat, store: Store, clock: Clock) -> str:
    """alice, a trainee, goes well beyond her tasks in November; the month end proposes moving
    her up. The proposal's button."""
    reconfigure(store, extra="[ambassadors]\npromote_after_months = 1\n")
    await chat.say("boss", "/ambassador add @alice")
    did_in(store, "alice", NOVEMBER, approved=3, answers=3)
    await sweep(store, clock, local(2026, 12, 1, 0, 30))
    [report] = report_payloads(store)
    [button] = [choice["command"] for choice in report["choices"]]  # type: ignore[attr-defined]
    return str(button)


async def test_an_old_proposals_button_does_not_move_up_an_ambassador_who_missed_since(
    people: Chat, store: Store, clock: Clock
) -> None:
    chat = people
    button = await exceeded_then_proposed(chat, store, clock)
    # December: nothing done. Its month end finds her short of her tasks.
    await sweep(store, clock, local(2027, 1, 1, 0, 30))
    chat.now = local(2027, 1, 5, 12)
    late = await chat.press("boss", button)
    assert reply_of(late)[0] == "ambassador/proposal_outdated"
    assert level_of(store, "alice") == "trainee"


async def test_a_proposal_made_before_a_removal_does_not_apply_to_the_next_appointment(
    people: Chat, store: Store, clock: Clock
) -> None:
    chat = people
    button = await exceeded_then_proposed(chat, store, clock)
    chat.now = local(2026, 12, 3, 12)
    await chat.say("boss", "/ambassador remove @alice")
    await chat.say("boss", "/ambassador add @alice")  # a new start, at the lowest level again
    stale = await chat.press("boss", button)
    assert reply_of(stale)[0] == "ambassador/proposal_outdated"
    assert level_of(store, "alice") == "trainee"


async def test_a_proposal_still_applies_while_the_ambassador_keeps_exceeding(
    people: Chat, store: Store, clock: Clock
) -> None:
    chat = people
    button = await exceeded_then_proposed(chat, store, clock)
    did_in(store, "alice", Month(2026, 12), approved=3, answers=3)
    await sweep(store, clock, local(2027, 1, 1, 0, 30))
    chat.now = local(2027, 1, 2, 12)
    confirmed = await chat.press("boss", button)
    assert reply_of(confirmed)[0] == "ambassador/promoted"
    assert level_of(store, "alice") == "ambassador"


def level_of(store: Store, who: str) -> str | None:
    alice = member(store, who)

    def read(conn: Connection) -> str | None:
        found = ambassadors.active_ambassador(conn, alice.community_id, alice.id)
        return None if found is None else found.level

    return store.read_now(read)


# Admins racing --------------------------------------------------------------------------------

WORKERS = 8


@pytest.fixture
def racing(db_url: str) -> Iterator[tuple[tuple[Engine, Engine], Community, list[int]]]:
    """The test community on two engines (two bot processes), with members m0.. of whom m0 is
    a trainee with a proposal to move up (its number is the month's id)."""
    with two_processes(db_url, workers=WORKERS, members=WORKERS + 1) as (engines, community, found):
        yield engines, community, [member.id for member in found]


def test_admins_confirming_and_moving_at_once_never_get_a_refusal_meant_for_another_command(
    racing: tuple[tuple[Engine, Engine], Community, list[int]],
) -> None:
    engines, community, people = racing
    ann = people[0]
    rules = community.rules.ambassadors
    trainee, senior = rules.level("trainee"), rules.level("senior")
    assert trainee is not None and senior is not None
    boss = Actor(people[1], "console:m1")
    with engines[0].begin() as conn:
        ambassadors.appoint(conn, community, actor=boss, member_id=ann, level=trainee, at=T0)
        number = int(
            conn.execute(
                ambassador_months.insert().returning(ambassador_months.c.id),
                {
                    "community_id": community.id,
                    "member_id": ann,
                    "month": "2026-11",
                    "level": "trainee",
                    "outcome": "exceeded",
                    "submissions": 3,
                    "featured": 0,
                    "answers": 3,
                    "proposed_level": "ambassador",
                    "evaluated_at": T0,
                },
            ).scalar_one()
        )
    start = Barrier(WORKERS)
    now = datetime(2026, 12, 2, 4, tzinfo=UTC)

    def attempt(index: int) -> str:
        admin = Actor(people[1 + index], f"console:m{1 + index}")
        start.wait(30)
        try:
            with engines[index % 2].begin() as conn:
                if index % 2:
                    ambassadors.set_level(
                        conn, community, actor=admin, member_id=ann, level=senior, at=now
                    )
                    return "moved"
                ambassadors.promote(conn, community, actor=admin, number=number, at=now)
                return "promoted"
        except UserError as refusal:
            return f"{'level' if index % 2 else 'promote'}:{refusal.key}"

    for _ in range(5):
        with ThreadPoolExecutor(WORKERS) as pool:
            outcomes = Counter(pool.map(attempt, range(WORKERS)))
        # What /ambassador promote answers is about the proposal: its words name no member.
        # An admin moving her while another does is told she is at that level already, never
        # that she is no ambassador.
        assert set(outcomes) - {"promoted", "moved"} <= {
            "promote:ambassador/proposal_done",
            "promote:ambassador/proposal_outdated",
            "level:ambassador/same_level",
        }, outcomes
        assert outcomes["moved"] >= 1 and outcomes["promoted"] <= 1, outcomes
        with engines[0].begin() as conn:
            conn.execute(
                ambassador_months.update()
                .where(ambassador_months.c.id == number)
                .values(promoted_at=None, promoted_by_member_id=None)
            )
            ambassadors.set_level(conn, community, actor=boss, member_id=ann, level=trainee, at=now)


# The console's clock moved far ahead ----------------------------------------------------------


async def test_the_console_clock_moved_months_ahead_evaluates_each_month_once_in_order(
    dispatcher: Dispatcher, store: Store
) -> None:
    await month_console(dispatcher, SETUP)
    output_of_the_month(store, "alice")  # November: her trainee tasks met
    shown = await month_console(dispatcher, ":time 2027-03-01T00:30\n")
    assert shown.count("[dm alice] 🎉 alice, you met your Trainee tasks for 2026-11!") == 1
    for month in ("2026-12", "2027-01", "2027-02"):
        assert shown.count(f"[dm boss] 🌟 Ambassadors, {month}: 0 of 1 met their tasks") == 1
    assert ledger_state(store, "console", "alice") == (50, 50)
    again = await month_console(dispatcher, ":time 2027-03-09T00:30\n")
    assert "Ambassadors, 20" not in again
    assert ledger_state(store, "console", "alice") == (50, 50)
