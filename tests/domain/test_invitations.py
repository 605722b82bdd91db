"""Personal invitations: who joined through whose, and the inviter's reward at the invitee's
first check-in — once, never for oneself or for someone the community already knew, within the
month's cap."""

from __future__ import annotations

from sqlalchemy import Connection, select

from community import invitations
from community.communities import Community
from community.invitations import invitation_for, record_join, reward_inviter, set_link
from loyalty import ledger
from storage.schema import invited, outbox
from storage.schema import ledger as ledger_table
from tests.domain.conftest import Join, give, local

GROUP = "-1001"


def invite(conn: Connection, community: Community, member_id: int) -> str:
    return invitation_for(conn, community.id, member_id, "telegram", GROUP, local(1)).code


def points(conn: Connection, member_id: int) -> int:
    return ledger.balance(conn, member_id)


def test_a_member_keeps_one_invitation_per_group_with_a_short_unique_code(
    conn: Connection, community: Community, join: Join
) -> None:
    alice, bob = join("alice"), join("bob")
    code = invite(conn, community, alice.id)
    assert invite(conn, community, alice.id) == code and len(code) == 8
    assert invite(conn, community, bob.id) != code
    set_link(conn, code, "https://t.me/+abc")
    found = invitations.find(conn, community.id, "telegram", "https://t.me/+abc")
    assert found is not None and found.member_id == alice.id


def test_the_inviter_is_paid_once_at_the_first_check_in_and_told_privately(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    code = invite(conn, community, alice.id)
    newbie = join("newbie", at=local(2, 10))
    assert record_join(conn, community.id, "telegram", newbie.id, code, local(2, 10))
    assert reward_inviter(conn, community, newbie.id, local(2, 11)) == "telegram"
    assert reward_inviter(conn, community, newbie.id, local(3, 11)) is None
    assert points(conn, alice.id) == community.rules.earning.invitation.points
    (note,) = conn.execute(select(outbox).where(outbox.c.kind == "direct")).all()
    assert note.chat_id == "alice" and note.payload["template"] == "invite/rewarded"


def test_the_first_invitation_wins(conn: Connection, community: Community, join: Join) -> None:
    alice, bob = join("alice"), join("bob")
    first, second = invite(conn, community, alice.id), invite(conn, community, bob.id)
    newbie = join("newbie", at=local(2, 10))
    assert record_join(conn, community.id, "telegram", newbie.id, first, local(2, 10))
    assert not record_join(conn, community.id, "telegram", newbie.id, second, local(2, 10))
    reward_inviter(conn, community, newbie.id, local(2, 11))
    assert points(conn, alice.id) > 0 and points(conn, bob.id) == 0


def test_inviting_oneself_or_someone_known_pays_nothing(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    code = invite(conn, community, alice.id)
    old_timer = join("old", at=local(1, 8))  # an account from before the join
    earner = join("earner", at=local(2, 9, 55))
    give(conn, earner, 5)  # anything in the ledger: known
    for member in (alice, old_timer, earner):
        assert record_join(conn, community.id, "telegram", member.id, code, local(2, 10))
        assert reward_inviter(conn, community, member.id, local(2, 11)) is None
    rows = conn.execute(select(invited.c.known)).scalars().all()
    assert rows == [True, True, True]
    paid = select(ledger_table).where(ledger_table.c.member_id == alice.id)
    assert conn.execute(paid).all() == []


def test_an_unknown_invite_records_nothing(
    conn: Connection, community: Community, join: Join
) -> None:
    newbie = join("newbie")
    assert not record_join(conn, community.id, "telegram", newbie.id, "nosuchcode", local(1))
    assert not record_join(conn, community.id, "telegram", newbie.id, "", local(1))


def test_the_months_cap_limits_what_invitations_pay(
    conn: Connection, community: Community, join: Join
) -> None:
    alice = join("alice")
    code = invite(conn, community, alice.id)
    rule = community.rules.earning.invitation
    wanted = rule.per_month // rule.points + 2  # two more than the cap pays for
    for n in range(wanted):
        newbie = join(f"newbie{n}", at=local(2, 10))
        record_join(conn, community.id, "telegram", newbie.id, code, local(2, 10))
        reward_inviter(conn, community, newbie.id, local(2, 11))
    assert points(conn, alice.id) == rule.per_month
