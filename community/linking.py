"""/link: one member across platforms. A one-time code shown on one platform, entered on the
other, merges the two accounts' members into one: balance, ledger, streak and votes follow."""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, delete, func, select, update

from community import (
    ambassadors,
    audit,
    contests,
    draws,
    faq,
    invitations,
    questions,
    quizzes,
    submissions,
    surveys,
    tier_notices,
)
from community.communities import Community
from loyalty import ledger, merging, tiers
from loyalty.errors import UserError
from storage.schema import (
    accounts,
    audit_log,
    balances,
    calendar_entries,
    campaigns,
    checkins,
    link_codes,
    members,
    polls,
    votes,
)
from storage.schema import ledger as ledger_table

CODE_LIFETIME = timedelta(minutes=10)
# Columns that point at a member and simply follow a merge. Balances, check-ins, votes and
# link codes need more than that and are merged by hand; a new table that refers to members
# belongs in one of the two places.
# Each activity folds its own rows (one answer per member and question stays one).
ACTIVITIES = (questions, faq, quizzes, surveys, submissions, ambassadors, contests, draws)
_PLAIN_REFERENCES = (
    accounts.c.member_id,
    ledger_table.c.member_id,
    ledger_table.c.actor_member_id,
    polls.c.created_by,
    calendar_entries.c.created_by,
    campaigns.c.created_by,
    audit_log.c.actor_member_id,
    audit_log.c.target_member_id,
)
# No 0/O or 1/I: a code is read on one screen and typed on another.
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_IN_ALPHABET = frozenset(_ALPHABET)
_NOT_CODE = re.compile("[^A-Z0-9]")
CODE_LENGTH = 8


@dataclass(frozen=True, slots=True)
class LinkCode:
    """A code to enter on the other platform, and until when it works."""

    code: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class PendingLink:
    """A valid code, before its enterer confirms whom it joins them to."""

    code: str
    member_id: int
    display_name: str
    platform: str


@dataclass(frozen=True, slots=True)
class Linked:
    """The member both accounts now belong to."""

    member_id: int
    balance: int
    platforms: tuple[str, ...]


def normalize_code(text: str) -> str:
    """How a typed code is compared: full-width folded, upper case, letters and digits only."""
    return _code_letters(text)[:16]


def _code_letters(text: str) -> str:
    # Full-width folded (NFKC), upper case, without spaces, dashes or punctuation.
    return _NOT_CODE.sub("", unicodedata.normalize("NFKC", text).upper())


def codes_in(text: str) -> set[str]:
    """Every code that could be read in `text`: each run of CODE_LENGTH of its letters and
    digits (full-width folded, case, spaces and punctuation ignored) drawn from the alphabet.
    "my code: ab cd-ef gh" shows ABCDEFGH as surely as "ABCDEFGH" does."""
    letters = _code_letters(text)
    return {
        letters[start : start + CODE_LENGTH]
        for start in range(len(letters) - CODE_LENGTH + 1)
        if _IN_ALPHABET.issuperset(letters[start : start + CODE_LENGTH])
    }


# Live codes are few (one per member, for minutes): reading them all is cheaper than an IN
# list, whose statement SQLAlchemy would compile anew for every message.
_LIVE_CODES = select(link_codes.c.code)
_SPEND = delete(link_codes).where(link_codes.c.code == bindparam("b_code"))


def spend_codes_shown(conn: Connection, text: str) -> bool:
    """Every code that `text` shows where others read it stops working at once, whatever its
    community: anyone there could redeem it privately and take the member's points. True when
    a code was spent."""
    candidates = codes_in(text)
    if not candidates:
        return False
    shown = candidates.intersection(conn.execute(_LIVE_CODES).scalars())
    for code in shown:
        conn.execute(_SPEND, {"b_code": code})
    return bool(shown)


