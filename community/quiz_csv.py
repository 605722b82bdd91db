"""Quiz questions as admins write them: the rows of an attached CSV file (question, options
separated by "|", the right option, explanation, category) or one line typed after /quiz add.

Each row is checked against what Telegram's quiz polls take (the strictest platform), so a
question that made it into the bank can be asked everywhere.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from typing import Any

from community.polls import MAX_OPTIONS, OPTION_LIMIT, QUESTION_LIMIT
from loyalty.errors import UserError

EXPLANATION_LIMIT = 200  # Telegram's limit for a quiz poll's explanation
EXPLANATION_LINES = 3  # Telegram's too: "at most 2 line feeds"
CATEGORY_LIMIT = 32  # the column's width
# What may separate a file's columns, the most usual first.
_DELIMITERS = (",", "\t", ";")
# "|" and the full-width "｜" Chinese keyboards type both separate options.
_SEPARATOR = re.compile("[|｜]")
# What a header row's first cell says: such a row names the columns and is no question.
_HEADERS = frozenset({"question", "questions", "题目", "问题", "题干", "试题"})
# The right option as a letter: A is the first (full-width letters too).
_LETTERS = "ABCDEFGHIJ"
_FULL_WIDTH = str.maketrans(
    "０１２３４５６７８９ＡＢＣＤＥＦＧＨＩＪａｂｃｄｅｆｇｈｉｊ",
    "0123456789ABCDEFGHIJabcdefghij",
)
# /quiz add: "*" (or "＊") marks the right option, a part starting with "=" is the explanation,
# a leading "#word" the category.
_RIGHT_MARK = ("*", "＊")
_EXPLANATION_MARK = ("=", "＝")
_CATEGORY = re.compile(r"[#＃](?P<category>[^\W_][\w-]{0,31})(?=\s|$)")


@dataclass(frozen=True, slots=True)
class Draft:
    """A question read from an admin, checked, not saved yet."""

    question: str
    options: tuple[str, ...]
    correct: int  # from 0
    explanation: str = ""
    category: str = ""


@dataclass(frozen=True, slots=True)
class Problem:
    """Why one line of a file is no question: its line number, a reason key and its details."""

    line: int
    reason: str
    details: dict[str, Any]


def check(
    question: str,
    options: list[str],
    correct: str | int,
    explanation: str = "",
    category: str = "",
) -> Draft:
    """A question's parts made a Draft; UserError("quiz/bad_question", reason=...) says which
    part is wrong (the reason keys: see the `problem` macro of templates/*/quiz/_quiz.j2)."""
    question, explanation = question.strip(), _fold_lines(explanation.strip())
    category = category.strip().lstrip("#＃").casefold()
    kept = [option.strip() for option in options]
    while kept and not kept[-1]:
        kept.pop()  # "A | B |": a separator too many at the end
    if not question:
        raise _bad("no_question")
    if _telegram_length(question) > QUESTION_LIMIT:
        raise _bad("question_too_long", limit=QUESTION_LIMIT)
    if len(kept) < 2:
        raise _bad("few_options")
    if len(kept) > MAX_OPTIONS:
        raise _bad("many_options", limit=MAX_OPTIONS)
    if "" in kept:
        # Dropping it would move the options after it, and the right one with them.
        raise _bad("empty_option")
    if any(_telegram_length(option) > OPTION_LIMIT for option in kept):
        raise _bad("option_too_long", limit=OPTION_LIMIT)
    if len({option.casefold() for option in kept}) != len(kept):
        raise _bad("duplicate_options")
    right = correct if isinstance(correct, int) else _right_option(correct)
    if right is None or not 0 <= right < len(kept):
        raise _bad("bad_correct", options=len(kept))
    if _telegram_length(explanation) > EXPLANATION_LIMIT:
        raise _bad("explanation_too_long", limit=EXPLANATION_LIMIT)
    if len(category) > CATEGORY_LIMIT or (category and not _CATEGORY.fullmatch(f"#{category}")):
        raise _bad("bad_category", limit=CATEGORY_LIMIT)
    return Draft(question, tuple(kept), right, explanation, category)


def _telegram_length(text: str) -> int:
    """A text's length as Telegram counts it for a poll's limits: in UTF-16 units (an emoji
    is two), so a question that fits is never turned down when it is asked."""
    return len(text.encode("utf-16-le")) // 2


def _fold_lines(explanation: str) -> str:
    """An explanation with the line breaks Telegram takes in a quiz poll's (two at most): the
    lines after the third run on, separated by a space."""
    lines = explanation.splitlines()
    if len(lines) <= EXPLANATION_LINES:
        return explanation
    kept = lines[: EXPLANATION_LINES - 1]
    return "\n".join([*kept, " ".join(line.strip() for line in lines[len(kept) :] if line.strip())])


def category_name(text: str) -> str | None:
    """A category as an admin names it ("Brand", "#brand"), as stored; None if no category
    could be called that."""
    name = text.strip().lstrip("#＃").casefold()
    return name if _CATEGORY.fullmatch(f"#{name}") else None


def _bad(reason: str, **details: Any) -> UserError:
    return UserError("quiz/bad_question", reason=reason, **details)


def _right_option(text: str) -> int | None:
    """ "2" (counting from 1) or "B" (A is the first), as typed; None if it is neither."""
    text = text.strip().translate(_FULL_WIDTH).upper()
    if text.isascii() and text.isdigit() and len(text) <= 2:
        return int(text) - 1
    if len(text) == 1 and text in _LETTERS:
        return _LETTERS.index(text)
    return None


def read_csv(text: str) -> tuple[list[Draft], list[Problem]]:
    """The questions of a CSV file, and the lines that are none (with why). Blank lines and a
    header row are skipped; a tab-separated file (pasted from a spreadsheet) reads too."""
    text = text.lstrip("\ufeff").replace("\x00", "")
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = _delimiter(first)
    drafts: list[Draft] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if not drafts and not problems and cells[0].strip().casefold() in _HEADERS:
                continue
            if len(cells) < 3:
                problems.append(Problem(line, "columns", {}))
                continue
            question, options, correct = cells[0], cells[1], cells[2]
            explanation = cells[3] if len(cells) > 3 else ""
            category = cells[4] if len(cells) > 4 else ""
            try:
                draft = check(question, _SEPARATOR.split(options), correct, explanation, category)
            except UserError as error:
                details = {k: v for k, v in error.context.items() if k != "reason"}
                problems.append(Problem(line, str(error.context["reason"]), details))
                continue
            same = draft.question.casefold()
            if same in seen:
                problems.append(Problem(line, "repeated", {"first": seen[same]}))
                continue
            seen[same] = line
            drafts.append(draft)
    except csv.Error:
        # An unclosed quote swallows the rest of the file: say where it broke.
        problems.append(Problem(reader.line_num, "quotes", {}))
    return drafts, problems


def _delimiter(first: str) -> str:
    """What separates a file's columns, told by its first line: a comma, else the first of a
    tab (pasted from a spreadsheet) and a semicolon (Excel's CSV where a comma is the decimal
    mark) that makes the question, options and right option columns; a comma if none does."""
    for candidate in _DELIMITERS:
        try:
            cells = next(csv.reader([first], delimiter=candidate), [])
        except csv.Error:
            continue
        if len(cells) >= 3:
            return candidate
    return ","


def read_line(text: str) -> Draft:
    """One question typed after /quiz add: "[#category] Question? | option | *right option |
    option [| = explanation]"; UserError says what is wrong."""
    text = text.replace("\x00", "").strip()
    category = ""
    if found := _CATEGORY.match(text):
        category, text = found["category"], text[found.end() :].strip()
    parts = [part.strip() for part in _SEPARATOR.split(text)]
    explanation = ""
    if len(parts) > 1 and parts[-1].startswith(_EXPLANATION_MARK):
        explanation = parts.pop()[1:].strip()
    question, options = parts[0], [part for part in parts[1:] if part]
    marked = [index for index, option in enumerate(options) if option.startswith(_RIGHT_MARK)]
    if len(options) >= 2 and len(marked) != 1:
        raise _bad("no_mark")
    options = [option.lstrip("*＊").strip() for option in options]
    return check(question, options, marked[0] if marked else -1, explanation, category)
