"""/link rules: a one-time code joins a member's accounts on two platforms into one member.

The one who shows a code (here on Telegram) keeps their member; the one who enters it (here on
Discord) is merged into them: balance, ledger, check-in days and votes follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import Connection, select

from community import linking
from community.audit import Actor
from community.checkins import check_in, streak_status
from community.communities import Community
from community.linking import CODE_LENGTH, CODE_LIFETIME, LinkCode, Linked, PendingLink
from community.members import Member
from community.polls import open_poll, tally, vote
from loyalty import ledger
from loyalty.errors import UserError
from storage.schema import audit_log, checkins, members
from tests.domain.conftest import (
    BASE_POINTS,
    BONUS_POINTS,
    VOTE_POINTS,
    Join,
    give,
    local,
    on_day,
)

NOW = local(1, 12)


@dataclass
class Desk:
    """Where codes are shown and entered: on Telegram and on Discord unless a test says not."""

    conn: Connection
    community: Community

    def show(self, member: Member, platform: str = "telegram", at: datetime = NOW) -> LinkCode:
        return linking.issue_code(
            self.conn, self.community, member_id=member.id, platform=platform, at=at
        )

    def check(
        self, member: Member, code: str, platform: str = "discord", at: datetime = NOW
    ) -> PendingLink:
        return linking.check_code(
            self.conn, self.community, member_id=member.id, platform=platform, code=code, at=at
        )

    def enter(
        self, member: Member, code: str, platform: str = "discord", at: datetime = NOW
    ) -> Linked:
        account = f"{platform}:{member.display_name.lower()}"
        return linking.redeem_code(
            self.conn,
            self.community,
            member_id=member.id,
            platform=platform,
            code=code,
            at=at,
            account=account,
        )

    def refusal(
        self, member: Member, code: str, platform: str = "discord", at: datetime = NOW
    ) -> UserError:
        """Why entering `code` is refused (checking and redeeming refuse alike)."""
        with pytest.raises(UserError) as refused:
            self.enter(member, code, platform, at)
        return refused.value

    def link(self, shower: Member, enterer: Member, at: datetime = NOW) -> Linked:
        """`shower` shows a code on Telegram, `enterer` enters it on Discord."""
        return self.enter(enterer, self.show(shower, at=at).code, at=at)


@pytest.fixture
def desk(conn: Connection, community: Community) -> Desk:
    return Desk(conn, community)


@pytest.fixture
def alice(join: Join) -> tuple[Member, Member]:
    """Alice on Telegram and on Discord: two members until she links them."""
    return join("alice", "telegram"), join("alice", "discord")


def test_a_code_is_eight_unambiguous_characters_that_work_for_code_lifetime(
    desk: Desk, join: Join
) -> None:
    code = desk.show(join("alice"))
    assert len(code.code) == CODE_LENGTH
    assert not set(code.code) & set("01OI")
    assert code.expires_at == NOW + CODE_LIFETIME


def test_checking_a_code_says_whom_it_joins_and_changes_nothing(
    desk: Desk, alice: tuple[Member, Member]
) -> None:
    on_telegram, on_discord = alice
    code = desk.show(on_telegram).code
    pending = desk.check(on_discord, code)
    assert pending == PendingLink(code, on_telegram.id, "Alice", "telegram")
    assert desk.check(on_discord, code) == pending


def test_a_code_is_read_without_case_spaces_or_dashes(
    desk: Desk, alice: tuple[Member, Member]
) -> None:
    on_telegram, on_discord = alice
    code = desk.show(on_telegram).code
    typed = f" {code[:4].lower()}-{code[4:].lower()} "
    assert desk.check(on_discord, typed).member_id == on_telegram.id


def test_an_unknown_code_is_refused(desk: Desk, join: Join) -> None:
    assert desk.refusal(join("alice", "discord"), "ABCDEFGH").key == "link/bad_code"


def test_a_code_works_until_just_before_it_expires(
    desk: Desk, alice: tuple[Member, Member]
) -> None:
    on_telegram, on_discord = alice
    code = desk.show(on_telegram)
    just_before = code.expires_at - CODE_LIFETIME / 600
    assert desk.enter(on_discord, code.code, at=just_before).member_id == on_telegram.id


def test_an_expired_code_is_refused_and_forgotten(desk: Desk, alice: tuple[Member, Member]) -> None:
    on_telegram, on_discord = alice
    code = desk.show(on_telegram)
    with pytest.raises(UserError) as expired:
        desk.check(on_discord, code.code, at=code.expires_at)
    assert expired.value.key == "link/expired"
    assert desk.refusal(on_discord, code.code, at=code.expires_at).key == "link/bad_code"


def test_a_new_code_replaces_the_members_earlier_one(
    desk: Desk, alice: tuple[Member, Member]
) -> None:
    on_telegram, on_discord = alice
    first, second = desk.show(on_telegram).code, desk.show(on_telegram).code
    assert desk.refusal(on_discord, first).key == "link/bad_code"
    assert desk.check(on_discord, second).member_id == on_telegram.id


def test_a_code_works_once(desk: Desk, join: Join, alice: tuple[Member, Member]) -> None:
    on_telegram, on_discord = alice
    code = desk.show(on_telegram).code
    desk.enter(on_discord, code)
    assert desk.refusal(join("mallory", "discord"), code).key == "link/bad_code"


def test_a_code_shown_in_public_stops_working_at_once(
    desk: Desk, conn: Connection, alice: tuple[Member, Member]
) -> None:
    on_telegram, on_discord = alice
    code = desk.show(on_telegram).code
    assert linking.spend_codes_shown(conn, f"my code is {code[:4].lower()} - {code[4:]}!")
    assert not linking.spend_codes_shown(conn, code)  # spent already: nothing left to spend
    assert desk.refusal(on_discord, code).key == "link/bad_code"


def test_text_shows_a_code_in_every_run_of_its_letters_and_digits() -> None:
    assert linking.codes_in("ab-cd ef gh") == {"ABCDEFGH"}
    assert linking.codes_in("ＡＢＣＤＥＦＧＨ") == {"ABCDEFGH"}
    assert linking.codes_in("ABCDEFGHJ") == {"ABCDEFGH", "BCDEFGHJ"}
    # 0, 1, O and I are never in a code (they are read as each other).
    assert linking.codes_in("ABCDEFG0") == set()
    assert linking.codes_in("签到") == set() and linking.codes_in("/checkin") == set()


def test_a_code_entered_on_the_platform_it_was_shown_on_is_refused(desk: Desk, join: Join) -> None:
    code = desk.show(join("alice", "telegram")).code
    refused = desk.refusal(join("bob", "telegram"), code, platform="telegram")
    assert (refused.key, refused.context) == ("link/same_platform", {"platform": "telegram"})


def test_a_member_cannot_enter_their_own_code(desk: Desk, join: Join) -> None:
    alice = join("alice", "telegram")
    assert desk.refusal(alice, desk.show(alice).code).key == "link/same_member"


def test_two_members_with_accounts_on_one_platform_are_never_merged(
    desk: Desk, conn: Connection, join: Join, alice: tuple[Member, Member]
) -> None:
    desk.link(*alice)
    linked_alice = join("alice", "discord")  # now the member with both accounts
    bob = join("bob", "telegram")
    refused = desk.refusal(linked_alice, desk.show(bob).code)
    assert (refused.key, refused.context) == ("link/already_linked", {"platform": "telegram"})
    remaining = set(conn.execute(select(members.c.id)).scalars())
    assert {linked_alice.id, bob.id} <= remaining


def test_the_enterer_joins_the_member_who_showed_the_code(
    desk: Desk, conn: Connection, join: Join, alice: tuple[Member, Member]
) -> None:
    on_telegram, on_discord = alice
    assert desk.link(on_telegram, on_discord) == Linked(on_telegram.id, 0, ("discord", "telegram"))
    assert conn.execute(select(members.c.id).where(members.c.id == on_discord.id)).first() is None
    assert join("alice", "discord", at=local(1, 13)).id == on_telegram.id


def test_linking_adds_the_two_balances_and_keeps_every_entry(
    desk: Desk, conn: Connection, alice: tuple[Member, Member]
) -> None:
    on_telegram, on_discord = alice
    give(conn, on_telegram, 30)
    give(conn, on_discord, 25)
    assert desk.link(on_telegram, on_discord).balance == 55
    assert ledger.balance(conn, on_telegram.id) == 55 == ledger.ledger_sum(conn, on_telegram.id)
    assert sorted(e.delta for e in ledger.recent_entries(conn, on_telegram.id)) == [25, 30]


def test_linking_is_audited_with_the_points_moved(
    desk: Desk, conn: Connection, alice: tuple[Member, Member]
) -> None:
    on_telegram, on_discord = alice
    give(conn, on_discord, 25)
    desk.link(on_telegram, on_discord)
    row = conn.execute(select(audit_log).where(audit_log.c.action == "link")).one()
    assert (row.actor_member_id, row.target_member_id) == (on_telegram.id, on_telegram.id)
    assert row.details == {
        "by": "discord:alice",
        "merged_member_id": on_discord.id,
        "points_moved": 25,
    }


def test_the_streak_is_recounted_over_both_platforms_days(
    desk: Desk, conn: Connection, community: Community, alice: tuple[Member, Member]
) -> None:
    on_telegram, on_discord = alice
    for day in (1, 2, 3):
        check_in(conn, community, on_telegram.id, local(day))
    for day in (4, 5):
        check_in(conn, community, on_discord.id, local(day))
    desk.link(on_telegram, on_discord, at=local(5, 12))
    assert streak_status(conn, community, on_telegram.id, local(5, 13)).streak == 5
    assert check_in(conn, community, on_telegram.id, local(6)).streak == 6
    seventh = check_in(conn, community, on_telegram.id, local(7))
    assert (seventh.streak, seventh.bonus, seventh.points) == (7, True, BASE_POINTS + BONUS_POINTS)


def test_a_day_checked_in_on_both_platforms_counts_once_and_its_points_stay(
    desk: Desk, conn: Connection, community: Community, alice: tuple[Member, Member]
) -> None:
    on_telegram, on_discord = alice
    for day in (1, 2):
        check_in(conn, community, on_telegram.id, local(day))
    for day in (2, 3):
        check_in(conn, community, on_discord.id, local(day, 20))
    desk.link(on_telegram, on_discord, at=local(3, 21))
    rows = conn.execute(
        select(checkins.c.day, checkins.c.streak)
        .where(checkins.c.member_id == on_telegram.id)
        .order_by(checkins.c.day)
    ).all()
    assert [tuple(row) for row in rows] == [(on_day(1), 1), (on_day(2), 2), (on_day(3), 3)]
    assert ledger.balance(conn, on_telegram.id) == 4 * BASE_POINTS


def test_a_gap_on_both_platforms_still_breaks_the_merged_streak(
    desk: Desk, conn: Connection, community: Community, alice: tuple[Member, Member]
) -> None:
    on_telegram, on_discord = alice
    check_in(conn, community, on_telegram.id, local(1))
    check_in(conn, community, on_discord.id, local(3))
    desk.link(on_telegram, on_discord, at=local(3, 12))
    assert streak_status(conn, community, on_telegram.id, local(3, 13)).streak == 1


def test_votes_follow_the_merge_and_one_vote_per_poll_survives(
    desk: Desk, conn: Connection, community: Community, boss: Actor, alice: tuple[Member, Member]
) -> None:
    on_telegram, on_discord = alice
    both = open_poll(
        conn, community, platform="telegram", chat_id="g", text="Tea? | Y | N", actor=boss, at=NOW
    )
    only_discord = open_poll(
        conn, community, platform="discord", chat_id="d", text="Cake? | Y | N", actor=boss, at=NOW
    )
    vote(conn, both, community=community, member_id=on_telegram.id, options=(0,), at=NOW)
    vote(conn, both, community=community, member_id=on_discord.id, options=(1,), at=NOW)
    vote(conn, only_discord, community=community, member_id=on_discord.id, options=(1,), at=NOW)
    desk.link(on_telegram, on_discord)
    assert (tally(conn, both).counts, tally(conn, both).voters) == ((1, 0), 1)
    assert (tally(conn, only_discord).counts, tally(conn, only_discord).voters) == ((0, 1), 1)
    changed = vote(
        conn,
        only_discord,
        community=community,
        member_id=on_telegram.id,
        options=(0,),
        at=local(1, 13),
    )
    assert changed.points == 0
    assert ledger.balance(conn, on_telegram.id) == 3 * VOTE_POINTS


@pytest.mark.parametrize("asked_on", ["telegram", "discord"])
def test_streak_reminders_asked_for_on_either_account_survive_the_link(
    conn: Connection, desk: Desk, alice: tuple[Member, Member], asked_on: str
) -> None:
    from community.reminders import reminders_on, set_reminders

    on_telegram, on_discord = alice
    set_reminders(conn, (on_telegram if asked_on == "telegram" else on_discord).id, True)
    kept = desk.link(on_telegram, on_discord)
    assert reminders_on(conn, kept.member_id)
