"""The ambassador programme on a real database: the roster (appoint, remove, level, promote,
audited), the month's output counted from submissions and answers, the month-end evaluation
(rewards paid once, moves down, proposals up), the multiplier on approved content, /link."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Connection, insert, select

from community import ambassadors, linking
from community.ambassador_counts import month_output
from community.ambassador_evaluation import evaluate_month, reward_key
from community.ambassador_months import Month, Output
from community.audit import Actor
from community.communities import Community
from community.members import Member
from loyalty import ledger
from loyalty.errors import UserError
from storage.ambassador_tables import ambassador_months
from storage.qa_tables import answers, questions
from storage.schema import audit_log, outbox
from storage.schema import ledger as ledger_table
from storage.ugc_tables import submissions
from tests.domain.conftest import SHANGHAI, Join

NOVEMBER, DECEMBER = Month(2026, 11), Month(2026, 12)


def moment(month: Month, day: int, hour: int = 12) -> datetime:
    """`hour` o'clock on `day` of `month` in Shanghai, as UTC."""
    return datetime(month.year, month.month, day, hour, tzinfo=SHANGHAI).astimezone(UTC)


def submitted(
    conn: Connection,
    member: Member,
    at: datetime,
    *,
    state: str = "approved",
    featured: bool = False,
    reversed_at: datetime | None = None,
    times: int = 1,
) -> None:
    """`times` submissions of the member decided at `at`, as the review writes them (an
    admin's reversal changes the state and sets reversed_at)."""
    for _ in range(times):
        conn.execute(
            insert(submissions),
            {
                "community_id": member.community_id,
                "member_id": member.id,
                "category": "review",
                "text": "my review",
                "links": [],
                "platform": "telegram",
                "chat_id": "g",
                "state": state,
                "featured": featured,
                "decided_at": at,
                "reversed_at": reversed_at,
                "created_at": at - timedelta(hours=1),
            },
        )


def answered(conn: Connection, member: Member, asker: Member, at: datetime, times: int = 1) -> int:
    """The member answers a new question of `asker` (`times` answers); the question's id."""
    question = conn.execute(
        insert(questions).returning(questions.c.id),
        {
            "community_id": asker.community_id,
            "member_id": asker.id,
            "text": "Does it run large?",
            "platform": "telegram",
            "chat_id": "g",
            "created_at": at - timedelta(hours=1),
        },
    ).scalar_one()
    for n in range(times):
        conn.execute(
            insert(answers),
            {
                "community_id": member.community_id,
                "question_id": question,
                "member_id": member.id,
                "text": f"answer {n}",
                "platform": "telegram",
                "chat_id": "g",
                "created_at": at,
            },
        )
    return int(question)


def appoint(
    conn: Connection, community: Community, boss: Actor, member: Member, level: str, at: datetime
) -> None:
    found = community.rules.ambassadors.level(level)
    assert found is not None
    ambassadors.appoint(conn, community, actor=boss, member_id=member.id, level=found, at=at)


def level_of(conn: Connection, community: Community, member: Member) -> str | None:
    found = ambassadors.active_ambassador(conn, community.id, member.id)
    return None if found is None else found.level


def evaluated(conn: Connection, member: Member) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(ambassador_months)
        .where(ambassador_months.c.member_id == member.id)
        .order_by(ambassador_months.c.month)
    )
    return [dict(row._mapping) for row in rows]


def directs(conn: Connection, to: str) -> list[str]:
    """The templates of the private messages queued to account `to`, in order."""
    rows = conn.execute(
        select(outbox.c.payload)
        .where(outbox.c.kind == "direct", outbox.c.chat_id == to)
        .order_by(outbox.c.id)
    )
    return [row.payload["template"] for row in rows]


@pytest.fixture
def when() -> datetime:
    return moment(Month(2026, 10), 20)  # appointed in October, before the months judged here


# The roster -----------------------------------------------------------------------------------


