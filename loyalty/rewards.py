"""The rewards shop's catalogue (积分商城): rewards numbered by id, their stock and coupon codes.

Rewards come from admins in chat (/reward add) and from community.toml's [[rewards]] (file_key
"file:N"). A coupon reward's stock is always the number of its codes not yet given out.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, bindparam, func, insert, select, update

from loyalty.errors import UserError
from loyalty.reward_rules import RewardConfig
from storage.schema import coupon_codes, rewards
from storage.sql import fit_text

CODE_LIMIT = 200  # coupon_codes.code's width
# First cells that name a CSV's column rather than hold a code.
_HEADERS = frozenset(
    {"code", "codes", "coupon", "coupons", "coupon_code", "券码", "兑换码", "优惠码"}
)
_FIELDS = tuple(RewardConfig.model_fields)
# Characters no printed code holds: C0/C1 controls, line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True, slots=True)
class Reward:
    """One reward as stored."""

    id: int
    community_id: int
    name: str
    description: str
    cost: int
    stock: int | None  # None: unlimited
    kind: str
    value: str
    per_member: int | None
    per_period: str
    min_tier: int
    window: str
    hidden: bool
    file_key: str | None

    def config(self) -> RewardConfig:
        """Its settings, as [[rewards]] writes them."""
        return RewardConfig.model_construct(**{name: getattr(self, name) for name in _FIELDS})


@dataclass(frozen=True, slots=True)
class Imported:
    """What a code import did: codes added, and lines skipped (blank, repeated, known)."""

    added: int
    skipped: int
    stock: int


_BY_ID = select(rewards).where(
    rewards.c.id == bindparam("reward"), rewards.c.community_id == bindparam("community")
)
_FREE_CODES = (
    select(func.count())
    .select_from(coupon_codes)
    .where(coupon_codes.c.reward_id == bindparam("reward"), coupon_codes.c.redemption_id.is_(None))
)


def _reward(row: Any) -> Reward:
    return Reward(
        id=row.id,
        community_id=row.community_id,
        name=row.name,
        description=row.description,
        cost=int(row.cost),
        stock=None if row.stock is None else int(row.stock),
        kind=row.kind,
        value=row.value,
        per_member=row.per_member,
        per_period=row.per_period,
        min_tier=row.min_tier,
        window=row.window,
        hidden=bool(row.hidden),
        file_key=row.file_key,
    )


def reward_by_id(conn: Connection, community_id: int, reward_id: int) -> Reward:
    """Reward number `reward_id` of the community; UserError if there is none."""
    row = conn.execute(_BY_ID, {"reward": reward_id, "community": community_id}).first()
    if row is None:
        raise UserError("rewards/unknown", number=reward_id)
    return _reward(row)


def _locked(conn: Connection, community_id: int, reward_id: int) -> Reward:
    """The reward, its row locked until commit (PostgreSQL): a redemption taking stock waits,
    so free codes counted now stay the reward's stock (the count sees what it committed)."""
    row = conn.execute(
        _BY_ID.with_for_update(), {"reward": reward_id, "community": community_id}
    ).first()
    if row is None:
        raise UserError("rewards/unknown", number=reward_id)
    return _reward(row)


def list_rewards(conn: Connection, community_id: int, *, hidden: bool = False) -> list[Reward]:
    """The catalogue by number; hidden rewards only when asked (admins)."""
    query = select(rewards).where(rewards.c.community_id == community_id)
    if not hidden:
        query = query.where(rewards.c.hidden.is_(False))
    return [_reward(row) for row in conn.execute(query.order_by(rewards.c.id))]


def _values(config: RewardConfig) -> dict[str, Any]:
    values = config.model_dump()
    values["name"] = fit_text(values["name"], 100)
    values["description"] = fit_text(values["description"], 500)
    values["value"] = fit_text(values["value"], 100)
    return values


