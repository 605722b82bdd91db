"""The ambassador programme through the real core: admins appoint, move and remove ambassadors
(the member told privately), /ambassadors, /mytasks, /top ambassadors, the month-end run by the
scheduler with the clock moved over the month's end (paid once), and a proposal to move up
confirmed with its button."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from sqlalchemy import Connection

from community import ambassadors
from community.ambassador_months import Month
from community.communities import community_by_slug
from community.members import Member
from handlers.firings import Firings
from loyalty.earning import earn
from storage.schema import audit_log, outbox
from storage.store import Store
from tests.conftest import reconfigure
from tests.domain.conftest import SHANGHAI
from tests.domain.test_ambassador_evaluation import answered, submitted
from tests.harness import Chat, Clock, Said, ledger_state, member_id, posted, rows

NOVEMBER = Month(2026, 11)


def reply_of(said: Said) -> tuple[str, dict[str, object]]:
    reply = said.outcome.reply
    assert reply is not None, "the bot did not answer"
    return reply.template, dict(reply.context)


def member(store: Store, who: str) -> Member:
    found = member_id(store, "console", who)
    assert found is not None
    return Member(found, _acme(store), who)


def _acme(store: Store) -> int:
    acme = store.read_now(lambda conn: community_by_slug(conn, "acme"))
    assert acme is not None
    return acme.id


def did(store: Store, who: str, *, approved: int = 0, featured: int = 0, answers: int = 0) -> None:
    """`who` had `approved` submissions approved (the first `featured` of them featured) and
    answered `answers` questions of others, on Nov 20."""
    author, asker = member(store, who), member(store, "asker")
    at = datetime.combine(NOVEMBER.first_day.replace(day=20), time(12), SHANGHAI)

    def write(conn: Connection) -> None:
        for n in range(approved):
            submitted(conn, author, at, featured=n < featured)
        for _ in range(answers):
            answered(conn, author, asker, at)

    store.write_now(write)


@pytest.fixture
async def people(chat: Chat) -> Chat:
    """alice, bob and asker have talked to the bot; boss is an admin."""
    for who in ("alice", "bob", "asker"):
        await chat.say(who, "/start")
    return chat


async def test_an_admin_appoints_an_ambassador_who_is_told_privately(
    people: Chat, store: Store
) -> None:
    chat = people
    said = await chat.say("boss", "/ambassador add @alice")
    template, context = reply_of(said)
    assert template == "ambassador/added"
    assert (context["name"], context["handle"], context["told"]) == ("alice", "@alice", True)
    assert said.text == (
        "🌟 alice (@alice) is now a brand ambassador: Trainee.\n"
        "Each month: 2 approved submissions, 2 questions answered; reward 50 points,"
        " approved content pays ×1.2."
    )
    [(to, words)] = posted(store, kind="direct")
    assert to == "alice"
    assert words.startswith("🌟 Congratulations alice, you are now a brand ambassador: Trainee!")
    assert "Your tasks each month: 2 approved submissions, 2 questions answered." in words
    [audited] = [row for row in rows(store, audit_log) if row.action == "ambassador_add"]
    assert audited.details["level"] == "trainee"


async def test_levels_are_named_by_key_or_name_and_moving_one_tells_them(
    people: Chat, store: Store
) -> None:
    chat = people
    added = await chat.say("boss", "/ambassador add @bob Senior ambassador")
    assert reply_of(added)[1]["level"]["key"] == "senior"  # type: ignore[index]
    moved = await chat.say("boss", "/ambassador level @bob 正式大使")
    assert moved.text == (
        "⬇️ bob (@bob) moved from Senior ambassador to Ambassador. Their tasks from now:"
        " 4 approved submissions, 1 featured, 5 questions answered."
    )
    same = await chat.say("boss", "/ambassador level @bob ambassador")
    assert same.text == "bob (@bob) is at Ambassador already: nothing changed."
    unknown = await chat.say("boss", "/ambassador level @bob gold")
    assert reply_of(unknown)[0] == "ambassador/unknown_level"
    assert [words for to, words in posted(store, kind="direct") if to == "bob"][-1].startswith(
        "bob, your ambassador level is now Ambassador (was Senior ambassador)."
    )


async def test_bad_input_says_why_and_changes_nothing(people: Chat, store: Store) -> None:
    chat = people
    refused = await chat.say("alice", "/ambassador add @alice")
    assert refused.text == "Sorry, /ambassador is for community admins only."
    assert reply_of(await chat.say("boss", "/ambassador"))[0] == "ambassador/usage"
    assert reply_of(await chat.say("boss", "/ambassador add"))[0] == "ambassador/usage"
    assert reply_of(await chat.say("boss", "/ambassador fire @bob"))[0] == "ambassador/usage"
    nobody = await chat.say("boss", "/ambassador add @nobody")
    assert reply_of(nobody) == ("points/unknown_member", {"handle": "@nobody"})
    not_one = await chat.say("boss", "/ambassador remove @bob")
    assert (
        not_one.text
        == "bob (@bob) is not a brand ambassador. Appoint them with /ambassador add @bob"
    )
    await chat.say("boss", "/ambassador add @bob")
    twice = await chat.say("boss", "/ambassador add @bob senior")
    assert reply_of(twice)[0] == "ambassador/already"
    promote = await chat.say("boss", "/ambassador promote 99")
    assert reply_of(promote)[0] == "ambassador/no_such_proposal"
    assert [row.action for row in rows(store, audit_log) if row.action.startswith("amb")] == [
        "ambassador_add"
    ]


async def test_an_admin_names_the_member_by_replying_to_them(people: Chat) -> None:
    said = await people.say("boss", "/ambassador add senior", replying_to="bob")
    template, context = reply_of(said)
    assert template == "ambassador/added" and context["name"] == "bob"


async def test_removing_keeps_the_history_and_tells_the_member(people: Chat, store: Store) -> None:
    chat = people
    await chat.say("boss", "/ambassador add @alice")
    removed = await chat.say("boss", "/ambassador remove @alice")
    assert removed.text == (
        "alice (@alice) is no longer a brand ambassador (was Trainee). Their past months stay"
        " on record."
    )
    assert posted(store, kind="direct")[-1][1].startswith(
        "alice, you are no longer a brand ambassador (Trainee)."
    )
    again = await chat.say("boss", "/ambassador add @alice ambassador")
    assert reply_of(again)[0] == "ambassador/added"


async def test_the_roster_shows_each_ones_level_and_this_months_output_to_everyone(
    people: Chat, store: Store
) -> None:
    chat = people
    await chat.say("boss", "/ambassador add @alice senior")
    await chat.say("boss", "/ambassador add @bob")
    did(store, "bob", approved=2, answers=2)
    shown = await chat.say("asker", "/ambassadors")
    assert shown.text == (
        "🌟 Brand ambassadors: 2 · 2026-11, 8 days left\n"
        "⏳ alice — Senior ambassador: approved submissions 0/6 · featured 0/2 · questions"
        " answered 0/8\n"
        "✅ bob — Trainee: approved submissions 2/2 · featured 0/0 · questions answered 2/2"
    )
    assert reply_of(await chat.say("asker", "/ambassadors x"))[0] == "ambassador/roster_usage"


async def test_mytasks_shows_progress_and_days_left_or_what_the_programme_is(
    people: Chat, store: Store
) -> None:
    chat = people
    outsider = await chat.say("asker", "/mytasks")
    assert reply_of(outsider)[0] == "ambassador/not_in_programme"
    assert outsider.text is not None and "• Ambassador: 4 approved submissions, 1 featured, 5" in (
        outsider.text
    )
    await chat.say("boss", "/ambassador add @alice ambassador")
    did(store, "alice", approved=3, featured=1, answers=5)
    mine = await chat.say("alice", "/mytasks")
    assert mine.text == (
        "🌟 alice, Ambassador — your tasks for 2026-11 (8 days left):\n"
        "⬜ Approved submissions 3/4\n"
        "✅ Featured 1/1\n"
        "✅ Questions answered 5/5\n"
        "Meet them all by the month's end for 150 points.\n"
        "Approved submissions pay ×1.5 for you."
    )


async def test_top_ambassadors_ranks_the_months_approved_submissions_featured_twice(
    people: Chat, store: Store
) -> None:
    chat = people
    for who in ("alice", "bob", "asker"):
        await chat.say("boss", f"/ambassador add @{who}")
    did(store, "alice", approved=3)
    did(store, "bob", approved=2, featured=1)
    board = await chat.say("bob", "/top ambassadors")
    assert board.text == (
        "🌟 Top ambassadors of Acme Fans, 2026-11 (approved submissions; featured count twice)\n"
        "1. alice (Trainee) — 3: 3 approved, 0 featured\n"
        "1. bob (Trainee) — 3: 2 approved, 1 featured ← you"
    )
    points_board = await chat.say("bob", "/top")
    assert reply_of(points_board)[0] == "points/top"


async def test_in_chinese(people: Chat, store: Store) -> None:
    reconfigure(store, locale="zh_CN")
    chat = people
    added = await chat.say("boss", "/ambassador 任命 @alice 资深大使")
    assert added.text == (
        "🌟 alice（@alice）已成为品牌大使：资深大使。\n"
        "每月任务：6 篇通过审核的投稿、2 篇精选、回答 8 个问题；完成奖励 300 积分，"
        "通过审核的内容积分 ×2。"
    )
    did(store, "alice", approved=1)
    board = await chat.say("bob", "/top 大使")
    assert board.text == (
        "🌟 Acme Fans 品牌大使榜 · 2026-11（按通过审核的投稿计，精选计两次）\n"
        "1. alice（资深大使）—— 1：通过 1 篇，精选 0 篇"
    )
    mine = await chat.say("alice", "我的任务")
    assert mine.text is not None and mine.text.startswith(
        "🌟 alice（资深大使）2026-11 的任务（本月还剩 8 天）：\n⬜ 审核通过的投稿 1/6"
    )


# The month end --------------------------------------------------------------------------------


async def sweep(store: Store, clock: Clock, moment: datetime) -> None:
    """The bot (re)started at `moment`: it runs what is due within the grace period."""
    clock.now = moment
    await Firings(store, clock=clock).sweep(moment)


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


async def test_the_month_end_pays_the_reward_once_when_the_clock_passes_it(
    people: Chat, store: Store, clock: Clock
) -> None:
    chat = people
    await chat.say("boss", "/ambassador add @alice")
    await chat.say("boss", "/ambassador add @bob")
    did(store, "alice", approved=2, answers=2)
    await sweep(store, clock, local(2026, 11, 30, 23, 59))
    assert ledger_state(store, "console", "alice") == (0, 0)
    await sweep(store, clock, local(2026, 12, 1, 0, 25))  # evaluate_at is 00:20
    assert ledger_state(store, "console", "alice") == (50, 50)
    await sweep(store, clock, local(2026, 12, 1, 0, 40))  # a restart: nothing twice
    await sweep(store, clock, local(2026, 12, 2, 0, 21))  # the catch-up firing: nothing left
    assert ledger_state(store, "console", "alice") == (50, 50)
    told = {to: words for to, words in posted(store, kind="direct")}
    assert told["alice"].startswith("🎉 alice, you met your Trainee tasks for 2026-11!")
    assert "Your reward of 50 points is in your balance." in told["alice"]
    assert told["bob"].startswith("bob, your Trainee tasks for 2026-11 were not all met:")
    assert told["boss"].startswith(
        "🌟 Ambassadors, 2026-11: 1 of 2 met their tasks; 50 points paid in rewards."
    )


async def test_a_month_end_missed_while_down_is_caught_up_the_next_day(
    people: Chat, store: Store, clock: Clock
) -> None:
    chat = people
    await chat.say("boss", "/ambassador add @alice")
    did(store, "alice", approved=2, answers=2)
    await sweep(store, clock, local(2026, 11, 30, 12))
    await sweep(store, clock, local(2026, 12, 1, 23))  # down over the 1st's firing
    assert ledger_state(store, "console", "alice") == (0, 0)
    await sweep(store, clock, local(2026, 12, 2, 0, 30))
    assert ledger_state(store, "console", "alice") == (50, 50)


async def test_a_proposal_to_move_up_is_confirmed_with_its_button_once(
    people: Chat, store: Store, clock: Clock
) -> None:
    reconfigure(store, extra="[ambassadors]\npromote_after_months = 1\n")
    chat = people
    await chat.say("boss", "/ambassador add @alice")
    did(store, "alice", approved=3, answers=3)  # a trainee's tasks at 150%
    await sweep(store, clock, local(2026, 12, 1, 0, 30))
    report = [
        row
        for row in rows(store, outbox)
        if row.kind == "direct" and row.payload["template"] == "ambassador/month_report"
    ]
    [button] = [choice["command"] for row in report for choice in row.payload["choices"]]
    assert button.startswith("/ambassador promote ")
    refused = await chat.press("alice", button)
    assert refused.text == "Sorry, /ambassador is for community admins only."
    confirmed = await chat.press("boss", button)
    assert reply_of(confirmed)[0] == "ambassador/promoted"
    assert confirmed.text is not None and "alice moved up from Trainee to Ambassador" in (
        confirmed.text
    )
    again = await chat.press("boss", button)
    assert reply_of(again)[0] == "ambassador/proposal_done"
    assert posted(store, kind="direct")[-1] == (
        "alice",
        "⬆️ Well done alice: you move up to Ambassador!\nYour tasks each month: 4 approved"
        " submissions, 1 featured, 5 questions answered; reward 150 points, approved content"
        " pays ×1.5. /mytasks shows your progress.",
    )


async def test_history_names_the_ambassador_level_that_multiplied_a_submission(
    people: Chat, store: Store
) -> None:
    chat = people
    await chat.say("boss", "/ambassador add @alice senior")
    alice = member(store, "alice")

    def approve(conn: Connection) -> None:
        # As the review pays an approved submission (handlers/review.py, part of issue 12).
        acme = community_by_slug(conn, "acme")
        assert acme is not None
        standing = ambassadors.standing_multiplier(conn, acme, alice.id)
        earn(
            conn,
            acme.program,
            member_id=alice.id,
            action="submission",
            base=30,
            key="submission:1",
            at=chat.now,
            standing=standing,
        )

    store.write_now(approve)
    shown = await chat.say("alice", "/history")
    assert shown.text is not None
    assert "+60  approved submission (30 × Senior ambassador 2)" in shown.text
    reconfigure(store, locale="zh_CN")
    assert "资深大使 2" in ((await chat.say("alice", "/history")).text or "")
