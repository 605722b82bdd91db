"""/tier (等级): the member's tier, growth value, the way to the next tier and what keeps this
one, and what the tier gives."""

from __future__ import annotations

from handlers.routes import Context, Router
from handlers.types import Reply
from loyalty import tier_reviews
from loyalty.tiers import benefits_of, names_of

router = Router()

BAR_CELLS = 10  # the progress bar's width, in characters
_WORDS = ("等级", "我的等级", "会员等级", "成长值")


@router.command("tier", words=_WORDS)
def tier(ctx: Context) -> Reply:
    """Tier name, growth value, progress to the next tier, what keeps this one, benefits."""
    rules, tz = ctx.community.rules.tiers, ctx.community.timezone
    found = tier_reviews.standing(ctx.conn, ctx.community.program, ctx.member.id, ctx.now)
    low = rules.levels[found.tier].threshold
    context = {
        "name": ctx.member.display_name,
        "tier": names_of(rules, found.tier),
        "growth": found.growth,
        "window_days": rules.window_days,
        "next": None,
        "keep": None,
        "review": found.next_review.astimezone(tz),
        **benefits_of(rules, found.tier),
    }
    if found.next_tier is not None:
        high = rules.levels[found.next_tier].threshold
        context["next"] = {
            "tier": names_of(rules, found.next_tier),
            "needed": found.to_next,
            "threshold": high,
            "bar": progress_bar(found.growth - low, high - low),
        }
    if found.tier > 0:
        context["keep"] = {
            "threshold": low,
            "needed": found.keep_needed,
            "by": found.keep_by.astimezone(tz),
            "short": found.short_since is not None,
        }
    return Reply("tiers/tier", context)


def progress_bar(done: int, whole: int) -> str:
    """`done` of `whole` as a bar of BAR_CELLS cells, ▰ for done and ▱ for the rest."""
    filled = 0 if whole <= 0 else max(0, min(BAR_CELLS, done * BAR_CELLS // whole))
    return "▰" * filled + "▱" * (BAR_CELLS - filled)
