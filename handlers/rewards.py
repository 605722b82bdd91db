"""The rewards shop (积分商城), as members use it (its admin side: handlers/reward_admin.py).

/rewards                                what I can redeem, with my balance
/redeem N                               a confirmation with a button; the button redeems
/redemptions                            what I redeemed
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from community import shop
from community.outbox import Kind, enqueue
from handlers.parsing import parse_number
from handlers.routes import Context, Param, ParamKind, Router
from handlers.types import Choice, EventKind, Reply, Visibility
from loyalty import ledger, redemptions
from loyalty.redemptions import Redeemed, Redemption
from loyalty.rewards import Reward
from loyalty.tiers import names_of

router = Router()

# A confirmation issued this far in the future is no button of ours.
_SKEW = timedelta(minutes=1)


@router.command("rewards", words=("积分商城", "商城"))
def catalogue(ctx: Context) -> Reply:
    """What the member can redeem now, and what they could later (tier, member day, stock)."""
    balance = ledger.balance(ctx.conn, ctx.member.id)
    found = shop.offers(ctx.conn, ctx.community, ctx.member.id, balance, ctx.now)
    shown = [{**summary(ctx, o.reward), "blocked": o.blocked} for o in found]
    return Reply("rewards/list", {"balance": balance, "rewards": shown})


@router.command("redeem", words=("兑换",), params=(Param("reward", ParamKind.INTEGER, minimum=1),))
def redeem(ctx: Context) -> Reply:
    """/redeem N asks to confirm with a button; the button (/redeem N confirm ISSUED MEMBER COST)
    redeems, for that member at that price only (typed, /redeem N confirm ISSUED also does)."""
    args = ctx.event.args
    number = parse_number(args[0]) if args else None
    if number is None:
        return Reply("rewards/usage")
    if len(args) in (3, 5) and args[1].casefold() == "confirm":
        # The button's: ISSUED OWNER COST (who asked, at what price); typed, ISSUED alone.
        issued, *bound = (parse_number(arg) for arg in args[2:])
        if issued and None not in bound:
            owner, cost = bound if bound else (None, None)
            return _confirmed(ctx, number, issued, owner=owner, cost=cost)
    if len(args) != 1:
        return Reply("rewards/usage")
    reward = redemptions.check(
        ctx.conn,
        ctx.community.program,
        member_id=ctx.member.id,
        reward_id=number,
        at=ctx.now,
        window_open=shop.window_open(ctx.community, ctx.now),
    )
    balance = ledger.balance(ctx.conn, ctx.member.id)
    minutes = ctx.community.rules.shop.confirm_minutes
    issued = int(ctx.now.timestamp())
    return Reply(
        "rewards/confirm",
        {**summary(ctx, reward), "balance": balance, "after": balance - reward.cost}
        | {"minutes": minutes},
        # The button names who asked and the price they were shown: pressed by someone else
        # in a group, or after an admin changed the price, it redeems nothing.
        choices=(
            Choice(
                "rewards/confirm_button",
                f"/redeem {reward.id} confirm {issued} {ctx.member.id} {reward.cost}",
            ),
        ),
    )


def _confirmed(
    ctx: Context, number: int, issued: int, *, owner: int | None, cost: int | None
) -> Reply:
    # The press changes nothing; only the presser needs to hear it.
    where = Visibility.PRIVATE if ctx.event.kind is EventKind.BUTTON else Visibility.CHAT
    if owner is not None and owner != ctx.member.id:
        return Reply("rewards/expired", {"number": number, "other": True}, visibility=where)
    # Compared as whole seconds: a forged ISSUED of any size is simply out of the window.
    now = int(ctx.now.timestamp())
    lifetime = ctx.community.rules.shop.confirm_minutes * 60
    if not (now - lifetime <= issued <= now + int(_SKEW.total_seconds())):
        return Reply("rewards/expired", {"number": number}, visibility=where)
    done = shop.redeem(
        ctx.conn,
        ctx.community,
        member_id=ctx.member.id,
        reward_id=number,
        issued=issued,
        at=ctx.now,
        cost=cost,
    )
    return _delivered(ctx, done)


def _delivered(ctx: Context, done: Redeemed) -> Reply:
    found, reward = done.redemption, done.reward
    context: dict[str, Any] = {
        **summary(ctx, reward),
        "redemption": found.id,
        "balance": done.balance,
        "state": found.state,
        "again": done.again,
        "code": None,
        "sent_privately": False,
    }
    if found.code is None:
        return Reply("rewards/redeemed", context)
    if ctx.event.chat.private:
        return Reply(
            "rewards/redeemed", {**context, "code": found.code}, visibility=Visibility.PRIVATE
        )
    if not done.again:  # the code went to their private chat the first time
        event = ctx.event
        enqueue(
            ctx.conn,
            community_id=ctx.community.id,
            platform=event.chat.platform,
            chat_id=event.actor.user_id,
            kind=Kind.DIRECT,
            reply=Reply(
                "rewards/code",
                {"name": reward.name, "code": found.code, "redemption": found.id},
                visibility=Visibility.PRIVATE,
            ),
            at=ctx.now,
            recipient=ctx.display_name,
        )
        ctx.outbox_platforms.add(event.chat.platform)
    return Reply("rewards/redeemed", {**context, "sent_privately": True})


@router.command("redemptions", words=("我的兑换",))
def mine(ctx: Context) -> Reply:
    """The member's redemptions, newest first; coupon codes only where only they read them."""
    found = redemptions.member_redemptions(
        ctx.conn, ctx.member.id, ctx.community.rules.shop.list_entries
    )
    private = ctx.event.chat.private
    shown = [redemption_context(ctx, r, code=private) for r in found]
    return Reply("rewards/redemptions", {"redemptions": shown, "codes_hidden": not private})


# Admins ----------------------------------------------------------------------------------------


def summary(ctx: Context, reward: Reward) -> dict[str, Any]:
    rules = ctx.community.rules.tiers
    return {
        "number": reward.id,
        "name": reward.name,
        "description": reward.description,
        "cost": reward.cost,
        "stock": reward.stock,
        "kind": reward.kind,
        "value": reward.value,
        "per_member": reward.per_member,
        "per_period": reward.per_period,
        "min_tier": reward.min_tier,
        "tier": names_of(rules, reward.min_tier),
        "member_day": reward.window == "member_day",
        "hidden": reward.hidden,
        "from_file": reward.file_key is not None,
    }


def redemption_context(ctx: Context, found: Redemption, *, code: bool) -> dict[str, Any]:
    return {
        "redemption": found.id,
        "name": found.reward_name,
        "member": found.member_name,
        "kind": found.kind,
        "cost": found.cost,
        "state": found.state,
        "date": found.created_at.astimezone(ctx.community.timezone).date().isoformat(),
        "code": found.code if code else None,
    }
