"""/tier, the tier on /me, the next expiry on /points, and the review through the scheduler,
through the real core. T0 is Monday 2026-11-23, 09:00 in the community's Asia/Shanghai; the
first review is on 2026-12-01 at 00:30."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, select

from community.communities import community_by_slug
from community.earning import credit
from handlers.firings import Firings
from loyalty import tier_reviews
from storage.schema import balances, outbox
from storage.store import Store
from tests.conftest import T0, reconfigure
from tests.harness import Chat, Clock, member_id, posted, rows

DEC1 = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)  # 2026-12-01 00:30 in Shanghai
JAN1 = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)


def earned_long_ago(store: Store, who: str, points: int) -> None:
    """`who` earned `points` 370 days before T0: out of the growth value's window by now."""
    found = member_id(store, "console", who)
    assert found is not None

    def pay(conn: Connection) -> None:
        community = community_by_slug(conn, "acme")
        assert community is not None
        credit(
            conn,
            community,
            member_id=found,
            action="award",
            key=f"old:{who}",
            at=T0 - timedelta(days=370),
            base=points,
        )

    store.write_now(pay)


def tier_messages(store: Store) -> list[tuple[str, str]]:
    """(chat, template) of every message about tiers in the outbox, in order."""
    return [
        (row.chat_id, row.payload["template"])
        for row in rows(store, outbox)
        if row.payload["template"].startswith("tiers/")
    ]


def review_at(store: Store, at: datetime) -> None:
    def run(conn: Connection) -> None:
        community = community_by_slug(conn, "acme")
        assert community is not None
        tier_reviews.review(conn, community.program, at)

    store.write_now(run)


async def test_tier_for_a_newcomer_shows_the_way_to_silver(chat: Chat) -> None:
    said = await chat.say("alice", "/tier")
    assert said.text == (
        "🏅 alice: Member\n"
        "Growth value: 0 (points earned in the last 365 days; spending never lowers it)\n"
        "Next: Silver at 500 — 500 to go\n"
        "▱▱▱▱▱▱▱▱▱▱\n"
        "Next tier review: 2026-12-01.\n"
        "Benefits: points ×1 · birthday bonus 20"
    )


async def test_an_award_over_the_threshold_upgrades_and_tier_shows_progress(
    chat: Chat, store: Store
) -> None:
    await chat.say("alice", "/start")
    await chat.say("boss", "/award @alice 1000 launch")
    await chat.say("boss", "/award @alice 250 review")
    said = await chat.say("alice", "等级")
    assert said.text == (
        "🏅 alice: Silver\n"
        "Growth value: 1,250 (points earned in the last 365 days; spending never lowers it)\n"
        "Next: Gold at 2,000 — 750 to go\n"
        "▰▰▰▰▰▱▱▱▱▱\n"
        "Silver needs 500: you keep it at the next tier review on 2026-12-01.\n"
        "Benefits: points ×1.1 · birthday bonus 50 · 1 make-up card a month"
    )
    (congratulation,) = posted(store, kind="direct")
    assert congratulation[1].startswith("🎉 Congratulations, alice: you are now Silver!")
    assert [row.tier for row in rows(store, balances)] == [1, 0]  # alice, boss


async def test_a_short_member_is_told_what_to_earn_by_when(
    chat: Chat, store: Store, clock: Clock
) -> None:
    await chat.say("alice", "/start")
    earned_long_ago(store, "alice", 600)
    review_at(store, DEC1)
    clock.now = DEC1 + timedelta(days=1)
    said = await chat.say("alice", "/tier")
    assert said.text is not None
    assert said.text.splitlines()[0] == "🏅 alice: Silver"
    assert (
        "⚠️ You are below Silver's 500: earn 500 more by 2027-01-01 00:30 to keep Silver."
        in said.text
    )


async def test_me_shows_the_tier_and_points_the_next_expiry(chat: Chat) -> None:
    await chat.say("alice", "/checkin")
    me = await chat.say("alice", "/me")
    assert me.text is not None and "Tier: Member · /tier" in me.text.splitlines()
    points = await chat.say("alice", "/points")
    assert points.text is not None
    assert points.text.splitlines()[1] == "⏳ 10 points expire on 2027-12-01 00:00."


async def test_in_chinese_the_tier_has_its_chinese_name(chat: Chat, store: Store) -> None:
    reconfigure(store, locale="zh_CN")
    await chat.say("小明", "/start")
    await chat.say("boss", "/award @小明 600 活动")
    said = await chat.say("小明", "/tier")
    assert said.text is not None and said.text.startswith("🏅 小明：银卡会员\n成长值：600")
    me = await chat.say("小明", "/me")
    assert me.text is not None and "会员等级：银卡会员 · /tier" in me.text


async def test_the_scheduler_reviews_once_and_tells_who_moved_down(
    chat: Chat, store: Store, clock: Clock
) -> None:
    await chat.say("alice", "/start")
    earned_long_ago(store, "alice", 600)
    firings = Firings(store, clock=clock, replay=True)
    await firings.sweep(clock.now)
    await firings.sweep(JAN1 - timedelta(days=7) + timedelta(minutes=1))
    # Short since the December review: the one reminder comes a week before January's.
    assert tier_messages(store) == [("alice", "tiers/upgraded"), ("alice", "tiers/keep_reminder")]
    await firings.sweep(JAN1 + timedelta(minutes=1))
    await Firings(store, clock=clock).sweep(JAN1 + timedelta(minutes=2))
    assert tier_messages(store)[2:] == [("alice", "tiers/downgraded")]
    notices = [text for _, text in posted(store, kind="direct") if "tier review" in text]
    assert notices[-1].startswith("alice, at the tier review your growth value was 0")
    shown = store.read_now(lambda c: c.execute(select(balances.c.tier)).scalars().all())
    assert list(shown) == [0]
