"""Member days (会员日): one scheduled object that is announced, opens, multiplies the points
earned in its window, and ends with a recap.

Its definition is the community's `rules.member_day`; admins change it by command
(`save`, audited). Its three jobs (announce, open, recap: community/member_day_posts.py) fire
relative to each start; a start whose local date is in `skipped` posts nothing and multiplies
nothing.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from math import floor
from typing import Any
from zoneinfo import ZoneInfo

from cachetools import LRUCache
from pydantic import ValidationError
from sqlalchemy import Connection, update

from community import audit
from community.communities import Community
from community.config import MemberDayRules
from community.schedules import (
    When,
    check_once,
    firings,
    next_firings,
    parse_when,
    shortest_gap,
)
from loyalty.errors import UserError
from storage.schema import communities

log = logging.getLogger(__name__)

AUDIT_ACTION = "memberday"  # every change by command; its newest is the jobs' `since`
# Skipped dates kept after their day: a window lasts at most a week (MemberDayRules.hours).
_SKIP_KEPT = timedelta(days=8)


@lru_cache(maxsize=256)
def _when(text: str) -> When:
    # Read on every check-in and vote: the same few texts, parsed once.
    return parse_when(text, time_required=False)[0]


def schedule_of(rules: MemberDayRules) -> When:
    """When the member day starts (its `when`, read as community.toml's check guaranteed)."""
    return _when(rules.when)


def occurrence_at(rules: MemberDayRules, tz: ZoneInfo, at: datetime) -> datetime | None:
    """The start of the member day `at` falls in, if it falls in one that is not skipped.

    Decided by the moment itself in the community's timezone: a check-in at 23:59:59 on the
    day counts, one at 00:00:00 the next day does not (the window is [start, start + hours)).
    """
    if not rules.enabled:
        return None
    # Asked on every check-in and vote: an answer holds until the next start or the end of the
    # window it found, so moments close together are answered without the trigger (~100 µs).
    key = (rules.when, rules.hours, tz.key, rules.skipped)
    known = _KNOWN.get(key)
    if known is not None and known[0] <= at < known[1]:
        return known[2]
    length = timedelta(hours=rules.hours)
    found = None
    # Starts in (at - length, at]: the window [start, start + length) holds `at`.
    for start in reversed(firings(schedule_of(rules), tz, at - length, at, limit=1000)):
        if not is_skipped(rules, tz, start):
            found = start
            break
    following = next_firings(schedule_of(rules), tz, at, 1)
    holds_until = following[0] if following else _NEVER
    if found is not None:
        holds_until = min(holds_until, found + length)
    _KNOWN[key] = (at, holds_until, found)
    return found


# Per member day (a community's), the last answer and the stretch of time it holds for.
_KNOWN: LRUCache[tuple[str, int, str, tuple[str, ...]], tuple[datetime, datetime, datetime | None]]
_KNOWN = LRUCache(maxsize=1024)
_NEVER = datetime.max.replace(tzinfo=UTC)


def multiplier_at(community: Community, at: datetime) -> float:
    """The points multiplier at `at`: the member day's inside its window, else 1."""
    rules = community.rules.member_day
    if rules.multiplier == 1 or occurrence_at(rules, community.timezone, at) is None:
        return 1.0
    return rules.multiplier


def multiplied(community: Community, points: int, at: datetime) -> int:
    """Points earned at `at`, multiplied on a member day (rounded down: 3 x 1.5 is 4)."""
    return scaled(points, multiplier_at(community, at)) if points > 0 else points


def scaled(points: int, multiplier: float) -> int:
    """`points` times `multiplier`, rounded down (for a caller that has the multiplier)."""
    if multiplier == 1 or points <= 0:
        return points
    # In decimal: 20 x 1.15 is 23, where binary floats make it 22.999... and floor says 22.
    return floor(Decimal(str(multiplier)) * points)


def shown(multiplier: float) -> int | float:
    """The multiplier as people write it: 2, not 2.0; 1.5 stays 1.5."""
    return int(multiplier) if float(multiplier).is_integer() else multiplier


def is_skipped(rules: MemberDayRules, tz: ZoneInfo, start: datetime) -> bool:
    """Whether the occurrence starting at `start` was skipped (by its local start date)."""
    return start.astimezone(tz).date().isoformat() in rules.skipped


def upcoming(
    rules: MemberDayRules, tz: ZoneInfo, after: datetime, count: int = 3
) -> list[datetime]:
    """The next `count` starts after `after` that are not skipped (whether or not enabled)."""
    when, cursor = schedule_of(rules), after
    found: list[datetime] = []
    while len(found) < count:
        batch = next_firings(when, tz, cursor, count + len(rules.skipped))
        found += [start for start in batch if not is_skipped(rules, tz, start)]
        if len(batch) < count + len(rules.skipped):
            break  # a one-off has no more
        cursor = batch[-1]
    return found[:count]


def current_or_next(
    rules: MemberDayRules, tz: ZoneInfo, now: datetime
) -> tuple[datetime, bool] | None:
    """The member day running at `now` (start, True), else the next one (start, False)."""
    if not rules.enabled:
        return None
    running = occurrence_at(rules, tz, now)
    if running is not None:
        return running, True
    following = upcoming(rules, tz, now, 1)
    return (following[0], False) if following else None


# ---- changing it by command ------------------------------------------------------------------


def set_schedule(
    conn: Connection,
    community: Community,
    changes: dict[str, Any],
    *,
    actor: audit.Actor,
    at: datetime,
) -> Community:
    """Set the member day (its `when` and any other fields in `changes`) and turn it on. A
    one-off in the past or at a time the clocks skip is refused."""
    if "when" in changes:
        check_once(_when(changes["when"]), community.timezone, at)
    return save(conn, community, {**changes, "enabled": True}, actor=actor, at=at, change="set")


def save(
    conn: Connection,
    community: Community,
    changes: dict[str, Any],
    *,
    actor: audit.Actor,
    at: datetime,
    change: str,
) -> Community:
    """Apply `changes` to the member day, validated as community.toml's are, write the rules
    back and audit it. Returns the community as it is now. Nothing is written when refused."""
    values = community.rules.member_day.model_dump(mode="json") | changes
    try:
        rules = MemberDayRules.model_validate(values)
    except ValidationError as error:
        if not error.errors()[0]["loc"]:  # the whole member day's check: it overlaps itself
            _refuse_overlap(values)
        raise _out_of_range(error) from None
    updated = community.rules.model_copy(update={"member_day": rules})
    conn.execute(
        update(communities)
        .where(communities.c.id == community.id)
        .values(rules=updated.model_dump(mode="json"))
    )
    audit.record(
        conn,
        community_id=community.id,
        actor=actor,
        action=AUDIT_ACTION,
        at=at,
        change=change,
        **changes,
    )
    return replace(community, rules=updated)


def skip_next(
    conn: Connection, community: Community, *, actor: audit.Actor, at: datetime
) -> tuple[Community, date]:
    """Skip the next member day that has not started and is not skipped yet (a second call
    skips the one after). Returns the community now and the local date skipped."""
    rules, tz = community.rules.member_day, community.timezone
    if not rules.enabled:
        raise UserError("memberday/off")
    following = upcoming(rules, tz, at, 1)
    if not following:
        raise UserError("memberday/no_next")
    day = following[0].astimezone(tz).date()
    kept = [
        d for d in rules.skipped if date.fromisoformat(d) >= (at - _SKIP_KEPT).astimezone(tz).date()
    ]
    changes = {"skipped": sorted({*kept, day.isoformat()})}
    return save(conn, community, changes, actor=actor, at=at, change="skip"), day


def unskip(
    conn: Connection, community: Community, *, actor: audit.Actor, at: datetime
) -> tuple[Community, list[date]]:
    """Let every skipped member day happen again; returns the community now and the restored
    dates still ahead."""
    today = community.local_day(at)
    ahead = sorted(
        d for d in map(date.fromisoformat, community.rules.member_day.skipped) if d >= today
    )
    return save(conn, community, {"skipped": []}, actor=actor, at=at, change="unskip"), ahead


def _refuse_overlap(values: dict[str, Any]) -> None:
    """A member day longer than the time to the next one would overlap it (and its recap
    would count the next one's points): refused, saying the longest it may last."""
    try:
        gap = shortest_gap(parse_when(str(values["when"]), time_required=False)[0])
        hours = int(values["hours"])
    except (UserError, ValueError, TypeError):
        return  # not readable: the validation says what is wrong
    if gap is not None and timedelta(hours=hours) > gap:
        longest = int(gap / timedelta(hours=1))
        raise UserError("memberday/overlaps", hours=hours, longest=longest)


def _out_of_range(error: ValidationError) -> UserError:
    field = str(error.errors()[0]["loc"][0])
    found: dict[str, Any] = {}
    for limit in MemberDayRules.model_fields[field].metadata:
        found |= {
            name: getattr(limit, name)
            for name in ("ge", "le", "max_length")
            if hasattr(limit, name)
        }
    if field == "skipped" and "max_length" in found:  # a daily member day skipped far ahead
        return UserError("memberday/too_many_skipped", limit=found["max_length"])
    if "ge" not in found or "le" not in found:
        raise error  # no number out of range: a bug, not a user's typo
    what = {"announce_hours_before": "announce"}.get(field, field)
    return UserError(
        "memberday/out_of_range", what=what, low=shown(found["ge"]), high=shown(found["le"])
    )
