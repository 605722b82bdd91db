"""The rewards shop's admin side: keeping the catalogue, coupon codes, refunds and gifts.

/reward [list]                          the whole catalogue, hidden rewards too
/reward add NAME cost=500 kind=coupon stock=10 limit=1 period=month tier=Gold
        window=memberday value=TITLE hidden=yes | DESCRIPTION
/reward edit N [NAME] key=value ... [| DESCRIPTION]
/reward stock N 20|unlimited   /reward hide N   /reward unhide N
/reward codes N [CODE CODE ...]         (or a CSV attached to the command)
/refund R [reason]   /gifts   /fulfil R
"""

from __future__ import annotations

import re
from typing import Any

from community import shop
from handlers.parsing import parse_number
from handlers.rewards import redemption_context, summary
from handlers.routes import Context, Param, ParamKind, Router
from handlers.types import Reply
from loyalty import redemptions, rewards
from loyalty.errors import UserError
from loyalty.reward_rules import KINDS, PERIODS, RewardConfig

router = Router()

_OPTION = re.compile(r"^(?P<key>[^\W\d][\w]*)\s*(?P<sep>[=＝:：])\s*(?P<value>.*)$")
_KEYS = {
    alias: key
    for key, aliases in {
        "cost": ("cost", "积分", "价格"),
        "stock": ("stock", "库存"),
        "kind": ("kind", "类型"),
        "value": ("value", "title", "称号"),
        "per_member": ("per_member", "limit", "限兑"),
        "per_period": ("per_period", "period", "周期"),
        "min_tier": ("tier", "min_tier", "等级"),
        "window": ("window", "时段"),
        "hidden": ("hidden", "隐藏"),
    }.items()
    for alias in aliases
}
_KIND_WORDS = {
    "优惠券": "coupon",
    "券": "coupon",
    "礼品": "gift",
    "实物": "gift",
    "称号": "digital",
}
_KIND_WORDS |= {"抽奖": "entry", "补签卡": "makeup"}
_PERIOD_WORDS = {
    "天": "day",
    "日": "day",
    "周": "week",
    "月": "month",
    "年": "year",
    "永久": "ever",
}
_UNLIMITED = frozenset({"unlimited", "none", "any", "-", "∞", "无限", "不限"})
_YES = frozenset({"yes", "true", "on", "1", "是"})
_NO = frozenset({"no", "false", "off", "0", "否"})
_ACTIONS = ("list", "add", "edit", "stock", "hide", "unhide", "codes")


@router.command(
    "reward",
    admin=True,
    takes_files=True,
    params=(
        Param("action", ParamKind.CHOICE, choices=_ACTIONS),
        Param("details", ParamKind.TEXT, required=False),
    ),
)
def reward(ctx: Context) -> Reply:
    """Admins keep the catalogue: list, add, edit, stock, hide, unhide, codes."""
    args = ctx.event.args
    action = args[0].casefold() if args else "list"
    number = parse_number(args[1]) if len(args) > 1 else None
    rest = ctx.event.arg_text.split(maxsplit=2 if number is not None else 1)[1:]
    tail = rest[-1] if number is not None and len(rest) == 2 else ""
    if action == "list" and len(args) <= 1:
        every = rewards.list_rewards(ctx.conn, ctx.community.id, hidden=True)
        return Reply("rewards/admin_list", {"rewards": [summary(ctx, r) for r in every]})
    if action == "add" and len(args) > 1:
        changes, name, description = _read_options(ctx, ctx.event.arg_text.split(maxsplit=1)[1])
        if "cost" not in changes:  # no price by default: a forgotten cost= is no 1-point gift
            return Reply("rewards/admin_usage")
        config = rewards.checked(
            RewardConfig.model_construct(name="", cost=1),
            {**changes, "name": name} | ({"description": description} if description else {}),
        )
        added = shop.add(ctx.conn, ctx.community, config, actor=ctx.actor, at=ctx.now)
        return Reply("rewards/saved", {"reward": summary(ctx, added), "change": "add"})
    if number is None:
        return Reply("rewards/admin_usage")
    if action == "edit" and tail:
        changes, name, description = _read_options(ctx, tail)
        if name:
            changes["name"] = name
        if description:
            changes["description"] = description
        edited = shop.edit(ctx.conn, ctx.community, number, changes, actor=ctx.actor, at=ctx.now)
        return Reply("rewards/saved", {"reward": summary(ctx, edited), "change": "edit"})
    if action == "stock" and len(args) == 3:
        stock = _stock(args[2])
        changed = shop.set_stock(
            ctx.conn, ctx.community, number, stock, actor=ctx.actor, at=ctx.now
        )
        return Reply("rewards/saved", {"reward": summary(ctx, changed), "change": "stock"})
    if action in ("hide", "unhide") and len(args) == 2:
        hidden = action == "hide"
        changed = shop.set_hidden(
            ctx.conn, ctx.community, number, hidden, actor=ctx.actor, at=ctx.now
        )
        return Reply("rewards/saved", {"reward": summary(ctx, changed), "change": action})
    if action == "codes":
        return _import_codes(ctx, number, tail)
    return Reply("rewards/admin_usage")


