"""Submissions through the real core: /submit with a photo, a link, a reply to one's own
message; the category asked with buttons; /mysubmissions; reviewers added by an admin decide
privately with buttons (an old button, a forwarded one, a second decision); featuring posts to
every group; an admin reverses once; the reviewers' digest."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from handlers.firings import Firings
from handlers.router import Dispatcher
from handlers.types import IncomingFile, Visibility
from storage.schema import audit_log, groups
from storage.store import Store
from storage.ugc_tables import media, submissions
from tests.harness import Chat, Clock, Said, ledger_state, posted, rows


def photo(data: bytes = b"\xff\xd8bag-1", *, from_reply: bool = False) -> IncomingFile:
    return IncomingFile("photo", "bag.jpg", "image/jpeg", len(data), data, from_reply=from_reply)


@pytest.fixture
def dm(dispatcher: Dispatcher, clock: Clock) -> dict[str, Chat]:
    """Private chats with the bot, by who is in them."""
    return {
        who: Chat(dispatcher, clock, chat_id=who, private=True)
        for who in ("boss", "rita", "alice", "bob")
    }


def template(said: Said) -> str:
    assert said.outcome.reply is not None, "the bot did not answer"
    return said.outcome.reply.template


def context(said: Said) -> dict[str, object]:
    assert said.outcome.reply is not None, "the bot did not answer"
    return dict(said.outcome.reply.context)


async def test_a_photo_with_its_category_is_numbered_and_waits_for_review(
    chat: Chat, store: Store, woken: list[str]
) -> None:
    said = await chat.say("alice", "/submit 晒单 My new bag!", media=[photo()])
    assert said.text == (
        "📮 Submission #1 (Purchase photo) is in the review queue with 1 file. "
        "You will hear privately when it is reviewed."
    )
    assert "schedule" in woken  # the digest job is listed now
    [row] = rows(store, submissions)
    assert (row.category, row.state, row.text, row.links) == (
        "purchase",
        "pending",
        "My new bag!",
        [],
    )
    assert [m.data for m in rows(store, media)] == [b"\xff\xd8bag-1"]
    mine = await chat.say("alice", "/mysubmissions")
    assert mine.text is not None and "#1 Purchase photo" in mine.text
    assert "⏳ waiting for review" in mine.text


async def test_a_bare_submit_asks_the_category_with_buttons_only_the_author_may_press(
    chat: Chat, store: Store
) -> None:
    asked = await chat.say("alice", "/submit", media=[photo()])
    assert template(asked) == "ugc/choose_category"
    assert [asked.button(i) for i in range(3)] == [
        "/submitas 1 purchase",
        "/submitas 1 review",
        "/submitas 1 post",
    ]
    again = await chat.say("alice", "/submit", media=[photo()])  # sent again meanwhile
    assert template(again) == "ugc/choose_category" and context(again)["number"] == 1
    stolen = await chat.press("bob", asked.button(1))
    assert template(stolen) == "ugc/not_your_draft"
    assert stolen.outcome.reply is not None
    assert stolen.outcome.reply.visibility is Visibility.PRIVATE
    placed = await chat.press("alice", asked.button(0))
    assert template(placed) == "ugc/submitted"
    late = await chat.press("alice", asked.button(1))
    assert template(late) == "ugc/category_chosen"
    [row] = rows(store, submissions)
    assert (row.category, row.state) == ("purchase", "pending")


async def test_a_video_goes_to_the_only_category_that_takes_it_alone(
    chat: Chat, store: Store
) -> None:
    clip = IncomingFile("video", "unbox.mp4", "video/mp4", 5, b"vid01")
    # Review and Post take anything, Video takes videos: three fit, so the member is asked...
    assert template(await chat.say("alice", "/submit", media=[clip])) == "ugc/choose_category"
    # ...but a link alone fits Review and Post only; with text that names its category, none.
    said = await chat.say("bob", "/submit post https://blog.example/unboxing")
    assert context(said)["category"] == {"en": "Post", "zh_CN": "图文"}


async def test_a_reply_to_ones_own_message_submits_it_and_anothers_is_refused(
    chat: Chat, store: Store
) -> None:
    said = await chat.say(
        "alice",
        "/submit review",
        replying_to="alice",
        replied_text="Five stars, fits well https://shop.example/p/1?utm_source=tg",
        media=[photo(from_reply=True)],
    )
    assert template(said) == "ugc/submitted"
    [row] = rows(store, submissions)
    assert row.text == "Five stars, fits well https://shop.example/p/1?utm_source=tg"
    assert row.links == ["https://shop.example/p/1?utm_source=tg"]
    theirs = await chat.say("bob", "/submit review", replying_to="alice", replied_text="mine")
    assert template(theirs) == "ugc/not_your_message"
    copied = await chat.say("bob", "/submit review wow http://www.shop.example/p/1/")
    assert copied.text == (
        "This was submitted before (submission #1): the same link or file counts once. "
        "Nothing was submitted."
    )
    assert len(rows(store, submissions)) == 1


async def test_bad_submissions_say_why_and_change_nothing(chat: Chat, store: Store) -> None:
    empty = await chat.say("alice", "/submit")
    assert template(empty) == "ugc/usage"
    assert empty.text is not None and "Purchase photo (purchase): 30 points" in empty.text
    exe = IncomingFile("file", "setup.exe", "application/x-msdownload", 2, b"MZ")
    assert (await chat.say("alice", "/submit post", media=[exe])).text == (
        "“setup.exe” (application/x-msdownload) is a kind of file submissions do not take. "
        "Send a photo or a video instead. Nothing was submitted."
    )
    huge = IncomingFile("video", "long.mp4", "video/mp4", 90_000_000, refused="too_big")
    assert template(await chat.say("alice", "/submit video", media=[huge])) == "ugc/file_too_big"
    long_link = "https://shop.example/" + "a" * 600
    assert template(await chat.say("alice", f"/submit post {long_link}")) == "ugc/link_too_long"
    words = await chat.say("alice", "/submit purchase only words")
    assert words.text == (
        "A Purchase photo submission needs a photo: send it with /submit Purchase photo as its "
        "caption. Nothing was submitted."
    )
    assert rows(store, submissions) == [] and rows(store, media) == []


async def review_setup(chat: Chat, dm: dict[str, Chat]) -> None:
    """Alice submits two things; the admin makes rita a reviewer."""
    await chat.say("rita", "hi")
    added = await chat.say("boss", "/reviewer add @rita")
    assert (
        added.text
        == "🧐 rita is now a reviewer: /review in a private chat with me shows what waits."
    )
    await chat.say("alice", "/submit 晒单 My new bag!", media=[photo()])
    await chat.say("alice", "/submit review Great fit https://shop.example/p/1")


async def test_a_reviewer_approves_and_features_with_buttons_and_the_author_is_paid_once(
    chat: Chat, dm: dict[str, Chat], store: Store, dispatcher: Dispatcher, clock: Clock
) -> None:
    discord = Chat(dispatcher, clock, platform="discord", chat_id="discord-group")
    await discord.say("dana", "hello")  # a second group of the community, on Discord
    await review_setup(chat, dm)
    in_group = await chat.say("rita", "/review")
    assert template(in_group) == "common/private_only"
    card = await dm["rita"].say("rita", "/review")
    assert template(card) == "ugc/review_item"
    assert context(card)["number"] == 1 and context(card)["waiting"] == 2
    assert card.outcome.reply is not None
    assert [m.name for m in card.outcome.reply.media] == ["bag.jpg"]
    assert [card.button(i) for i in range(3)] == [
        "/review approve 1",
        "/review feature 1",
        "/review reject 1 off_topic",
    ]
    featured = await dm["rita"].press("rita", card.button(1))
    assert featured.text is not None and featured.text.startswith(
        "🌟 #1 approved and featured in 2 groups: alice earns 30 points.\n\n📮 Submission #2"
    )
    assert ledger_state(store, "console", "alice") == (30, 30)
    old = await dm["rita"].press("rita", card.button(0))
    assert old.text == "Submission #1 was decided already (featured). Nothing was changed."
    forwarded = await dm["bob"].press("bob", "/review approve 2")
    assert forwarded.text == (
        "Only reviewers decide on submissions. An admin can make you one with /reviewer add."
    )
    reposts = posted(store)
    assert sorted(chat_id for chat_id, _ in reposts) == ["discord-group", "group-1"]
    assert all(
        text.startswith("🌟 Featured Purchase photo by alice (#1)\nMy new bag!")
        for _, text in reposts
    )
    notices = [text for _, text in posted(store, kind="direct")]
    assert notices == [
        "🎉 Your submission #1 (Purchase photo) is approved and featured in the community's "
        "groups! +30 points."
    ]
    own = await dm["alice"].say("alice", "/review approve 2")
    assert template(own) == "ugc/not_reviewer"


async def test_a_rejection_says_why_and_an_admin_reverses_it_once(
    chat: Chat, dm: dict[str, Chat], store: Store
) -> None:
    await review_setup(chat, dm)
    no_reason = await dm["rita"].say("rita", "/review reject 2")
    assert template(no_reason) == "ugc/reject_usage"
    typed = await dm["rita"].say("rita", "/review 驳回 2 The link is broken")
    assert typed.text is not None and typed.text.startswith("❌ #2 rejected; alice is told why.")
    [notice] = [text for _, text in posted(store, kind="direct")]
    assert notice == (
        "Your submission #2 (Review) was not approved: “The link is broken”. "
        "You are welcome to submit something new."
    )
    by_reviewer = await dm["rita"].say("rita", "/review reverse 2")
    assert template(by_reviewer) == "common/admins_only"
    reversed_ = await dm["boss"].say("boss", "/review reverse 2 it works for me")
    assert (
        reversed_.text == "↩️ Submission #2 by alice is now approved: 50 points paid. alice is told."
    )
    assert ledger_state(store, "console", "alice") == (50, 50)
    again = await dm["boss"].say("boss", "/review reverse 2")
    assert template(again) == "ugc/already_reversed"
    mine = await dm["alice"].say("alice", "/mysubmissions")
    assert mine.text is not None
    assert "#2 Review" in mine.text and "✅ approved, 50 points (a decision reversed" in mine.text
    actions = [row.action for row in rows(store, audit_log)]
    assert actions[-2:] == ["submission_reject", "submission_reverse"]


async def test_the_reviewers_digest_names_what_waits_at_most_once_per_interval(
    chat: Chat, dm: dict[str, Chat], store: Store, clock: Clock
) -> None:
    await review_setup(chat, dm)
    firings = Firings(store, clock=clock, replay=True, admins=("console:boss",))
    await firings.sweep(clock.now)
    digests = [text for _, text in posted(store, kind="direct") if text.startswith("📮")]
    assert len(digests) == 2  # boss and rita
    assert digests[0] == (
        "📮 2 new submissions are waiting for review:\n"
        "#1 Purchase photo by alice\n#2 Review by alice\nSend /review to decide."
    )
    await chat.say("alice", "/submit post one more thing")
    await firings.sweep(clock.now)
    assert len([t for _, t in posted(store, kind="direct") if t.startswith("📮")]) == 2
    clock.now += timedelta(minutes=30)
    await firings.sweep(clock.now)
    later = [t for _, t in posted(store, kind="direct") if t.startswith("📮")]
    assert len(later) == 4 and later[-1].startswith("📮 1 new submission is waiting")


async def test_reviewers_are_listed_and_removed_by_admins_only(chat: Chat, store: Store) -> None:
    await chat.say("rita", "hi")
    refused = await chat.say("alice", "/reviewer add @rita")
    assert template(refused) == "common/admins_only"
    await chat.say("boss", "/reviewer add @rita")
    assert template(await chat.say("boss", "/reviewer add @rita")) == "ugc/reviewer_changed"
    listed = await chat.say("boss", "/reviewer list")
    assert listed.text is not None and "• rita, since 2026-11-23" in listed.text
    gone = await chat.say("boss", "/reviewer remove @rita")
    assert gone.text == "rita is no longer a reviewer."
    unknown = await chat.say("boss", "/reviewer add @nobody")
    assert template(unknown) == "points/unknown_member"
    assert [row.action for row in rows(store, audit_log)] == ["reviewer_add", "reviewer_remove"]
    assert store.read_now(lambda c: c.execute(select(groups.c.adopted_by)).scalar()) == (
        "console:boss"
    )
