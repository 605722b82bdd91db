"""What `/draw start` is told: "<prize> --winners N --until TIME [--entry checkin,tier>=silver,
cost=20] [--points N]", in English or Chinese (--名额 3 --截止 20:00 --条件 签到 --积分 50), read
into a DrawSpec or refused with a UserError that says what is wrong."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from community.communities import Community
from community.draw_rules import DrawRules
from community.poll_ends import parse_end
from loyalty.errors import UserError
from loyalty.rules import TierRules

# Full-width ASCII and the ideographic space map one to one onto ASCII.
_FOLD = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# "--name" (or "—name", "——name": what "--" becomes on many keyboards) at a word's start, its
# value after a space or "=".
_FLAG = re.compile(r"(?<!\S)(?:--|[—–]{1,2})(?P<name>[^\W\d_][\w-]*)(?:\s*=\s*|\s+|$)")
_NAMES = {
    "winners": "winners",
    "winner": "winners",
    "名额": "winners",
    "人数": "winners",
    "中奖人数": "winners",
    "until": "until",
    "截止": "until",
    "截至": "until",
    "for": "for",
    "时长": "for",
    "entry": "entry",
    "条件": "entry",
    "参与条件": "entry",
    "points": "points",
    "积分": "points",
}
# Between conditions: "checkin,cost=20", "签到、cost=20", "checkin + tier>=gold", "checkin cost=5",
# "checkin|cost=5" (as /draw's help writes the choices).
_CONDITION_SEPARATORS = re.compile(r"[\s,、+;|]+")
_OPERATOR = re.compile(r"\s*(>=|≥|=)\s*")
_CHECKIN_WORDS = frozenset({"checkin", "check-in", "checked-in", "签到", "打卡"})
_TIER_WORDS = frozenset({"tier", "等级", "会员等级"})
_COST_WORDS = frozenset({"cost", "fee", "费用", "门槛", "消耗"})


@dataclass(frozen=True, slots=True)
class Conditions:
    """Who may enter: members who checked in that day, of a tier at least `min_tier` (an
    index into tiers.levels), paying `cost` points."""

    checkin: bool = False
    min_tier: int | None = None
    cost: int = 0


@dataclass(frozen=True, slots=True)
class DrawSpec:
    """A draw as an admin asked for it."""

    prize: str
    winners: int
    closes_at: datetime
    conditions: Conditions
    points: int = 0


def read_start(text: str, community: Community, now: datetime) -> DrawSpec:
    """Read what follows "/draw start". UserError("draw/start_usage") when the prize, the
    winners or the close is missing; a key of its own for each value out of bounds."""
    rules = community.rules.draws
    prize, options = _split(text)
    if not prize or "winners" not in options or not ({"until", "for"} & options.keys()):
        limits: dict[str, Any] = usage(rules)
        raise UserError("draw/start_usage", **limits)
    if len(prize) > rules.max_prize_length:
        raise UserError("draw/prize_too_long", length=len(prize), limit=rules.max_prize_length)
    if "until" in options and "for" in options:
        raise UserError("draw/bad_option", option="--for")
    winners = _number(options["winners"])
    if winners is None or not 1 <= winners <= rules.max_winners:
        raise UserError("draw/bad_winners", limit=rules.max_winners)
    points = _number(options.get("points", "0"))
    if points is None or points > rules.max_prize_points:
        raise UserError("draw/bad_points", limit=rules.max_prize_points)
    flag = "until" if "until" in options else "for"
    closes_at = read_close(flag, options[flag], community, now)
    conditions = read_conditions(options.get("entry", ""), community.rules.tiers, rules)
    return DrawSpec(prize, winners, closes_at, conditions, points)


def usage(rules: DrawRules) -> dict[str, int]:
    """The limits /draw start's usage names."""
    return {
        "max_winners": rules.max_winners,
        "max_days": rules.max_days,
        "max_cost": rules.max_cost,
        "max_points": rules.max_prize_points,
    }


