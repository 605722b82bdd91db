"""/export: a community's ledger or redemptions over a period of its local days, as a CSV file
that Excel opens correctly (UTF-8 with a BOM), guarded against formula injection; at most
export_max_rows rows and what a reply's file may weigh; audited."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection

from community import audit
from community.communities import Community
from community.outbox import DOCUMENT_MAX_BYTES
from loyalty import history
from loyalty.errors import UserError

KINDS = ("ledger", "redemptions")
LEDGER_COLUMNS = (
    "id",
    "created_at",
    "member_id",
    "member_name",
    "accounts",
    "delta",
    "reason",
    "base",
    "multipliers",
    "rule_version",
    "note",
    "actor_member_id",
)
REDEMPTION_COLUMNS = (
    "id",
    "created_at",
    "member_id",
    "member_name",
    "reward_id",
    "reward_name",
    "cost",
    "state",
    "fulfilled_at",
    "refunded_at",
    "note",
)

_BOM = "\ufeff".encode()
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection); tab and
# carriage return count too, as OWASP lists them.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class Period:
    """Local days, both included."""

    first: date
    last: date


@dataclass(frozen=True, slots=True)
class Export:
    """A finished export: its file, how many rows it holds, whether rows were left out."""

    kind: str
    period: Period
    name: str
    content: bytes
    rows: int
    cut: bool
    max_rows: int


def usage(community: Community) -> dict[str, Any]:
    """What the usage answer says: the kinds, and the days an export without dates covers."""
    return {"kinds": list(KINDS), "days": community.rules.points.export_default_days}


def period(community: Community, at: datetime, texts: Sequence[str]) -> Period:
    """The period /export's dates name ([from] [to], YYYY-MM-DD); without dates the last
    points.export_default_days local days, with only `from` until today."""
    today = at.astimezone(community.timezone).date()
    days = [_day(text) for text in texts]
    if not days:
        default_days = community.rules.points.export_default_days
        return Period(today - timedelta(days=default_days - 1), today)
    first, last = days[0], days[1] if len(days) > 1 else max(days[0], today)
    if first > last:
        raise UserError("history/export_bad_period", first=first.isoformat(), last=last.isoformat())
    found = Period(first, last)
    bounds(community, found)  # refuses a day at the calendar's edge now, before any work
    return found


def bounds(community: Community, period: Period) -> tuple[datetime, datetime]:
    """The period as [start, end) moments in UTC. Raises UserError("history/export_bad_date")
    for a day whose bounds fall off the calendar (0001-01-01 east of UTC, 9999-12-31)."""
    tz = community.timezone
    try:
        start = datetime.combine(period.first, time(0), tz).astimezone(UTC)
    except OverflowError:
        raise UserError("history/export_bad_date", text=period.first.isoformat()) from None
    try:
        end = datetime.combine(period.last + timedelta(days=1), time(0), tz).astimezone(UTC)
    except OverflowError:
        raise UserError("history/export_bad_date", text=period.last.isoformat()) from None
    return start, end


def _day(text: str) -> date:
    if not _DAY.fullmatch(text):
        raise UserError("history/export_bad_date", text=text)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError("history/export_bad_date", text=text) from None


def export(
    conn: Connection,
    community: Community,
    *,
    kind: str,
    period: Period,
    actor: audit.Actor,
    at: datetime,
) -> Export:
    """Build the CSV of `kind` for `period` and audit that it was taken."""
    if kind not in KINDS:
        raise UserError("history/export_usage", **usage(community))
    most = community.rules.points.export_max_rows
    start, end = bounds(community, period)
    columns: Sequence[str]
    if kind == "ledger":
        lines: list[list[Any]] = _ledger(conn, community, start, end, most + 1)
        columns = LEDGER_COLUMNS
    else:
        lines = _redemptions(conn, community, start, end, most + 1)
        columns = REDEMPTION_COLUMNS
    content, held = to_csv(columns, lines[:most])
    cut = len(lines) > held
    audit.record(
        conn,
        community_id=community.id,
        actor=actor,
        action="export",
        at=at,
        kind=kind,
        first=period.first.isoformat(),
        last=period.last.isoformat(),
        rows=held,
        cut=cut,
    )
    name = f"{kind}-{period.first.isoformat()}_{period.last.isoformat()}.csv"
    return Export(kind, period, name, content, held, cut, most)


def _ledger(
    conn: Connection, community: Community, start: datetime, end: datetime, limit: int
) -> list[list[Any]]:
    found = history.ledger_lines(conn, community.id, start, end, limit)
    keys = history.account_keys(conn, community.id) if found else {}
    return [
        [
            line.id,
            _local(community, line.created_at),
            line.member_id,
            line.member_name,
            " ".join(keys.get(line.member_id, ())),
            line.delta,
            line.reason,
            line.base,
            _json(line.multipliers),
            line.rule_version,
            line.note,
            line.actor_member_id,
        ]
        for line in found
    ]


def _redemptions(
    conn: Connection, community: Community, start: datetime, end: datetime, limit: int
) -> list[list[Any]]:
    return [
        [
            line.id,
            _local(community, line.created_at),
            line.member_id,
            line.member_name,
            line.reward_id,
            line.reward_name,
            line.cost,
            line.state,
            _local(community, line.fulfilled_at),
            _local(community, line.refunded_at),
            line.note,
        ]
        for line in history.redemption_lines(conn, community.id, start, end, limit)
    ]


def _local(community: Community, moment: datetime | None) -> str | None:
    """A moment in ISO form on the community's clock ("2026-11-23T09:00:00+08:00")."""
    if moment is None:
        return None
    return moment.astimezone(community.timezone).isoformat(timespec="seconds")


def _json(value: Any) -> str | None:
    return None if not value else json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def safe_cell(value: Any) -> str:
    """A cell as written: numbers as they are, text a spreadsheet would run as a formula
    behind a leading apostrophe, None as empty."""
    if value is None:
        return ""
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def to_csv(
    columns: Sequence[str], lines: Iterable[Sequence[Any]], max_bytes: int = DOCUMENT_MAX_BYTES
) -> tuple[bytes, int]:
    """The CSV's bytes, UTF-8 with a byte order mark (so Excel reads Chinese right), CRLF,
    and how many lines it holds: the first ones that fit in `max_bytes` (what a reply may
    carry)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    parts = [buffer.getvalue()]
    size = len(_BOM) + len(parts[0].encode("utf-8"))
    for held, line in enumerate(lines):
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([safe_cell(value) for value in line])
        text = buffer.getvalue()
        size += len(text.encode("utf-8"))
        if size > max_bytes:
            return _BOM + "".join(parts).encode("utf-8"), held
        parts.append(text)
    return _BOM + "".join(parts).encode("utf-8"), len(parts) - 1
