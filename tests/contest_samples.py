"""Sample contexts of the contest templates (issue 12), for tests/test_templates_on_platforms.py:
each renders on every platform in every locale."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

_AT = datetime(2026, 12, 24, 18, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def samples(hostile: str) -> dict[str, list[dict[str, Any]]]:
    """Every contest template's samples; `hostile` is text with every platform's markup."""
    points = [{"place": 1, "points": 300}, {"place": 2, "points": 1}, {"place": 4, "points": 5}]
    rewards = [{"place": 1, "reward": 5, "name": hostile}]
    category = {"key": "purchase", "en": hostile, "zh_CN": hostile}
    contest = {
        "number": 3,
        "title": hostile,
        "state": "open",
        "category": category,
        "closes_at": _AT,
        "vote_ends_at": None,
        "vote_hours": 48,
        "prizes": points,
    }
    voting = {
        **contest,
        "state": "voting",
        "category": None,
        "vote_ends_at": _AT,
        "prizes": rewards,
    }
    ended = {**voting, "state": "ended", "vote_hours": 1}
    cancelled = {**contest, "state": "cancelled"}
    entry = {
        "number": 12,
        "author": hostile,
        "text": hostile,
        "votes": None,
        "place": None,
        "photo": False,
    }
    voted = {**entry, "votes": 1, "place": 1, "photo": True}
    unplaced = {**entry, "votes": 0, "photo": False}
    won_points = {"place": 1, "entry": 12, "author": hostile, "votes": 7, "points": 300}
    won_reward = {
        "place": 2,
        "entry": 13,
        "author": hostile,
        "votes": 1,
        "reward": hostile,
        "given": True,
        "code": hostile,
        "pending": False,
    }
    gift = {**won_reward, "place": 3, "code": None, "pending": True}
    gone = {**won_reward, "place": 4, "given": False, "code": None}
    unpaid = {**won_points, "place": 5, "points": 0}
    return {
        "contest/usage": [{"is_admin": True}, {"is_admin": False}],
        "contest/start_usage": [{}],
        "contest/title_too_long": [{"length": 101, "limit": 100}],
        "contest/bad_until": [{"text": hostile}],
        "contest/until_past": [{"at": _AT}],
        "contest/until_too_far": [{"at": _AT, "days": 60}, {"at": _AT, "days": 1}],
        "contest/unknown_category": [{"word": hostile, "categories": ["purchase", hostile]}],
        "contest/prizes_or_reward": [{}],
        "contest/bad_prizes": [{"places": 10, "most": 10000}],
        "contest/bad_reward": [{"places": 10}],
        "contest/too_many_open": [{"limit": 5}, {"limit": 1}],
        "contest/started": [
            {**contest, "groups": 3, "inactive": 0, "no_channel": 0},
            {**voting, "groups": 1, "inactive": 2, "no_channel": 1},
            {**contest, "groups": 0, "inactive": 1, "no_channel": 2},
        ],
        "contest/announced": [contest, {**voting, "state": "open", "vote_hours": 1}],
        "contest/list": [
            {"contests": [contest, voting, ended, cancelled], "is_admin": True},
            {"contests": [], "is_admin": True},
            {"contests": [], "is_admin": False},
        ],
        "contest/contest": [
            {**contest, "entries": [entry], "total": 30, "voting": False, "my_vote": None},
            {**contest, "entries": [], "total": 0, "voting": False, "my_vote": None},
            {**voting, "entries": [voted, unplaced], "total": 2, "voting": True, "my_vote": None},
            {**voting, "entries": [unplaced], "total": 1, "voting": True, "my_vote": 12},
            {**ended, "entries": [voted, unplaced], "total": 2, "voting": False, "my_vote": 12},
            {**cancelled, "entries": [], "total": 0, "voting": False, "my_vote": None},
        ],
        "contest/unknown": [{"number": 9}],
        "contest/not_live": [{"number": 3, "state": "cancelled"}, {"number": 3, "state": "ended"}],
        "contest/cancelled": [{"number": 3, "title": hostile}],
        "contest/cancelled_post": [{"number": 3, "title": hostile}],
        "contest/no_entries": [{"number": 3, "title": hostile}],
        "contest/vote_open": [
            {**voting, "entries": 30, "posted": 25},
            {**voting, "entries": 1, "posted": 1, "prizes": points},
        ],
        "contest/entry": [
            {"contest": 3, "title": hostile, "number": 12, "author": hostile, "text": hostile}
        ],
        "contest/vote_button": [{"entry": 12, "author": hostile}],
        "contest/voted": [{"number": 3, "title": hostile, "entry": 12, "author": hostile}],
        "contest/already_voted": [{"number": 3, "entry": 12}, {"number": 3, "entry": None}],
        "contest/own_entry": [{"number": 3, "entry": 12}],
        "contest/not_an_entry": [{"number": 3, "entry": 12}],
        "contest/withdrawn": [{"number": 3, "entry": 12}],
        "contest/vote_not_yet": [{"number": 3, "closes_at": _AT}],
        "contest/vote_closed": [{"number": 3, "title": hostile}],
        "contest/vote_usage": [{}],
        "contest/results": [
            {"number": 3, "title": hostile, "winners": [won_points, won_reward, gone], "votes": 9},
            {"number": 3, "title": hostile, "winners": [], "votes": 0},
            {"number": 3, "title": hostile, "winners": [unpaid], "votes": 1},
        ],
        "contest/won": [
            {"number": 3, "title": hostile, **won_points},
            {"number": 3, "title": hostile, **won_reward},
            {"number": 3, "title": hostile, **gift},
            {"number": 3, "title": hostile, **gone},
            {"number": 3, "title": hostile, **unpaid},
        ],
    }
