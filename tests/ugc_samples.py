"""Sample contexts of the ugc templates (issue 12), for tests/test_templates_on_platforms.py:
each renders on every platform in every locale."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

AT = datetime(2026, 11, 23, 9, 30, tzinfo=timezone(timedelta(hours=8)))


def samples(hostile: str) -> dict[str, list[dict[str, Any]]]:
    """Every ugc template's samples; `hostile` is text with every platform's markup."""
    purchase = {"en": "Purchase photo", "zh_CN": "晒单"}
    odd = {"en": hostile, "zh_CN": hostile}
    category = {"key": "purchase", **purchase, "points": 30, "needs": "photo"}
    review = {"key": "review", "en": "Review", "zh_CN": "评测", "points": 50, "needs": "any"}
    listed = [category, review, {"key": "x", **odd, "points": 1, "needs": "video"}]
    mine = [
        {
            "number": 12,
            "category": purchase,
            "state": "pending",
            "featured": False,
            "reason_key": None,
            "reason_text": None,
            "points": 0,
            "reversed": False,
            "at": AT,
        },
        {
            "number": 11,
            "category": odd,
            "state": "approved",
            "featured": True,
            "reason_key": None,
            "reason_text": None,
            "points": 36,
            "reversed": False,
            "at": AT,
        },
        {
            "number": 10,
            "category": purchase,
            "state": "rejected",
            "featured": False,
            "reason_key": None,
            "reason_text": hostile,
            "points": 10,
            "reversed": True,
            "at": AT,
        },
        {
            "number": 9,
            "category": purchase,
            "state": "rejected",
            "featured": False,
            "reason_key": "off_topic",
            "reason_text": None,
            "points": 0,
            "reversed": False,
            "at": AT,
        },
        {
            "number": 8,
            "category": None,
            "state": "draft",
            "featured": False,
            "reason_key": None,
            "reason_text": None,
            "points": 0,
            "reversed": False,
            "at": AT,
        },
        {
            "number": 7,
            "category": purchase,
            "state": "approved",
            "featured": False,
            "reason_key": None,
            "reason_text": None,
            "points": 30,
            "reversed": True,
            "at": AT,
        },
    ]
    approve = {"number": 3, "decision": "approve", "author": hostile, "points": 30, "groups": 0}
    feature = {"number": 4, "decision": "feature", "author": "Bob", "points": 36, "groups": 2}
    reject = {"number": 5, "decision": "reject", "author": "Bob", "points": 0, "groups": 0}
    item = {
        "done": None,
        "number": 12,
        "author": hostile,
        "category": purchase,
        "contest": None,
        "text": hostile,
        "links": ["https://shop.example/item?id=1", hostile],
        "files": 2,
        "at": AT,
        "waiting": 7,
    }
    return {
        "ugc/usage": [
            {"categories": listed, "category": None, "needs_file": False, "per_day": 5},
            {"categories": listed, "category": category, "needs_file": False, "per_day": 1},
            {"categories": [review], "category": None, "needs_file": True, "per_day": 5},
        ],
        "ugc/empty": [{}],
        "ugc/text_too_long": [{"length": 2001, "limit": 2000}],
        "ugc/too_many_links": [{"count": 6, "limit": 5}],
        "ugc/link_too_long": [{"length": 501, "limit": 500}],
        "ugc/too_many_files": [{"count": 5, "limit": 4}],
        "ugc/file_too_big": [{"name": hostile, "size": 6_000_000, "limit": 5_000_000}],
        "ugc/file_type": [{"name": hostile, "mime": "application/x-msdownload"}],
        "ugc/file_unreadable": [{"name": hostile}],
        "ugc/needs": [
            {"category": purchase, "needs": "photo"},
            {"category": odd, "needs": "video"},
            {"category": purchase, "needs": "file"},
        ],
        "ugc/too_many_today": [{"limit": 5}],
        "ugc/duplicate": [
            {"number": 4, "own": True, "draft": False},
            {"number": 4, "own": False, "draft": False},
        ],
        "ugc/not_your_message": [{}],
        "ugc/choose_category": [
            {"number": 12, "categories": listed},
            {"number": 12, "categories": []},
        ],
        "ugc/category_button": [{"category": category}, {"category": odd}],
        "ugc/category_chosen": [{"number": 12}],
        "ugc/not_your_draft": [{"number": 12}],
        "ugc/submitted": [
            {"number": 12, "category": purchase, "links": 0, "files": 1, "contest": None},
            {"number": 12, "category": odd, "links": 2, "files": 3, "contest": 2},
            {"number": 12, "category": purchase, "links": 1, "files": 0, "contest": None},
            {"number": 12, "category": purchase, "links": 0, "files": 0, "contest": None},
        ],
        "ugc/mine": [
            {"submissions": mine, "page": 1, "pages": 1, "more": 0, "total": 6},
            {"submissions": mine[:2], "page": 1, "pages": 3, "more": 4, "total": 6},
            {"submissions": [], "page": 1, "pages": 1, "more": 0, "total": 0},
        ],
        "ugc/mine_usage": [{}],
        "ugc/review_usage": [{"admin": True}, {"admin": False}],
        "ugc/not_reviewer": [{}],
        "ugc/queue_empty": [{"done": None}, {"done": approve}, {"done": reject}],
        "ugc/review_item": [
            item,
            {**item, "done": feature, "contest": 3, "links": [], "files": 0},
            {**item, "done": reject, "text": "", "files": 1, "category": odd},
        ],
        "ugc/approve_button": [{"number": 12}],
        "ugc/feature_button": [{"number": 12}],
        "ugc/reject_button": [{"reason": "off_topic"}, {"reason": "rules"}, {"reason": hostile}],
        "ugc/own_submission": [{"number": 12}],
        "ugc/reject_usage": [{"number": 12}],
        "ugc/reason_too_long": [{"length": 301, "limit": 300}],
        "ugc/unknown": [{"number": 99}],
        "ugc/already_decided": [
            {"number": 12, "state": "approved", "featured": False, "reversed": False},
            {"number": 12, "state": "approved", "featured": True, "reversed": False},
            {"number": 12, "state": "rejected", "featured": False, "reversed": True},
            {"number": 12, "state": "draft", "featured": False, "reversed": False},
        ],
        "ugc/decided_notice": [
            {
                "number": 12,
                "category": purchase,
                "decision": "approve",
                "points": 30,
                "reason_key": None,
                "reason_text": None,
            },
            {
                "number": 12,
                "category": odd,
                "decision": "feature",
                "points": 0,
                "reason_key": None,
                "reason_text": None,
            },
            {
                "number": 12,
                "category": purchase,
                "decision": "reject",
                "points": 0,
                "reason_key": "low_quality",
                "reason_text": None,
            },
            {
                "number": 12,
                "category": purchase,
                "decision": "reject",
                "points": 0,
                "reason_key": None,
                "reason_text": hostile,
            },
        ],
        "ugc/featured": [
            {
                "number": 12,
                "author": hostile,
                "category": purchase,
                "text": hostile,
                "links": ["https://shop.example/a_b", hostile],
            },
            {"number": 12, "author": "Alice", "category": odd, "text": "", "links": []},
        ],
        "ugc/not_decided": [{"number": 12, "state": "pending"}, {"number": 12, "state": "draft"}],
        "ugc/already_reversed": [{"number": 12}],
        "ugc/reversed": [
            {"number": 12, "author": hostile, "state": "approved", "points": 30, "owed": 0},
            {"number": 12, "author": "Bob", "state": "rejected", "points": 20, "owed": 10},
            {"number": 12, "author": "Bob", "state": "rejected", "points": 30, "owed": 0},
        ],
        "ugc/reversed_notice": [
            {
                "number": 12,
                "category": purchase,
                "state": "approved",
                "points": 30,
                "owed": 0,
                "reason": "",
            },
            {
                "number": 12,
                "category": odd,
                "state": "rejected",
                "points": 20,
                "owed": 10,
                "reason": hostile,
            },
        ],
        "ugc/reviewers": [
            {"reviewers": [{"name": hostile, "added_at": AT}, {"name": "Bob", "added_at": AT}]},
            {"reviewers": []},
        ],
        "ugc/reviewer_usage": [{}],
        "ugc/reviewer_changed": [
            {"name": hostile, "action": "add", "changed": True},
            {"name": "Bob", "action": "add", "changed": False},
            {"name": "Bob", "action": "remove", "changed": True},
            {"name": "Bob", "action": "remove", "changed": False},
        ],
        "ugc/digest": [
            {
                "submissions": [
                    {"number": 12, "category": purchase, "author": hostile},
                    {"number": 13, "category": odd, "author": "Bob"},
                ],
                "count": 2,
                "more": 0,
            },
            {
                "submissions": [{"number": 12, "category": purchase, "author": "Alice"}],
                "count": 14,
                "more": 13,
            },
        ],
    }