def add_reward(
    conn: Connection,
    community_id: int,
    config: RewardConfig,
    *,
    at: datetime,
    max_rewards: int,
    file_key: str | None = None,
) -> Reward:
    """Add a reward to the catalogue (hidden ones count to `max_rewards` too)."""
    count = conn.execute(
        select(func.count()).select_from(rewards).where(rewards.c.community_id == community_id)
    ).scalar_one()
    if count >= max_rewards:
        raise UserError("rewards/too_many", limit=max_rewards)
    values = _values(config)
    if config.kind == "coupon":
        values["stock"] = 0  # no codes yet: /reward codes N fills it
    reward_id = conn.execute(
        insert(rewards).returning(rewards.c.id),
        {**values, "community_id": community_id, "file_key": file_key, "created_at": at},
    ).scalar_one()
    return reward_by_id(conn, community_id, reward_id)


def checked(config: RewardConfig, changes: dict[str, Any]) -> RewardConfig:
    """`config` with `changes`, validated; UserError names the first setting out of bounds."""
    try:
        return RewardConfig.model_validate({**config.model_dump(), **changes})
    except ValidationError as error:
        first = error.errors()[0]
        setting = ".".join(str(part) for part in first["loc"]) or "reward"
        raise UserError("rewards/bad_setting", setting=setting) from None


def edit_reward(
    conn: Connection, community_id: int, reward_id: int, changes: dict[str, Any]
) -> tuple[Reward, Reward]:
    """Change a reward's settings; returns it (before, after). A coupon's stock stays its
    free codes, whatever `changes` says; a coupon turned into another kind keeps its stock."""
    before = _locked(conn, community_id, reward_id)
    config = checked(before.config(), changes)
    values = _values(config)
    if config.kind == "coupon":
        values["stock"] = free_codes(conn, before.id)
    elif before.kind == "coupon" and "stock" not in changes:
        values["stock"] = before.stock
    conn.execute(update(rewards).where(rewards.c.id == before.id).values(values))
    return before, reward_by_id(conn, community_id, reward_id)


def set_stock(conn: Connection, community_id: int, reward_id: int, stock: int | None) -> Reward:
    """Set how many are left (None: unlimited); a coupon's stock is its codes, not set here."""
    reward = reward_by_id(conn, community_id, reward_id)
    if reward.kind == "coupon":
        raise UserError("rewards/coupon_stock", number=reward.id)
    checked(reward.config(), {"stock": stock})
    conn.execute(update(rewards).where(rewards.c.id == reward.id).values(stock=stock))
    return reward_by_id(conn, community_id, reward_id)


def set_hidden(conn: Connection, community_id: int, reward_id: int, hidden: bool) -> Reward:
    """Hide a reward from members (nobody can redeem it) or show it again."""
    reward = reward_by_id(conn, community_id, reward_id)
    conn.execute(update(rewards).where(rewards.c.id == reward.id).values(hidden=hidden))
    return reward_by_id(conn, community_id, reward_id)


# Coupon codes ----------------------------------------------------------------------------------


def read_codes(text: str) -> list[str]:
    """The codes of a CSV or plain list: the first cell of each line (a header tolerated).
    A cell with control characters (a binary file's bytes) is no code: it reads as blank."""
    found: list[str] = []
    for number, row in enumerate(csv.reader(io.StringIO(text.replace("\x00", "")))):
        cell = row[0].strip().lstrip("\ufeff").strip() if row else ""
        if number == 0 and cell.casefold() in _HEADERS:
            continue
        found.append("" if _CONTROL.search(cell) else cell)
    return found


def free_codes(conn: Connection, reward_id: int) -> int:
    """Codes of a coupon reward not given out yet."""
    return int(conn.execute(_FREE_CODES, {"reward": reward_id}).scalar_one())


def import_codes(
    conn: Connection,
    community_id: int,
    reward_id: int,
    codes: Sequence[str],
    *,
    at: datetime,
    limit: int,
) -> Imported:
    """Add coupon codes to a coupon reward; blanks, repeats and codes it has already are
    skipped. The reward's stock becomes its free codes."""
    reward = _locked(conn, community_id, reward_id)
    if reward.kind != "coupon":
        raise UserError("rewards/not_coupon", number=reward.id)
    if len(codes) > limit:
        raise UserError("rewards/too_many_codes", count=len(codes), limit=limit)
    wanted = list(dict.fromkeys(c for c in codes if c and len(c) <= CODE_LIMIT))
    known = _known_codes(conn, reward.id, wanted)
    new = [code for code in wanted if code not in known]
    if new:
        conn.execute(
            insert(coupon_codes),
            [{"reward_id": reward.id, "code": code, "imported_at": at} for code in new],
        )
    stock = _recount(conn, reward.id)
    return Imported(added=len(new), skipped=len(codes) - len(new), stock=stock)


