"""The FAQ's matching under its issue's load: one community with 1,000 entries, members' messages
matched against them.

  a  cold build: the first index of a process, loading its libraries (rjieba's dictionary,
     OpenCC's tables, the stemmer) and reading 1,000 entries; then a rebuild (what an admin's
     /faq edit costs the next message), with the word caches cleared and warm
  b  matching: p50 / p99 / max of matching one message against the 1,000 entries (the matching
     set's 89 messages and 2,000 generated ones, Chinese, English, traditional, typos, chatter)
  c  the whole automatic-answer call as a group message runs it (community/faq_answers.py
     answer_unasked on a real SQLite file: the version read, the match, the repeat check and the
     record when it answers): p50 / p99
  d  --compare: precision and recall on tests/data/faq_matching.toml with each library left out
     or swapped (jieba itself and zhconv only when installed: pip install jieba zhconv), the
     evidence for the choice in community/faq_text.py

Prints numbers; asserts nothing. Run from the repo root: .venv/bin/python bench/faq_bench.py
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MATCHING_SET = Path(__file__).resolve().parent.parent / "tests" / "data" / "faq_matching.toml"
ENTRIES = 1000
MESSAGES = 2000

# Generated entries: a brand's catalogue of products and the things members ask about each.
PRODUCTS = [
    ("cashmere sweater", "羊绒衫"), ("down jacket", "羽绒服"), ("silk scarf", "丝巾"),
    ("running shoes", "跑鞋"), ("leather bag", "皮包"), ("wool coat", "毛呢大衣"),
    ("linen shirt", "亚麻衬衫"), ("yoga pants", "瑜伽裤"), ("sun hat", "遮阳帽"),
    ("denim jeans", "牛仔裤"), ("gift box", "礼盒"), ("travel kit", "旅行套装"),
    ("face cream", "面霜"), ("lipstick", "口红"), ("perfume", "香水"), ("watch", "手表"),
    ("backpack", "双肩包"), ("sneakers", "运动鞋"), ("pajamas", "睡衣"), ("socks", "袜子"),
]  # fmt: skip
TOPICS = [
    ("How do I wash the {p}?", "{z}怎么洗？", ["wash", "洗"]),
    ("Does the {p} run large?", "{z}尺码偏大吗？", ["size", "尺码"]),
    ("Is the {p} in stock?", "{z}有货吗？", ["stock", "有货", "补货"]),
    ("What colours does the {p} come in?", "{z}有哪些颜色？", ["colour", "color", "颜色"]),
    ("Is the {p} waterproof?", "{z}防水吗？", ["waterproof", "防水"]),
    ("How long is the {p}'s warranty?", "{z}保修多久？", ["warranty", "保修"]),
    ("Can the {p} be engraved?", "{z}可以刻字吗？", ["engrave", "刻字"]),
    ("What is the {p} made of?", "{z}是什么材质？", ["material", "材质"]),
    ("Is the {p} on sale?", "{z}打折吗？", ["sale", "打折"]),
    ("How do I store the {p}?", "{z}怎么收纳？", ["store", "收纳"]),
]
CHATTER = [
    "good morning everyone!", "大家早上好", "哈哈哈哈", "I love this brand so much",
    "what's the weather like today?", "今晚吃什么？", "thanks for the help!", "lol",
    "有人一起拼单吗？", "who is watching the football tonight?", "这件毛衣颜色真好看",
]  # fmt: skip


def generated_entries(count: int) -> list[tuple[str, str, tuple[str, ...]]]:
    """The matching set's 20 entries, then catalogue questions up to `count` (numbered on)."""
    data = tomllib.loads(MATCHING_SET.read_text(encoding="utf-8"))
    entries = [(e["question"], e["answer"], tuple(e["keywords"])) for e in data["entries"]]
    series = 0
    while len(entries) < count:
        for product, chinese in PRODUCTS:
            for english, zh, keywords in TOPICS:
                if len(entries) >= count:
                    break
                label = f" ({series})" if series else ""
                question = f"{english.format(p=product)}{label} {zh.format(z=chinese)}"
                entries.append((question, "See the product page.", (*keywords, product, chinese)))
        series += 1
    return entries


