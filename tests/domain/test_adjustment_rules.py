"""Points by an admin's hand (/award, /deduct): within max_award, paid once, always audited."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, select

from community.adjustments import NOTE_LIMIT, adjust
from community.audit import Actor
from community.communities import Community
from community.members import Member
from loyalty import ledger
from loyalty.errors import UserError
from storage.schema import audit_log
from storage.schema import ledger as ledger_table
from storage.sql import savepoint
from tests.domain.conftest import MAX_AWARD, Join, local


def audit_rows(conn: Connection) -> list[Any]:
    query = select(
        audit_log.c.action,
        audit_log.c.actor_member_id,
        audit_log.c.target_member_id,
        audit_log.c.details,
        audit_log.c.created_at,
    ).order_by(audit_log.c.id)
    return list(conn.execute(query).all())


def award(
    conn: Connection,
    community: Community,
    actor: Actor,
    target: Member,
    delta: int,
    key: str = "event:1",
    note: str = "",
) -> ledger.Posting:
    """An adjustment in its own unit of work: if it raises, nothing it wrote is kept."""
    with savepoint(conn):
        return adjust(
            conn,
            community,
            actor=actor,
            target=target,
            delta=delta,
            note=note,
            key=key,
            at=local(1, 10),
        )


def test_an_award_pays_the_member_and_names_the_admin_in_the_ledger(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    alice = join("alice")
    posting = award(conn, community, boss, alice, 50, note="great photo")
    assert posting == ledger.Posting(balance=50, applied=True)
    entry = conn.execute(select(ledger_table).where(ledger_table.c.member_id == alice.id)).one()
    assert (entry.delta, entry.reason, entry.note) == (50, "award", "great photo")
    assert entry.actor_member_id == boss.member_id


def test_an_award_writes_an_audit_line_naming_the_actor_and_the_target(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    alice = join("alice")
    award(conn, community, boss, alice, 50, note="great photo")
    assert audit_rows(conn) == [
        (
            "award",
            boss.member_id,
            alice.id,
            {"by": "console:boss", "amount": 50, "note": "great photo", "balance": 50},
            local(1, 10),
        )
    ]


def test_a_deduction_is_audited_with_its_amount_as_a_positive_number(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    alice = join("alice")
    award(conn, community, boss, alice, 50, key="event:1")
    assert award(conn, community, boss, alice, -20, key="event:2").balance == 30
    action, _, target, details, _ = audit_rows(conn)[-1]
    assert (action, target, details["amount"], details["balance"]) == ("deduct", alice.id, 20, 30)
    assert ledger.recent_entries(conn, alice.id, 1)[0].reason == "deduct"


@pytest.mark.parametrize("delta", [MAX_AWARD, -MAX_AWARD])
def test_an_admin_may_move_up_to_max_award_at_once(
    conn: Connection, community: Community, join: Join, boss: Actor, delta: int
) -> None:
    alice = join("alice")
    award(conn, community, boss, alice, MAX_AWARD, key="setup")
    assert award(conn, community, boss, alice, delta).applied


@pytest.mark.parametrize("delta", [MAX_AWARD + 1, -(MAX_AWARD + 1), 0])
def test_more_than_max_award_or_nothing_at_all_is_refused_and_writes_nothing(
    conn: Connection, community: Community, join: Join, boss: Actor, delta: int
) -> None:
    alice = join("alice")
    with pytest.raises(UserError) as refused:
        award(conn, community, boss, alice, delta)
    assert refused.value.key == "points/amount_out_of_range"
    assert refused.value.context == {"limit": MAX_AWARD}
    assert ledger.balance(conn, alice.id) == 0
    assert audit_rows(conn) == []


def test_the_same_adjustment_delivered_twice_pays_and_is_audited_once(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    alice = join("alice")
    award(conn, community, boss, alice, 50, key="event:7")
    again = award(conn, community, boss, alice, 50, key="event:7")
    assert again == ledger.Posting(balance=50, applied=False)
    assert len(audit_rows(conn)) == 1


def test_a_deduction_beyond_the_balance_is_refused_and_leaves_no_audit_line(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    alice = join("alice")
    award(conn, community, boss, alice, 10, key="event:1")
    with pytest.raises(UserError) as refused:
        award(conn, community, boss, alice, -11, key="event:2")
    assert refused.value.key == "points/insufficient"
    assert ledger.balance(conn, alice.id) == 10 == ledger.ledger_sum(conn, alice.id)
    assert [row.action for row in audit_rows(conn)] == ["award"]


def test_the_note_is_stored_on_one_line_and_no_longer_than_the_limit(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    alice = join("alice")
    award(conn, community, boss, alice, 5, key="event:1", note="  best\n\tphoto   ever ")
    award(conn, community, boss, alice, 5, key="event:2", note="x" * (NOTE_LIMIT + 50))
    notes = [entry.note for entry in ledger.recent_entries(conn, alice.id)]
    assert notes == ["x" * NOTE_LIMIT, "best photo ever"]
    assert audit_rows(conn)[0].details["note"] == "best photo ever"


def test_an_admin_who_is_no_member_is_audited_by_account(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    anonymous = Actor(None, "telegram:-100123")
    award(conn, community, anonymous, alice, 5)
    action, actor_member_id, _, details, _ = audit_rows(conn)[0]
    assert (action, actor_member_id, details["by"]) == ("award", None, "telegram:-100123")