def _known_codes(conn: Connection, reward_id: int, codes: Iterable[str]) -> set[str]:
    known: set[str] = set()
    every = list(codes)
    for start in range(0, len(every), 500):  # a statement's parameters are limited
        known.update(
            conn.execute(
                select(coupon_codes.c.code).where(
                    coupon_codes.c.reward_id == reward_id,
                    coupon_codes.c.code.in_(every[start : start + 500]),
                )
            ).scalars()
        )
    return known


def _recount(conn: Connection, reward_id: int) -> int:
    stock = free_codes(conn, reward_id)
    conn.execute(update(rewards).where(rewards.c.id == reward_id).values(stock=stock))
    return stock


# The file's rewards ----------------------------------------------------------------------------


def sync_file_rewards(
    conn: Connection,
    community_id: int,
    entries: Sequence[RewardConfig],
    *,
    at: datetime,
    max_rewards: int,
) -> None:
    """Make the file's rewards ("file:1", "file:2", ... in the file's order) what the file says:
    new ones added, changed ones updated, those gone from the file hidden (redemptions keep
    naming them; "gone:ID" until they come back). An entry stays the reward of its name
    wherever it moves in the file (an entry removed above it shifts nothing: reward #1 never
    becomes what #2 was, with #1's codes and redemptions); a new name in an entry's place whose
    old name left the file is a rename. A stock in the file is where a reward starts.
    ValueError says what is wrong."""
    stored = [
        _reward(row)
        for row in conn.execute(
            select(rewards)
            .where(rewards.c.community_id == community_id, rewards.c.file_key.is_not(None))
            .order_by(rewards.c.id)
        )
    ]
    matched = _match_file_rewards(stored, entries)
    for number, config in enumerate(entries, start=1):
        key = f"file:{number}"
        found = matched.get(number)
        if found is None:
            try:
                add_reward(conn, community_id, config, at=at, max_rewards=max_rewards, file_key=key)
            except UserError:
                raise ValueError(
                    f"rewards[{number}]: more rewards than shop.max_rewards ({max_rewards})"
                ) from None
            continue
        # The file's stock is where a reward starts: what was redeemed since, and what admins
        # set with /reward stock, stays when another part of the file changes.
        changes = config.model_dump(exclude={"stock"})
        if found.config().model_dump(exclude={"stock"}) != changes:
            edit_reward(conn, community_id, found.id, changes)
        if found.file_key != key:
            conn.execute(update(rewards).where(rewards.c.id == found.id).values(file_key=key))
    kept = {reward.id for reward in matched.values()}
    for reward in stored:
        if reward.id not in kept and not (reward.hidden and reward.file_key == f"gone:{reward.id}"):
            conn.execute(
                update(rewards)
                .where(rewards.c.id == reward.id)
                .values(hidden=True, file_key=f"gone:{reward.id}")
            )


def _match_file_rewards(
    stored: Sequence[Reward], entries: Sequence[RewardConfig]
) -> dict[int, Reward]:
    """Which stored reward each entry of the file (numbered from 1) is, if any: the one in its
    place with its name, else one with its name from elsewhere (moved, or back in the file),
    else the one in its place whose name left the file (renamed)."""
    in_place = {reward.file_key: reward for reward in stored}
    names = {config.name for config in entries}
    matched: dict[int, Reward] = {}
    used: set[int] = set()

    def take(number: int, reward: Reward | None) -> None:
        if reward is not None and reward.id not in used and number not in matched:
            matched[number] = reward
            used.add(reward.id)

    for number, config in enumerate(entries, start=1):
        here = in_place.get(f"file:{number}")
        take(number, here if here is not None and here.name == config.name else None)
    for number, config in enumerate(entries, start=1):
        if number not in matched:
            same = (r for r in stored if r.id not in used and r.name == config.name)
            take(number, next(same, None))
    for number in range(1, len(entries) + 1):
        here = in_place.get(f"file:{number}")
        take(number, here if here is not None and here.name not in names else None)
    return matched
