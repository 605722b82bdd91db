"""The FAQ attacked, and run by a careless operator: numbers past the calendar, entries nobody
could ever find, members whose searches start with an admin's word, a vote on a removed entry,
two processes adding the same question at once, community.toml's careless entries, and
messages long enough to stall the writer or fill the word caches. Each gets a polite answer
in the community's language and changes nothing it should not."""

from __future__ import annotations

import random
import re
import string
from typing import Any

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.exc import OperationalError

from community import faq, faq_index, faq_text
from community.audit import Actor
from community.communities import Community, community_by_slug
from community.config import ConfigError
from community.faq_index import Index, Text
from community.faq_rules import FaqEntryConfig
from handlers.router import Dispatcher
from loyalty.errors import UserError
from storage.engine import make_engine
from storage.faq_tables import faq_entries, faq_votes
from storage.schema import audit_log
from storage.store import Store
from tests.conftest import T0, reconfigure
from tests.harness import Chat, Clock, rows

BOSS = Actor(None, "console:boss")
SALE = "/faq add When does the sale start? | On the 18th. | sale, 促销"


def _entries(count: int) -> list[FaqEntryConfig]:
    return [
        FaqEntryConfig(question=f"How do I wash item {n}?", answer=f"Cold water, {n}.")
        for n in range(1, count + 1)
    ]


def _ship(conn: Connection, entries: list[FaqEntryConfig]) -> None:
    """community.toml ships `entries` (the file was read)."""
    acme = community_by_slug(conn, "acme")
    assert acme is not None
    faq.sync_file_entries(conn, acme, entries, T0)


def _actions(store: Store) -> list[str]:
    return [r.action for r in rows(store, audit_log) if r.action.startswith("faq_")]


async def test_careless_admins_and_curious_members_get_polite_answers(
    chat: Chat, store: Store
) -> None:
    await chat.say("boss", SALE)
    store.write_now(_ship, _entries(24))
    said = {
        text: (await chat.say(who, text)).text
        for who, text in [
            ("boss", "/faq stats 800000"),  # more days than the calendar holds
            ("boss", "/faq add 😀😀 | 😀"),  # nothing a member could ever type to find it
            ("boss", "/faq add ??? | !!! | ,,,"),
            ("boss", "/faq edit 1 ??? | A |"),  # keywords cleared: nothing left to find
            ("alice", "/faq delete my account"),  # a search, not an admin's command
            ("alice", "/faq add Q? | A"),
            ("alice", "/faq remove 1"),
            ("alice", "/faq list 2"),
        ]
    }
    answers = list(said.values())
    assert answers[0] is not None and answers[0].startswith("📈 The FAQ in the last 800,000 days:")
    assert answers[1] is not None and answers[1].startswith(
        "Members could never find “😀😀”: it has no words to match."
    )
    assert answers[2] is not None and "Nothing was changed." in answers[2]
    assert answers[3] is not None and answers[3].startswith("Members could never find “???”")
    assert answers[4] is not None and answers[4].startswith(
        "Nothing in the FAQ matches “delete my account”"
    )
    assert answers[5] == "Sorry, /faq add is for community admins only."
    assert answers[6] == "Sorry, /faq remove is for community admins only."
    assert answers[7] is not None and "#22 How do I wash item 21?" in answers[7]
    assert "Page 2 of 2." in answers[7]
    first_page = (await chat.say("alice", "/faq")).text
    assert first_page is not None and "/faq list 2 shows the next ones" in first_page
    # An emoji question with a keyword is findable, and is kept.
    kept = (await chat.say("boss", "/faq add 😀? | A smile. | smile")).text
    assert kept is not None and kept.startswith("✅ Added FAQ #26")
    assert _actions(store) == ["faq_add", "faq_add"]
    assert len(rows(store, faq_entries)) == 26


async def test_a_vote_on_a_removed_entry_says_the_answer_is_gone(chat: Chat, store: Store) -> None:
    await chat.say("boss", SALE)
    asked = await chat.say("alice", "when does the sale start?")
    await chat.say("boss", "/faq remove 1")
    late = await chat.press("bob", asked.button(0))
    assert late.text == (
        "That answer is no longer in the FAQ, or was given in another chat: nothing was counted."
    )
    assert rows(store, faq_votes) == []


async def test_in_chinese_the_careless_admin_and_the_member_paging_are_told_in_chinese(
    store: Store, dispatcher: Dispatcher, clock: Clock
) -> None:
    reconfigure(store, locale="zh_CN")
    store.write_now(_ship, _entries(21))
    chat = Chat(dispatcher, clock)
    refused = await chat.say("boss", "/faq 添加 ？？？ | 好的")
    assert refused.text == (
        "“？？？”里没有可以匹配的词，成员永远搜不到它：请用文字写问题，"
        "或在第二个 | 后加关键词（/faq add 问题 | 回答 | 关键词, 关键词）。未作改动。"
    )
    listed = await chat.say("alice", "/faq")
    assert listed.text is not None
    assert listed.text.endswith(
        "第 1/2 页：还有 1 条，发送 /faq list 2 查看下一页。\n"
        "发送 /faq 编号 查看回答，或 /faq 关键词 搜索。"
    )
    stats = await chat.say("boss", "/faq 统计 999999999999")
    assert stats.text is not None and stats.text.startswith("📈 ")
    assert _actions(store) == []


