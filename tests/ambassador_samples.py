"""Sample contexts of the ambassador templates (issue 12), for tests/test_templates_on_platforms.py:
each renders on every platform in every locale."""

from __future__ import annotations

from typing import Any

from community.ambassador_months import Output
from community.ambassador_notices import level_context, progress
from community.ambassador_rules import AmbassadorRules

RULES = AmbassadorRules()


def samples(hostile: str) -> dict[str, list[dict[str, Any]]]:
    """Every ambassador template's samples; `hostile` is text with every platform's markup."""
    trainee, ambassador, senior = (level_context(RULES, level.key) for level in RULES.levels)
    gone = level_context(RULES, "retired")  # a level taken out of the settings
    idle = level_context(
        AmbassadorRules.model_validate(
            {
                "levels": [
                    {
                        "key": "idle",
                        "names": {"en": "Idle", "zh_CN": "闲"},
                        "tasks": {"submissions": 0, "featured": 0, "answers": 0},
                    }
                ]
            }
        ),
        "idle",
    )
    short = progress(RULES.levels[1], Output(3, 0, 7), RULES.exceed_percent)
    done = progress(RULES.levels[1], Output(9, 2, 8), RULES.exceed_percent)
    single = progress(RULES.levels[0], Output(1, 1, 1), RULES.exceed_percent)
    who = {"name": hostile, "handle": "@bob"}
    names = {"en": hostile, "zh_CN": hostile}
    entry = {"name": hostile, "level": ambassador, "progress": short, "met": False}
    met = {"name": "Ann", "level": senior, "progress": done, "met": True}
    month = {"name": hostile, "month": "2026-11", "level": ambassador, "exceeded": False}
    named = {"name": hostile, "level": ambassador}
    return {
        "ambassador/usage": [
            {"levels": [trainee, ambassador, senior], "limit": 2000},
            {"levels": [idle], "limit": 1},
        ],
        "ambassador/added": [
            {**who, "level": trainee, "told": True},
            {**who, "level": idle, "told": False},
            {"name": "Bob", "handle": "telegram:42", "level": senior, "told": True},
        ],
        "ambassador/removed": [
            {**who, "level": ambassador, "told": True},
            {**who, "level": gone, "told": False},
        ],
        "ambassador/level_set": [
            {**who, "old": trainee, "level": senior, "up": True, "told": True},
            {**who, "old": senior, "level": idle, "up": False, "told": False},
        ],
        "ambassador/promoted": [
            {"number": 12, "name": hostile, "old": trainee, "level": ambassador, "up": True}
        ],
        "ambassador/already": [
            {**who, "level": names},
            {**who, "level": {"en": "A", "zh_CN": "甲"}},
        ],
        "ambassador/roster_full": [{"limit": 1}, {"limit": 2000}],
        "ambassador/not_ambassador": [who],
        "ambassador/same_level": [{**who, "level": names}],
        "ambassador/unknown_level": [
            {"word": hostile, "levels": [trainee, ambassador, senior]},
            {"word": "gold", "levels": [idle]},
        ],
        "ambassador/no_such_proposal": [{"number": 9}],
        "ambassador/proposal_done": [{"number": 9}],
        "ambassador/proposal_outdated": [{"number": 9}],
        "ambassador/appointed": [
            {"name": hostile, "level": trainee},
            {"name": "Bob", "level": idle},
        ],
        "ambassador/removed_notice": [{"name": hostile, "level": senior}],
        "ambassador/level_notice": [
            {"name": hostile, "old": trainee, "level": ambassador, "up": True},
            {"name": hostile, "old": senior, "level": gone, "up": False},
        ],
        "ambassador/roster": [
            {
                "month": "2026-11",
                "days_left": 8,
                "entries": [entry, met, {**entry, "level": gone, "progress": []}],
                "total": 41,
                "page": 1,
                "pages": 3,
                "more": 21,
            },
            {
                "month": "2026-11",
                "days_left": 1,
                "entries": [met],
                "total": 1,
                "page": 1,
                "pages": 1,
                "more": 0,
            },
            {
                "month": "2026-12",
                "days_left": 31,
                "entries": [],
                "total": 0,
                "page": 1,
                "pages": 1,
                "more": 0,
            },
        ],
        "ambassador/roster_usage": [{}],
        "ambassador/mytasks": [
            {**month, "days_left": 8, "progress": short, "met": False, "exceed_percent": 150},
            {
                **month,
                "days_left": 1,
                "progress": done,
                "met": True,
                "exceeded": True,
                "exceed_percent": 150,
            },
            {
                **month,
                "days_left": 2,
                "progress": single,
                "met": True,
                "exceed_percent": 150,
                "level": trainee,
            },
        ],
        "ambassador/level_gone": [
            {"name": hostile, "level": gone, "levels": [trainee, ambassador, senior]},
            {"name": "Ann", "level": level_context(RULES, hostile[:24]), "levels": [idle]},
        ],
        "ambassador/not_in_programme": [
            {"levels": [trainee, ambassador, senior]},
            {"levels": [idle]},
        ],
        "ambassador/month_met": [
            {**month, "progress": done, "reward": 150, "exceeded": True},
            {**month, "progress": single, "reward": 0, "level": idle},
            {**month, "progress": single, "reward": 1, "level": trainee},
        ],
        "ambassador/month_missed": [
            {**month, "progress": short, "months_left": 1, "partial": False},
            {**month, "progress": short, "months_left": 2, "partial": False},
            {**month, "progress": short, "months_left": None, "partial": False},
            {**month, "progress": short, "months_left": 1, "partial": True},
        ],
        "ambassador/demoted": [
            {**month, "progress": short, "new_level": trainee, "months": 2},
            {**month, "progress": short, "new_level": idle, "months": 1},
        ],
        "ambassador/month_report": [
            {
                "month": "2026-11",
                "evaluated": 40,
                "met": 31,
                "paid": 4650,
                "demoted": [{**named, "new_level": trainee}],
                "lowest": [{"name": hostile, "level": trainee}],
                "unset": [{"name": hostile, "level": gone}],
                "proposals": [{**named, "number": 17, "new_level": senior}],
                "more": True,
                "demote_months": 2,
                "promote_months": 3,
            },
            {
                "month": "2026-12",
                "evaluated": 1,
                "met": 1,
                "paid": 1,
                "demoted": [],
                "lowest": [],
                "unset": [],
                "proposals": [],
                "more": False,
                "demote_months": 1,
                "promote_months": 1,
            },
        ],
        "ambassador/promote_button": [{"number": 17, "name": hostile, "new_level": senior}],
        "ambassador/top": [
            {
                "community": hostile,
                "month": "2026-11",
                "leaders": [
                    {
                        "rank": 1,
                        "name": hostile,
                        "level": senior,
                        "submissions": 5,
                        "featured": 2,
                        "score": 7,
                        "me": False,
                    },
                    {
                        "rank": 1,
                        "name": "Ann",
                        "level": trainee,
                        "submissions": 7,
                        "featured": 0,
                        "score": 7,
                        "me": True,
                    },
                    {
                        "rank": 3,
                        "name": "Bob",
                        "level": gone,
                        "submissions": 1,
                        "featured": 0,
                        "score": 1,
                        "me": False,
                    },
                ],
            },
            {"community": "Acme", "month": "2026-12", "leaders": []},
        ],
    }