def test_appointing_removing_and_moving_are_audited_and_removal_keeps_the_row(
    conn: Connection, community: Community, join: Join, boss: Actor, when: datetime
) -> None:
    ann = join("ann")
    appoint(conn, community, boss, ann, "trainee", when)
    senior = community.rules.ambassadors.level("senior")
    assert senior is not None
    old = ambassadors.set_level(
        conn, community, actor=boss, member_id=ann.id, level=senior, at=when
    )
    assert old == "trainee" and level_of(conn, community, ann) == "senior"
    ambassadors.remove(conn, community, actor=boss, member_id=ann.id, at=when)
    assert level_of(conn, community, ann) is None
    kept = ambassadors.ambassador_of(conn, community.id, ann.id)
    assert kept is not None and kept.removed_at == when and kept.level == "senior"
    # Appointed again: the same row, open again.
    appoint(conn, community, boss, ann, "ambassador", when + timedelta(days=1))
    assert level_of(conn, community, ann) == "ambassador"
    actions = conn.execute(
        select(audit_log.c.action).where(audit_log.c.target_member_id == ann.id)
    ).scalars()
    assert list(actions) == [
        "ambassador_add",
        "ambassador_level",
        "ambassador_remove",
        "ambassador_add",
    ]


def test_the_roster_refuses_twice_the_same_member_and_more_than_max(
    conn: Connection, community: Community, join: Join, boss: Actor, when: datetime
) -> None:
    ann, bob = join("ann"), join("bob")
    appoint(conn, community, boss, ann, "trainee", when)
    with pytest.raises(UserError) as twice:
        appoint(conn, community, boss, ann, "senior", when)
    assert twice.value.key == "ambassador/already"
    small = community.rules.model_copy(
        update={
            "ambassadors": community.rules.ambassadors.model_copy(update={"max_ambassadors": 1})
        }
    )
    with pytest.raises(UserError) as full:
        appoint(conn, replace(community, rules=small), boss, bob, "trainee", when)
    assert full.value.key == "ambassador/roster_full"
    with pytest.raises(UserError) as nobody:
        ambassadors.remove(conn, community, actor=boss, member_id=bob.id, at=when)
    assert nobody.value.key == "ambassador/not_ambassador"


def test_level_words_are_keys_or_names_in_either_language(community: Community) -> None:
    rules = community.rules.ambassadors
    for word in ("senior", "Senior Ambassador", "资深大使", " SENIOR "):
        found = ambassadors.find_level(rules, word)
        assert found is not None and found.key == "senior", word
    assert ambassadors.find_level(rules, "gold") is None


def test_an_ambassador_earns_the_levels_multiplier_on_approved_content(
    conn: Connection, community: Community, join: Join, boss: Actor, when: datetime
) -> None:
    ann, bob = join("ann"), join("bob")
    appoint(conn, community, boss, ann, "ambassador", when)
    [multiplier] = ambassadors.standing_multiplier(conn, community, ann.id)
    assert (multiplier.kind, multiplier.factor, multiplier.ref) == (
        "ambassador",
        Decimal("1.5"),
        "ambassador",
    )
    assert ambassadors.standing_multiplier(conn, community, bob.id) == ()
    ambassadors.remove(conn, community, actor=boss, member_id=ann.id, at=when)
    assert ambassadors.standing_multiplier(conn, community, ann.id) == ()


# Counting a month --------------------------------------------------------------------------


def test_a_month_counts_submissions_approved_in_it_featured_and_questions_answered(
    conn: Connection, community: Community, join: Join, boss: Actor, when: datetime
) -> None:
    ann, asker, outsider = join("ann"), join("asker"), join("outsider")
    appoint(conn, community, boss, ann, "ambassador", when)
    submitted(conn, ann, moment(NOVEMBER, 3), times=2)
    submitted(conn, ann, moment(NOVEMBER, 4), featured=True)
    # An approval an admin took back (rejected now), and a rejection of October's an admin
    # turned into an approval in November (it counts for November).
    submitted(conn, ann, moment(NOVEMBER, 5), state="rejected", reversed_at=moment(NOVEMBER, 6))
    submitted(conn, ann, moment(Month(2026, 10), 9), reversed_at=moment(NOVEMBER, 6))
    submitted(conn, ann, moment(NOVEMBER, 5), state="rejected")
    submitted(conn, ann, moment(NOVEMBER, 5), state="pending")
    # Shanghai's December starts at 16:00 UTC on Nov 30: decided then, it is December's.
    submitted(conn, ann, moment(DECEMBER, 1, hour=0))
    submitted(conn, ann, moment(NOVEMBER, 30, hour=23))
    answered(conn, ann, asker, moment(NOVEMBER, 6), times=3)  # one question, three answers
    answered(conn, ann, asker, moment(NOVEMBER, 7))
    answered(conn, ann, ann, moment(NOVEMBER, 7))  # her own question
    answered(conn, ann, asker, moment(Month(2026, 10), 31, hour=23))
    submitted(conn, outsider, moment(NOVEMBER, 3))  # no ambassador: not on the roster
    [counted] = month_output(conn, community, NOVEMBER)
    assert counted.member_id == ann.id and counted.level == "ambassador"
    assert counted.output == Output(submissions=5, featured=1, answers=2)


