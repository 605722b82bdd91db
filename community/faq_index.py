"""The FAQ's index of one community: which entry a message asks, and how surely (0 to 1).

An entry is its question's terms and its keywords' terms. A term counts by how rare it is
among the entries (idf: "积分" in five entries says less than "发票" in one). A message matches
an entry as much as
- its own terms are the entry's (`covered`: a long message about something else that names
  one of the entry's words is not asking it), and
- it says what the entry's question says, in the message's language (`said`: a bilingual
  entry's English half does not count against a Chinese message); a keyword stands in for
  the question's words.
The score is their harmonic mean: both must be high. English terms that are not the index's
match its closest term by edit distance (rapidfuzz): "pionts" is "point", "shiping" is "ship".
Built once per version of the entries (community/faq.py caches it); a message then costs a few
dictionary look-ups per term and a little arithmetic per entry sharing a term with it.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from community.faq_text import is_latin, terms

# An English word this long or longer may be a typo of an indexed one (shorter words are too
# alike: "sale" and "size" differ by two letters).
FUZZY_MIN_LENGTH = 4
# How alike (0 to 100, rapidfuzz's ratio) a typo must be to an indexed word to stand for it.
FUZZY_CUTOFF = 80.0
# At most this many of a message's unknown English words are looked up by edit distance: each
# look-up is a pass over the index's English words, and a message of 4,000 characters of
# unknown words would hold the writer for a third of a second. A question is a few words; a
# message with more unknown words than this asks no entry anyway.
FUZZY_WORDS = 24


@dataclass(frozen=True, slots=True)
class Text:
    """An entry as the index reads it."""

    entry_id: int
    question: str
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Match:
    """An entry a message matches, and how well (0 to 1)."""

    entry_id: int
    score: float


@dataclass(frozen=True, slots=True)
class _Entry:
    entry_id: int
    asked: dict[bool, float]  # the question's weight in English terms (True) and Chinese


class Index:
    """Every entry of one community, ready to match messages against."""

    def __init__(self, texts: Iterable[Text]) -> None:
        entries: list[tuple[int, list[str], list[str]]] = []
        frequency: dict[str, int] = defaultdict(int)
        for text in texts:
            question = terms(text.question)
            keywords = [term for keyword in text.keywords for term in terms(keyword)]
            entries.append((text.entry_id, question, keywords))
            for term in set(question) | set(keywords):
                frequency[term] += 1
        count = max(len(entries), 1)
        self._weights = {term: math.log(1 + count / n) for term, n in frequency.items()}
        # A word no entry has weighs like the rarest: what the message is about, and not here.
        self._unknown = math.log(1 + count)
        self._postings: dict[str, list[int]] = defaultdict(list)
        self._entries: list[_Entry] = []
        for position, (entry_id, question, keywords) in enumerate(entries):
            every = frozenset(question) | frozenset(keywords)
            for term in every:
                self._postings[term].append(position)
            asked = {
                latin: sum(self._weights[t] for t in set(question) if is_latin(t) == latin)
                for latin in (True, False)
            }
            self._entries.append(_Entry(entry_id, asked))
        self._latin = [t for t in self._weights if is_latin(t) and len(t) >= FUZZY_MIN_LENGTH]
        # rapidfuzz's ratio is at most 2·short/(short+long): past this length no word reaches
        # FUZZY_CUTOFF against any indexed one, so it is not looked up (nor remembered).
        longest = max(map(len, self._latin), default=0)
        self._fuzzy_length = int(longest * (200 - FUZZY_CUTOFF) / FUZZY_CUTOFF)
        self._closest = lru_cache(maxsize=10_000)(self._find_closest)

    def __len__(self) -> int:
        return len(self._entries)

    def matches(self, message: str, limit: int) -> list[Match]:
        """The `limit` entries the message matches best, best first (none: nothing in common)."""
        found = self._resolved(terms(message))
        if not found:
            return []
        total = sum(weight for _, _, weight in found)
        languages = {is_latin(term) for term, _, _ in found}
        # Summed along the postings of the message's terms: an entry costs only for the terms
        # it shares (1,000 entries, most sharing nothing, cost nothing).
        covered: dict[int, float] = defaultdict(float)
        for term, _, weight in found:
            for position in self._postings.get(term, ()):
                covered[position] += weight
        alike: dict[str, float] = {}
        for term, like, _ in found:
            if term in self._postings:
                alike[term] = max(like, alike.get(term, 0.0))
        said: dict[int, float] = defaultdict(float)
        for term, like in alike.items():
            weight = self._weights[term] * like
            for position in self._postings[term]:
                said[position] += weight
        scored = []
        for position, matched in covered.items():
            entry = self._entries[position]
            share = matched / total
            asked = sum(entry.asked[latin] for latin in languages) or sum(entry.asked.values())
            answered = min(1.0, said[position] / asked) if asked else 1.0
            score = 2 * share * answered / (share + answered) if share + answered else 0.0
            scored.append((round(score, 4), -entry.entry_id))
        best = heapq.nlargest(limit, scored)
        return [Match(-entry_id, score) for score, entry_id in best]

    def _resolved(self, words: Sequence[str]) -> list[tuple[str, float, float]]:
        """Each distinct term of a message as (the index's term or its own, how alike, weight)."""
        resolved: dict[str, tuple[str, float, float]] = {}
        fuzzy = FUZZY_WORDS
        for word in words:
            if word in resolved:
                continue
            weight = self._weights.get(word)
            if weight is not None:
                resolved[word] = (word, 1.0, weight)
                continue
            close = None
            if fuzzy and is_latin(word) and FUZZY_MIN_LENGTH <= len(word) <= self._fuzzy_length:
                fuzzy -= 1
                close = self._closest(word)
            if close is None:
                resolved[word] = (word, 0.0, self._unknown)
            else:
                term, like = close
                resolved[word] = (term, like, self._weights[term])
        return list(resolved.values())

    def _find_closest(self, word: str) -> tuple[str, float] | None:
        if len(word) < FUZZY_MIN_LENGTH or not self._latin:
            return None
        found = process.extractOne(word, self._latin, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF)
        return None if found is None else (found[0], found[1] / 100)
