"""What the ambassador programme tells people privately, and the shape templates read a level
and a month's progress in. Each message has an outbox key from its cause, so a retried job or
a redelivered command never sends it twice."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from community.ambassador_months import TASKS, Output, exceed_quota
from community.ambassador_rules import AmbassadorLevel, AmbassadorRules
from community.messages import Reply, Visibility
from community.private_notices import Notice
from loyalty.rules import factor_text

_SLICE = 500  # ids per IN (...)


def level_context(rules: AmbassadorRules, key: str) -> dict[str, Any]:
    """A level as templates show it: its names in both languages (the template picks its
    own), tasks, reward and multiplier. A level taken out of the settings shows its key, and
    is not `known`: nothing is asked of its ambassadors or paid to them until an admin sets
    them a level the settings have."""
    level = rules.level(key)
    if level is None:
        return {
            "key": key,
            "known": False,
            "names": {"en": key, "zh_CN": key},
            "tasks": [],
            "reward": 0,
            "multiplier": "1",
            "position": 0,
        }
    return {
        "key": level.key,
        "known": True,
        "names": level.names.model_dump(),
        "tasks": [{"task": task, "quota": getattr(level.tasks, task)} for task in TASKS],
        "reward": level.reward,
        "multiplier": factor_text(level.multiplier),
        "position": rules.levels.index(level) + 1,
    }


def progress(
    level: AmbassadorLevel | None, output: Output, exceed_percent: int
) -> list[dict[str, Any]]:
    """Each task of the level with what was done ("Approved submissions 3/4"), in order; a
    task of 0 is shown with its count (nothing asked, but it still counts for the board)."""
    tasks = level.tasks if level is not None else None
    found = []
    for task in TASKS:
        quota = 0 if tasks is None else int(getattr(tasks, task))
        done = output.of(task)
        found.append(
            {
                "task": task,
                "done": done,
                "quota": quota,
                "met": done >= quota,
                "exceed": exceed_quota(quota, exceed_percent),
            }
        )
    return found


def notice(template: str, context: Mapping[str, Any], member_id: int, key: str) -> Notice:
    """A private notice of the programme (`template`: "ambassador/appointed")."""
    reply = Reply(template, dict(context), visibility=Visibility.PRIVATE)
    return Notice(member_id, reply, f"ambassador:{key}")