def test_the_month_end_leaves_out_who_was_appointed_after_the_month(
    conn: Connection, community: Community, join: Join, boss: Actor, when: datetime
) -> None:
    ann, bob = join("ann"), join("bob")
    appoint(conn, community, boss, ann, "trainee", when)
    appoint(conn, community, boss, bob, "trainee", moment(DECEMBER, 1, hour=0))
    found = month_output(conn, community, NOVEMBER, appointed_before=NOVEMBER.ends(SHANGHAI))
    assert [c.member_id for c in found] == [ann.id]


# The month end ---------------------------------------------------------------------------------


def test_a_met_month_pays_the_levels_reward_once_however_often_it_runs(
    conn: Connection, community: Community, join: Join, boss: Actor, when: datetime
) -> None:
    ann, asker = join("ann"), join("asker")
    appoint(conn, community, boss, ann, "trainee", when)  # 2 submissions, 2 answers; 50 points
    submitted(conn, ann, moment(NOVEMBER, 3), times=2)
    answered(conn, ann, asker, moment(NOVEMBER, 4))
    answered(conn, ann, asker, moment(NOVEMBER, 5))
    at = moment(DECEMBER, 1, hour=0)
    first = evaluate_month(conn, community, NOVEMBER, at=at)
    assert (first.evaluated, first.met, first.paid) == (1, 1, 50)
    assert ledger.balance(conn, ann.id) == 50
    again = evaluate_month(conn, community, NOVEMBER, at=at + timedelta(days=1))
    assert (again.evaluated, again.paid) == (0, 0)
    assert ledger.balance(conn, ann.id) == 50
    [month] = evaluated(conn, ann)
    assert (month["month"], month["outcome"], month["reward"]) == ("2026-11", "met", 50)
    assert directs(conn, "ann") == ["ambassador/month_met"]
    key = conn.execute(
        select(ledger_table.c.idempotency_key).where(ledger_table.c.member_id == ann.id)
    ).scalar_one()
    assert key == reward_key(community.id, ann.id, NOVEMBER)


def test_missing_the_tasks_two_months_in_a_row_moves_down_a_level(
    conn: Connection, community: Community, join: Join, boss: Actor, when: datetime
) -> None:
    ann = join("ann")
    appoint(conn, community, boss, ann, "ambassador", when)
    evaluate_month(conn, community, NOVEMBER, at=moment(DECEMBER, 1, 0))
    assert level_of(conn, community, ann) == "ambassador"
    done = evaluate_month(conn, community, DECEMBER, at=moment(Month(2027, 1), 1, 0))
    assert done.demoted == [ann.id]
    assert level_of(conn, community, ann) == "trainee"
    assert [m["demoted_to"] for m in evaluated(conn, ann)] == [None, "trainee"]
    assert directs(conn, "ann") == ["ambassador/month_missed", "ambassador/demoted"]
    demotion = conn.execute(
        select(audit_log.c.action, audit_log.c.actor_member_id).where(
            audit_log.c.action == "ambassador_demote"
        )
    ).one()
    assert demotion.actor_member_id is None  # the scheduler did it


def test_at_the_lowest_level_a_missing_ambassador_stays_and_the_admins_are_told(
    conn: Connection, community: Community, join: Join, boss: Actor, when: datetime
) -> None:
    ann = join("ann")
    appoint(conn, community, boss, ann, "trainee", when)  # boss acted as an admin: told
    evaluate_month(conn, community, NOVEMBER, at=moment(DECEMBER, 1, 0))
    evaluate_month(conn, community, DECEMBER, at=moment(Month(2027, 1), 1, 0))
    assert level_of(conn, community, ann) == "trainee"
    rows = conn.execute(
        select(outbox.c.payload).where(outbox.c.kind == "direct", outbox.c.chat_id == "boss")
    ).scalars()
    reports = [p for p in rows if p["template"] == "ambassador/month_report"]
    assert [len(r["context"]["lowest"]) for r in reports] == [0, 1]


