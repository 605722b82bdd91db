"""What the ambassador programme tells people privately, and the shape templates read a level
and a month's progress in. Each message has an outbox key from its cause, so a retried job or
a redelivered command never sends it twice."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from community.ambassador_months import TASKS, Output, exceed_quota
from community.ambassador_rules import AmbassadorLevel, AmbassadorRules
from community.communities import Community
from community.messages import Reply, Visibility
from community.outbox import Direct, enqueue_directs
from community.reminders import recipients
from loyalty.rules import factor_text
from storage.schema import members

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


@dataclass(frozen=True, slots=True)
class Notice:
    """One private message to one member, queued at most once per key."""

    member_id: int
    reply: Reply
    key: str


def notice(template: str, context: Mapping[str, Any], member_id: int, key: str) -> Notice:
    """A private notice of the programme (`template`: "ambassador/appointed")."""
    reply = Reply(template, dict(context), visibility=Visibility.PRIVATE)
    return Notice(member_id, reply, f"ambassador:{key}")


def tell(
    conn: Connection, community: Community, notices: Sequence[Notice], at: datetime
) -> set[str]:
    """Queue each notice to its member's private chat (the account recipients() picks);
    the platforms something was queued for. Members with no account to write to are skipped."""
    ids = sorted({n.member_id for n in notices})
    targets = recipients(conn, community.id, ids)
    names = names_of(conn, ids)
    messages = [
        Direct(target.platform, target.user_id, n.reply, names.get(n.member_id, ""), n.key)
        for n in notices
        if (target := targets.get(n.member_id)) is not None
    ]
    if not messages:
        return set()
    return enqueue_directs(conn, community_id=community.id, at=at, messages=messages)


def names_of(conn: Connection, member_ids: Sequence[int]) -> dict[int, str]:
    """Members' display names."""
    found: dict[int, str] = {}
    for start in range(0, len(member_ids), _SLICE):
        part = list(member_ids[start : start + _SLICE])
        rows = conn.execute(
            select(members.c.id, members.c.display_name).where(members.c.id.in_(part))
        )
        found.update((int(row.id), str(row.display_name)) for row in rows)
    return found
