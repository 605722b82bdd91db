"""Contests through the real core: an admin starts one, submissions enter it, the scheduler closes
it and posts the vote, members vote with the buttons, the scheduler ends it, pays the winners
once and tells everyone; and every bad input answered politely, changing nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, func, insert, select

from community.communities import community_by_slug
from community.contests import contest_for
from handlers.firings import Firings
from handlers.router import Dispatcher
from handlers.types import Visibility
from storage.contest_tables import contest_votes, contests
from storage.schema import audit_log, ledger, outbox
from storage.store import Store
from storage.ugc_tables import media, submission_files, submissions
from tests.harness import Chat, Clock, Said, ledger_state, member_id, posted, rows

# The test community's clock starts 2026-11-23 09:00 in Shanghai; "11-25" is the day after
# tomorrow, so entries stop at 2026-11-26 00:00 there (16:00 UTC the day before).
CLOSE = datetime(2026, 11, 25, 16, 0, tzinfo=UTC)
VOTE_END = CLOSE + timedelta(hours=48)  # [contests] vote_hours' default


def submit(
    store: Store,
    who: str,
    text: str,
    at: datetime,
    *,
    category: str = "purchase",
    state: str = "approved",
    platform: str = "console",
    photo: bytes = b"",
) -> int:
    """`who`'s submission made at `at` (approved, unless `state` says otherwise), entered in
    the contest open for its category then, as /submit and /review leave one; its number."""
    member = member_id(store, platform, who)
    assert member is not None, f"{who} has not spoken yet"

    def write(conn: Connection) -> int:
        acme = community_by_slug(conn, "acme")
        assert acme is not None
        number = conn.execute(
            insert(submissions).returning(submissions.c.id),
            {
                "community_id": acme.id,
                "member_id": member,
                "category": category,
                "contest_id": contest_for(conn, acme, category, at),
                "text": text,
                "links": [],
                "platform": platform,
                "chat_id": "group-1",
                "state": state,
                "decided_at": None if state == "pending" else at,
                "created_at": at,
            },
        ).scalar_one()
        if photo:
            kept = conn.execute(
                insert(media).returning(media.c.id),
                {
                    "community_id": acme.id,
                    "sha256": f"{number:064d}",
                    "kind": "photo",
                    "name": "photo.jpg",
                    "mime": "image/jpeg",
                    "size": len(photo),
                    "data": photo,
                    "created_at": at,
                },
            ).scalar_one()
            conn.execute(
                insert(submission_files), {"submission_id": number, "position": 0, "media_id": kept}
            )
        return int(number)

    return store.write_now(write)


def count(store: Store, table: object) -> int:
    query = select(func.count()).select_from(table)  # type: ignore[arg-type]
    return int(store.read_now(lambda conn: conn.execute(query).scalar_one()))


def posts_of(store: Store, template: str) -> list[dict[str, object]]:
    """The outbox rows of one template, as payloads."""
    return [row.payload for row in rows(store, outbox) if row.payload["template"] == template]


@pytest.fixture
def discord(dispatcher: Dispatcher, clock: Clock) -> Chat:
    """A Discord group of the same community."""
    return Chat(dispatcher, clock, platform="discord", chat_id="discord-group")


async def start(chat: Chat, words: str = "") -> Said:
    return await chat.say(
        "boss",
        "/contest start Winter photo contest --until 11-25 --category purchase "
        f"--prizes 300,200{words}",
    )


async def test_a_contest_runs_from_start_to_winners_paid_once(
    chat: Chat, store: Store, clock: Clock
) -> None:
    for who in ("alice", "bob", "carol", "dave", "erin"):
        await chat.say(who, "/checkin")
    started = await start(chat)
    assert started.text == (
        "🏆 Contest #1 “Winter photo contest” is open for entries until 2026-11-26 00:00 "
        "(Purchase photo). Prizes: 🥇 1st: 300 points · 🥈 2nd: 200 points.\n"
        "Announced in 1 group."
    )
    [(where, announcement)] = [p for p in posted(store) if "New contest" in p[1]]
    assert where == "group-1"
    assert "/submit purchase your text" in announcement and "until 2026-11-26 00:00" in announcement
    hour = clock.now + timedelta(hours=1)
    alice = submit(store, "alice", "Snow on the new boots", hour, photo=b"jpeg-bytes")
    bob = submit(store, "bob", "Scarf by the window", hour)
    carol = submit(store, "carol", "My coat", hour)
    submit(store, "dave", "Still waiting", hour, state="pending")
    submit(store, "erin", "A review, not a photo", hour, category="review")
    late = submit(store, "erin", "Too late", CLOSE + timedelta(minutes=5))
    shown = await chat.say("erin", "/contest 1")
    assert shown.text is not None and "#1 alice 📷: Snow on the new boots" in shown.text
    assert "Still waiting" not in shown.text and "A review" not in shown.text

    firings = Firings(store, clock=clock)
    clock.now = CLOSE
    await firings.sweep(CLOSE)
    [header] = posts_of(store, "contest/vote_open")
    assert header["context"]["entries"] == 3  # type: ignore[index]
    entries = posts_of(store, "contest/entry")
    assert [e["context"]["number"] for e in entries] == [alice, bob, carol]  # type: ignore[index]
    assert [c["command"] for e in entries for c in e["choices"]] == [  # type: ignore[attr-defined]
        f"/contest vote 1 {alice}",
        f"/contest vote 1 {bob}",
        f"/contest vote 1 {carol}",
    ]
    assert [len(e.get("media", ())) for e in entries] == [1, 0, 0]  # alice's photo
    assert late not in [e["context"]["number"] for e in entries]  # type: ignore[index]

    for who, entry in (("bob", alice), ("carol", alice), ("alice", bob), ("dave", carol)):
        voted = await chat.press(who, f"/contest vote 1 {entry}")
        assert voted.outcome.reply is not None and voted.outcome.reply.template == "contest/voted"
        assert voted.outcome.reply.visibility is Visibility.PRIVATE
    clock.now = VOTE_END
    await firings.sweep(VOTE_END)
    await firings.sweep(VOTE_END + timedelta(minutes=1))
    await Firings(store, clock=clock).sweep(VOTE_END + timedelta(hours=1))  # a restart
    [(_, results)] = [p for p in posted(store) if "the vote is over" in p[1]]
    assert results == (
        "🏆 Contest #1 “Winter photo contest”: the vote is over (4 votes).\n"
        f"🥇 1st #{alice} alice — 2 votes: +300 points\n"
        f"🥈 2nd #{bob} bob — 1 vote: +200 points\n"
        "Congratulations! A tie goes to the earlier entry."
    )
    assert ledger_state(store, "console", "alice") == (310, 310)
    assert ledger_state(store, "console", "bob") == (210, 210)
    assert ledger_state(store, "console", "carol") == (10, 10)  # tied with bob, entered later
    prizes = [row for row in rows(store, ledger) if row.reason == "contest_prize"]
    assert [(row.delta, row.idempotency_key) for row in prizes] == [
        (300, "contest_prize:1:1"),
        (200, "contest_prize:1:2"),
    ]
    won = [text for _, text in posted(store, kind="direct") if "won" in text]
    assert won == [
        f"🎉 Your entry #{alice} won 🥇 1st place in contest #1 “Winter photo contest” with "
        "2 votes! +300 points are in your balance.",
        f"🎉 Your entry #{bob} won 🥈 2nd place in contest #1 “Winter photo contest” with "
        "1 vote! +200 points are in your balance.",
    ]
    final = await chat.say("erin", "/contest 1")
    assert (
        final.text is not None and f"🥇 1st #{alice} alice 📷: Snow on the new boots" in final.text
    )
    assert final.outcome.reply is not None and final.outcome.reply.choices == ()
    actions = [row.action for row in rows(store, audit_log) if row.action.startswith("contest")]
    assert actions == ["contest_start", "contest_close", "contest_end"]


async def test_voting_refuses_twice_own_entry_other_contests_and_the_closed_vote(
    chat: Chat, store: Store, clock: Clock
) -> None:
    for who in ("alice", "bob", "carol"):
        await chat.say(who, "/checkin")
    await start(chat)
    await chat.say("boss", "/contest start Reviews --until 11-25 --category review")
    hour = clock.now + timedelta(hours=1)
    alice = submit(store, "alice", "Boots", hour)
    bob = submit(store, "bob", "Scarf", hour)
    review = submit(store, "carol", "Honest review", hour, category="review")
    early = await chat.say("bob", f"/contest vote 1 {alice}")
    assert early.text == (
        "Contest #1 is still taking entries; voting starts when it closes at 2026-11-26 00:00."
    )
    clock.now = CLOSE
    await Firings(store, clock=clock).sweep(CLOSE)
    first = await chat.say("bob", f"/contest vote 1 {alice}")
    assert first.text == (
        f"🗳 Your vote for entry #{alice} by alice in contest #1 is counted. Thank you!"
    )
    again = await chat.press("bob", f"/contest vote 1 {alice}")
    other = await chat.say("bob", f"/contest vote 1 {review}")
    assert again.text == (
        f"You have already voted in contest #1 (for entry #{alice}): one vote per member, "
        "and it stands."
    )
    assert other.text == (
        f"#{review} is not an entry in contest #1's vote. /contest 1 shows its entries."
    )
    own = await chat.say("alice", f"/contest vote 1 {alice}")
    assert own.text == f"Entry #{alice} is your own: vote for someone else's entry in contest #1."
    elsewhere = await chat.say("alice", f"/contest vote 1 {review}")
    assert elsewhere.text == (
        f"#{review} is not an entry in contest #1's vote. /contest 1 shows its entries."
    )
    unknown = await chat.say("alice", f"/contest vote 9 {bob}")
    assert unknown.text == "There is no contest #9. /contest lists them."
    garbled = await chat.say("alice", "/contest vote one two")
    assert garbled.outcome.reply is not None
    assert garbled.outcome.reply.template == "contest/vote_usage"
    assert count(store, contest_votes) == 1
    clock.now = VOTE_END
    closed = await chat.press("carol", f"/contest vote 1 {bob}")  # an old button, after the end
    assert closed.text == (
        "Voting in contest #1 “Winter photo contest” is over. /contest 1 shows the result."
    )
    assert count(store, contest_votes) == 1


async def test_a_contest_without_approved_entries_ends_saying_so(
    chat: Chat, store: Store, clock: Clock
) -> None:
    await chat.say("alice", "/checkin")
    await start(chat)
    submit(store, "alice", "Waiting for review", clock.now, state="pending")
    clock.now = CLOSE
    await Firings(store, clock=clock).sweep(CLOSE)
    [(_, said)] = [p for p in posted(store) if "no approved entries" in p[1]]
    assert said.startswith("🏆 Contest #1 “Winter photo contest” has closed with no approved")
    state = store.read_now(lambda conn: conn.execute(select(contests.c.state)).scalar_one())
    assert state == "ended"
    assert posts_of(store, "contest/vote_open") == []


async def test_a_close_missed_while_the_bot_was_down_is_caught_up(
    chat: Chat, store: Store, clock: Clock
) -> None:
    for who in ("alice", "bob"):
        await chat.say(who, "/checkin")
    await start(chat)
    submit(store, "alice", "Boots", clock.now)
    down_until = CLOSE + timedelta(days=3, minutes=30)
    clock.now = down_until
    await Firings(store, clock=clock).sweep(down_until)  # the first sweep after the restart
    [header] = posts_of(store, "contest/vote_open")
    # Voters get the whole vote after a late close: it ends vote_hours after it opened.
    assert header["context"]["vote_ends_at"] == "2026-12-01T00:30:00+08:00"  # type: ignore[index]


async def test_a_nobody_voted_contest_has_no_winners(
    chat: Chat, store: Store, clock: Clock
) -> None:
    await chat.say("alice", "/checkin")
    await start(chat)
    submit(store, "alice", "Boots", clock.now)
    firings = Firings(store, clock=clock)
    clock.now = CLOSE
    await firings.sweep(CLOSE)
    clock.now = VOTE_END
    await firings.sweep(VOTE_END)
    [(_, results)] = [p for p in posted(store) if "the vote is over" in p[1]]
    assert "Nobody voted, so there are no winners this time." in results
    assert ledger_state(store, "console", "alice") == (10, 10)


async def test_a_reward_from_the_shop_is_given_as_a_prize(
    chat: Chat, store: Store, clock: Clock
) -> None:
    from tests.harness import add_sticker

    for who in ("alice", "bob"):
        await chat.say(who, "/checkin")
    sticker = add_sticker(store, clock.now)
    started = await chat.say(
        "boss", f"/contest start Sticker hunt --until 11-25 --reward {sticker}"
    )
    assert started.text is not None and "🥇 1st: 🎁 Sticker" in started.text
    alice = submit(store, "alice", "Boots", clock.now, category="review")
    firings = Firings(store, clock=clock)
    clock.now = CLOSE
    await firings.sweep(CLOSE)
    await chat.say("bob", f"/contest vote 1 {alice}")
    clock.now = VOTE_END
    await firings.sweep(VOTE_END)
    [(_, results)] = [p for p in posted(store) if "the vote is over" in p[1]]
    assert f"🥇 1st #{alice} alice — 1 vote: 🎁 Sticker" in results
    [gift] = [row for row in rows(store, outbox) if row.payload["template"] == "contest/won"]
    assert gift.payload["context"]["given"] is True
    mine = await chat.say("alice", "/redemptions")
    assert mine.text is not None and "Sticker" in mine.text
    assert ledger_state(store, "console", "alice") == (10, 10)  # a prize costs nothing


async def test_starting_refuses_bad_terms_and_changes_nothing(chat: Chat, store: Store) -> None:
    cases = {
        "/contest start": "contest/start_usage",
        "/contest start Photos": "contest/start_usage",
        "/contest start --until 11-25": "contest/start_usage",
        "/contest start " + "x" * 101 + " --until 11-25": "contest/title_too_long",
        "/contest start Photos --until 2026-11-01": "contest/until_past",
        "/contest start Photos --until 2027-06-01": "contest/until_too_far",
        "/contest start Photos --until someday": "contest/bad_until",
        "/contest start Photos --until 13-45": "contest/bad_until",
        "/contest start Photos --until 11-25 --category shoes": "contest/unknown_category",
        "/contest start Photos --until 11-25 --prizes 300,lots": "contest/bad_prizes",
        "/contest start Photos --until 11-25 --prizes 99999999": "contest/bad_prizes",
        "/contest start Photos --until 11-25 --prizes 1 --reward 2": "contest/prizes_or_reward",
        "/contest start Photos --until 11-25 --reward 77": "rewards/unknown",
        "/contest start Photos --until 11-25 --until 11-26": "contest/start_usage",
        "/contest frobnicate": "contest/usage",
        "/contest cancel 4": "contest/unknown",
    }
    for line, template in cases.items():
        said = await chat.say("boss", line)
        assert said.outcome.reply is not None, line
        assert said.outcome.reply.template == template, line
    member = await chat.say("alice", "/contest start Photos --until 11-25")
    assert member.text == "Sorry, /contest start is for community admins only."
    assert count(store, contests) == 0
    assert posted(store) == []


async def test_too_many_open_contests_are_refused(chat: Chat, store: Store) -> None:
    for n in range(5):
        said = await chat.say("boss", f"/contest start Contest {n} --until 11-25")
        assert said.outcome.reply is not None and said.outcome.reply.template == "contest/started"
    refused = await chat.say("boss", "/contest start One more --until 11-25")
    assert refused.text == (
        "5 contests are already taking entries or votes; wait for one to end, or cancel one "
        "with /contest cancel NUMBER."
    )
    assert count(store, contests) == 5


async def test_cancelling_tells_the_groups_and_stops_the_schedule(
    chat: Chat, discord: Chat, store: Store, clock: Clock
) -> None:
    await discord.say("mod", "/checkin")  # the community's group on Discord
    await chat.say("alice", "/checkin")
    await start(chat)
    submit(store, "alice", "Boots", clock.now)
    cancelled = await chat.say("boss", "/contest cancel 1")
    assert cancelled.text == (
        "🚫 Contest #1 “Winter photo contest” is cancelled: no winners, no prizes. "
        "The groups are told."
    )
    again = await chat.say("boss", "/contest cancel #1")
    assert again.text == "Contest #1 has been cancelled already."
    told = [(chat_id, text) for chat_id, text in posted(store) if "cancelled" in text]
    notice = "🚫 Contest #1 “Winter photo contest” has been cancelled. Your submissions stay yours."
    assert sorted(told) == [("discord-group", notice), ("group-1", notice)]
    clock.now = CLOSE
    await Firings(store, clock=clock).sweep(CLOSE)
    assert posts_of(store, "contest/vote_open") == []
    listed = await chat.say("alice", "/contest")
    assert listed.text == (
        "🏆 Contests:\n#1 Winter photo contest — cancelled\nSee one with /contest NUMBER."
    )
    assert [row.action for row in rows(store, audit_log) if "contest" in row.action] == [
        "contest_start",
        "contest_cancel",
    ]


async def test_contest_for_takes_the_newest_contest_whose_category_fits(
    chat: Chat, store: Store, clock: Clock
) -> None:
    await chat.say("alice", "/checkin")
    await chat.say("boss", "/contest start Anything --until 11-25")
    await chat.say("boss", "/contest start Photos --until 11-24 --category 晒单")

    def entered(category: str, at: datetime) -> int | None:
        def read(conn: Connection) -> int | None:
            acme = community_by_slug(conn, "acme")
            assert acme is not None
            return contest_for(conn, acme, category, at)

        return store.read_now(read)

    assert entered("purchase", clock.now) == 2
    assert entered("review", clock.now) == 1
    assert entered("purchase", clock.now - timedelta(minutes=1)) is None  # before they opened
    after_photos = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
    assert entered("purchase", after_photos) == 1
    assert entered("purchase", CLOSE) is None


async def test_chinese_admins_and_members_are_answered_in_chinese(
    chat: Chat, store: Store, clock: Clock
) -> None:
    from tests.conftest import reconfigure

    reconfigure(store, locale="zh_CN")
    for who in ("alice", "bob"):
        await chat.say(who, "/checkin")
    started = await chat.say(
        "boss", "/contest 发起 冬季摄影大赛 --截止 11月25日 --分类 晒单 --奖金 500,300"
    )
    assert started.text == (
        "🏆 征集 #1“冬季摄影大赛”已开始，投稿截止 2026-11-26 00:00（晒单）。"
        "奖品：🥇 第一名：500 积分 · 🥈 第二名：300 积分。\n已在 1 个群公布。"
    )
    alice = submit(store, "alice", "雪地靴", clock.now)
    clock.now = CLOSE
    await Firings(store, clock=clock).sweep(CLOSE)
    voted = await chat.say("bob", f"/contest 投票 1 {alice}")
    assert voted.text == f"🗳 已记录你在征集 #1 中投给 alice 的作品 #{alice}，谢谢！"
    twice = await chat.say("bob", f"/contest 投票 1 {alice}")
    assert twice.text == f"你已经在征集 #1 中投过票了（投给了 #{alice}）：每人一票，不能更改。"
    too_long = await chat.say("boss", "/contest 发起 " + "长" * 101 + " --截止 11月25日")
    assert too_long.text == "标题有 101 个字符，征集标题最多 100 个字符。"


async def test_a_long_vote_posts_the_first_entries_and_lists_the_most_voted_first(
    chat: Chat, store: Store, clock: Clock
) -> None:
    from tests.conftest import reconfigure

    reconfigure(store, extra="[contests]\nmax_entries_shown = 2\n")
    for who in ("alice", "bob", "carol", "dave"):
        await chat.say(who, "/checkin")
    await start(chat)
    alice = submit(store, "alice", "Boots", clock.now)
    bob = submit(store, "bob", "Scarf", clock.now)
    carol = submit(store, "carol", "Coat", clock.now)
    clock.now = CLOSE
    await Firings(store, clock=clock).sweep(CLOSE)
    [(_, header)] = [p for p in posted(store) if "time to vote" in p[1]]
    assert "3 entries, the first 2 below (all of them with /contest 1)." in header
    assert len(posts_of(store, "contest/entry")) == 2
    await chat.say("dave", f"/contest vote 1 {carol}")
    private = Chat(chat.dispatcher, chat.clock, chat_id="dm-console", private=True)
    shown = await private.say("alice", "/contest 1")
    assert shown.text is not None
    assert shown.text.splitlines()[2:5] == [
        f"#{carol} carol: Coat — 1 vote",
        f"#{alice} alice: Boots — 0 votes",
        "… and 1 more.",
    ]
    assert shown.outcome.reply is not None
    # Her own entry has no button; the third entry, not shown, is voted for by command.
    assert [c.command for c in shown.outcome.reply.choices] == [f"/contest vote 1 {carol}"]
    done = await private.say("dave", "/contest 1")
    assert done.text is not None and done.text.endswith(f"You voted for #{carol}.")
    assert done.outcome.reply is not None and done.outcome.reply.choices == ()
    third = await chat.say("alice", f"/contest vote 1 {bob}")
    assert third.outcome.reply is not None and third.outcome.reply.template == "contest/voted"
