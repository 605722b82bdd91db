"""Every template, in every locale, rendered for every platform with hostile user text, read
back the way each platform's client shows it: members see exactly the text we meant (the
console's rendering), with nothing escaped twice, nothing left active, nothing invisible.

A template without a sample context here fails `test_every_template_has_a_sample_context`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from jinja2 import meta

from bot.adapters.discord_events import discord_markdown
from bot.app import ROUTERS
from bot.rendering import TEMPLATES, Renderer, plain_text, telegram_html
from community.outbox import decode_reply, encode_reply
from handlers.types import Reply
from storage.engine import dump_json
from tests import (
    ambassador_samples,
    contest_samples,
    draw_samples,
    faq_samples,
    media_samples,
    questions_samples,
    quiz_samples,
    survey_samples,
    ugc_samples,
)
from tests.discord_markdown import ActiveMarkdown, visible
from tests.fakes.telegram_api import TEXT_LIMIT, html_to_plain, utf16_len
from tests.loyalty_samples import loyalty_samples

# What members can put in a name, a note or a poll: every platform's markup, entities, pings,
# links, and characters that reorder or hide text.
HOSTILE = (
    "<b>Bo</b> &amp; &lt; *b* _i_ __u__ ~~s~~ ||sp|| `c` a|b \\ @everyone @here "
    "[x](https://evil.example/a_b) y](https://evil.example) <@1> <#2> :smile: "
    "\u202eevil\u2066 z\u200bw\u200cj\u2060\ufeff"
)
# User text that would start a line: quotes, headings, lists Discord would draw or renumber.
LINE_STARTS = ["> quote", "# heading", "- item", "-# small", "2023. a year", "* star", HOSTILE]
INVISIBLE = set(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
    "\u200b\u200c\u2060\ufeff\u180e"
)
LOCALES = sorted(p.name for p in TEMPLATES.iterdir() if p.is_dir())


def _commands(admin: bool, only_admin: bool = False) -> list[dict[str, Any]]:
    return [
        {
            "name": route.command,
            "params": [
                {"key": f"{route.command}.{p.name}", "required": p.required} for p in route.params
            ],
        }
        for router in ROUTERS
        for route in router.routes
        if not route.hidden and (route.admin if only_admin else not route.admin)
    ]


def _help(admin: bool, only_admin: bool = False) -> dict[str, Any]:
    return {
        "name": HOSTILE,
        "community": HOSTILE,
        "commands": _commands(admin, only_admin),
        "admin_commands": len(_commands(True, True)) if admin else 0,
        "is_admin": admin,
    }


_WHO = {"member": HOSTILE, "chat": HOSTILE, "time": "2026-11-23 09:00", "timezone": "Asia/Shanghai"}
_ENTRIES = [
    {"date": "2026-11-23", "delta": 10, "reason": "checkin", "note": ""},
    {"date": "2026-11-22", "delta": -1000, "reason": "deduct", "note": HOSTILE},
    {"date": "2026-11-21", "delta": 5, "reason": "new_reason*", "note": "line\n> quoted"},
]
_LEADERS = [  # a tie shares rank 1, so the next is 3: Discord must not renumber the list
    {"rank": 1, "name": HOSTILE, "points": 1000, "me": False},
    {"rank": 1, "name": "2023. a year", "points": 1000, "me": True},
    {"rank": 3, "name": "\u202e\u200b", "points": 1, "me": False},
]

# Every template (partials, named _*, are rendered through the ones that import them) and the
# contexts its handler passes, one per branch worth seeing.
# Schedules as answers carry them (community/schedules.py When.to_json()).
_WEEKLY = {"kind": "weekly", "days": [0, 2], "times": [[20, 0]], "on": None}
_ONCE = {"kind": "once", "days": [], "times": [[19, 0]], "on": "2026-12-24"}
_DAILY = {"kind": "daily", "days": [], "times": [[8, 0], [20, 30]], "on": None}
_MONTHLY = {"kind": "monthly", "days": [1, 18], "times": [[10, 0]], "on": None}
_WORKDAYS = {"kind": "weekly", "days": [0, 1, 2, 3, 4], "times": [[9, 0]], "on": None}
_FRIDAY = {"kind": "weekly", "days": [4], "times": [[0, 0]], "on": None}
_ENTRY = {
    "id": 3,
    "text": HOSTILE,
    "preview": HOSTILE,
    "tag": None,
    "options": [],
    "paused": False,
    "from_file": False,
}
_MEMBER_DAY = {"hours": 24, "multiplier": 2, "announce_hours": 24, "timezone": "Asia/Shanghai"}

CORE_SAMPLES: Mapping[str, list[dict[str, Any]]] = {
    "announce/post": [{"community": HOSTILE, "text": HOSTILE}],
    "announce/queued": [
        {"groups": 1, "inactive": 0, "no_channel": 0},
        {"groups": 12, "inactive": 1, "no_channel": 2},
        {"groups": 0, "inactive": 3, "no_channel": 1},
    ],
    "announce/too_long": [{"length": 2001, "limit": 2000}],
    "announce/usage": [{}],
    "settings/channel_not_needed": [{}],
    "settings/channel_set": [{"channel": HOSTILE}],
    "checkin/already_done": [{"streak": 1, "tomorrow": date(2026, 11, 24)}],
    "checkin/already_done_line": [
        {"asker": HOSTILE, "streak": 1, "tomorrow": date(2026, 11, 24)},
        {"asker": HOSTILE, "streak": 12, "tomorrow": date(2026, 11, 24)},
    ],
    "checkin/done_line": [
        {"name": HOSTILE, "points": 30, "streak": 7, "bonus": True, "balance": 1234567},
        {"name": HOSTILE, "points": 1, "streak": 1, "bonus": False, "balance": 1},
        {
            "name": HOSTILE,
            "points": 20,
            "streak": 1,
            "bonus": False,
            "balance": 20,
            "multiplier": 2,
        },
        {
            "name": HOSTILE,
            "points": 15,
            "streak": 1,
            "bonus": False,
            "balance": 15,
            "multiplier": 1.5,
            "campaign": True,
        },
        {
            "name": HOSTILE,
            "points": 45,
            "streak": 7,
            "bonus": True,
            "balance": 45,
            "multiplier": 1.5,
        },
    ],
    "delivery/merged": [
        {
            "answers": [
                {
                    "template": "checkin/done_line",
                    "context": {
                        "name": HOSTILE,
                        "points": 10,
                        "streak": 2,
                        "bonus": False,
                        "balance": 20,
                        "asker": HOSTILE,
                    },
                },
                {
                    "template": "checkin/already_done_line",
                    "context": {"asker": HOSTILE, "streak": 3, "tomorrow": "2026-11-24"},
                },
            ]
        }
    ],
    "checkin/done": [
        {
            "name": HOSTILE,
            "points": 60,
            "streak": 7,
            "bonus": True,
            "bonus_points": 20,
            "days_to_bonus": 7,
            "balance": 60,
            "multiplier": 2,
        },
        {
            "name": HOSTILE,
            "points": 15,
            "streak": 1,
            "bonus": False,
            "bonus_points": 20,
            "days_to_bonus": 6,
            "balance": 15,
            "multiplier": 1.5,
        },
        {
            "name": HOSTILE,
            "points": 30,
            "streak": 7,
            "bonus": True,
            "bonus_points": 20,
            "days_to_bonus": 7,
            "balance": 1234567,
        },
        {
            "name": HOSTILE,
            "points": 10,
            "streak": 1,
            "bonus": False,
            "bonus_points": 20,
            "days_to_bonus": 6,
            "balance": 10,
        },
    ],
    "common/admin_check_failed": [{"command": "award"}],
    "common/admins_only": [{"command": "award"}],
    "common/group_not_adopted": [{"command": "award"}],
    "common/internal_error": [{}],
    "common/post_as_yourself": [{"command": "checkin"}],
    "common/private_only": [{"command": "link"}],
    "common/stale_button": [{}],
    "common/unknown_command": [{"command": "<b>_ban*&amp;"}, {"command": ""}],
    "console/bad_time": [{"value": HOSTILE}],
    "console/banner": [_WHO | {"admin": True}, _WHO | {"admin": False}],
    "console/bye": [{}],
    "console/outgoing": [{"where": "dm", "chat": HOSTILE}, {"where": "group", "chat": HOSTILE}],
    "console/choice": [{"label": HOSTILE, "command": "/vote 1 0"}],
    "console/meta_help": [{"line": HOSTILE}],
    "console/time_set": [{"time": "2026-11-23 09:00", "timezone": "Asia/Shanghai"}],
    "console/whoami": [_WHO | {"admin": True}],
    "help/command_argument": [{}],
    "help/help": [_help(admin=True), _help(admin=False)],
    "help/admin": [_help(admin=True, only_admin=True)],
    "help/start": [_help(admin=True), _help(admin=False)],
    "help/welcome": [{"name": HOSTILE, "community": HOSTILE}],
    "link/already_linked": [{"platform": "discord"}],
    "link/bad_code": [{}],
    "link/code": [{"code": "ABCD-EFGH", "minutes": 10, "platform": "telegram"}],
    "link/confirm": [{"name": HOSTILE, "platform": "telegram", "code": "ABCD-EFGH"}],
    "link/confirm_button": [{}],
    "link/done": [{"balance": 1000, "platforms": ["telegram", "discord"]}],
    "link/expired": [{}],
    "link/same_member": [{}],
    "link/same_platform": [{"platform": "telegram"}],
    "link/spent_in_public": [{}],
    "points/adjust_usage": [{"command": "award", "limit": 1000}],
    "points/amount_out_of_range": [{"limit": 1000}],
    "points/awarded": [
        {"target": HOSTILE, "handle": HOSTILE, "amount": 5, "note": HOSTILE, "balance": 1005},
        {"target": HOSTILE, "handle": "@bob", "amount": 1, "note": "", "balance": 1},
    ],
    "points/deducted": [
        {"target": HOSTILE, "handle": HOSTILE, "amount": 5, "note": HOSTILE, "balance": 1005},
        {"target": HOSTILE, "handle": "@bob", "amount": 1, "note": "", "balance": 0},
    ],
    "points/insufficient": [{"balance": 3, "amount": 1000}],
    "points/me": [
        {
            "name": HOSTILE,
            "balance": 1000,
            "streak": 2,
            "checked_in_today": True,
            "rank": 1,
            "community": HOSTILE,
            "account": "telegram:123",
            "tier": {"en": HOSTILE, "zh_CN": HOSTILE},
        },
        {
            "name": HOSTILE,
            "balance": 0,
            "streak": 0,
            "checked_in_today": False,
            "rank": 12,
            "community": HOSTILE,
            "account": "discord:456",
            "tier": {"en": "Member", "zh_CN": "普通会员"},
        },
    ],
    "points/not_a_person": [{"name": HOSTILE, "bot": True}, {"name": HOSTILE, "bot": False}],
    "points/points": [
        {
            "name": HOSTILE,
            "balance": 1010,
            "entries": _ENTRIES,
            "expiring": {
                "points": 1,
                "at": datetime(2027, 12, 1, tzinfo=ZoneInfo("Asia/Shanghai")),
            },
        },
        {"name": HOSTILE, "balance": 0, "entries": [], "expiring": None},
    ],
    "points/top": [
        {
            "community": HOSTILE,
            "leaders": _LEADERS,
            "my_rank": 1,
            "my_points": 1000,
            "in_top": True,
        },
        {"community": HOSTILE, "leaders": [], "my_rank": 1, "my_points": 0, "in_top": False},
    ],
    "points/unknown_member": [{"handle": HOSTILE}],
    "polls/close_usage": [{}],
    "polls/closed": [{"question": HOSTILE}],
    "polls/duplicate_options": [{}],
    "polls/gone": [{}],
    "polls/none_open": [{}],
    "polls/not_here": [{"question": HOSTILE}],
    "polls/option": [{"text": HOSTILE}],
    "polls/posted": [
        {"question": HOSTILE, "options": LINE_STARTS, "points": 2},
        {"question": HOSTILE, "options": LINE_STARTS, "points": 0},
        {
            "question": HOSTILE,
            "options": [HOSTILE, "b"],
            "points": 2,
            "closes_at": "2026-11-23T18:00:00+08:00",
            "timezone": "Asia/Shanghai",
        },
        {
            "question": HOSTILE,
            "options": [HOSTILE, "b"],
            "points": 0,
            "closes_at": None,
            "timezone": "Asia/Shanghai",
        },
    ],
    "polls/results": [
        {
            "question": HOSTILE,
            "rows": [
                {"text": text, "count": index * 500, "percent": 14}
                for index, text in enumerate(LINE_STARTS)
            ],
            "voters": 10500,
        }
    ],
    "polls/too_long": [{"question": 300, "option": 100}],
    "polls/too_many_options": [{"limit": 10}],
    "polls/unknown_option": [{}],
    "polls/usage": [{}],
    "polls/voted": [
        {"question": HOSTILE, "choices": [HOSTILE, "> quote"], "points": 2, "balance": 1002},
        {"question": HOSTILE, "choices": [], "points": 0, "balance": 1000},
    ],
    "settings/bad_slug": [{"slug": HOSTILE}],
    "settings/community_moved": [
        {"slug": "vip", "previous": "acme", "created": True},
        {"slug": "vip", "previous": "acme", "created": False},
    ],
    "settings/groups_only": [{}],
    "settings/not_admin_there": [{"slug": "vip"}],
    "settings/show": [
        {
            "slug": "acme",
            "name": HOSTILE,
            "timezone": "Asia/Shanghai",
            "locale": "en",
            "checkin_points": 10,
            "vote_points": 1000,
            "tags": [],
        },
        {
            "slug": "acme",
            "name": "Acme",
            "timezone": "Asia/Shanghai",
            "locale": "en",
            "checkin_points": 10,
            "vote_points": 2,
            "tags": [HOSTILE, "vip"],
        },
    ],
    "settings/usage": [{}],
    "settings/tags": [
        {"tags": [], "changed": False},
        {"tags": [HOSTILE, "华东"], "changed": True},
    ],
    "settings/bad_tags": [{"limit": 10}],
    "calendar/topic": [
        {"text": HOSTILE, "community": HOSTILE, "poll": False},
        {"text": "> quote", "community": "Acme", "poll": True},
    ],
    "calendar/added": [
        {
            **_ENTRY,
            "schedule": _WEEKLY,
            "timezone": "Asia/Shanghai",
            "groups": 3,
            "next": [
                "2026-11-23T20:00:00+08:00",
                "2026-11-25T20:00:00+08:00",
                "2026-11-30T20:00:00+08:00",
            ],
        },
        {
            **_ENTRY,
            "schedule": _ONCE,
            "tag": "vip",
            "options": [HOSTILE, "- item"],
            "timezone": "America/New_York",
            "groups": 0,
            "next": [],
        },
        {
            **_ENTRY,
            "schedule": _MONTHLY,
            "timezone": "UTC",
            "groups": 0,
            "next": ["2026-12-01T10:00:00+00:00"],
        },
    ],
    "calendar/list": [
        {"timezone": "Asia/Shanghai", "entries": [], "page": 1, "pages": 1},
        {
            "timezone": "Asia/Shanghai",
            "page": 2,
            "pages": 3,
            "entries": [
                {**_ENTRY, "schedule": _WEEKLY, "next": "2026-11-23T20:00:00+08:00"},
                {
                    **_ENTRY,
                    "id": 4,
                    "schedule": _DAILY,
                    "tag": "vip",
                    "paused": True,
                    "options": ["a", "b"],
                    "next": None,
                    "from_file": True,
                    "preview": "2023. a year",
                },
                {**_ENTRY, "id": 5, "schedule": _ONCE, "next": None, "preview": "# heading"},
                {**_ENTRY, "id": 6, "schedule": _WORKDAYS, "next": "2026-11-24T09:00:00+08:00"},
            ],
        },
    ],
    "calendar/removed": [
        {**_ENTRY, "schedule": _WEEKLY},
        {**_ENTRY, "schedule": _DAILY, "from_file": True, "preview": "- item"},
    ],
    "calendar/paused": [{**_ENTRY, "schedule": _MONTHLY}],
    "calendar/resumed": [
        {**_ENTRY, "schedule": _WEEKLY, "next": "2026-11-25T20:00:00+08:00"},
        {**_ENTRY, "schedule": _ONCE, "next": None},
    ],
    "calendar/usage": [{}],
    "calendar/bad_tag": [{"limit": 32}],
    "calendar/broken": [{"number": 3, "problem": HOSTILE}],
    "calendar/no_text": [{}],
    "calendar/too_long": [{"length": 2001, "limit": 2000}],
    "calendar/too_many": [{"limit": 200}],
    "calendar/bad_poll": [{}],
    "calendar/no_such_entry": [{"number": 7}],
    "calendar/calendar": [
        {"span": 7, "timezone": "Asia/Shanghai", "multiplier": "2", "more": 0, "days": []},
        {
            "span": 7,
            "timezone": "Asia/Shanghai",
            "multiplier": "1.5",
            "more": 12,
            "days": [
                {
                    "day": "2026-11-23T20:00:00+08:00",
                    "events": [
                        {
                            "at": "2026-11-23T20:00:00+08:00",
                            "kind": "topic",
                            "text": HOSTILE,
                            "poll": True,
                            "ends": None,
                        }
                    ],
                },
                {
                    "day": "2026-11-25T00:00:00+08:00",
                    "events": [
                        {
                            "at": "2026-11-25T00:00:00+08:00",
                            "kind": "member_day",
                            "text": "",
                            "poll": False,
                            "ends": "2026-11-26T00:00:00+08:00",
                        },
                        {
                            "at": "2026-11-25T08:00:00+08:00",
                            "kind": "topic",
                            "text": "> quote",
                            "poll": False,
                            "ends": None,
                        },
                    ],
                },
            ],
        },
    ],
    "schedule/bad_when": [{}],
    "schedule/in_the_past": [{"at": "2026-11-01T10:00:00", "when": "2026-11-01 10:00"}],
    "schedule/no_such_time": [
        {"day": "2027-03-14", "time": "02:30", "timezone": "America/New_York"}
    ],
    "schedule/too_many_times": [{"limit": 6}],
    "polls/bad_duration": [{}],
    "polls/bad_until": [{}],
    "polls/end_out_of_range": [{"shortest": 1, "longest": 30}],
    "polls/end_in_the_past": [
        {
            "at": "2026-11-01T18:00:00+08:00",
        }
    ],
    "reminders/on": [
        {"at": "20:00", "timezone": "Asia/Shanghai", "reachable": True},
        {"at": "20:00", "timezone": "Asia/Shanghai", "reachable": False},
    ],
    "reminders/off": [{"at": "20:00", "timezone": "Asia/Shanghai"}],
    "reminders/state": [
        {"at": "20:00", "timezone": "Asia/Shanghai", "on": True},
        {"at": "20:00", "timezone": "Asia/Shanghai", "on": False},
    ],
    "reminders/usage": [{}],
    "reminders/streak": [
        {"name": HOSTILE, "streak": 6, "points": 30},
        {"name": HOSTILE, "streak": 0, "points": 10},
        {"name": HOSTILE, "streak": 1, "points": 1},
    ],
    "reminders/win_back": [
        {"name": HOSTILE, "community": HOSTILE, "days": 7, "message": ""},
        {"name": HOSTILE, "community": HOSTILE, "days": 1, "message": HOSTILE},
    ],
    "memberday/admins_only": [{}],
    "memberday/overlaps": [{"hours": 168, "longest": 24}, {"hours": 25, "longest": 1}],
    "memberday/no_next": [{}],
    "memberday/off": [{}],
    "memberday/too_many_skipped": [{"limit": 50}],
    "memberday/usage": [{}],
    "memberday/bad_when": [{}],
    "memberday/bad_option": [{"option": HOSTILE}],
    "memberday/out_of_range": [
        {"what": "multiplier", "low": 1, "high": 10},
        {"what": "hours", "low": 1, "high": 168},
        {"what": "announce", "low": 0, "high": 336},
    ],
    "memberday/announce": [
        {
            "start": "2026-12-18T00:00:00+08:00",
            "end": "2026-12-19T00:00:00+08:00",
            "hours": 24,
            "multiplier": 2,
            "perks": [HOSTILE, "2023. a year"],
        },
        {
            "start": "2026-12-18T20:00:00+08:00",
            "end": "2026-12-19T02:00:00+08:00",
            "hours": 6,
            "multiplier": 1.5,
            "perks": [],
        },
    ],
    "memberday/open": [
        {
            "start": "2026-12-18T00:00:00+08:00",
            "end": "2026-12-19T00:00:00+08:00",
            "hours": 24,
            "multiplier": 2,
            "perks": ["- item", HOSTILE],
        },
        {
            "start": "2026-12-18T00:00:00+08:00",
            "end": "2026-12-20T00:00:00+08:00",
            "hours": 48,
            "multiplier": 3,
            "perks": [],
        },
    ],
    "memberday/recap": [
        {
            "start": "2026-12-18T00:00:00+08:00",
            "end": "2026-12-19T00:00:00+08:00",
            "hours": 24,
            "multiplier": 2,
            "perks": [],
            "participants": 1234,
            "checkins": 1,
            "points": 1000000,
            "top": [
                {"rank": 1, "name": HOSTILE, "points": 40},
                {"rank": 2, "name": "2023. a year", "points": 20},
                {"rank": 2, "name": "\u202e\u200b", "points": 20},
            ],
        },
        {
            "start": "2026-12-18T00:00:00+08:00",
            "end": "2026-12-19T00:00:00+08:00",
            "hours": 24,
            "multiplier": 2,
            "perks": [],
            "participants": 0,
            "checkins": 0,
            "points": 0,
            "top": [],
        },
    ],
    "memberday/show": [
        {"scheduled": False},
        {
            "scheduled": True,
            "running": True,
            "start": "2026-12-18T00:00:00+08:00",
            "end": "2026-12-19T00:00:00+08:00",
            "hours": 24,
            "multiplier": 2,
            "perks": [HOSTILE],
            "timezone": "Asia/Shanghai",
        },
        {
            "scheduled": True,
            "running": False,
            "start": "2026-12-18T00:00:00+08:00",
            "end": "2026-12-19T00:00:00+08:00",
            "hours": 24,
            "multiplier": 1.5,
            "perks": [],
            "timezone": "Asia/Shanghai",
        },
    ],
    "memberday/details": [
        {
            **_MEMBER_DAY,
            "enabled": True,
            "schedule": {"kind": "monthly", "days": [18], "times": [[0, 0]], "on": None},
            "perks": [HOSTILE, "* star"],
            "poll": HOSTILE,
            "top_members": 3,
            "skipped": ["2026-12-18"],
            "next": ["2027-01-18T00:00:00+08:00", "2027-02-18T00:00:00+08:00"],
        },
        {
            **_MEMBER_DAY,
            "enabled": False,
            "schedule": _ONCE,
            "hours": 1,
            "multiplier": 1.5,
            "announce_hours": 0,
            "perks": [],
            "poll": "",
            "top_members": 1,
            "skipped": [],
            "next": [],
        },
    ],
    "memberday/saved": [
        {
            **_MEMBER_DAY,
            "schedule": _FRIDAY,
            "next": [
                "2026-11-27T00:00:00+08:00",
                "2026-12-04T00:00:00+08:00",
                "2026-12-11T00:00:00+08:00",
            ],
        },
        {
            **_MEMBER_DAY,
            "schedule": _ONCE,
            "hours": 1,
            "multiplier": 1.5,
            "announce_hours": 0,
            "next": [],
        },
    ],
    "memberday/cancelled": [{**_MEMBER_DAY, "schedule": _FRIDAY, "next": []}],
    "memberday/skipped": [
        {
            **_MEMBER_DAY,
            "schedule": _FRIDAY,
            "next": ["2026-12-04T00:00:00+08:00"],
            "day": "2026-11-27",
        },
        {**_MEMBER_DAY, "schedule": _ONCE, "next": [], "day": "2026-12-24"},
    ],
    "memberday/unskipped": [
        {
            **_MEMBER_DAY,
            "schedule": _FRIDAY,
            "next": ["2026-11-27T00:00:00+08:00"],
            "days": ["2026-11-27", "2026-12-04"],
        },
        {**_MEMBER_DAY, "schedule": _FRIDAY, "next": [], "days": []},
    ],
}
# The loyalty engine's (issue 10) live in a file of their own.
SAMPLES: Mapping[str, list[dict[str, Any]]] = {
    **CORE_SAMPLES,
    **loyalty_samples(HOSTILE),
    **questions_samples.samples(HOSTILE),
    **faq_samples.samples(HOSTILE),
    **quiz_samples.samples(HOSTILE),
    **survey_samples.samples(HOSTILE),
    **ugc_samples.samples(HOSTILE),
    **ambassador_samples.samples(HOSTILE),
    **contest_samples.samples(HOSTILE),
    **draw_samples.samples(HOSTILE),
    **media_samples.samples(HOSTILE),
}

PLAIN, TELEGRAM, DISCORD = Renderer(plain_text), Renderer(telegram_html), Renderer(discord_markdown)
# What each platform's client shows of what its renderer produced.
SHOWN_BY: Mapping[str, tuple[Renderer, Callable[[str], str]]] = {
    "telegram": (TELEGRAM, html_to_plain),
    "discord": (DISCORD, visible),
    "console": (PLAIN, lambda text: text),
}


def _templates(locale: str) -> set[str]:
    root = TEMPLATES / locale
    return {
        str(path.relative_to(root).with_suffix(""))
        for path in root.rglob("*.j2")
        if not path.name.startswith("_")
    }


def _cases() -> Iterator[Any]:
    for name, contexts in SAMPLES.items():
        for index, context in enumerate(contexts):
            for locale in LOCALES:
                yield pytest.param(Reply(name, context, locale), id=f"{locale}/{name}/{index}")


def test_every_template_has_a_sample_context() -> None:
    every = set().union(*(_templates(locale) for locale in LOCALES))
    assert every, "no templates found"
    assert sorted(every - set(SAMPLES)) == [], "add a sample context for these templates"
    assert sorted(set(SAMPLES) - every) == [], "these samples name no template"


@pytest.mark.parametrize("platform", sorted(SHOWN_BY))
@pytest.mark.parametrize("reply", list(_cases()))
def test_members_see_exactly_the_intended_text(platform: str, reply: Reply) -> None:
    intended = PLAIN.render(reply)
    renderer, shown_by = SHOWN_BY[platform]
    sent = renderer.render(reply)
    shown = shown_by(sent)
    assert shown == intended
    assert not INVISIBLE & set(shown), "bidi or zero-width characters reached the screen"
    assert utf16_len(shown) <= TEXT_LIMIT


@pytest.mark.parametrize("reply", list(_cases()))
def test_user_text_is_shown_once_as_typed(reply: Reply) -> None:
    source = (TEMPLATES / reply.locale / f"{reply.template}.j2").read_text(encoding="utf-8")
    # The renderer's own environment: it knows the filters the templates use.
    printed = meta.find_undeclared_variables(PLAIN._env.parse(source))
    typed = [
        value
        for key, item in reply.context.items()
        if key in printed
        for value in _strings(item)
        if value in (HOSTILE, *LINE_STARTS)
    ]
    intended = PLAIN.render(reply)
    for value in typed:
        assert plain_text(value) in intended, value


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _with_every_count(value: object, count: int) -> object:
    if isinstance(value, bool) or not isinstance(value, int | Mapping | list):
        return value
    if isinstance(value, int):
        return count
    if isinstance(value, Mapping):
        return {key: _with_every_count(item, count) for key, item in value.items()}
    return [_with_every_count(item, count) for item in value]


_NOUNS = r"(?:point|day|voter|vote|minute|character|option|member)"


@pytest.mark.parametrize("count", [0, 1, 2, 1000])
@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_english_counts_agree_with_their_nouns(name: str, count: int) -> None:
    for context in SAMPLES[name]:
        reply = Reply(name, _with_every_count(context, count), "en")  # type: ignore[arg-type]
        text = PLAIN.render(reply)
        shown = f"{count:,}"
        wrong = rf"{_NOUNS}s" if count == 1 else _NOUNS
        found = re.search(rf"(?<![\d,.]){re.escape(shown)} {wrong}\b", text)
        assert found is None, text


# The checker itself: it must refuse what Discord would act on and resolve what it escapes.


@pytest.mark.parametrize(
    "active",
    [
        "**bold**",
        "a * b *",
        "snake_case_name",
        "`code`",
        "*a* \\*b\\*",
        "~~strike~~",
        "||spoiler||",
        "[x](https://example.com)",
        "[a\\](https://example.com) b]",
        "<@123>",
        "@everyone",
        "> quote",
        "# heading",
        "-# small",
        "- item",
        "1. one\n1. tied",
    ],
)
def test_discord_checker_refuses_what_discord_acts_on(active: str) -> None:
    with pytest.raises(ActiveMarkdown):
        visible(active)


def test_discord_checker_shows_escapes_links_and_lists_as_discord_does() -> None:
    assert visible("\\*a\\* \\\\ \\< \\中 \\a") == "*a* \\ < 中 \\a"
    assert visible("see https://example.com/a_b_ now") == "see https://example.com/a_b_ now"
    assert visible("Top\n1. a\n2. b\n\n3\\. c") == "Top\n1. a\n2. b\n\n3. c"
    assert visible("@\u200beveryone a|b ~x") == "@everyone a|b ~x"
    assert visible("one _ and one * and one ` alone") == "one _ and one * and one ` alone"


@pytest.mark.parametrize("reply", list(_cases()))
def test_a_reply_reads_the_same_after_a_stay_in_the_outbox(reply: Reply) -> None:
    """Replies wait in the outbox as JSON and are rendered when sent: nothing may change."""
    kept = decode_reply(json.loads(dump_json(encode_reply(reply))), reply.locale)
    for renderer in (Renderer(plain_text), Renderer(telegram_html)):
        assert renderer.render(kept) == renderer.render(reply)
