"""An FAQ entry as an admin types it ("question | answer [| keyword, keyword]"), read and
checked against the same limits as community.toml's [[faq_entries]]."""

from __future__ import annotations

import re
from dataclasses import dataclass

from annotated_types import MaxLen

from community.faq_rules import FaqEntryConfig
from loyalty.errors import UserError

_PARTS = re.compile("[|｜]")
_KEYWORD_SEPARATORS = re.compile("[,，、;；]")


def _limit(field: str) -> int:
    """The longest a field may be: [[faq_entries]]'s own limit, one rule for file and chat."""
    found = [
        m.max_length for m in FaqEntryConfig.model_fields[field].metadata if isinstance(m, MaxLen)
    ]
    return found[0]


QUESTION_LIMIT = _limit("question")
ANSWER_LIMIT = _limit("answer")
KEYWORDS_LIMIT = _limit("keywords")
KEYWORD_LIMIT = 50  # characters of one keyword: a word or a short phrase


@dataclass(frozen=True, slots=True)
class Draft:
    """An entry as an admin typed it, checked; keywords None: not given (an edit keeps them)."""

    question: str
    answer: str
    keywords: tuple[str, ...] | None


def read_line(line: str) -> Draft:
    """Read "question | answer [| keyword, keyword]"; UserError says what is wrong."""
    parts = [part.strip() for part in _PARTS.split(line.replace("\x00", ""))]
    if len(parts) < 2 or len(parts) > 3 or not parts[0] or not parts[1]:
        raise UserError("faq/usage")
    keywords = None
    if len(parts) == 3:
        keywords = tuple(dict.fromkeys(k.strip() for k in _KEYWORD_SEPARATORS.split(parts[2])))
        keywords = tuple(k for k in keywords if k)
    return checked(parts[0], parts[1], keywords)


def checked(question: str, answer: str, keywords: tuple[str, ...] | None) -> Draft:
    """The parts as a Draft; UserError when one is too long or there are too many keywords."""
    if len(question) > QUESTION_LIMIT:
        raise UserError("faq/too_long", part="question", length=len(question), limit=QUESTION_LIMIT)
    if len(answer) > ANSWER_LIMIT:
        raise UserError("faq/too_long", part="answer", length=len(answer), limit=ANSWER_LIMIT)
    if keywords is not None:
        if len(keywords) > KEYWORDS_LIMIT:
            raise UserError("faq/too_many_keywords", count=len(keywords), limit=KEYWORDS_LIMIT)
        for keyword in keywords:
            if len(keyword) > KEYWORD_LIMIT:
                raise UserError(
                    "faq/too_long", part="keyword", length=len(keyword), limit=KEYWORD_LIMIT
                )
    return Draft(question, answer, keywords)
