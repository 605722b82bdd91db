"""Sample contexts of the draw templates (issue 12), for tests/test_templates_on_platforms.py:
each renders on every platform in every locale."""

from __future__ import annotations

from typing import Any


def samples(hostile: str) -> dict[str, list[dict[str, Any]]]:
    """Every draw template's samples; `hostile` is text with every platform's markup."""
    entry = {
        "number": 3,
        "question": hostile,
        "answer": hostile,
        "keywords": [hostile, "尺码"],
        "preview": hostile,
        "answer_preview": hostile,
        "from_file": False,
    }
    plain = {
        "number": 4,
        "question": "Does the size run large?",
        "answer": "True to size. 尺码标准。",
        "keywords": [],
        "preview": "Does the size run large?",
        "answer_preview": "True to size. 尺码标准。",
        "from_file": True,
    }
    counted = {"given": 12, "helpful": 1, "unhelpful": 5, "flagged": True}
    unused = {"given": 0, "helpful": 0, "unhelpful": 0, "flagged": False}
    return {
        "faq/usage": [{}],
        "faq/saved": [
            {"change": "add", "entry": entry},
            {"change": "edit", "entry": plain},
            {"change": "promote", "entry": entry, "question": 7},
            {"change": "remove", "entry": entry},
            {"change": "remove", "entry": plain},
        ],
        "faq/questions": [
            {"entries": [entry, plain], "more": 0, "page": 1, "pages": 1},
            {"entries": [entry], "more": 21, "page": 1, "pages": 3},
            {"entries": [plain], "more": 0, "page": 3, "pages": 3},
            {"entries": [], "more": 0, "page": 1, "pages": 1},
        ],
        "faq/entry": [entry],
        "faq/results": [
            {"best": entry, "others": [plain, entry]},
            {"best": plain, "others": []},
        ],
        "faq/no_results": [{"words": hostile}],
        "faq/auto_answer": [entry],
        "faq/helpful_button": [{}],
        "faq/unhelpful_button": [{}],
        "faq/voted": [
            {"helpful": True, "changed": True, "number": 3},
            {"helpful": False, "changed": True, "number": 3},
            {"helpful": False, "changed": False, "number": 3},
        ],
        "faq/vote_gone": [{}],
        "faq/list": [
            {
                "entries": [{**entry, **counted}, {**plain, **unused}],
                "page": 1,
                "pages": 2,
                "total": 21,
                "flagged": 1,
                "auto_answer": True,
                "threshold": "0.5",
            },
            {
                "entries": [],
                "page": 1,
                "pages": 1,
                "total": 0,
                "flagged": 0,
                "auto_answer": False,
                "threshold": "0.5",
            },
        ],
        "faq/stats": [
            {
                "days": None,
                "given": 40,
                "rejected": 3,
                "answered": 37,
                "questions": 10,
                "percent": 74,
                "entries": 20,
            },
            {
                "days": 7,
                "given": 0,
                "rejected": 0,
                "answered": 0,
                "questions": 0,
                "percent": None,
                "entries": 1,
            },
        ],
        "faq/no_such_entry": [{"number": 9}],
        "faq/no_such_question": [{"number": 9}],
        "faq/not_accepted": [{"number": 9}],
        "faq/already_promoted": [{"number": 9, "entry": 4}],
        "faq/too_long": [
            {"part": "question", "length": 301, "limit": 300},
            {"part": "answer", "length": 2001, "limit": 2000},
            {"part": "keyword", "length": 51, "limit": 50},
        ],
        "faq/too_many_keywords": [{"count": 21, "limit": 20}],
        "faq/too_many": [{"limit": 1000}],
        "faq/duplicate": [{"number": 4}],
        "faq/no_words": [{"question": hostile}, {"question": "😀？"}],
    }
