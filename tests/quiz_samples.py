"""Sample contexts of the quiz templates (issue 11), for tests/test_templates_on_platforms.py:
each renders on every platform in every locale."""

from __future__ import annotations

from typing import Any


def samples(hostile: str) -> dict[str, list[dict[str, Any]]]:
    """Every quiz template's samples; `hostile` is text with every platform's markup."""
    options = [{"letter": "A", "text": hostile}, {"letter": "B", "text": "# heading"}]
    reveal = {
        "number": 1,
        "question": hostile,
        "letter": "B",
        "answer": hostile,
        "explanation": hostile,
        "answered": 12,
        "right": 5,
        "first": hostile,
    }
    nobody = reveal | {"explanation": "", "answered": 0, "right": 0, "first": None}
    question = {
        "number": 2,
        "rounds": 5,
        "seconds": 30,
        "question": hostile,
        "options": options,
        "intro": None,
        "previous": reveal,
    }
    first = question | {"number": 1, "previous": None, "intro": {"points": 5, "first": 5}}
    leaders = [
        {"rank": 1, "name": hostile, "right": 3, "points": 20},
        {"rank": 1, "name": "2023. a year", "right": 3, "points": 20},
        {"rank": 3, "name": "\u202e\u200b", "right": 1, "points": 5},
    ]
    answers = [
        {"number": 1, "question": hostile, "letter": "B", "answer": hostile},
        {"number": 2, "question": "- item", "letter": "A", "answer": "> quote"},
    ]
    problems = [
        {"line": 2, "reason": "few_options"},
        {"line": 3, "reason": "bad_correct", "options": 3},
        {"line": 4, "reason": "question_too_long", "limit": 300},
        {"line": 5, "reason": "repeated", "first": 2},
        {"line": 6, "reason": "quotes"},
        {"line": 7, "reason": hostile},
    ]
    bank_question = {
        "id": 12,
        "question": hostile,
        "options": options,
        "letter": "B",
        "category": "brand",
        "from_file": True,
    }
    return {
        "quiz/question": [
            question,
            first,
            first | {"intro": {"points": 0, "first": 0}},
            question | {"previous": nobody},
            # Telegram's quiz poll shows the question: the words before it leave it out.
            question | {"part": "lead", "question": "Q?", "options": []},
            first | {"part": "lead", "question": "Q?", "options": []},
            question | {"part": "question"},
        ],
        "quiz/option": [{"letter": "A", "text": hostile}],
        "quiz/answered": [
            {
                "number": 2,
                "correct": True,
                "first": True,
                "points": 10,
                "balance": 1234,
                "capped": False,
                "letter": "B",
                "answer": hostile,
                "explanation": hostile,
            },
            {
                "number": 2,
                "correct": True,
                "first": False,
                "points": 0,
                "balance": 1234,
                "capped": True,
                "letter": "B",
                "answer": hostile,
                "explanation": "",
            },
            {
                "number": 2,
                "correct": True,
                "first": False,
                "points": 3,
                "balance": 3,
                "capped": True,
                "letter": "B",
                "answer": hostile,
                "explanation": "",
            },
            {
                "number": 2,
                "correct": False,
                "first": False,
                "points": 0,
                "balance": 0,
                "capped": False,
                "letter": "A",
                "answer": hostile,
                "explanation": hostile,
            },
        ],
        "quiz/finished": [
            {
                "stopped": False,
                "asked": 5,
                "rounds": 5,
                "previous": reveal,
                "leaders": leaders,
                "players": 12,
                "answers": answers,
            },
            {
                "stopped": True,
                "asked": 1,
                "rounds": 5,
                "previous": nobody,
                "leaders": [],
                "players": 0,
                "answers": answers[:1],
            },
            {
                "stopped": True,
                "asked": 0,
                "rounds": 5,
                "previous": None,
                "leaders": [],
                "players": 0,
                "answers": [],
            },
        ],
        "quiz/too_late": [{"number": 3, "question": hostile}],
        "quiz/already_answered": [{"number": 3, "letter": "A", "choice": hostile}],
        "quiz/unknown_option": [{}],
        "quiz/not_a_poll": [{}],
        "quiz/usage": [{}],
        "quiz/add_usage": [{}],
        "quiz/import_usage": [{}],
        "quiz/in_a_group": [{}],
        "quiz/in_private": [{}],
        "quiz/too_many": [{"limit": 20}],
        "quiz/empty_bank": [{"category": ""}, {"category": hostile}],
        "quiz/already_running": [{"number": 2, "rounds": 5}],
        "quiz/already_started": [{}],
        "quiz/none_running": [{}],
        "quiz/bank": [
            {
                "questions": [bank_question, bank_question | {"category": "", "from_file": False}],
                "categories": [{"name": "", "count": 1}, {"name": hostile, "count": 1000}],
                "category": "",
                "total": 31,
                "page": 1,
                "pages": 3,
            },
            {
                "questions": [],
                "categories": [],
                "category": hostile,
                "total": 0,
                "page": 1,
                "pages": 1,
            },
        ],
        "quiz/bad_question": [
            {"reason": "few_options"},
            {"reason": "option_too_long", "limit": 100},
            {"reason": "bad_correct", "options": 4},
            {"reason": "no_mark"},
        ],
        "quiz/import_refused": [
            {"problems": problems, "more": 0, "good": 10},
            {"problems": problems[:1], "more": 25, "good": 1},
        ],
        "quiz/imported": [
            {"added": 12, "already": 0, "total": 40},
            {"added": 0, "already": 3, "total": 3},
        ],
        "quiz/file_refused": [{"reason": "too_big"}, {"reason": "not_text"}],
        "quiz/removed": [{"id": 12, "question": hostile}],
        "quiz/no_such_question": [{"number": 99}],
        "quiz/bank_full": [{"limit": 2000, "room": 3}],
        "quiz/bad_topic_quiz": [{"limit": 20}],
    }
