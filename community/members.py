"""Members and their platform accounts: who is who in a community."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, bindparam, insert, select, update

from loyalty import ledger
from storage.schema import accounts, balances, members
from storage.sql import fit_text, lock_until_commit

# Seen-times feed activity analytics; minute precision is plenty and saves a write per message.
_SEEN_RESOLUTION = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Member:
    """A person in one community, whatever platforms they use."""

    id: int
    community_id: int
    display_name: str
    # Their tier (an index into tiers.levels) when it was read with them; None: not read (the
    # earning path reads it then). Read with every event's actor, where the tier's multiplier
    # is needed: a statement fewer on the hot path.
    tier: int | None = None


_ACCOUNT = (
    select(
        accounts.c.id.label("account_id"),
        accounts.c.username_key,
        accounts.c.display_name.label("account_name"),
        members.c.id,
        members.c.display_name,
        members.c.last_seen_at,
        balances.c.tier,
    )
    .join(members, members.c.id == accounts.c.member_id)
    .outerjoin(balances, balances.c.member_id == members.c.id)
    .where(
        accounts.c.community_id == bindparam("community"),
        accounts.c.platform == bindparam("platform"),
        accounts.c.platform_user_id == bindparam("user_id"),
    )
)
_RENAME_ACCOUNT = (
    update(accounts)
    .where(accounts.c.id == bindparam("account"))
    .values(display_name=bindparam("name"), username_key=bindparam("handle"))
)
_TOUCH_MEMBER = (
    update(members)
    .where(members.c.id == bindparam("member"))
    .values(display_name=bindparam("name"), last_seen_at=bindparam("at"))
)
# A handle belongs to one account per platform: whoever shows up with it now has it.
_RELEASE_HANDLE = (
    update(accounts)
    .where(
        accounts.c.community_id == bindparam("b_community"),
        accounts.c.platform == bindparam("b_platform"),
        accounts.c.username_key == bindparam("b_handle"),
        accounts.c.platform_user_id != bindparam("b_user"),
    )
    .values(username_key=None)
)
_NEW_MEMBER = insert(members).returning(members.c.id)
_NEW_ACCOUNT = insert(accounts)
_BY_HANDLE = (
    select(members.c.id, members.c.display_name)
    .join(accounts, accounts.c.member_id == members.c.id)
    .where(
        accounts.c.community_id == bindparam("community"),
        accounts.c.platform == bindparam("platform"),
        accounts.c.username_key == bindparam("handle"),
    )
)


def username_key(username: str) -> str:
    """How handles are compared: without a leading @, case-insensitively."""
    return fit_text(username.lstrip("@").casefold(), 64)


def identify(
    conn: Connection,
    *,
    community_id: int,
    platform: str,
    user_id: str,
    display_name: str,
    username: str | None,
    at: datetime,
) -> Member:
    """The member behind a platform account; registers them on first contact.

    Display name and handle follow what the platform says now.
    """
    user_id = fit_text(user_id, 64)
    name = fit_text(display_name.strip(), 200)
    handle = username_key(username) if username else None
    account = {"community": community_id, "platform": platform, "user_id": user_id}
    row = conn.execute(_ACCOUNT, account).first()
    if row is None:
        # Another bot on this database registering them at the same moment makes the account's
        # unique key fail here; the store runs this unit of work again, and it finds theirs.
        if handle is not None:
            _claim_handle(conn, community_id, platform, user_id, handle)
        return _register(conn, community_id, platform, user_id, name or user_id, handle, at)
    if not name:
        # The platform told us nothing about them this time: keep what we know.
        name, handle = row.account_name, row.username_key
    if handle is not None and row.username_key != handle:
        _claim_handle(conn, community_id, platform, user_id, handle)
    if row.account_name != name or row.username_key != handle:
        conn.execute(_RENAME_ACCOUNT, {"account": row.account_id, "name": name, "handle": handle})
    if row.display_name != name or at - row.last_seen_at >= _SEEN_RESOLUTION:
        conn.execute(_TOUCH_MEMBER, {"member": row.id, "name": name, "at": at})
    return Member(row.id, community_id, name, None if row.tier is None else int(row.tier))


def _claim_handle(
    conn: Connection, community_id: int, platform: str, user_id: str, handle: str
) -> None:
    """Take `handle` from any other account on the platform that still holds it."""
    # No unique key guards handles, so two accounts claiming one at once would each miss the
    # other's uncommitted claim and both keep it; taking turns, the later one releases the first.
    lock_until_commit(conn, f"handle:{community_id}:{platform}:{handle}")
    conn.execute(
        _RELEASE_HANDLE,
        {
            "b_community": community_id,
            "b_platform": platform,
            "b_handle": handle,
            "b_user": user_id,
        },
    )


def _register(
    conn: Connection,
    community_id: int,
    platform: str,
    user_id: str,
    name: str,
    handle: str | None,
    at: datetime,
) -> Member:
    """A new member with this account and a zero balance."""
    member_id = conn.execute(
        _NEW_MEMBER,
        {"community_id": community_id, "display_name": name, "created_at": at, "last_seen_at": at},
    ).scalar_one()
    conn.execute(
        _NEW_ACCOUNT,
        {
            "community_id": community_id,
            "member_id": member_id,
            "platform": platform,
            "platform_user_id": user_id,
            "username_key": handle,
            "display_name": name,
            "created_at": at,
        },
    )
    ledger.open_account(conn, community_id=community_id, member_id=member_id, at=at)
    return Member(member_id, community_id, name, 0)  # a new member starts at the first tier


def find_by_handle(
    conn: Connection, *, community_id: int, handle: str, platform: str
) -> Member | None:
    """The member whose account on `platform` has this @handle; None when unknown.

    Handles are the platform's own: "@bob" typed on Telegram is Telegram's bob, whoever holds
    that name on Discord (the console's names are the console's).
    """
    key = username_key(handle)
    if not key:
        return None
    row = conn.execute(
        _BY_HANDLE, {"community": community_id, "handle": key, "platform": platform}
    ).first()
    return None if row is None else Member(row.id, community_id, row.display_name)


def find_by_account(
    conn: Connection, *, community_id: int, platform: str, user_id: str
) -> Member | None:
    """The member behind a platform account; None when the bot has never seen it. Unlike
    `identify`, being looked up is no sign of life: nothing is registered or touched."""
    account = {"community": community_id, "platform": platform, "user_id": fit_text(user_id, 64)}
    row = conn.execute(_ACCOUNT, account).first()
    return None if row is None else Member(row.id, community_id, row.display_name)
