"""Private nudges: the evening streak reminder members opt into (/remind on), and the win-back
for members who have gone quiet (off unless the community sets a number of days).

Both are daily jobs whose firings are claimed once (community/jobs.py). A win-back is also
recorded per member, period and stretch of absence, since one period spans many daily firings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, exists, select, update
from sqlalchemy.orm import aliased

from community import member_days
from community.communities import Community
from community.jobs import FiringContext, Job
from community.messages import Reply, Visibility
from community.outbox import Direct, enqueue_directs
from community.schedules import When
from storage.schema import accounts, checkins, groups, job_runs, members
from storage.sql import insert_if_absent

# Platforms whose bot may not write to someone who never wrote to it first: an account there
# with no private chat with the bot is the last choice for a private message.
_NEEDS_FIRST_CONTACT = frozenset({"telegram"})
_SLICE = 500  # ids per IN (...): a statement's parameters are limited


@dataclass(frozen=True, slots=True)
class Recipient:
    """Where a member's private message goes: one of their accounts."""

    platform: str
    user_id: str
    # The bot can surely write there: a private chat exists, or the platform lets it write first.
    reachable: bool = True


def set_reminders(conn: Connection, member_id: int, on: bool) -> None:
    """Opt a member in to (or out of) the evening streak reminder."""
    conn.execute(update(members).where(members.c.id == member_id).values(reminders=on))


def reminders_on(conn: Connection, member_id: int) -> bool:
    """Whether the member gets the evening streak reminder."""
    found = conn.execute(select(members.c.reminders).where(members.c.id == member_id)).scalar()
    return bool(found)


def jobs(conn: Connection, community: Community) -> list[Job]:
    """The streak reminder ("remind:<community>", daily at streak_at) and, when
    win_back_after_days is set, the win-back ("winback:<community>", daily at win_back_at)."""
    rules, since = community.rules.reminders, community.created_at
    found = [
        Job(
            f"remind:{community.id}",
            community.id,
            _daily(rules.streak_at),
            community.timezone,
            send_streak_reminders,
            since,
        )
    ]
    if rules.win_back_after_days > 0:
        found.append(
            Job(
                f"winback:{community.id}",
                community.id,
                _daily(rules.win_back_at),
                community.timezone,
                send_win_backs,
                since,
            )
        )
    return found


def _daily(hh_mm: str) -> When:
    hour, minute = hh_mm.split(":")
    return When("daily", times=((int(hour), int(minute)),))


# Streak reminder ------------------------------------------------------------------------------


def send_streak_reminders(ctx: FiringContext) -> int:
    """Queue one private nudge to each opted-in member who has not checked in on the firing's
    local day; returns how many. A firing run after that day is over says nothing: its words
    ("ends at midnight") would be wrong."""
    community = ctx.community
    today = community.local_day(ctx.scheduled_at)
    # Late (after downtime) past midnight: too late. A clock moved by hand runs firings
    # "before" real time, on their own day.
    if ctx.now > ctx.scheduled_at and community.local_day(ctx.now) != today:
        return 0
    earlier = aliased(checkins)
    todays = aliased(checkins)
    rows = ctx.conn.execute(
        select(members.c.id, members.c.display_name, earlier.c.streak)
        .outerjoin(
            earlier,
            (earlier.c.member_id == members.c.id) & (earlier.c.day == today - timedelta(days=1)),
        )
        .where(
            members.c.community_id == community.id,
            members.c.reminders.is_(True),
            ~exists().where(todays.c.member_id == members.c.id, todays.c.day == today),
        )
        .order_by(members.c.id)
    ).all()
    targets = recipients(ctx.conn, community.id, [row.id for row in rows])
    sent = 0
    for row in rows:
        streak = row.streak or 0  # a check-in yesterday keeps the streak alive until midnight
        earning_rules, checkin_rules = community.rules.earning, community.rules.checkin
        points = earning_rules.checkin.points
        if checkin_rules.bonus_day(streak + 1):
            points += earning_rules.streak_bonus.points
        reply = Reply(
            "reminders/streak",
            {
                "name": row.display_name,
                "streak": streak,
                "points": member_days.multiplied(community, points, ctx.scheduled_at),
            },
            visibility=Visibility.PRIVATE,
        )
        sent += direct(ctx, targets.get(row.id), reply, row.display_name)
    return sent


# Win-back -------------------------------------------------------------------------------------


def win_back_key(community_id: int, member_id: int, period: int) -> str:
    """The record of a win-back sent (job_runs.job; its scheduled_at is the stretch's start)."""
    return f"winback:{community_id}:{member_id}:{period}"