def spend_member_codes(conn: Connection, member_id: int) -> bool:
    """The member's live codes stop working (what the bot told them privately went public,
    and the platform does not say what it was). True when one was spent."""
    return bool(
        conn.execute(
            delete(link_codes)
            .where(link_codes.c.member_id == member_id)
            .returning(link_codes.c.code)
        ).all()
    )


def issue_code(
    conn: Connection, community: Community, *, member_id: int, platform: str, at: datetime
) -> LinkCode:
    """A fresh code for this member; any earlier code of theirs stops working."""
    conn.execute(delete(link_codes).where(link_codes.c.expires_at < at))
    conn.execute(delete(link_codes).where(link_codes.c.member_id == member_id))
    code = "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))
    expires_at = at + CODE_LIFETIME
    conn.execute(
        link_codes.insert(),
        {
            "code": code,
            "community_id": community.id,
            "member_id": member_id,
            "platform": platform,
            "expires_at": expires_at,
        },
    )
    return LinkCode(code, expires_at)


def check_code(
    conn: Connection,
    community: Community,
    *,
    member_id: int,
    platform: str,
    code: str,
    at: datetime,
) -> PendingLink:
    """Whom `code` would join this member to; UserError says why it cannot. Changes nothing
    but forgetting an expired code."""
    row = conn.execute(
        select(link_codes).where(
            link_codes.c.code == normalize_code(code), link_codes.c.community_id == community.id
        )
    ).first()
    if row is None:
        raise UserError("link/bad_code")
    if row.expires_at <= at:
        conn.execute(delete(link_codes).where(link_codes.c.code == row.code))
        raise UserError("link/expired")
    if row.member_id == member_id:
        raise UserError("link/same_member")
    if row.platform == platform:
        raise UserError("link/same_platform", platform=platform)
    shared = sorted(set(_platforms(conn, row.member_id)) & set(_platforms(conn, member_id)))
    if shared:
        # Both sides already have an account on one platform: merging would give one member
        # two accounts there. Refuse rather than guess which one is the person's.
        raise UserError("link/already_linked", platform=shared[0])
    name = conn.execute(
        select(members.c.display_name).where(members.c.id == row.member_id)
    ).scalar_one()
    return PendingLink(row.code, row.member_id, name, row.platform)


def redeem_code(
    conn: Connection,
    community: Community,
    *,
    member_id: int,
    platform: str,
    code: str,
    at: datetime,
    account: str,
) -> Linked:
    """Merge the member behind `code` with this one; the code works once, for 10 minutes.

    The one who enters a code joins the one who showed it: whoever is asked to enter someone
    else's code would hand over their points, hence `check_code` and a confirmation first.
    """
    pending = check_code(conn, community, member_id=member_id, platform=platform, code=code, at=at)
    # Claim the code before merging: of two redeeming it at once (two processes on one
    # PostgreSQL database), the second waits here and then finds it gone.
    claimed = conn.execute(
        delete(link_codes).where(link_codes.c.code == pending.code).returning(link_codes.c.code)
    ).first()
    if claimed is None:
        raise UserError("link/bad_code")
    keeper = pending.member_id
    merge_members(conn, community, keep=keeper, absorb=member_id, at=at, account=account)
    return Linked(keeper, ledger.balance(conn, keeper), tuple(_platforms(conn, keeper)))


