"""The brand ambassador programme (品牌大使 / KOC): the roster and levels, admins appointing,
removing and moving ambassadors (audited), and the multiplier on approved content. What a
month comes to: community/ambassador_months.py (the rules) and ambassador_evaluation.py (the
month-end run); the counting: ambassador_counts.py."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Connection, Row, and_, bindparam, delete, exists, or_, select, update
from sqlalchemy.sql.functions import count

from community import audit
from community.ambassador_months import Outcome
from community.ambassador_rules import AmbassadorLevel, AmbassadorRules
from community.communities import Community
from loyalty.earning import Multiplier
from loyalty.errors import UserError
from storage.ambassador_tables import ambassador_months, ambassadors
from storage.sql import insert_if_absent, lock_until_commit

# The columns of this activity's tables that point at a member: merge_members moves them when
# /link folds one member into another (tests/test_linking.py checks every such column is).
MEMBER_COLUMNS: tuple[Column[int], ...] = (
    ambassadors.c.member_id,
    ambassadors.c.appointed_by_member_id,
    ambassadors.c.removed_by_member_id,
    ambassador_months.c.member_id,
    ambassador_months.c.promoted_by_member_id,
)
_BY_COLUMNS = (
    ambassadors.c.appointed_by_member_id,
    ambassadors.c.removed_by_member_id,
    ambassador_months.c.promoted_by_member_id,
)


@dataclass(frozen=True, slots=True)
class Ambassador:
    """A member's place on the roster (removed ones keep theirs, with removed_at)."""

    member_id: int
    level: str
    appointed_at: datetime
    removed_at: datetime | None

    @property
    def active(self) -> bool:
        return self.removed_at is None


_ONE = select(ambassadors).where(
    ambassadors.c.community_id == bindparam("community"),
    ambassadors.c.member_id == bindparam("member"),
)


def ambassador_of(conn: Connection, community_id: int, member_id: int) -> Ambassador | None:
    """The member's roster row (None: never appointed here)."""
    row = conn.execute(_ONE, {"community": community_id, "member": member_id}).first()
    if row is None:
        return None
    return Ambassador(int(row.member_id), str(row.level), row.appointed_at, row.removed_at)


def active_ambassador(conn: Connection, community_id: int, member_id: int) -> Ambassador | None:
    """The member as an ambassador on the roster now; None for anyone else."""
    found = ambassador_of(conn, community_id, member_id)
    return found if found is not None and found.active else None


def find_level(rules: AmbassadorRules, word: str) -> AmbassadorLevel | None:
    """The level `word` names: its key or a name in either language, any case, full-width
    letters as typed by Chinese keyboards ("ＳＥＮＩＯＲ") as their plain ones."""
    folded = unicodedata.normalize("NFKC", word).strip().casefold()
    for level in rules.levels:
        if folded in (level.key, level.names.en.casefold(), level.names.zh_CN.casefold()):
            return level
    return None


def standing_multiplier(
    conn: Connection, community: Community, member_id: int
) -> tuple[Multiplier, ...]:
    """What an approved submission of the member is multiplied by for being an ambassador:
    their level's multiplier (kind "ambassador", the level's key as ref); () for others."""
    found = active_ambassador(conn, community.id, member_id)
    level = None if found is None else community.rules.ambassadors.level(found.level)
    if level is None or level.multiplier <= 1:
        return ()
    return (Multiplier("ambassador", Decimal(str(level.multiplier)), level.key),)


# Admins' changes ------------------------------------------------------------------------------


