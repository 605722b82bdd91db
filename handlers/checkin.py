"""/checkin and the plain words 签到 / 打卡."""

from __future__ import annotations

from community import checkins, member_days
from handlers.routes import Context, Router
from handlers.types import Reply

router = Router()


@router.command("checkin", words=("签到", "打卡", "checkin", "check in"))
def checkin(ctx: Context) -> Reply:
    """Check the member in for today in the community's timezone."""
    result = checkins.check_in(
        ctx.conn, ctx.community, ctx.member.id, ctx.now, tier=ctx.member.tier
    )
    if result.inviter_told is not None:
        ctx.outbox_platforms.add(result.inviter_told)
    rules = ctx.community.rules.checkin
    days_to_bonus = rules.streak_bonus_every - result.streak % rules.streak_bonus_every
    return Reply(
        "checkin/done",
        {
            "name": ctx.member.display_name,
            "points": result.points,
            "streak": result.streak,
            "bonus": result.bonus,
            "bonus_points": ctx.community.rules.earning.streak_bonus.points,
            "days_to_bonus": days_to_bonus,
            "balance": result.balance,
            # 1 on an ordinary day; on a member day its multiplier ("×2 member day").
            "multiplier": member_days.shown(result.multiplier),
            "campaign": result.campaign,
        },
        # In a busy group, merged with the others' check-ins: "✅ Alice +10 · 3 days".
        line="checkin/done_line",
    )