async def test_two_processes_adding_the_same_question_at_once_make_one_entry(
    store: Store, db_url: str
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite's writers take turns at BEGIN IMMEDIATE already")
    line = "When does the sale start? | On the 18th."
    one, two = (make_engine(store.url, writer=True, pool_size=1) for _ in range(2))
    try:
        with one.connect() as first, two.connect() as second:
            with first.begin():
                acme = community_by_slug(first, "acme")
                assert acme is not None
                faq.add_entry(first, acme, line, actor=BOSS, at=T0)
                with second.begin():
                    # The second process waits for the first (here: gives up waiting) instead
                    # of adding the same question beside it.
                    second.execute(text("SET LOCAL lock_timeout = '50ms'"))
                    with pytest.raises(OperationalError):
                        faq.add_entry(second, acme, line, actor=BOSS, at=T0)
            with second.begin(), pytest.raises(UserError) as refused:
                faq.add_entry(second, acme, line, actor=BOSS, at=T0)
            assert refused.value.key == "faq/duplicate"
    finally:
        one.dispose()
        two.dispose()
    assert len(rows(store, faq_entries)) == 1


def test_community_toml_written_carelessly_is_refused_or_tidied(
    conn: Connection, community: Community
) -> None:
    sale = FaqEntryConfig(question="When does the sale start?", answer="On the 18th.")
    for entries, says in [
        ([FaqEntryConfig(question="   ", answer="x")], "faq_entries[1]: a blank question"),
        ([sale, FaqEntryConfig(question="Q?", answer="  ")], "faq_entries[2]: a blank question"),
        ([FaqEntryConfig(question="？？？", answer="x")], "faq_entries[1]: no word to match"),
        (
            [sale, sale.model_copy(update={"question": "when does  the SALE start"})],
            "faq_entries[2]: the same question as faq_entries[1]",
        ),
        (_entries(1001), "1001 entries, more than faq.max_entries (1000)"),
    ]:
        with pytest.raises(ConfigError, match=re.escape(says)):
            faq.sync_file_entries(conn, community, entries, T0)
    assert faq.live_entries(conn, community.id) == []
    tidy = sale.model_copy(
        update={"question": " When does the sale start? ", "keywords": ("", " sale ", "sale")}
    )
    faq.sync_file_entries(conn, community, [tidy, *_entries(999)], T0)
    first = faq.live_entries(conn, community.id)[0]
    assert (first.question, first.keywords) == ("When does the sale start?", ("sale",))
    before = faq.version(conn, community.id)
    faq.sync_file_entries(conn, community, [tidy, *_entries(999)], T0)  # the same file again
    assert faq.version(conn, community.id) == before
    assert len(faq.live_entries(conn, community.id)) == 1000


def test_long_messages_cost_a_bounded_number_of_lookups_and_are_not_cached(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rnd = random.Random(7)

    def word() -> str:
        return "".join(rnd.choice(string.ascii_lowercase) for _ in range(rnd.randint(5, 9)))

    vocabulary = [word() for _ in range(400)]
    index = Index(
        Text(n, " ".join(rnd.sample(vocabulary, 6)) + "?", tuple(rnd.sample(vocabulary, 3)))
        for n in range(1, 201)
    )
    looked_up: list[str] = []
    extract_one = faq_index.process.extractOne

    def counted(query: str, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(query)
        return extract_one(query, *args, **kwargs)

    monkeypatch.setattr(faq_index.process, "extractOne", counted)
    index.matches(" ".join(word() for _ in range(700)), 1)  # 4,000 characters of unknown words
    assert len(looked_up) == faq_index.FUZZY_WORDS
    looked_up.clear()
    index.matches("x" * 4000 + "?", 1)  # one word longer than any indexed one could be alike
    assert looked_up == []
    typo = vocabulary[0][:-1] + ("a" if vocabulary[0][-1] != "a" else "b")
    assert index.matches(f"{typo} " + " ".join(vocabulary[1:3]), 1)  # typos still forgiven

    stems, cuts = faq_text._stem.cache_info().currsize, faq_text._chinese_words.cache_info()
    faq_text.terms("售" * 4000 + " " + "shipping" * 500)
    assert faq_text._stem.cache_info().currsize == stems
    assert faq_text._chinese_words.cache_info().currsize == cuts.currsize
