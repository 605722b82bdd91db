"""A survey answer as a member gives it (a button's value, or words typed in private) and
whether it fits its question: plain functions on values."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from community.surveys import MULTIPLE, SCALE, SCALE_HIGH, SCALE_LOW, SINGLE, TEXT, Question

# Full-width digits are what Chinese keyboards type.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
# Several options typed at once: "1 3", "1,3", "1、3", "1，3".
_SEPARATORS = re.compile(r"[\s,，、;；/]+")
# A score typed with its unit: "9分".
_UNITS = ("分",)

Problem = tuple[str, dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Given:
    """An answer: the options chosen (indexes from 0), a score, or words, by the question."""

    options: tuple[int, ...] | None = None
    score: int | None = None
    text: str | None = None


def _number(word: str) -> int | None:
    digits = word.strip().translate(_FULL_WIDTH)
    for unit in _UNITS:
        digits = digits.removesuffix(unit).strip()
    if not digits or len(digits) > 6 or not (digits.isascii() and digits.isdigit()):
        return None
    return int(digits)


def _option(question: Question, word: str) -> int | None:
    """The option a typed word names: its number (from 1), or its very words (an option may
    be a number itself, "0" of "0", "1-2", "3+": a number beyond the options is read as
    words first)."""
    number = _number(word)
    if number is not None and 1 <= number <= len(question.options):
        return number - 1
    folded = word.strip().casefold()
    for index, option in enumerate(question.options):
        if option.casefold() == folded:
            return index
    return None if number is None else number - 1


def bounds(question: Question) -> dict[str, int]:
    """The lowest and highest number that answers a question (options count from 1)."""
    if question.kind == SCALE:
        return {"low": SCALE_LOW, "high": SCALE_HIGH}
    return {"low": 1, "high": len(question.options)}


def read_typed(question: Question, text: str) -> Given | Problem:
    """What typed words answer: a number (or an option's words) for a choice, a score for
    the scale, the words themselves for a text question; else why they answer nothing."""
    text = text.strip()
    if question.kind == TEXT:
        return Given(text=text)
    if question.kind == SCALE:
        score = _number(text)
        if score is None:
            return "not_a_number", bounds(question)
        return Given(score=score)
    whole = _option(question, text)
    if whole is not None:
        return Given(options=(whole,))
    if question.kind == SINGLE:
        return "not_a_number", bounds(question)
    words = [word for word in _SEPARATORS.split(text) if word]
    chosen = [_option(question, word) for word in words]
    if not chosen or any(index is None for index in chosen):
        return "not_a_number", bounds(question)
    return Given(options=tuple(dict.fromkeys(index for index in chosen if index is not None)))


def check_given(question: Question, given: Given, text_limit: int) -> Problem | None:
    """Why `given` cannot answer `question` (a reason and its details); None when it can."""
    if question.kind == TEXT:
        if given.text is None:
            return "stale", {}
        text = given.text.strip()
        if not text:
            return "empty", {}
        if len(text) > text_limit:
            return "too_long", {"length": len(text), "limit": text_limit}
        return None
    if question.kind == SCALE:
        if given.score is None:
            return "stale", {}
        if not SCALE_LOW <= given.score <= SCALE_HIGH:
            return "out_of_range", {**bounds(question), "given": given.score}
        return None
    if given.options is None:
        return "stale", {}
    if not given.options:
        return "pick_one", {}
    if question.kind == SINGLE and len(given.options) != 1:
        return "just_one", bounds(question)
    for index in given.options:
        if not 0 <= index < len(question.options):
            return "out_of_range", {**bounds(question), "given": index + 1}
    if question.kind == MULTIPLE and len(set(given.options)) != len(given.options):
        return "stale", {}
    return None