def appoint(
    conn: Connection,
    community: Community,
    *,
    actor: audit.Actor,
    member_id: int,
    level: AmbassadorLevel,
    at: datetime,
) -> Ambassador:
    """Put the member on the roster at `level` (again, if they were removed). Raises
    UserError when they are on it already, or the roster holds max_ambassadors."""
    rules = community.rules.ambassadors
    # Counting the roster and adding to it must not interleave with another admin's add.
    lock_until_commit(conn, f"ambassadors:{community.id}")
    found = ambassador_of(conn, community.id, member_id)
    if found is not None and found.active:
        raise UserError("ambassador/already", level=_names(rules, found.level))
    on_roster = conn.execute(
        select(count()).where(
            ambassadors.c.community_id == community.id, ambassadors.c.removed_at.is_(None)
        )
    ).scalar_one()
    if on_roster >= rules.max_ambassadors:
        raise UserError("ambassador/roster_full", limit=rules.max_ambassadors)
    values = {
        "level": level.key,
        "appointed_at": at,
        "appointed_by_member_id": actor.member_id,
        "removed_at": None,
        "removed_by_member_id": None,
    }
    added = insert_if_absent(
        conn, ambassadors, {"community_id": community.id, "member_id": member_id, **values}
    )
    if not added:
        reopened = conn.execute(
            update(ambassadors)
            .where(
                ambassadors.c.community_id == community.id,
                ambassadors.c.member_id == member_id,
                ambassadors.c.removed_at.is_not(None),
            )
            .values(values)
        ).rowcount
        if reopened != 1:  # another admin appointed them a moment ago
            raise UserError("ambassador/already", level=_names(rules, level.key))
    audit.record(
        conn,
        community_id=community.id,
        actor=actor,
        action="ambassador_add",
        at=at,
        target_member_id=member_id,
        level=level.key,
    )
    return Ambassador(member_id, level.key, at, None)


def remove(
    conn: Connection, community: Community, *, actor: audit.Actor, member_id: int, at: datetime
) -> Ambassador:
    """Take the member off the roster (their row and months stay); what they were. Raises
    UserError when they are not on it."""
    found = active_ambassador(conn, community.id, member_id)
    done = conn.execute(
        update(ambassadors)
        .where(
            ambassadors.c.community_id == community.id,
            ambassadors.c.member_id == member_id,
            ambassadors.c.removed_at.is_(None),
        )
        .values(removed_at=at, removed_by_member_id=actor.member_id)
    ).rowcount
    if found is None or done != 1:
        raise UserError("ambassador/not_ambassador")
    audit.record(
        conn,
        community_id=community.id,
        actor=actor,
        action="ambassador_remove",
        at=at,
        target_member_id=member_id,
        level=found.level,
    )
    return found


def set_level(
    conn: Connection,
    community: Community,
    *,
    actor: audit.Actor,
    member_id: int,
    level: AmbassadorLevel,
    at: datetime,
) -> str:
    """Move an ambassador to `level`; the level they were at. Raises UserError when they are
    not on the roster or at that level already (also when another admin put them there a
    moment ago: two admins moving one ambassador at once each get a true answer)."""
    rules = community.rules.ambassadors
    for _ in range(_LOOKS):
        found = active_ambassador(conn, community.id, member_id)
        if found is None:
            raise UserError("ambassador/not_ambassador")
        if found.level == level.key:
            raise UserError("ambassador/same_level", level=_names(rules, level.key))
        if _move(conn, community.id, member_id, found.level, level.key):
            break
        # Another admin moved or removed them since we looked: look again (on PostgreSQL
        # the next statement sees what they committed).
    else:
        raise UserError("ambassador/not_ambassador")
    audit.record(
        conn,
        community_id=community.id,
        actor=actor,
        action="ambassador_level",
        at=at,
        target_member_id=member_id,
        old=found.level,
        level=level.key,
    )
    return found.level


_LOOKS = 3  # times set_level reads the roster again after another admin's move


def _move(conn: Connection, community_id: int, member_id: int, old: str, new: str) -> bool:
    """Move an ambassador on the roster from level `old` to `new`; False when they are not
    on it at `old` (any more)."""
    moved = conn.execute(
        update(ambassadors)
        .where(
            ambassadors.c.community_id == community_id,
            ambassadors.c.member_id == member_id,
            ambassadors.c.removed_at.is_(None),
            ambassadors.c.level == old,
        )
        .values(level=new)
    ).rowcount
    return bool(moved == 1)


@dataclass(frozen=True, slots=True)
class Promoted:
    """A proposal confirmed: whom it moved, from and to which level."""

    number: int
    member_id: int
    old: str
    new: str