def generated_messages(count: int, seed: int = 11) -> list[str]:
    """The matching set's messages, then members' questions about the catalogue and chatter."""
    data = tomllib.loads(MATCHING_SET.read_text(encoding="utf-8"))
    messages = [m["text"] for m in data["messages"]]
    rng = random.Random(seed)
    while len(messages) < count:
        product, chinese = rng.choice(PRODUCTS)
        english, zh, _ = rng.choice(TOPICS)
        kind = rng.random()
        if kind < 0.35:
            messages.append("hi, " + english.format(p=product).lower())
        elif kind < 0.7:
            messages.append("请问" + zh.format(z=chinese))
        elif kind < 0.8:
            messages.append(english.format(p=product).replace("the", "teh"))  # a typo
        else:
            messages.append(rng.choice(CHATTER))
    return messages


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"p50 {statistics.median(ordered) * 1000:.3f} ms · p99 {p99 * 1000:.3f} ms"
        f" · max {ordered[-1] * 1000:.3f} ms ({len(ordered):,} messages)"
    )


def build_and_match() -> None:
    from community import faq_text
    from community.faq_index import Index, Text

    texts = [Text(n, q, k) for n, (q, _, k) in enumerate(generated_entries(ENTRIES), start=1)]
    started = time.perf_counter()
    index = Index(texts)
    cold = time.perf_counter() - started
    faq_text._chinese_words.cache_clear()
    faq_text._stem.cache_clear()
    started = time.perf_counter()
    Index(texts)
    rebuilt = time.perf_counter() - started
    started = time.perf_counter()
    Index(texts)
    warm = time.perf_counter() - started
    print(f"a  cold build of {len(index):,} entries (libraries loaded): {cold * 1000:.0f} ms")
    print(f"   rebuild, word caches cleared: {rebuilt * 1000:.0f} ms; warm: {warm * 1000:.0f} ms")
    samples = []
    for message in generated_messages(MESSAGES):
        started = time.perf_counter()
        index.matches(message, 1)
        samples.append(time.perf_counter() - started)
    print(f"b  matching one message against {len(index):,} entries: {percentiles(samples)}")


def whole_call() -> None:
    from sqlalchemy import insert

    from community.communities import apply_config
    from community.config import parse_config
    from community.faq_answers import answer_unasked
    from community.members import identify
    from storage import migrate
    from storage.engine import make_engine
    from storage.faq_tables import faq_entries

    at = datetime(2026, 12, 1, tzinfo=UTC)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.sqlite3"
        migrate.upgrade(url)
        engine = make_engine(url, writer=True, pool_size=1)
        config, digest = parse_config('[community]\nslug = "acme"\nname = "Acme"\n')
        with engine.begin() as conn:
            community = apply_config(
                conn, config, digest, default_timezone="UTC", default_locale="en", at=at
            )
            rows: list[dict[str, Any]] = [
                {"community_id": community.id, "question": q, "answer": a, "keywords": list(k)}
                | {"created_at": at, "updated_at": at}
                for q, a, k in generated_entries(ENTRIES)
            ]
            conn.execute(insert(faq_entries), rows)
            member = identify(
                conn, community_id=community.id, platform="telegram", user_id="1",
                display_name="Alice", username="alice", at=at,
            )  # fmt: skip
        samples, answered = [], 0
        for number, message in enumerate(generated_messages(MESSAGES)):
            with engine.begin() as conn:
                started = time.perf_counter()
                given = answer_unasked(
                    conn, community, message, member_id=member.id, platform="telegram",
                    chat_id=str(-1000 - number % 50), message_id=str(number),
                    at=at + timedelta(seconds=number),
                )  # fmt: skip
                samples.append(time.perf_counter() - started)
                answered += given is not None
        engine.dispose()
    print(
        f"c  answer_unasked on SQLite, 1,000 entries: {percentiles(samples)}; {answered} answered"
    )


