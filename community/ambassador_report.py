"""What the ambassadors' month-end evaluation (community/ambassador_evaluation.py) comes to and
tells: each ambassador's verdict, their private notice of the month, and the admins' report
(the month in numbers, who moved down, who keeps missing at the lowest level, who is on a level
no longer in the settings, and the proposals to move up, each with its button)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from community.admins import admin_members
from community.ambassador_counts import Counted
from community.ambassador_months import Judged, Month, Outcome, Step, months_to_demotion
from community.ambassador_notices import level_context, notice, progress
from community.communities import Community
from community.messages import Choice, Reply, Visibility
from community.outbox import Direct, enqueue_directs
from community.private_notices import Notice
from community.reminders import recipients


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the month came to for one ambassador, before anything is written."""

    counted: Counted
    judged: Judged
    step: Step
    reward: int
    moved_to: str | None  # the level a demotion moves them to
    proposed: str | None  # the level proposed to the admins
    history: tuple[Judged, ...]


@dataclass
class Evaluated:
    """What an evaluation did."""

    month: Month
    evaluated: int = 0
    met: int = 0  # met or exceeded
    paid: int = 0  # points paid in rewards
    demoted: list[int] = field(default_factory=list)
    proposals: list[int] = field(default_factory=list)  # ambassador_months ids
    platforms: set[str] = field(default_factory=set)


def month_notice(community: Community, month: Month, verdict: Verdict, *, demoted: bool) -> Notice:
    """The ambassador's private notice of the month: moved down, missed (and how many months
    are left before a move down), or met with the reward."""
    rules = community.rules.ambassadors
    counted = verdict.counted
    context: dict[str, Any] = {
        "name": counted.name,
        "month": month.key,
        "level": level_context(rules, counted.level),
        "progress": progress(rules.level(counted.level), counted.output, rules.exceed_percent),
        "exceeded": verdict.judged.outcome is Outcome.EXCEEDED,
    }
    key = f"{community.id}:{counted.member_id}:{month.key}"
    if demoted and verdict.moved_to is not None:
        context |= {
            "new_level": level_context(rules, verdict.moved_to),
            "months": rules.demote_after_months,
        }
        return notice("ambassador/demoted", context, counted.member_id, f"{key}:demoted")
    if verdict.judged.outcome is Outcome.MISSED:
        context["months_left"] = months_to_demotion(verdict.history, rules)
        context["partial"] = verdict.judged.partial
        return notice("ambassador/month_missed", context, counted.member_id, f"{key}:missed")
    context["reward"] = verdict.reward
    return notice("ambassador/month_met", context, counted.member_id, f"{key}:met")


def report_to_admins(
    conn: Connection,
    community: Community,
    done: Evaluated,
    verdicts: Sequence[Verdict],
    ids: dict[int, int],
    at: datetime,
    listed: tuple[str, ...],
) -> set[str]:
    """One private message to each admin: the month in numbers, who moved down, who stays at
    the lowest level though they keep missing, who is on a level no longer in the settings,
    and the proposals, each with its button."""
    if not done.evaluated:
        return set()
    admins = admin_members(conn, community.id, listed=listed)
    targets = recipients(conn, community.id, sorted(admins)) if admins else {}
    if not targets:
        return set()
    rules = community.rules.ambassadors
    shown = rules.roster_page

    def named(v: Verdict, **more: Any) -> dict[str, Any]:
        return {"name": v.counted.name, "level": level_context(rules, v.counted.level), **more}

    demoted = [
        named(v, new_level=level_context(rules, v.moved_to or v.counted.level))
        for v in verdicts
        if v.counted.member_id in done.demoted
    ]
    lowest = [named(v) for v in verdicts if v.step is Step.STAYS_LOWEST]
    unset = [named(v) for v in verdicts if rules.level(v.counted.level) is None]
    proposals = [
        named(v, number=ids[v.counted.member_id], new_level=level_context(rules, v.proposed))
        for v in verdicts
        if v.proposed is not None
    ]
    context = {
        "month": done.month.key,
        "evaluated": done.evaluated,
        "met": done.met,
        "paid": done.paid,
        "demoted": demoted[:shown],
        "lowest": lowest[:shown],
        "unset": unset[:shown],
        "proposals": proposals[:shown],
        "more": max(len(demoted), len(lowest), len(unset), len(proposals)) > shown,
        "demote_months": rules.demote_after_months,
        "promote_months": rules.promote_after_months,
    }
    choices = tuple(
        Choice(
            "ambassador/promote_button",
            f"/ambassador promote {p['number']}",
            {"number": p["number"], "name": p["name"], "new_level": p["new_level"]},
        )
        for p in proposals[:shown]
    )
    reply = Reply(
        "ambassador/month_report", context, choices=choices, visibility=Visibility.PRIVATE
    )
    messages = [
        Direct(
            target.platform,
            target.user_id,
            reply,
            "",
            f"ambassador:{community.id}:report:{done.month.key}:{admin}:{at.isoformat()}",
        )
        for admin, target in targets.items()
    ]
    return enqueue_directs(conn, community_id=community.id, at=at, messages=messages)