def promote(
    conn: Connection, community: Community, *, actor: audit.Actor, number: int, at: datetime
) -> Promoted:
    """Confirm proposal `number` (an evaluated month's id): the ambassador moves up to the
    level proposed. Two admins confirming at once move them once. Raises UserError for no such
    proposal, one confirmed already, or one that no longer applies (see _applies)."""
    row = conn.execute(
        select(ambassador_months).where(
            ambassador_months.c.id == number,
            ambassador_months.c.community_id == community.id,
            ambassador_months.c.proposed_level.is_not(None),
        )
    ).first()
    if row is None:
        raise UserError("ambassador/no_such_proposal", number=number)
    if row.promoted_at is not None:
        raise UserError("ambassador/proposal_done", number=number)
    if not _applies(conn, community, row):
        raise UserError("ambassador/proposal_outdated", number=number)
    claimed = conn.execute(
        update(ambassador_months)
        .where(ambassador_months.c.id == number, ambassador_months.c.promoted_at.is_(None))
        .values(promoted_at=at, promoted_by_member_id=actor.member_id)
    ).rowcount
    if claimed != 1:
        raise UserError("ambassador/proposal_done", number=number)
    member, old, new = int(row.member_id), str(row.level), str(row.proposed_level)
    # Only from the level the proposal was made at: another admin's move a moment ago makes
    # it outdated (the caller's savepoint takes the claim back), never a move from elsewhere.
    if not _move(conn, community.id, member, old, new):
        raise UserError("ambassador/proposal_outdated", number=number)
    audit.record(
        conn,
        community_id=community.id,
        actor=actor,
        action="ambassador_promote",
        at=at,
        target_member_id=member,
        old=old,
        level=new,
        proposal=number,
    )
    return Promoted(number, member, old, new)


def _applies(conn: Connection, community: Community, row: Row[Any]) -> bool:
    """Whether an evaluated month's proposal to move up still stands: the ambassador is on the
    roster at the level it was made at, appointed before it was made (not a new start since),
    the level proposed is still in the settings, and every month evaluated after it went
    beyond the tasks at that level too (a month short since ends the run it rewarded)."""
    current = active_ambassador(conn, community.id, int(row.member_id))
    if current is None or current.level != row.level or current.appointed_at > row.evaluated_at:
        return False
    if community.rules.ambassadors.level(str(row.proposed_level)) is None:
        return False
    broken = select(ambassador_months.c.id).where(
        ambassador_months.c.community_id == community.id,
        ambassador_months.c.member_id == row.member_id,
        ambassador_months.c.month > row.month,
        or_(
            ambassador_months.c.outcome != Outcome.EXCEEDED.value,
            ambassador_months.c.level != row.level,
        ),
    )
    return not conn.execute(select(exists(broken))).scalar()


def _names(rules: AmbassadorRules, key: str) -> dict[str, str]:
    level = rules.level(key)
    return level.names.model_dump() if level is not None else {"en": key, "zh_CN": key}


# /link ----------------------------------------------------------------------------------------


def merge_members(conn: Connection, *, keep: int, absorb: int) -> None:
    """Fold `absorb`'s roster place and evaluated months into `keep`'s. Where both have one,
    `keep`'s stands, unless only `absorb` is on the roster now (then theirs is taken over)."""
    for column in _BY_COLUMNS:
        conn.execute(update(column.table).where(column == absorb).values({column.name: keep}))
    kept = {
        (row.community_id, row.removed_at is None)
        for row in conn.execute(select(ambassadors).where(ambassadors.c.member_id == keep))
    }
    for row in conn.execute(select(ambassadors).where(ambassadors.c.member_id == absorb)).all():
        place = and_(
            ambassadors.c.community_id == row.community_id, ambassadors.c.member_id == keep
        )
        if (row.community_id, False) in kept and row.removed_at is None:
            conn.execute(delete(ambassadors).where(place))
        elif (row.community_id, True) in kept or (row.community_id, False) in kept:
            conn.execute(
                delete(ambassadors).where(
                    ambassadors.c.community_id == row.community_id,
                    ambassadors.c.member_id == absorb,
                )
            )
            continue
        conn.execute(
            update(ambassadors)
            .where(
                ambassadors.c.community_id == row.community_id,
                ambassadors.c.member_id == absorb,
            )
            .values(member_id=keep)
        )
    both = (
        select(ambassador_months.c.month)
        .where(ambassador_months.c.member_id == keep)
        .scalar_subquery()
    )
    conn.execute(
        delete(ambassador_months).where(
            ambassador_months.c.member_id == absorb, ambassador_months.c.month.in_(both)
        )
    )
    conn.execute(
        update(ambassador_months)
        .where(ambassador_months.c.member_id == absorb)
        .values(member_id=keep)
    )