def _split(text: str) -> tuple[str, dict[str, str]]:
    """The prize (the words before the first option) and each option's words."""
    folded = text.translate(_FOLD)
    found = list(_FLAG.finditer(folded))
    prize = " ".join(text[: found[0].start() if found else len(text)].split())
    options: dict[str, str] = {}
    for index, flag in enumerate(found):
        name = _NAMES.get(flag["name"].casefold())
        if name is None:
            raise UserError("draw/bad_option", option=text[flag.start() : flag.end()].strip())
        end = found[index + 1].start() if index + 1 < len(found) else len(text)
        value = text[flag.end() : end].strip()
        if name == "entry" and name in options:
            options[name] += f",{value}"  # conditions may come in several --entry
            continue
        if name in options or not value:
            raise UserError("draw/bad_option", option=text[flag.start() : end].strip())
        options[name] = value
    return prize, options


def _number(word: str) -> int | None:
    digits = word.translate(_FOLD).strip()
    if not digits.isascii() or not digits.isdigit() or len(digits) > 12:
        return None
    return int(digits)


def read_close(flag: str, value: str, community: Community, now: datetime) -> datetime:
    """The close a "--until 20:00" (today's or tomorrow's, in the community's timezone;
    "2026-12-24 20:00", "晚上8点") or a "--for 2h" (30m, 1d, 2小时) names, within max_days."""
    longest = timedelta(days=community.rules.draws.max_days)
    try:
        closes_at, rest = parse_end(f"--{flag} {value}", community.timezone, now, longest)
    except UserError as refusal:
        if refusal.key == "polls/end_in_the_past":
            raise UserError("draw/until_past", **refusal.context) from None
        if refusal.key == "polls/end_out_of_range":
            raise UserError("draw/until_out_of_range", longest=longest.days) from None
        raise UserError("draw/bad_until") from None
    if closes_at is None or rest:
        raise UserError("draw/bad_until")
    return closes_at


def read_conditions(text: str, tiers: TierRules, rules: DrawRules) -> Conditions:
    """The conditions of entry "checkin", "tier>=silver" (a tier's name in either language,
    or its number from 0) and "cost=20", any of them together."""
    folded = _OPERATOR.sub(lambda m: m[1], text.translate(_FOLD).strip())
    checkin, min_tier, cost = False, None, 0
    for condition in filter(None, _CONDITION_SEPARATORS.split(folded)):
        word, operator, value = _parts(condition)
        if word in _CHECKIN_WORDS and not operator:
            checkin = True
        elif word in _TIER_WORDS and operator and value:
            min_tier = tier_named(value, tiers)
        elif word in _COST_WORDS and operator == "=":
            fee = _number(value)
            if fee is None:
                raise UserError("draw/bad_condition", condition=condition)
            if fee > rules.max_cost:
                raise UserError("draw/cost_too_big", cost=fee, limit=rules.max_cost)
            cost = fee
        else:
            raise UserError("draw/bad_condition", condition=condition)
    return Conditions(checkin, min_tier or None, cost)


def _parts(condition: str) -> tuple[str, str, str]:
    found = re.match(r"(?P<word>[^>=≥]+)(?:(?P<op>>=|≥|=)(?P<value>.*))?$", condition)
    if found is None:
        return condition.casefold(), "", ""
    return found["word"].casefold(), found["op"] or "", found["value"] or ""


def tier_named(name: str, tiers: TierRules) -> int:
    """The tier a name means: its number from 0, its name in either language, or the start of
    only one name ("银卡" for 银卡会员). UserError("draw/unknown_tier") for none."""
    levels = tiers.levels
    number = _number(name)
    if number is not None and number < len(levels):
        return number
    wanted = name.casefold()
    names = [(i, n.casefold()) for i, t in enumerate(levels) for n in (t.names.en, t.names.zh_CN)]
    exact = {i for i, n in names if n == wanted}
    started = {i for i, n in names if n.startswith(wanted)}
    found = exact or started
    if len(found) != 1:
        raise UserError(
            "draw/unknown_tier",
            name=name,
            tiers=[{"number": i, **t.names.model_dump()} for i, t in enumerate(levels)],
        )
    return found.pop()