def _import_codes(ctx: Context, number: int, typed: str) -> Reply:
    event = ctx.event
    if event.file_refused:
        return Reply("rewards/file_refused", {"reason": event.file_refused})
    if event.file_text:
        codes = rewards.read_codes(event.file_text)
    else:
        codes = [code for code in re.split(r"[\s,，;；]+", typed) if code]
    if not codes:
        return Reply("rewards/no_codes", {"number": number})
    if not event.chat.private and not event.private_reply:
        # Typed or attached in a group, everyone there has read them: such codes are no
        # secret any more, and each must be shown only to its redeemer. None is imported.
        return Reply("rewards/no_codes", {"number": number, "in_public": True})
    done = shop.import_codes(ctx.conn, ctx.community, number, codes, actor=ctx.actor, at=ctx.now)
    found = rewards.reward_by_id(ctx.conn, ctx.community.id, number)
    return Reply(
        "rewards/codes_imported",
        {"number": number, "name": found.name, "added": done.added, "skipped": done.skipped}
        | {"stock": done.stock},
    )


def _read_options(ctx: Context, text: str) -> tuple[dict[str, Any], str, str]:
    """key=value settings, the other words (a name) and what follows "|" (a description)."""
    text, _, description = _split(text)
    changes: dict[str, Any] = {}
    words = []
    for word in text.split():
        found = _OPTION.match(word)
        key = _KEYS.get(found["key"].casefold()) if found else None
        if found is None or key is None:
            # A mistyped setting ("cots=5") is refused; a colon in a name ("Time:10am") is not.
            if found is not None and found["sep"] in "=＝":
                raise UserError("rewards/bad_option", option=word)
            words.append(word)
            continue
        if key in changes:  # said twice ("cost=10 cost=1000"): which one was meant?
            raise UserError("rewards/bad_option", option=word)
        changes[key] = _value(ctx, key, found["value"].strip(), word)
    return changes, " ".join(words), description.strip()


def _split(text: str) -> tuple[str, str, str]:
    found = re.search(r"[|｜]", text)
    if found is None:
        return text, "", ""
    return text[: found.start()], found[0], text[found.end() :]


def _value(ctx: Context, key: str, value: str, word: str) -> Any:
    folded = value.casefold()
    if key in ("cost", "per_member", "stock"):
        if key != "cost" and folded in _UNLIMITED:
            return None
        number = parse_number(value)
        if number is None:
            raise UserError("rewards/bad_option", option=word)
        return number
    if key == "kind":
        kind = _KIND_WORDS.get(value, folded)
        if kind not in KINDS:
            raise UserError("rewards/bad_option", option=word)
        return kind
    if key == "per_period":
        period = _PERIOD_WORDS.get(value, folded)
        if period not in PERIODS:
            raise UserError("rewards/bad_option", option=word)
        return period
    if key == "min_tier":
        return _tier(ctx, value, word)
    if key == "window":
        if folded in ("member_day", "memberday", "会员日"):
            return "member_day"
        if folded in _UNLIMITED | {"always", "", "总是"}:
            return ""
        raise UserError("rewards/bad_option", option=word)
    if key == "hidden":
        if folded in _YES or folded in _NO:
            return folded in _YES
        raise UserError("rewards/bad_option", option=word)
    return value  # value: the title


def _tier(ctx: Context, value: str, word: str) -> int:
    levels = ctx.community.rules.tiers.levels
    number = parse_number(value)
    if number is not None and number < len(levels):
        return number
    for index, level in enumerate(levels):
        if value.casefold() in (level.names.en.casefold(), level.names.zh_CN.casefold()):
            return index
    raise UserError("rewards/bad_option", option=word)


def _stock(text: str) -> int | None:
    if text.casefold() in _UNLIMITED:
        return None
    number = parse_number(text)
    if number is None:
        raise UserError("rewards/admin_usage")
    return number


@router.command(
    "refund",
    admin=True,
    params=(
        Param("redemption", ParamKind.INTEGER, minimum=1),
        Param("reason", ParamKind.TEXT, required=False),
    ),
)
def refund(ctx: Context) -> Reply:
    """Give a redemption's points (and stock) back; the member is told privately."""
    args = ctx.event.args
    number = parse_number(args[0].lstrip("#")) if args else None
    if number is None:
        return Reply("rewards/refund_usage")
    note = ctx.event.arg_text.split(maxsplit=1)[1] if len(args) > 1 else ""
    done = shop.refund(
        ctx.conn,
        ctx.community,
        number,
        note[:200],
        actor=ctx.actor,
        at=ctx.now,
        woken=ctx.outbox_platforms,
    )
    return Reply(
        "rewards/refunded",
        {
            **redemption_context(ctx, done.redemption, code=False),
            "balance": done.balance,
            "note": note,
        },
    )


@router.command("gifts", admin=True)
def gifts(ctx: Context) -> Reply:
    """Gifts redeemed and waiting to be sent, oldest first."""
    found = redemptions.pending_gifts(
        ctx.conn, ctx.community.id, ctx.community.rules.shop.list_entries
    )
    return Reply(
        "rewards/gifts", {"gifts": [redemption_context(ctx, r, code=False) for r in found]}
    )


@router.command("fulfil", admin=True, params=(Param("redemption", ParamKind.INTEGER, minimum=1),))
def fulfil(ctx: Context) -> Reply:
    """Mark a pending gift sent; the member is told privately."""
    args = ctx.event.args
    number = parse_number(args[0].lstrip("#")) if len(args) == 1 else None
    if number is None:
        return Reply("rewards/fulfil_usage")
    done = shop.fulfil(
        ctx.conn, ctx.community, number, actor=ctx.actor, at=ctx.now, woken=ctx.outbox_platforms
    )
    return Reply("rewards/fulfilled", redemption_context(ctx, done, code=False))


# Shown -----------------------------------------------------------------------------------------
