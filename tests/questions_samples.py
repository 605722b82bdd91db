"""Sample contexts of the questions templates (issue 11), for tests/test_templates_on_platforms.py:
each renders on every platform in every locale."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

AT = datetime(2026, 11, 23, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))


def samples(hostile: str) -> dict[str, list[dict[str, Any]]]:
    """Every questions template's samples; `hostile` is text with every platform's markup."""
    listed = {
        "number": 12,
        "text": hostile,
        "asker": hostile,
        "answers": 1,
        "bounty": 50,
        "asked_at": AT,
    }
    answer = {
        "number": 7,
        "author": hostile,
        "text": hostile + "\n> quoted\n2023. a year",
        "platform": "discord",
        "accepted": True,
        "at": AT,
    }
    return {
        "questions/posted": [
            {"number": 12, "name": hostile, "text": hostile, "bounty": 50},
            {"number": 1, "name": hostile, "text": "- item\n# heading", "bounty": 0},
        ],
        "questions/asked": [
            {"number": 12, "bounty": 50, "balance": 950},
            {"number": 1, "bounty": 0, "balance": None},
        ],
        "questions/ask_usage": [
            {"minimum": 4, "limit": 1000, "bounty": 1000},
            {"minimum": 1, "limit": 10, "bounty": 0},
        ],
        "questions/ask_in_group": [{}],
        "questions/too_short": [{"minimum": 4}, {"minimum": 1}],
        "questions/too_long": [{"length": 1001, "limit": 1000}],
        "questions/no_bounties": [{}],
        "questions/bounty_too_big": [{"bounty": 5000, "limit": 1000}],
        "questions/bad_bounty": [{"limit": 1000}, {"limit": 0}],
        "questions/bounty_insufficient": [
            {"bounty": 50, "balance": 3},
            {"bounty": 1, "balance": 0},
        ],
        "questions/too_many_today": [{"limit": 10}, {"limit": 1}],
        "questions/answer_usage": [{}],
        "questions/unknown": [{"number": 99}],
        "questions/not_open": [
            {"number": 12, "state": "accepted", "accepted": 7},
            {"number": 12, "state": "closed", "accepted": None},
        ],
        "questions/answer_too_long": [{"length": 2001, "limit": 2000}],
        "questions/answer_repeated": [{"number": 7, "question": 12}],
        "questions/too_many_answers": [{"limit": 1, "question": 12}, {"limit": 3, "question": 5}],
        "questions/answered": [
            {"question": 12, "answer": 7, "questioner": hostile, "own": False},
            {"question": 12, "answer": 8, "questioner": "alice", "own": True},
        ],
        "questions/answered_line": [{"asker": hostile, "question": 12, "answer": 7}],
        "questions/answered_notice": [
            {
                "question": 12,
                "text": hostile,
                "answer": 7,
                "author": hostile,
                "answer_text": "> quote\n" + hostile,
            }
        ],
        "questions/accepted": [
            {
                "question": 12,
                "answer": 7,
                "author": hostile,
                "by": hostile,
                "points": 20,
                "thanks": 2,
                "bounty_paid": 50,
                "bounty_returned": 0,
                "own": False,
            },
            {
                "question": 12,
                "answer": 7,
                "author": hostile,
                "by": hostile,
                "points": 0,
                "thanks": 0,
                "bounty_paid": 0,
                "bounty_returned": 1,
                "own": True,
            },
        ],
        "questions/accepted_notice": [
            {"question": 12, "text": hostile, "answer": 7, "points": 20, "bounty": 50},
            {"question": 12, "text": hostile, "answer": 7, "points": 1, "bounty": 0},
            {"question": 12, "text": hostile, "answer": 7, "points": 0, "bounty": 0},
        ],
        "questions/unknown_answer": [{"number": 99}],
        "questions/answer_elsewhere": [{"answer": 7, "question": 12, "actual": 3}],
        "questions/not_yours": [{"number": 12}],
        "questions/already_accepted": [{"number": 12, "answer": 7}, {"number": 12, "answer": None}],
        "questions/closed": [{"number": 12}],
        "questions/accept_usage": [{}],
        "questions/accept_button": [{"answer": 7, "author": hostile}],
        "questions/list": [
            {"questions": [listed, {**listed, "answers": 0, "bounty": 0}], "total": 30},
            {"questions": [listed], "total": 1},
            {"questions": [], "total": 0},
        ],
        "questions/question": [
            {
                "number": 12,
                "text": hostile,
                "asker": hostile,
                "state": "open",
                "bounty": 50,
                "asked_at": AT,
                "answers": [answer, {**answer, "number": 8, "accepted": False}],
                "total": 9,
                "can_accept": True,
            },
            {
                "number": 12,
                "text": hostile,
                "asker": hostile,
                "state": "accepted",
                "bounty": 0,
                "asked_at": AT.astimezone(UTC),
                "answers": [answer],
                "total": 1,
                "can_accept": False,
            },
            {
                "number": 3,
                "text": "# heading",
                "asker": hostile,
                "state": "closed",
                "bounty": 0,
                "asked_at": AT,
                "answers": [],
                "total": 0,
                "can_accept": False,
            },
        ],
        "questions/usage": [{"is_admin": True}, {"is_admin": False}],
        "questions/closed_now": [{"number": 12, "returned": 50}, {"number": 12, "returned": 0}],
        "questions/bounty_returned": [{"question": 12, "text": hostile, "bounty": 50}],
        "questions/raised": [
            {"questions": [listed, {**listed, "bounty": 0}], "more": 3, "hours": 12},
            {"questions": [listed], "more": 0, "hours": 1},
        ],
    }
