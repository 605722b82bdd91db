"""What the FAQ reads in a message: its terms, the same whichever way a member typed them.

Full-width and half-width forms are one (NFKC), traditional characters become simplified
(OpenCC's t2s tables), Chinese is cut into words (jieba's dictionary, through rjieba, its Rust
port: the same words, loaded in 0.15 s instead of jieba's ~1 s, 20x faster per message), and
English words are stemmed (Snowball), so "shipping", "shipped" and "ship" are one term. Why
these libraries and not others was measured (README, "The FAQ"). Each library loads on first
use, not at import: a bot whose members never ask pays nothing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from functools import cache, lru_cache
from typing import Protocol

# Latin words (with digits and an inner apostrophe or hyphen) and runs of Chinese characters;
# everything else (punctuation, emoji, spaces) only separates them.
_WORDS = re.compile(r"[a-z0-9]+(?:['’][a-z]+)*|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_CHINESE_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")


def _listed(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Words that say nothing about what is asked: greetings, pronouns, particles, fillers. Question
# words (when, how, 什么时候, 怎么) stay terms: they tell "when does the sale start" from "how
# big is the discount". As typed (before stemming).
ENGLISH_STOP = _listed(
    """a an the and or but if so to of in on at by for from with about as into than then
    i i'm im me my mine we us our you your yours u ur he him his she her it its it's they them
    their this that these those there here is am are was were be been being do does did done
    have has had having will would shall should can could may might must just also too very
    really please plz pls thank thanks thx hi hello hey guys guy everyone anyone someone
    somebody anybody folks team admin admins question quick ok okay oh ah um uh lol yes no not
    any some know want need get got wonder wondering tell let i'd i've any usually still"""
)
CHINESE_STOP = _listed(
    """的 了 吗 嘛 吧 呢 啊 呀 哦 哈 噢 嗯 么 啦 喔 哇 是 在 有 和 与 及 或 也 都 就 还 又 很 太
    我 你 您 他 她 它 我们 你们 他们 大家 各位 自己 这个 那个 这 那 这款 那款 这件 一下 一个
    请问 请 问 问下 问一下 想 想问 想问下 知道 有人 有没有人 谁知道 亲 亲们 小编 管理员 谢谢
    感谢 麻烦 大佬 姐妹 朋友 好 呗 之 所以 因为 如果 但是 可是 然后 平时 一般 现在 能 会
    可以 要 得 地 着 过 给 让 把 被 对 跟 上 里 中"""
)
# Words that make a message a question: a member asking, not chatting. An English one counts
# as the message's first word; a Chinese one anywhere (a particle usually ends the sentence).
ENGLISH_ASKING = _listed(
    """what what's whats when where where's why how how's who which whose can could does do
    did is are was will would should shall may might anyone anybody any pls please plz
    wondering"""
)
CHINESE_ASKING = re.compile(
    "吗|嘛|么|呢|几|多少|多久|哪|谁|如何|为何|为什么|是否|有没有|能不能|可不可以|会不会|"
    "是不是|要不要|咋|请问|怎样|啥"
)


# Words and runs of Chinese up to this long are cut or stemmed once and remembered; longer
# ones (a pasted article, a 4,000-character message) are worked out each time: they rarely
# come twice, and 20,000 of them kept would hold hundreds of megabytes.
CACHED_LENGTH = 32


class _Converter(Protocol):
    def convert(self, text: str) -> str: ...


@cache
def _simplifier() -> _Converter:
    import opencc

    return opencc.OpenCC("t2s")


@cache
def _cutter() -> Callable[[str], list[str]]:
    # Search mode also gives a long word's shorter words ("优惠券" -> 优惠, 优惠券): a member
    # who writes 优惠 still meets the entry that says 优惠券.
    import rjieba

    return rjieba.cut_for_search


@cache
def _stemmer() -> Callable[[str], str]:
    import snowballstemmer  # type: ignore[import-untyped]

    english = snowballstemmer.stemmer("english")
    return english.stemWord  # type: ignore[no-any-return]


def normalize(text: str) -> str:
    """One form for every way of typing the same words: NFKC (full-width -> half-width),
    case folded, traditional Chinese as simplified."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _simplifier().convert(folded) if _CHINESE_RUN.search(folded) else folded


def is_question(text: str) -> bool:
    """Whether a message asks something (a question mark, a question word), so the FAQ may
    answer it unasked; chatter that merely names a topic ("the sale was great") is left be."""
    shown = normalize(text)
    if "?" in shown or CHINESE_ASKING.search(shown):
        return True
    first = _WORDS.search(shown)
    return first is not None and first.group() in ENGLISH_ASKING


def terms(text: str) -> list[str]:
    """The text's terms, in order, without words that say nothing: stemmed English words and
    Chinese words (a Chinese word and its shorter words both)."""
    found: list[str] = []
    for word in _WORDS.findall(normalize(text)):
        if _CHINESE_RUN.fullmatch(word):
            cut = _chinese_words(word) if len(word) <= CACHED_LENGTH else _cutter()(word)
            found.extend(w for w in cut if w not in CHINESE_STOP)
        elif word not in ENGLISH_STOP and (len(word) > 1 or word.isdigit()):
            found.append(stem(word.replace("’", "'")))  # a lone letter ("size M") says nothing
    return found


def stem(word: str) -> str:
    """An English word's stem (a number stays as it is)."""
    if word.isdigit():
        return word
    return _stem(word) if len(word) <= CACHED_LENGTH else _stemmer()(word)


def is_latin(term: str) -> bool:
    """Whether a term is an English word (fuzzy matching fits those; Chinese words are short)."""
    return not _CHINESE_RUN.search(term)


@lru_cache(maxsize=20_000)
def _stem(word: str) -> str:
    return _stemmer()(word)


@lru_cache(maxsize=20_000)
def _chinese_words(run: str) -> tuple[str, ...]:
    return tuple(_cutter()(run))
