"""/export's files: the ledger or the redemptions of a period of the community's local days, as
a CSV Excel opens correctly, with formulas defused, at most export_max_rows rows, audited."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import Connection, insert, select

from community import exports
from community.audit import Actor
from community.communities import Community
from community.exports import Period
from community.members import Member
from loyalty import ledger
from loyalty.errors import UserError
from storage.schema import accounts, audit_log, members, redemptions, rewards
from tests.domain.conftest import Join, local, on_day

SECOND = timedelta(seconds=1)


def parse(content: bytes) -> list[dict[str, str]]:
    """The CSV as Excel would read it: a byte order mark, then UTF-8."""
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def post(
    conn: Connection,
    member: Member,
    delta: int,
    key: str,
    at: datetime,
    *,
    note: str = "",
    actor: int | None = None,
    why: ledger.Why | None = None,
) -> None:
    ledger.post(
        conn,
        community_id=member.community_id,
        member_id=member.id,
        delta=delta,
        reason="award" if delta > 0 else "deduct",
        key=key,
        at=at,
        note=note,
        actor_member_id=actor,
        why=why,
    )


def take(
    conn: Connection, community: Community, boss: Actor, kind: str, first: int, last: int
) -> exports.Export:
    return exports.export(
        conn,
        community,
        kind=kind,
        period=Period(on_day(first), on_day(last)),
        actor=boss,
        at=local(last, 12),
    )


def test_the_ledger_export_holds_the_periods_entries_in_local_days_with_every_column(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    alice = join("alice")
    conn.execute(
        insert(accounts).values(
            community_id=community.id,
            member_id=alice.id,
            platform="discord",
            platform_user_id="777",
            display_name="Alice",
            created_at=local(1),
        )
    )
    why = ledger.Why(10, [{"kind": "member_day", "factor": "2", "ref": ""}], "v7")
    post(conn, alice, 5, "before", local(1, 0, 0) - SECOND)  # the day before, in Shanghai
    post(conn, alice, 20, "first", local(1, 0, 0), why=why, note="day one")
    post(conn, alice, -3, "second", local(2, 23, 59), note="oops", actor=boss.member_id)
    post(conn, alice, 7, "after", local(3, 0, 0))
    done = take(conn, community, boss, "ledger", 1, 2)
    assert (done.rows, done.cut, done.name) == (2, False, "ledger-2026-11-23_2026-11-24.csv")
    first, second = parse(done.content)
    assert list(first) == list(exports.LEDGER_COLUMNS)
    assert first["created_at"] == "2026-11-23T00:00:00+08:00"
    assert (first["member_id"], first["member_name"]) == (str(alice.id), "Alice")
    assert first["accounts"] == "telegram:alice discord:777"
    assert (first["delta"], first["reason"], first["base"], first["rule_version"]) == (
        "20",
        "award",
        "10",
        "v7",
    )
    assert first["multipliers"] == '[{"kind":"member_day","factor":"2","ref":""}]'
    assert (first["note"], first["actor_member_id"]) == ("day one", "")
    assert (second["delta"], second["base"], second["multipliers"]) == ("-3", "", "")
    assert second["actor_member_id"] == str(boss.member_id)
    assert second["created_at"] == "2026-11-24T23:59:00+08:00"


def test_cells_a_spreadsheet_would_run_as_formulas_are_defused_and_chinese_survives(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    evil = join("evil")
    conn.execute(
        members.update().where(members.c.id == evil.id).values(display_name='=HYPERLINK("x")')
    )
    post(conn, evil, 10, "k1", local(1), note="@SUM(A1)")
    post(conn, evil, -4, "k2", local(1), note="-2+3")
    xiaoming = join("xiaoming")
    post(conn, xiaoming, 8, "k3", local(1), note="每日签到 +1 很棒")
    rows = parse(take(conn, community, boss, "ledger", 1, 1).content)
    assert [(r["member_name"], r["delta"], r["note"]) for r in rows] == [
        ('\'=HYPERLINK("x")', "10", "'@SUM(A1)"),
        ('\'=HYPERLINK("x")', "-4", "'-2+3"),  # the number stays a number
        ("Xiaoming", "8", "每日签到 +1 很棒"),
    ]
    assert exports.safe_cell("+1") == "'+1" and exports.safe_cell(-1) == "-1"


def test_an_export_stops_at_export_max_rows_and_says_so(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    points = community.rules.points.model_copy(update={"export_max_rows": 2})
    small = replace(community, rules=community.rules.model_copy(update={"points": points}))
    alice = join("alice")
    for n in range(3):
        post(conn, alice, n + 1, f"k{n}", local(1, 9 + n))
    done = take(conn, small, boss, "ledger", 1, 1)
    assert (done.rows, done.cut, done.max_rows) == (2, True, 2)
    assert [r["delta"] for r in parse(done.content)] == ["1", "2"]
    exact = take(conn, small, boss, "ledger", 2, 2)
    assert (exact.rows, exact.cut) == (0, False)


def test_the_redemptions_export_names_the_reward_and_its_states(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    alice = join("alice")
    reward = conn.execute(
        insert(rewards)
        .values(
            community_id=community.id,
            name="保温杯 Mug",
            cost=300,
            kind="gift",
            created_at=local(1),
        )
        .returning(rewards.c.id)
    ).scalar_one()
    for n, (state, at) in enumerate([("fulfilled", local(1, 10)), ("refunded", local(9))]):
        conn.execute(
            insert(redemptions).values(
                community_id=community.id,
                member_id=alice.id,
                reward_id=reward,
                cost=300,
                state=state,
                key=f"r{n}",
                created_at=at,
                fulfilled_at=local(2, 15) if state == "fulfilled" else None,
                refunded_at=None,
                note="",
            )
        )
    done = take(conn, community, boss, "redemptions", 1, 3)
    (row,) = parse(done.content)
    assert list(row) == list(exports.REDEMPTION_COLUMNS)
    assert (row["member_name"], row["reward_id"], row["reward_name"], row["cost"]) == (
        "Alice",
        str(reward),
        "保温杯 Mug",
        "300",
    )
    assert (row["state"], row["fulfilled_at"], row["refunded_at"]) == (
        "fulfilled",
        "2026-11-24T15:00:00+08:00",
        "",
    )
    assert row["created_at"] == "2026-11-23T10:00:00+08:00"


def test_every_export_is_audited_with_its_kind_period_and_rows(
    conn: Connection, community: Community, join: Join, boss: Actor
) -> None:
    post(conn, join("alice"), 5, "k", local(1))
    take(conn, community, boss, "ledger", 1, 1)
    (line,) = conn.execute(select(audit_log).where(audit_log.c.action == "export")).all()
    assert line.actor_member_id == boss.member_id
    assert line.details == {
        "by": "console:boss",
        "kind": "ledger",
        "first": "2026-11-23",
        "last": "2026-11-23",
        "rows": 1,
        "cut": False,
    }


def test_without_dates_an_export_covers_the_last_30_local_days_ending_today(
    community: Community,
) -> None:
    # 01:00 on day 2 in Shanghai is still day 1 in UTC: the community's clock decides.
    today = on_day(2)
    assert exports.period(community, local(2, 1), ()) == Period(today - timedelta(days=29), today)
    assert exports.period(community, local(2, 1), ("2026-11-01",)) == Period(
        date(2026, 11, 1), today
    )
    assert exports.period(community, local(2), ("2026-11-01", "2026-11-01")) == Period(
        date(2026, 11, 1), date(2026, 11, 1)
    )


@pytest.mark.parametrize("text", ["2026-02-30", "yesterday", "2026/11/01", "20261101"])
def test_a_date_that_is_no_date_is_refused(community: Community, text: str) -> None:
    with pytest.raises(UserError) as refused:
        exports.period(community, local(1), (text,))
    assert (refused.value.key, refused.value.context) == ("history/export_bad_date", {"text": text})


def test_a_period_that_ends_before_it_starts_is_refused(community: Community) -> None:
    with pytest.raises(UserError) as refused:
        exports.period(community, local(1), ("2026-11-30", "2026-11-01"))
    assert refused.value.key == "history/export_bad_period"
    assert refused.value.context == {"first": "2026-11-30", "last": "2026-11-01"}


def test_an_unknown_kind_is_refused_and_nothing_audited(
    conn: Connection, community: Community, boss: Actor
) -> None:
    with pytest.raises(UserError) as refused:
        take(conn, community, boss, "members", 1, 1)
    assert refused.value.key == "history/export_usage"
    assert conn.execute(select(audit_log).where(audit_log.c.action == "export")).all() == []


def test_a_file_holds_only_the_rows_a_reply_may_carry() -> None:
    lines = [[n, "名字" * 10] for n in range(100)]
    whole, held = exports.to_csv(("id", "name"), lines)
    assert held == 100 and len(parse(whole)) == 100
    small, held = exports.to_csv(("id", "name"), lines, max_bytes=len(whole) // 2)
    assert len(small) <= len(whole) // 2
    assert 40 < held < 50 and [r["id"] for r in parse(small)] == [str(n) for n in range(held)]
