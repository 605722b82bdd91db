"""Sample contexts of the survey templates (issue 11), for tests/test_templates_on_platforms.py:
each renders on every platform in every locale."""

from __future__ import annotations

from typing import Any

_NOTICES = [
    ("", {}),
    ("saved", {}),
    ("resumed", {}),
    ("already_answered", {"answered": 1}),
    ("stale", {"answered": 2}),
    ("changed", {}),
    ("not_a_number", {"low": 0, "high": 10}),
    ("out_of_range", {"low": 1, "high": 4, "given": 9}),
    ("just_one", {"low": 1, "high": 4}),
    ("pick_one", {}),
    ("empty", {}),
    ("too_long", {"length": 1001, "limit": 1000}),
]


def _question(hostile: str, kind: str, notice: str, details: dict[str, Any]) -> dict[str, Any]:
    options = [] if kind in ("scale", "text") else [hostile, "> quote", "Events"]
    return {
        "number": 3,
        "title": hostile,
        "position": 2,
        "total": 4,
        "text": hostile,
        "kind": kind,
        "options": [
            {"number": n, "text": text, "picked": n == 1} for n, text in enumerate(options, 1)
        ],
        "limit": 1000,
        "notice": notice,
        "details": details,
        "low": 0 if kind == "scale" else 1,
        "high": 10 if kind == "scale" else len(options),
    }


def samples(hostile: str) -> dict[str, list[dict[str, Any]]]:
    """Every survey template's samples; `hostile` is text with every platform's markup."""
    named = {"number": 3, "title": hostile}
    kinds = ("single", "multiple", "scale", "text")
    listed = {
        "number": 3,
        "title": hostile,
        "state": "open",
        "questions": 4,
        "completed": 12,
        "in_progress": 2,
        "file": True,
        "done": False,
    }
    return {
        "survey/question": [
            _question(hostile, kinds[index % len(kinds)], notice, details)
            for index, (notice, details) in enumerate(_NOTICES)
        ],
        "survey/option_button": [
            {"number": 1, "text": hostile, "picked": False},
            {"number": 2, "text": "> quote", "picked": True},
        ],
        "survey/scale_button": [{"value": 0}, {"value": 10}],
        "survey/done_button": [{"count": 0}, {"count": 2}],
        "survey/pause_button": [{}],
        "survey/take_button": [{}, {"number": 3, "title": hostile}],
        "survey/invitation": [
            {**named, "questions": 4, "points": 20},
            {**named, "questions": 1, "points": 0},
        ],
        "survey/sent_privately": [
            {"name": hostile, "title": hostile, "reachable": True, "platform": ""},
            {"name": hostile, "title": hostile, "reachable": True, "platform": "telegram"},
            {"name": hostile, "title": hostile, "reachable": False, "platform": ""},
        ],
        "survey/paused": [named],
        "survey/nothing_to_pause": [{}],
        "survey/finished": [
            {**named, "points": 20, "balance": 120, "limited_by": None},
            {**named, "points": 0, "balance": 120, "limited_by": "day"},
            {**named, "points": 0, "balance": 0, "limited_by": None},
        ],
        "survey/already_done": [named],
        "survey/not_open": [
            {**named, "state": "closed"},
            {**named, "state": "draft"},
        ],
        "survey/not_taken": [named],
        "survey/unknown": [{"number": 99}],
        "survey/usage": [{"is_admin": False}, {"is_admin": True}],
        "survey/list": [
            {"surveys": [listed, {**listed, "title": "> quote", "done": True}], "admin": False},
            {"surveys": [listed, {**listed, "state": "draft", "file": False}], "admin": True},
            {"surveys": [], "admin": False},
            {"surveys": [], "admin": True},
        ],
        "survey/shown": [
            {
                **named,
                "state": "draft",
                "file": True,
                "questions": [
                    {"position": 1, "text": hostile, "kind": "scale", "options": []},
                    {
                        "position": 2,
                        "text": "> quote",
                        "kind": "multiple",
                        "options": [hostile, "b"],
                    },
                    {"position": 3, "text": "Why?", "kind": "text", "options": []},
                ],
            }
        ],
        "survey/add_usage": [{}],
        "survey/file_refused": [{"reason": "too_big"}, {"reason": "not_text"}],
        "survey/bad_file": [
            {"where": "", "row": 3, "reason": "duplicate_options", "details": {}},
            {"where": hostile, "row": 0, "reason": "too_long", "details": {"limit": 300}},
            {"where": "", "row": 0, "reason": "toml", "details": {"error": hostile}},
            {"where": "questions", "row": 0, "reason": "new_reason", "details": {}},
        ],
        "survey/too_many_questions": [{"count": 31, "limit": 30}],
        "survey/too_many_surveys": [{"limit": 50}],
        "survey/added": [
            {"surveys": [{"number": 3, "title": hostile, "questions": 4}]},
            {"surveys": [{"number": 3, "title": hostile, "questions": 1}] * 2},
        ],
        "survey/started": [
            {**named, "again": False, "groups": 3, "inactive": 0, "no_channel": 0, "tag": ""},
            {**named, "again": True, "groups": 1, "inactive": 2, "no_channel": 1, "tag": "vip"},
        ],
        "survey/stopped": [{**named, "completed": 12}],
        "survey/removed": [named],
        "survey/not_removable": [
            {"number": 3, "reason": "file"},
            {"number": 3, "reason": "answered"},
        ],
        "survey/results": [
            {
                **named,
                "state": "closed",
                "completed": 4,
                "in_progress": 1,
                "questions": [
                    {
                        "position": 1,
                        "text": hostile,
                        "kind": "scale",
                        "answered": 5,
                        "options": [],
                        "texts": [],
                        "nps": {
                            "score": -20,
                            "average": "6.6",
                            "promoters": 1,
                            "passives": 2,
                            "detractors": 2,
                        },
                    },
                    {
                        "position": 2,
                        "text": "> quote",
                        "kind": "multiple",
                        "answered": 4,
                        "options": [
                            {"text": hostile, "count": 3, "percent": 75},
                            {"text": "b", "count": 0, "percent": 0},
                        ],
                        "texts": [],
                    },
                    {
                        "position": 3,
                        "text": "Why?",
                        "kind": "text",
                        "answered": 2,
                        "options": [],
                        "texts": [hostile, "> quote"],
                    },
                    {
                        "position": 4,
                        "text": "NPS?",
                        "kind": "scale",
                        "answered": 0,
                        "options": [],
                        "texts": [],
                    },
                ],
            }
        ],
        "survey/export_usage": [{}],
        "survey/exported": [
            {
                **named,
                "rows": 2,
                "cut": False,
                "max_rows": 500,
                "file": "survey-3.csv",
                "ids": False,
            },
            {
                **named,
                "rows": 500,
                "cut": True,
                "max_rows": 500,
                "file": "survey-3.csv",
                "ids": True,
            },
        ],
    }