def send_win_backs(ctx: FiringContext) -> int:
    """Queue a private message to each member not seen for a whole number of periods (of
    win_back_after_days): one per period, at most win_back_max per stretch of absence (a member
    seen again starts a new one). Each is recorded before it is queued, so no firing, retry or
    second process sends one twice. Returns how many were queued."""
    community, conn = ctx.community, ctx.conn
    rules = community.rules.reminders
    if rules.win_back_after_days <= 0:
        return 0
    period = timedelta(days=rules.win_back_after_days)
    rows = conn.execute(
        select(members.c.id, members.c.display_name, members.c.last_seen_at)
        .where(
            members.c.community_id == community.id,
            members.c.last_seen_at <= ctx.scheduled_at - period,
        )
        .order_by(members.c.id)
    ).all()
    if not rows:
        return 0
    sent_before = _win_backs_sent(conn, community.id, min(row.last_seen_at for row in rows))
    targets = recipients(conn, community.id, [row.id for row in rows])
    sent = 0
    for row in rows:
        number = (ctx.scheduled_at - row.last_seen_at) // period
        earlier = sent_before.get((row.id, row.last_seen_at), set())
        if number in earlier or len(earlier) >= rules.win_back_max:
            continue
        target = targets.get(row.id)
        if target is None:
            continue
        recorded = insert_if_absent(
            conn,
            job_runs,
            {
                "job": win_back_key(community.id, row.id, number),
                "scheduled_at": row.last_seen_at,
                "community_id": community.id,
                "ran_at": ctx.now,
                "outcome": "sent",
            },
        )
        if not recorded:
            continue
        reply = Reply(
            "reminders/win_back",
            {
                "name": row.display_name,
                "community": community.name,
                "days": (ctx.scheduled_at - row.last_seen_at).days,
                "message": rules.win_back_message,
            },
            visibility=Visibility.PRIVATE,
        )
        sent += direct(ctx, target, reply, row.display_name)
    return sent


def _win_backs_sent(
    conn: Connection, community_id: int, since: datetime
) -> dict[tuple[int, datetime], set[int]]:
    """The win-backs recorded for stretches that began at `since` or later: by (member, the
    stretch's start), the periods sent."""
    prefix = f"winback:{community_id}:"
    found: dict[tuple[int, datetime], set[int]] = {}
    rows = conn.execute(
        select(job_runs.c.job, job_runs.c.scheduled_at).where(
            job_runs.c.community_id == community_id,
            job_runs.c.job.startswith(prefix, autoescape=True),
            job_runs.c.scheduled_at >= since,
        )
    )
    for job, started in rows:
        member, _, number = job.removeprefix(prefix).partition(":")
        found.setdefault((int(member), started), set()).add(int(number))
    return found


# Where a private message goes ------------------------------------------------------------------


def recipients(
    conn: Connection, community_id: int, member_ids: Sequence[int]
) -> dict[int, Recipient]:
    """One account per member to write to privately: one with a private chat with the bot
    first (it can surely be written to), then one on a platform that lets the bot write first
    (Discord, the console; not Telegram), then the newest account (the one linked last)."""
    candidates: dict[int, list[tuple[int, str, str]]] = {}
    for start in range(0, len(member_ids), _SLICE):
        rows = conn.execute(
            select(
                accounts.c.member_id,
                accounts.c.id,
                accounts.c.platform,
                accounts.c.platform_user_id,
            ).where(
                accounts.c.community_id == community_id,
                accounts.c.member_id.in_(member_ids[start : start + _SLICE]),
            )
        )
        for member_id, account_id, platform, user_id in rows:
            candidates.setdefault(member_id, []).append((account_id, platform, user_id))
    every = [(p, u) for found in candidates.values() for _, p, u in found]
    talked = _private_chats(conn, every)
    chosen: dict[int, Recipient] = {}
    for member_id, found in candidates.items():
        _, platform, user_id = max(
            found,
            key=lambda a: ((a[1], a[2]) in talked, a[1] not in _NEEDS_FIRST_CONTACT, a[0]),
        )
        reachable = (platform, user_id) in talked or platform not in _NEEDS_FIRST_CONTACT
        chosen[member_id] = Recipient(platform, user_id, reachable)
    return chosen


def _private_chats(conn: Connection, found: Iterable[tuple[str, str]]) -> set[tuple[str, str]]:
    """The accounts among `found` that have a private chat with the bot (Telegram names it by
    the user's id, Discord by "dm:<user id>")."""
    wanted: dict[tuple[str, str], tuple[str, str]] = {}
    for platform, user_id in found:
        wanted[(platform, user_id)] = (platform, user_id)
        wanted[(platform, f"dm:{user_id}")] = (platform, user_id)
    chats = sorted({chat for _, chat in wanted})
    talked: set[tuple[str, str]] = set()
    for start in range(0, len(chats), _SLICE):
        rows = conn.execute(
            select(groups.c.platform, groups.c.chat_id).where(
                groups.c.private.is_(True), groups.c.chat_id.in_(chats[start : start + _SLICE])
            )
        )
        talked.update(wanted[(p, c)] for p, c in rows if (p, c) in wanted)
    return talked


def direct(ctx: FiringContext, target: Recipient | None, reply: Reply, name: str) -> int:
    """Queue `reply` to one member's private chat; 1 if queued (0: no account to write to)."""
    if target is None:
        return 0
    message = Direct(target.platform, target.user_id, reply, name)
    ctx.platforms.update(
        enqueue_directs(ctx.conn, community_id=ctx.community.id, at=ctx.now, messages=[message])
    )
    return 1
