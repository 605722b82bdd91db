"""/history (a member's latest points and why each paid what it did) and /export (admins: the
ledger or the redemptions of a period as a CSV file)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from community import exports
from community.communities import Community
from community.messages import Document
from handlers import survey_admin
from handlers.routes import Context, Param, ParamKind, Router
from handlers.types import Reply, Visibility
from loyalty import history, ledger
from loyalty.rules import Tier

router = Router()


@router.command("history")
def show_history(ctx: Context) -> Reply:
    """The member's last `points.history_entries` entries, newest first, with their reasons."""
    community = ctx.community
    shown = community.rules.points.history_entries
    entries = history.latest(ctx.conn, ctx.member.id, shown + 1)
    levels = community.rules.tiers.levels
    context = {
        "name": ctx.member.display_name,
        "balance": ledger.balance(ctx.conn, ctx.member.id),
        "entries": [_entry(e, ctx, levels) for e in entries[:shown]],
        "more": len(entries) > shown,
        "shown": shown,
    }
    # Only the member's business: privately where the platform can answer them alone (a
    # private chat, a Discord slash command); in a group otherwise, as /points does.
    where = Visibility.PRIVATE if ctx.event.private_reply else Visibility.CHAT
    return Reply("history/history", context, visibility=where)


def _entry(entry: history.HistoryEntry, ctx: Context, levels: Sequence[Tier]) -> dict[str, Any]:
    community = ctx.community
    return {
        "date": entry.created_at.astimezone(community.timezone).date().isoformat(),
        "delta": entry.delta,
        "reason": entry.reason,
        "note": entry.note,
        "base": entry.base,
        "multipliers": [
            {"kind": m.kind, "factor": m.factor, "name": _factor_name(m, levels, community)}
            for m in entry.multipliers
        ],
    }


def _factor_name(factor: history.Factor, levels: Sequence[Tier], community: Community) -> str:
    """A tier's or an ambassador level's name in the community's language; a campaign's
    number; else ""."""
    locale = community.locale
    if factor.kind == "tier" and factor.ref.isdigit() and int(factor.ref) < len(levels):
        return levels[int(factor.ref)].names.in_locale(locale)
    if factor.kind == "ambassador":
        level = community.rules.ambassadors.level(factor.ref)
        # A level since taken out of the settings keeps its key.
        return factor.ref if level is None else level.names.in_locale(locale)
    return factor.ref


SURVEY = "survey"  # /export survey N [--ids]: a survey's answers (handlers/survey_admin.py)
EXPORT_PARAMS = (
    Param("kind", ParamKind.CHOICE, choices=(*exports.KINDS, SURVEY)),
    # "[from] [to]", YYYY-MM-DD (a survey: its number, and --ids): one parameter, as only the
    # last may take the rest of a line.
    Param("period", ParamKind.TEXT, required=False),
)


@router.command("export", admin=True, private=True, params=EXPORT_PARAMS)
def export(ctx: Context) -> Reply:
    """/export ledger|redemptions [from] [to]: a CSV of that period's rows, audited; /export
    survey N [--ids]: a survey's answers."""
    args = ctx.event.args
    if args and args[0].casefold() == SURVEY:
        return survey_admin.export(ctx, args[1:])
    if not args or args[0].casefold() not in exports.KINDS or len(args) > 3:
        return Reply("history/export_usage", exports.usage(ctx.community))
    period = exports.period(ctx.community, ctx.now, args[1:])
    done = exports.export(
        ctx.conn,
        ctx.community,
        kind=args[0].casefold(),
        period=period,
        actor=ctx.actor,
        at=ctx.now,
    )
    context = {
        "kind": done.kind,
        "rows": done.rows,
        "first": period.first.isoformat(),
        "last": period.last.isoformat(),
        "cut": done.cut,
        "max_rows": done.max_rows,
        "timezone": ctx.community.timezone.key,
        "file": done.name,
    }
    document = Document(done.name, done.content, "text/csv")
    return Reply("history/exported", context, document=document)
