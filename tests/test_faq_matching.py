"""The FAQ's matching on the set of real member questions in tests/data/faq_matching.toml:
at the default threshold, an automatic answer is right at least 9 times in 10 (no answer is
better than a wrong one); how many of the answerable questions get one is reported."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from community.faq_index import Index, Text
from community.faq_rules import FaqRules
from community.faq_text import is_question, normalize, terms

MATCHING_SET = Path(__file__).parent / "data" / "faq_matching.toml"


def load_set() -> tuple[list[Text], list[dict[str, Any]]]:
    """The set's entries (numbered from 1, as `expect` names them) and its messages."""
    data = tomllib.loads(MATCHING_SET.read_text(encoding="utf-8"))
    entries = [
        Text(number, entry["question"], tuple(entry["keywords"]))
        for number, entry in enumerate(data["entries"], start=1)
    ]
    return entries, data["messages"]


def precision_and_recall(threshold: float) -> tuple[float, float, int, int]:
    """(precision, recall, answers given, answerable messages) of automatic answers."""
    entries, messages = load_set()
    index = Index(entries)
    given = right = 0
    for message in messages:
        best = index.matches(message["text"], 1)
        if is_question(message["text"]) and best and best[0].score >= threshold:
            given += 1
            right += best[0].entry_id == message["expect"]
    answerable = sum(1 for message in messages if message["expect"])
    return right / max(given, 1), right / answerable, given, answerable


def test_the_set_is_big_and_mixed_enough() -> None:
    entries, messages = load_set()
    assert len(entries) == 20 and len(messages) >= 50
    assert {m["expect"] for m in messages} == set(range(21))  # every entry, and chatter
    assert sum(1 for m in messages if not m["expect"]) >= 20


def test_automatic_answers_are_right_at_the_default_threshold(
    capsys: pytest.CaptureFixture[str],
) -> None:
    threshold = FaqRules().threshold
    precision, recall, given, answerable = precision_and_recall(threshold)
    with capsys.disabled():
        print(
            f"\nFAQ matching at threshold {threshold:g}: precision {precision:.3f},"
            f" recall {recall:.3f} ({given} answers, {answerable} answerable)"
        )
    assert precision >= 0.9
    assert recall >= 0.5  # a regression guard, not a promise


@pytest.mark.parametrize(
    ("typed", "same_as"),
    [
        ("ＷＨＥＮ ＤＯＥＳ ＴＨＥ ＳＡＬＥ ＳＴＡＲＴ？", "when does the sale start?"),
        ("請問大促什麼時候開始", "请问大促什么时候开始"),
        ("尺碼偏大嗎？", "尺码偏大吗?"),
    ],
)
def test_full_width_and_traditional_forms_read_the_same(typed: str, same_as: str) -> None:
    assert normalize(typed) == normalize(same_as)
    assert terms(typed) == terms(same_as)


def test_words_are_stemmed_segmented_and_stripped_of_filler() -> None:
    assert terms("Hi guys, when does shipping start?") == ["when", "ship", "start"]
    assert terms("请问这款尺码偏大吗") == ["款", "尺码", "偏大"]
    assert terms("优惠券怎么用") == ["优惠", "优惠券", "怎么", "用"]
    assert terms("lol 👍👍") == []


def test_typos_match_the_closest_word_and_unknown_words_count_against() -> None:
    index = Index([Text(1, "How do I earn points?"), Text(2, "Do points expire?")])
    assert [m.entry_id for m in index.matches("how do i earn pionts?", 2)] == [1, 2]
    assert index.matches("how do i earn pionts?", 1)[0].score > 0.9
    assert index.matches("my cat likes points of view in films", 1)[0].score < 0.5
    assert index.matches("hello there", 1) == []
    assert Index([]).matches("anything?", 3) == []


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("when does the sale start", True),
        ("the sale was great?", True),
        ("尺码偏大吗", True),
        ("几号发货", True),
        ("the sale was great", False),
        ("签到第七天了，开心", False),
        ("", False),
    ],
)
def test_only_questions_are_answered_unasked(text: str, asks: bool) -> None:
    assert is_question(text) is asks
