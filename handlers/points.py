"""/points, /me and /top: what a member has and where they stand."""

from __future__ import annotations

from community import checkins
from handlers import ambassador
from handlers.routes import Context, Param, ParamKind, Router
from handlers.types import Reply
from loyalty import ledger, lots, standings
from loyalty.tiers import names_of, tier_of

router = Router()


@router.command("me")
def me(ctx: Context) -> Reply:
    """Balance, streak, rank and whether today's check-in is done."""
    balance = ledger.balance(ctx.conn, ctx.member.id)
    status = checkins.streak_status(ctx.conn, ctx.community, ctx.member.id, ctx.now)
    return Reply(
        "points/me",
        {
            "name": ctx.member.display_name,
            "balance": balance,
            "streak": status.streak,
            "checked_in_today": status.checked_in_today,
            "rank": standings.rank_of(ctx.conn, ctx.community.id, balance),
            "community": ctx.community.name,
            "tier": names_of(
                ctx.community.rules.tiers, tier_of(ctx.conn, ctx.member.id, ctx.member.tier)
            ),
            # What to put in community.toml's admins list to make this account an admin.
            "account": ctx.event.actor.key,
        },
    )


@router.command("points")
def points(ctx: Context) -> Reply:
    """Balance, the points that expire next, and the last five entries with their reasons."""
    entries = ledger.recent_entries(ctx.conn, ctx.member.id, limit=5)
    expiring = lots.next_expiring(ctx.conn, ctx.member.id, ctx.now)
    return Reply(
        "points/points",
        {
            "name": ctx.member.display_name,
            "balance": ledger.balance(ctx.conn, ctx.member.id),
            "expiring": None
            if expiring is None
            else {
                "points": expiring.points,
                "at": expiring.expires_at.astimezone(ctx.community.timezone),
            },
            "entries": [
                {
                    "delta": e.delta,
                    "reason": e.reason,
                    "note": e.note,
                    "date": e.created_at.astimezone(ctx.community.timezone).date().isoformat(),
                }
                for e in entries
            ],
        },
    )


# /top ambassadors (/top 大使): the ambassador programme's board of the month instead.
TOP_PARAMS = (Param("board", ParamKind.CHOICE, required=False, choices=("ambassadors",)),)


@router.command("top", params=TOP_PARAMS)
def top(ctx: Context) -> Reply:
    """The community's top ten and the asker's own rank."""
    if ctx.event.arg_text.strip().casefold() in ambassador.BOARD_WORDS:
        return ambassador.top_ambassadors(ctx)
    leaders = standings.top(ctx.conn, ctx.community.id, limit=10)
    balance = ledger.balance(ctx.conn, ctx.member.id)
    return Reply(
        "points/top",
        {
            "community": ctx.community.name,
            "leaders": [
                {
                    "rank": s.rank,
                    "name": s.display_name,
                    "points": s.points,
                    "me": s.member_id == ctx.member.id,
                }
                for s in leaders
            ],
            "my_rank": standings.rank_of(ctx.conn, ctx.community.id, balance),
            "my_points": balance,
            "in_top": any(s.member_id == ctx.member.id for s in leaders),
        },
    )