def compare() -> None:
    import rjieba

    from community import faq_index, faq_text
    from community.faq_rules import FaqRules
    from tests.test_faq_matching import precision_and_recall

    threshold = FaqRules().threshold

    def measured(label: str) -> None:
        faq_text._chinese_words.cache_clear()
        faq_text._stem.cache_clear()
        at = [precision_and_recall(t)[:2] for t in (threshold, 0.5)]
        print(
            f"   {label:<44} precision/recall at {threshold:g}: {at[0][0]:.3f}/{at[0][1]:.3f}"
            f"   at 0.5: {at[1][0]:.3f}/{at[1][1]:.3f}"
        )

    def swapped(name: str, value: Callable[[], Any]) -> Callable[[], None]:
        original = getattr(faq_text, name)

        def restore() -> None:
            setattr(faq_text, name, original)

        setattr(faq_text, name, value)
        return restore

    print("d  the matching set, with each choice undone:")
    measured("chosen: rjieba search mode, OpenCC, stems, typos")
    variants: list[tuple[str, str, Callable[[], Any]]] = [
        ("rjieba precise mode (no shorter words)", "_cutter", lambda: rjieba.cut),
        ("character bigrams, no dictionary", "_cutter", lambda: _bigrams),
        ("no traditional -> simplified", "_simplifier", lambda: _Unchanged()),
        ("no stemmer", "_stemmer", lambda: lambda word: word),
    ]
    try:
        import logging

        import jieba

        jieba.setLogLevel(logging.WARNING)
        variants.append(
            ("jieba itself (Python), search mode", "_cutter", lambda: jieba.lcut_for_search)
        )
    except ImportError:
        print("   (jieba not installed: pip install jieba to compare it)")
    try:
        import zhconv

        variants.append(("zhconv instead of OpenCC", "_simplifier", lambda: _Zhconv(zhconv)))
    except ImportError:
        print("   (zhconv not installed: pip install zhconv to compare it)")
    for label, name, value in variants:
        restore = swapped(name, value)
        try:
            measured(label)
        finally:
            restore()
    original = faq_index.FUZZY_MIN_LENGTH
    faq_index.FUZZY_MIN_LENGTH = 1000
    measured("no typo matching (rapidfuzz)")
    faq_index.FUZZY_MIN_LENGTH = original
    asking = faq_text.is_question
    import tests.test_faq_matching as matching

    matching.is_question = lambda text: True  # type: ignore[assignment]
    measured("no question gate (every message may be answered)")
    matching.is_question = asking
    for module, load in (("jieba", "jieba.initialize()"), ("rjieba", "rjieba.cut('尺码')")):
        _load_time(module, load)


def _load_time(module: str, load: str) -> None:
    import subprocess

    code = (
        f"import time, logging; s = time.perf_counter(); import {module}; "
        f"{'jieba.setLogLevel(logging.WARNING); ' if module == 'jieba' else ''}{load}; "
        "print(round((time.perf_counter() - s) * 1000))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    shown = f"{done.stdout.strip()} ms" if done.returncode == 0 else "not installed"
    print(f"   loading {module} and its dictionary in a fresh process: {shown}")


def _bigrams(run: str) -> list[str]:
    return [run[i : i + 2] for i in range(len(run) - 1)] or [run]


class _Unchanged:
    def convert(self, text: str) -> str:
        return text


class _Zhconv:
    def __init__(self, module: Any) -> None:
        self._module = module

    def convert(self, text: str) -> str:
        return str(self._module.convert(text, "zh-cn"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--compare", action="store_true", help="also run d (library choices)")
    options = parser.parse_args()
    build_and_match()
    whole_call()
    if options.compare:
        compare()


if __name__ == "__main__":
    main()