def merge_members(
    conn: Connection,
    community: Community,
    *,
    keep: int,
    absorb: int,
    at: datetime,
    account: str,
) -> None:
    """Move everything of member `absorb` to member `keep` and delete `absorb`; one unit of work."""
    for column in _PLAIN_REFERENCES:
        conn.execute(update(column.table).where(column == absorb).values({column.name: keep}))
    moved = merging.merge_accounts(conn, keep=keep, absorb=absorb, at=at)
    reversed_ = invitations.merge_invited(conn, community, keep=keep, absorb=absorb, at=at)
    _merge_checkins(conn, keep=keep, absorb=absorb)
    for activity in ACTIVITIES:
        activity.merge_members(conn, keep=keep, absorb=absorb)
    kept_polls = select(votes.c.poll_id).where(votes.c.member_id == keep).scalar_subquery()
    conn.execute(delete(votes).where(votes.c.member_id == absorb, votes.c.poll_id.in_(kept_polls)))
    conn.execute(update(votes).where(votes.c.member_id == absorb).values(member_id=keep))
    conn.execute(delete(link_codes).where(link_codes.c.member_id.in_((keep, absorb))))
    first_seen = conn.execute(
        select(
            func.min(members.c.created_at),
            func.max(members.c.last_seen_at),
            # Reminders asked for on either account stay asked for.
            func.count().filter(members.c.reminders.is_(True)),
        ).where(members.c.id.in_((keep, absorb)))
    ).one()
    # A birthday or title given on either side stays (the kept member's first).
    given = {
        row.id: row
        for row in conn.execute(
            select(members.c.id, members.c.birthday, members.c.title).where(
                members.c.id.in_((keep, absorb))
            )
        )
    }
    conn.execute(delete(members).where(members.c.id == absorb))
    conn.execute(
        update(members)
        .where(members.c.id == keep)
        .values(
            created_at=first_seen[0],
            last_seen_at=first_seen[1],
            reminders=first_seen[2] > 0,
            birthday=given[keep].birthday or given[absorb].birthday,
            title=given[keep].title or given[absorb].title,
        )
    )
    audit.record(
        conn,
        community_id=community.id,
        actor=audit.Actor(keep, account),
        action="link",
        at=at,
        target_member_id=keep,
        merged_member_id=absorb,
        points_moved=moved,
        # Only when some were: what /link took back from inviters, and what it could not.
        **(
            {"invitations_reversed": [_reversal(taken) for taken in reversed_]} if reversed_ else {}
        ),
    )
    _upgrade_at_once(conn, community, keep, at)


def _reversal(taken: invitations.Reversal) -> dict[str, int]:
    return {
        "inviter": taken.inviter,
        "invitee": taken.invitee,
        "paid": taken.paid,
        "taken": taken.taken,
        "shortfall": taken.shortfall,
    }


def _upgrade_at_once(conn: Connection, community: Community, member_id: int, at: datetime) -> None:
    """Growth values added up may cross a threshold: upgrade at once, as a credit would."""
    state = conn.execute(
        select(balances.c.tier, balances.c.growth).where(balances.c.member_id == member_id)
    ).first()
    if state is None:
        return
    change = tiers.after_credit(
        conn, community.program, member_id, tier=int(state.tier), growth=int(state.growth), at=at
    )
    if change is not None:
        tier_notices.upgraded(conn, community, change, at)


def _merge_checkins(conn: Connection, *, keep: int, absorb: int) -> None:
    """One check-in a day survives (points already earned stay in the ledger); streaks are
    recounted over the combined days, so the merged member's streak is the true one."""
    kept_days = select(checkins.c.day).where(checkins.c.member_id == keep).scalar_subquery()
    conn.execute(
        delete(checkins).where(checkins.c.member_id == absorb, checkins.c.day.in_(kept_days))
    )
    conn.execute(update(checkins).where(checkins.c.member_id == absorb).values(member_id=keep))
    rows = conn.execute(
        select(checkins.c.id, checkins.c.day, checkins.c.streak)
        .where(checkins.c.member_id == keep)
        .order_by(checkins.c.day)
    ).all()
    previous_day, streak = None, 0
    for row in rows:
        continues = previous_day is not None and row.day - previous_day == timedelta(days=1)
        streak = streak + 1 if continues else 1
        if row.streak != streak:
            conn.execute(update(checkins).where(checkins.c.id == row.id).values(streak=streak))
        previous_day = row.day


def _platforms(conn: Connection, member_id: int) -> list[str]:
    return list(
        conn.execute(
            select(accounts.c.platform)
            .where(accounts.c.member_id == member_id)
            .order_by(accounts.c.platform)
        ).scalars()
    )
