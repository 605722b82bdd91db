"""/topic (admins plan the topic calendar, 话题日历) and /calendar (members read what is coming)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from community import calendar
from community.communities import Community, tags_of
from community.jobs import SCHEDULE_CHANGED
from handlers.actions import ACTION_WORDS, read_action
from handlers.paging import page_of
from handlers.parsing import parse_numbered
from handlers.routes import Context, Param, ParamKind, Router
from handlers.types import Reply

router = Router()

ACTIONS = ("add", "list", "remove", "pause", "resume")
# The calendar's own words for its actions, besides those every command takes.
_WORDS = {**ACTION_WORDS, "查看": "list"}
NEXT_SHOWN = 3  # firing times echoed for a new entry
PREVIEW = 60  # characters of a topic shown in lists (its first line)
CALENDAR_LINES = 40  # /calendar lists at most this many; more would be a wall of text
LIST_PAGE = 25  # entries per page of /topic list (/topic list 2 shows the next ones)

TOPIC_PARAMS = (
    Param("action", ParamKind.CHOICE, required=False, choices=ACTIONS),
    Param("details", ParamKind.TEXT, required=False),
)


@router.command("topic", admin=True, params=TOPIC_PARAMS)
def topic(ctx: Context) -> Reply:
    """/topic add <when> [#tag] <text> [| option | option], list, remove N, pause N, resume N."""
    action, details = read_action(ctx.event.arg_text, _WORDS)
    if not action:
        return Reply("calendar/usage")
    if action == "add":
        return _add(ctx, details)
    number = parse_numbered(details)
    if action == "list" and (not details or number):
        return _list(ctx, number or 1)
    change = _CHANGES.get(action)
    if change is None or number is None:
        return Reply("calendar/usage")
    return change(ctx, number)


def _add(ctx: Context, line: str) -> Reply:
    if not line:
        return Reply("calendar/usage")
    entry = calendar.add_entry(ctx.conn, ctx.community, line, actor=ctx.actor, at=ctx.now)
    ctx.outbox_platforms.add(SCHEDULE_CHANGED)
    community = ctx.community
    return Reply(
        "calendar/added",
        {
            **_described(entry, community),
            "next": community.local_times(
                calendar.next_times(entry, community, ctx.now, NEXT_SHOWN)
            ),
            "groups": calendar.groups_reached(ctx.conn, community.id, entry.tag),
            "timezone": community.timezone.key,
        },
    )


def _list(ctx: Context, page: int) -> Reply:
    """One page of the calendar: a long one would be a dozen messages in the group."""
    community = ctx.community
    shown = page_of(calendar.list_entries(ctx.conn, community), page, LIST_PAGE)
    entries = []
    for entry in shown.items:
        upcoming = community.local_times(calendar.next_times(entry, community, ctx.now, 1))
        entries.append({**_described(entry, community), "next": upcoming[0] if upcoming else None})
    return Reply(
        "calendar/list",
        {
            "entries": entries,
            "timezone": community.timezone.key,
            "page": shown.number,
            "pages": shown.pages,
        },
    )


def _remove(ctx: Context, number: int) -> Reply:
    entry = calendar.remove_entry(ctx.conn, ctx.community, number, actor=ctx.actor, at=ctx.now)
    ctx.outbox_platforms.add(SCHEDULE_CHANGED)
    return Reply("calendar/removed", _described(entry, ctx.community))


def _pause(ctx: Context, number: int) -> Reply:
    entry = calendar.pause_entry(ctx.conn, ctx.community, number, actor=ctx.actor, at=ctx.now)
    ctx.outbox_platforms.add(SCHEDULE_CHANGED)
    return Reply("calendar/paused", _described(entry, ctx.community))


def _resume(ctx: Context, number: int) -> Reply:
    community = ctx.community
    entry = calendar.resume_entry(ctx.conn, community, number, actor=ctx.actor, at=ctx.now)
    ctx.outbox_platforms.add(SCHEDULE_CHANGED)
    upcoming = community.local_times(calendar.next_times(entry, community, ctx.now, 1))
    return Reply(
        "calendar/resumed",
        {**_described(entry, community), "next": upcoming[0] if upcoming else None},
    )


_CHANGES: dict[str, Callable[[Context, int], Reply]] = {
    "remove": _remove,
    "pause": _pause,
    "resume": _resume,
}


def _described(entry: calendar.Entry, community: Community) -> dict[str, Any]:
    """An entry as the answers show it."""
    return {
        "id": entry.id,
        "schedule": entry.when.to_json(),
        "text": entry.text,
        "preview": _preview(entry.text, PREVIEW),
        "tag": entry.tag,
        "options": list(entry.poll[1]) if entry.poll else [],
        "quiz": None if entry.quiz is None else entry.quiz.to_json(),
        "paused": entry.paused,
        "from_file": entry.file_key is not None,
    }


def _preview(text: str, limit: int) -> str:
    """A topic's first line, cut to `limit` characters."""
    line = text.strip().split("\n", 1)[0].rstrip()
    if len(line) <= limit and line == text.strip():
        return line
    return line[: limit - 1].rstrip() + "…"


@router.command("calendar", words=("话题日历", "日历", "calendar"), personal=False)
def show_calendar(ctx: Context) -> Reply:
    """The next days' topics and member days, in the community's timezone, by day."""
    community = ctx.community
    days = community.rules.schedule.calendar_days
    chat = ctx.event.chat
    tags = None if chat.private else tags_of(ctx.conn, chat.platform, chat.chat_id)
    found = calendar.upcoming(ctx.conn, community, ctx.now, days, tags=tags)
    by_day: list[dict[str, Any]] = []
    for item in found[:CALENDAR_LINES]:
        at = item.at.astimezone(community.timezone)
        if not by_day or by_day[-1]["day"].date() != at.date():
            by_day.append({"day": at, "events": []})
        by_day[-1]["events"].append(
            {
                "at": at,
                "kind": item.kind,
                "text": _preview(item.text, PREVIEW),
                "poll": item.poll,
                "ends": None if item.ends is None else item.ends.astimezone(community.timezone),
            }
        )
    return Reply(
        "calendar/calendar",
        {
            "days": by_day,
            "span": days,
            "more": max(0, len(found) - CALENDAR_LINES),
            "timezone": community.timezone.key,
            "multiplier": f"{community.rules.member_day.multiplier:g}",
        },
    )