def test_exceeding_three_months_proposes_a_move_up_that_an_admin_confirms_once(
    conn: Connection, community: Community, join: Join, boss: Actor, when: datetime
) -> None:
    ann, asker = join("ann"), join("asker")
    month = Month(2026, 9)
    # Exceeding a trainee's tasks: 3 submissions and 3 answers.
    appoint(conn, community, boss, ann, "trainee", moment(Month(2026, 8), 1))
    for _ in range(3):
        submitted(conn, ann, moment(month, 10), times=3)
        for day in (11, 12, 13):
            answered(conn, ann, asker, moment(month, day))
        done = evaluate_month(conn, community, month, at=moment(month.next(), 1, 0))
        month = month.next()
    [proposal] = done.proposals
    assert level_of(conn, community, ann) == "trainee"  # nothing moves before an admin says so
    row = evaluated(conn, ann)[-1]
    assert (row["id"], row["outcome"], row["proposed_level"]) == (
        proposal,
        "exceeded",
        "ambassador",
    )
    promoted = ambassadors.promote(
        conn, community, actor=boss, number=proposal, at=moment(DECEMBER, 2)
    )
    assert (promoted.old, promoted.new) == ("trainee", "ambassador")
    assert level_of(conn, community, ann) == "ambassador"
    with pytest.raises(UserError) as twice:
        ambassadors.promote(conn, community, actor=boss, number=proposal, at=moment(DECEMBER, 2))
    assert twice.value.key == "ambassador/proposal_done"
    with pytest.raises(UserError) as missing:
        ambassadors.promote(conn, community, actor=boss, number=999, at=moment(DECEMBER, 2))
    assert missing.value.key == "ambassador/no_such_proposal"


def test_a_proposal_for_an_ambassador_moved_since_no_longer_applies(
    conn: Connection, community: Community, join: Join, boss: Actor, when: datetime
) -> None:
    ann = join("ann")
    appoint(conn, community, boss, ann, "trainee", when)
    number = conn.execute(
        insert(ambassador_months).returning(ambassador_months.c.id),
        {
            "community_id": community.id,
            "member_id": ann.id,
            "month": "2026-11",
            "level": "trainee",
            "outcome": "exceeded",
            "submissions": 3,
            "featured": 0,
            "answers": 3,
            "proposed_level": "ambassador",
            "evaluated_at": when,
        },
    ).scalar_one()
    ambassadors.remove(conn, community, actor=boss, member_id=ann.id, at=when)
    with pytest.raises(UserError) as outdated:
        ambassadors.promote(conn, community, actor=boss, number=number, at=when)
    assert outdated.value.key == "ambassador/proposal_outdated"


def test_a_partial_first_month_is_not_held_against_a_new_ambassador(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    ann = join("ann")
    appoint(conn, community, boss, ann, "ambassador", moment(NOVEMBER, 20))
    evaluate_month(conn, community, NOVEMBER, at=moment(DECEMBER, 1, 0))
    evaluate_month(conn, community, DECEMBER, at=moment(Month(2027, 1), 1, 0))
    assert level_of(conn, community, ann) == "ambassador"
    assert [m["partial"] for m in evaluated(conn, ann)] == [True, False]


# /link -----------------------------------------------------------------------------------------


def test_linking_two_members_keeps_the_one_on_the_roster_and_every_month_once(
    conn: Connection, community: Community, join: Join, boss: Actor, when: datetime
) -> None:
    ann, ann_discord = join("ann"), join("ann2", "discord")
    appoint(conn, community, boss, ann_discord, "senior", when)
    appoint(conn, community, boss, ann, "trainee", when)
    ambassadors.remove(conn, community, actor=boss, member_id=ann.id, at=when)
    evaluate_month(conn, community, NOVEMBER, at=moment(DECEMBER, 1, 0))
    linking.merge_members(
        conn, community, keep=ann.id, absorb=ann_discord.id, at=when, account="telegram:ann"
    )
    assert level_of(conn, community, ann) == "senior"
    assert [m["month"] for m in evaluated(conn, ann)] == ["2026-11"]
