"""/link and invitations: once two accounts are known to be one person, one invitation paid for
them, once; a payment taken back never takes an inviter below zero, and the audit says what
could not be taken. Inviting oneself, or someone the community knew, pays nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from community import invitations, linking
from community.checkins import check_in
from community.communities import Community
from community.members import Member
from loyalty import ledger
from storage.schema import audit_log, invited
from storage.schema import ledger as ledger_table
from tests.domain.conftest import Join, local

INVITATION = 50  # the default [earning.invitation] points


def link(
    conn: Connection, community: Community, keep: Member, absorb: Member, at: datetime
) -> None:
    """`keep` shows a code on Telegram, `absorb` enters it on Discord."""
    code = linking.issue_code(conn, community, member_id=keep.id, platform="telegram", at=at)
    linking.redeem_code(
        conn,
        community,
        member_id=absorb.id,
        platform="discord",
        code=code.code,
        at=at,
        account="discord:x",
    )


def invite(
    conn: Connection, community: Community, inviter: Member, invitee: Member, platform: str
) -> None:
    """`invitee` joins `platform` through `inviter`'s invitation and checks in (paying it)."""
    code = invitations.invitation_for(
        conn, community.id, inviter.id, platform, f"{platform}-group", local(1)
    ).code
    assert invitations.record_join(conn, community.id, platform, invitee.id, code, local(2, 10))
    check_in(conn, community, invitee.id, local(2, 11))


def entries(conn: Connection, member: Member) -> list[tuple[str, int]]:
    query = (
        select(ledger_table.c.reason, ledger_table.c.delta)
        .where(ledger_table.c.member_id == member.id)
        .order_by(ledger_table.c.id)
    )
    return [(row.reason, row.delta) for row in conn.execute(query)]


def link_audit(conn: Connection) -> dict[str, object]:
    details = conn.execute(
        select(audit_log.c.details).where(audit_log.c.action == "link")
    ).scalar_one()
    assert isinstance(details, dict)
    return details


def test_what_the_inviter_spent_is_not_taken_below_zero_and_the_audit_says_so(
    conn: Connection, community: Community, join: Join
) -> None:
    bob = join("bob")
    carol_t = join("carol", "telegram", at=local(2, 10))
    carol_d = join("carol", "discord", at=local(2, 10))
    invite(conn, community, bob, carol_t, "telegram")
    invite(conn, community, bob, carol_d, "discord")
    ledger.post(
        conn,
        community_id=community.id,
        member_id=bob.id,
        delta=-80,
        reason="redeem",
        key="spent",
        at=local(2, 11, 30),
    )
    link(conn, community, carol_t, carol_d, local(2, 12))
    assert ledger.balance(conn, bob.id) == 0
    assert entries(conn, bob)[-1] == ("invitation_reversed", -20)
    assert link_audit(conn)["invitations_reversed"] == [
        {"inviter": bob.id, "invitee": carol_d.id, "paid": 50, "taken": 20, "shortfall": 30}
    ]


def test_an_inviter_keeps_what_a_newcomer_who_links_a_second_account_brought(
    conn: Connection, community: Community, join: Join
) -> None:
    bob, carol = join("bob"), join("carol", at=local(2, 10))
    invite(conn, community, bob, carol, "telegram")
    later = join("carol", "discord", at=local(3, 10))
    link(conn, community, carol, later, local(3, 12))
    assert [reason for reason, _ in entries(conn, bob)] == ["invitation"]
    assert "invitations_reversed" not in link_audit(conn)
    assert conn.execute(select(invited.c.member_id, invited.c.known)).all() == [(carol.id, False)]


def test_inviting_the_second_account_of_someone_the_community_knew_pays_nothing(
    conn: Connection, community: Community, join: Join
) -> None:
    # Ann has been here since day 1 on Telegram; bob's Discord invitation brings her Discord
    # account, which looks new until she links the two.
    bob, ann = join("bob"), join("ann", "telegram")
    ann_d = join("ann", "discord", at=local(2, 10))
    invite(conn, community, bob, ann_d, "discord")
    assert entries(conn, bob) == [("invitation", INVITATION)]
    link(conn, community, ann, ann_d, local(2, 12))
    assert entries(conn, bob)[-1] == ("invitation_reversed", -INVITATION)
    assert conn.execute(select(invited.c.member_id, invited.c.known)).all() == [(ann.id, True)]


def test_of_two_invitations_the_paid_one_stays(
    conn: Connection, community: Community, join: Join
) -> None:
    # Carol came through bob's invitation on Telegram (not checked in there) and dave's on
    # Discord (checked in: dave was paid). One person, one inviter: dave, who was paid.
    bob, dave = join("bob"), join("dave")
    carol_t = join("carol", "telegram", at=local(2, 10))
    carol_d = join("carol", "discord", at=local(2, 10))
    code = invitations.invitation_for(conn, community.id, bob.id, "telegram", "t", local(1)).code
    assert invitations.record_join(conn, community.id, "telegram", carol_t.id, code, local(2, 9))
    invite(conn, community, dave, carol_d, "discord")
    link(conn, community, carol_t, carol_d, local(2, 12))
    assert entries(conn, dave) == [("invitation", INVITATION)]
    assert entries(conn, bob) == []
    survivor = conn.execute(select(invited.c.member_id, invited.c.rewarded_at)).one()
    assert survivor.member_id == carol_t.id and survivor.rewarded_at is not None
