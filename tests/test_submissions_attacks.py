"""Submissions and their review attacked: what a hostile member, a careless reviewer or admin
and a careless operator do to /submit, /review and the digest (issue 12 part B). Each test
failed before its fix."""

from __future__ import annotations

import pytest

from community.submission_content import find_links, link_mark
from handlers.router import Dispatcher
from handlers.types import IncomingFile
from storage.store import Store
from storage.ugc_tables import submissions
from tests.harness import Chat, Clock, posted, rows
from tests.test_submissions import context, photo, template


@pytest.fixture
def dm(dispatcher: Dispatcher, clock: Clock) -> dict[str, Chat]:
    """Private chats with the bot, by who is in them."""
    return {
        who: Chat(dispatcher, clock, chat_id=who, private=True)
        for who in ("boss", "rita", "alice", "bob")
    }


async def reviewer_rita(chat: Chat) -> None:
    await chat.say("rita", "hi")
    await chat.say("boss", "/reviewer add @rita")


async def test_a_reply_to_ones_own_invisible_message_submits_nothing(
    chat: Chat, store: Store
) -> None:
    """A message of zero-width spaces looks empty and is: the command's own words are read
    without invisible characters, and so are the replied message's."""
    said = await chat.say(
        "alice", "/submit review", replying_to="alice", replied_text="\u200b\u2060\u200b"
    )
    assert template(said) == "ugc/usage"
    assert rows(store, submissions) == []


async def test_a_draft_sent_again_with_its_category_goes_there_instead_of_asking_again(
    chat: Chat, store: Store
) -> None:
    """A member who sent a bare /submit with a photo, then sends it again as /submit 晒单, has
    said which category: asking once more would ignore what they typed."""
    asked = await chat.say("alice", "/submit", media=[photo()])
    assert template(asked) == "ugc/choose_category"
    placed = await chat.say("alice", "/submit 晒单", media=[photo()])
    assert template(placed) == "ugc/submitted"
    assert context(placed)["number"] == 1
    [row] = rows(store, submissions)
    assert (row.category, row.state) == ("purchase", "pending")
    # Still only the author's: the same photo from someone else is a duplicate.
    copied = await chat.say("bob", "/submit 晒单", media=[photo()])
    assert template(copied) == "ugc/duplicate"


async def test_a_photo_sent_as_a_file_is_a_purchase_photo(chat: Chat, store: Store) -> None:
    """Telegram members send photos "as a file" to keep their quality: the JPEG arrives as a
    document, and is still the photo a purchase photo needs."""
    jpeg = IncomingFile("file", "IMG_0001.JPG", "image/jpeg", 6, b"\xff\xd8full")
    said = await chat.say("alice", "/submit 晒单 uncompressed", media=[jpeg])
    assert template(said) == "ugc/submitted"
    bare = await chat.say(
        "bob", "/submit", media=[IncomingFile("file", "a.png", "image/png", 4, b"\x89PNG")]
    )
    assert template(bare) == "ugc/choose_category"
    assert "/submitas 2 purchase" in [bare.button(i) for i in range(3)]
    assert template(await chat.press("bob", "/submitas 2 purchase")) == "ugc/submitted"
    assert [row.category for row in rows(store, submissions)] == ["purchase", "purchase"]


async def test_a_reason_typed_on_the_next_line_rejects(
    chat: Chat, dm: dict[str, Chat], store: Store
) -> None:
    """Reviewers type the reason where it reads well: on a new line, or after a full-width
    space (a Chinese keyboard's)."""
    await reviewer_rita(chat)
    await chat.say("alice", "/submit review first https://a.example/1")
    await chat.say("alice", "/submit review second https://a.example/2")
    said = await dm["rita"].say("rita", "/review reject 1\nThe link is broken")
    assert said.text is not None and said.text.startswith("❌ #1 rejected")
    said = await dm["rita"].say("rita", "/review 驳回 ＃2\u3000链接打不开")
    assert said.text is not None and said.text.startswith("❌ #2 rejected")
    assert [(r.state, r.reason_text) for r in rows(store, submissions)] == [
        ("rejected", "The link is broken"),
        ("rejected", "链接打不开"),
    ]


async def test_an_approval_reversed_shows_the_admins_reason_in_mysubmissions(
    chat: Chat, dm: dict[str, Chat], store: Store
) -> None:
    """The author told "approval reversed: not your photo" must not read "no reason given"
    in /mysubmissions afterwards."""
    await reviewer_rita(chat)
    await chat.say("alice", "/submit review mine https://a.example/1")
    await dm["rita"].say("rita", "/review approve 1")
    await dm["boss"].say("boss", "/review reverse 1 copied from a shop page")
    mine = await dm["alice"].say("alice", "/mysubmissions")
    assert mine.text is not None
    assert "rejected: “copied from a shop page” (approval reversed by an admin)" in mine.text
    notices = [text for _, text in posted(store, kind="direct")]
    assert notices[-1].endswith("Reason: “copied from a shop page”.")


async def test_a_draft_is_placed_on_a_day_whose_limit_it_already_counts_in(
    chat: Chat, store: Store
) -> None:
    """The day's last submission was a draft: sending it again with its category places it
    (it is counted already), rather than "come back tomorrow"."""
    for n in range(4):
        await chat.say("alice", f"/submit review number {n} https://a.example/{n}")
    asked = await chat.say("alice", "/submit", media=[photo()])
    assert template(asked) == "ugc/choose_category"
    placed = await chat.say("alice", "/submit purchase", media=[photo()])
    assert template(placed) == "ugc/submitted"
    over = await chat.say("alice", "/submit review one more https://a.example/9")
    assert template(over) == "ugc/too_many_today"
    assert len(rows(store, submissions)) == 5


def test_links_with_chinese_paths_are_whole_and_not_one_same_link() -> None:
    """Clients show a Baike or Wikipedia link undecoded ("…/item/北京"): cut at the first
    Chinese character, every page of the site would be "the same link" and refused."""
    text = "百科 https://baike.baidu.com/item/北京，还有https://baike.baidu.com/item/上海。"
    beijing, shanghai = find_links(text)
    assert (beijing, shanghai) == (
        "https://baike.baidu.com/item/北京",
        "https://baike.baidu.com/item/上海",
    )
    assert link_mark(beijing) != link_mark(shanghai)
    # Written encoded or not, one page is one page.
    assert link_mark("https://baike.baidu.com/item/%E5%8C%97%E4%BA%AC") == link_mark(beijing)
    # Words glued on after an ASCII link are still no part of it.
    assert find_links("看https://x.cn/a很好") == ["https://x.cn/a"]


async def test_another_page_of_a_site_with_chinese_paths_is_no_duplicate(
    chat: Chat, store: Store
) -> None:
    await chat.say("alice", "/submit review 好书 https://zh.wikipedia.org/wiki/红楼梦")
    other = await chat.say("bob", "/submit review 也好 https://zh.wikipedia.org/wiki/西游记")
    assert template(other) == "ugc/submitted"
    same = await chat.say(
        "bob", "/submit review https://zh.wikipedia.org/wiki/%E7%BA%A2%E6%A5%BC%E6%A2%A6"
    )
    assert template(same) == "ugc/duplicate"
