"""Attacks on the loyalty engine (#10) by a malicious member, a careless admin and a careless
operator. Every test here failed when written: each names the defect it guards against, with its
reproduction in a comment. Times: T0 is Monday 2026-11-23 09:00 in the test community's
Asia/Shanghai."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Connection, Engine, func, select, update

from community import birthdays, invitations, linking, makeup
from community.birthday_jobs import celebrate
from community.checkins import check_in
from community.communities import Community, apply_config
from community.config import ConfigError, parse_config
from community.earning import credit
from community.jobs import FiringContext
from community.members import Member, identify
from loyalty import ledger, tiers
from loyalty.errors import UserError
from storage import migrate
from storage.engine import make_engine
from storage.schema import balances, checkins
from storage.schema import ledger as ledger_table
from storage.store import Store
from tests.conftest import T0, TEST_COMMUNITY, reconfigure
from tests.harness import Chat

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY1 = date(2026, 11, 23)


def local(day: int, hour: int = 9, minute: int = 0) -> datetime:
    """`hour:minute` on day number `day` (1 is Monday 2026-11-23) in Shanghai, as UTC."""
    wall = datetime.combine(DAY1 + timedelta(days=day - 1), time(hour, minute), SHANGHAI)
    return wall.astimezone(UTC)


def join(
    conn: Connection,
    community: Community,
    name: str,
    platform: str = "telegram",
    at: datetime | None = None,
) -> Member:
    return identify(
        conn,
        community_id=community.id,
        platform=platform,
        user_id=name,
        display_name=name.title(),
        username=name,
        at=at or local(1, 8),
    )


def link(
    conn: Connection, community: Community, keep: Member, absorb: Member, at: datetime
) -> None:
    """`keep` shows a code on Telegram, `absorb` enters it on Discord: one member, `keep`."""
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


def paid_for(conn: Connection, member_id: int, *reasons: str) -> list[int]:
    query = select(ledger_table.c.delta).where(
        ledger_table.c.member_id == member_id, ledger_table.c.reason.in_(reasons)
    )
    return list(conn.execute(query).scalars())


def private(chat: Chat) -> Chat:
    return Chat(chat.dispatcher, chat.clock, chat_id="dm", private=True)


# ---- /export and /campaign: dates at the edge of the calendar ----------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "/export ledger 2026-01-01 9999-12-31",
        "/export ledger 9999-12-31",
        "/export ledger 0001-01-01 0001-01-02",
    ],
)
async def test_export_with_a_date_at_the_edge_of_the_calendar_is_refused_politely(
    chat: Chat, text: str
) -> None:
    # Repro: an admin, privately: /export ledger 2026-01-01 9999-12-31 -> "Something went wrong
    # on my side" (OverflowError in exports.export: period.last + 1 day, or year 1 at +08:00
    # to UTC). A bad date must get a polite refusal (history/export_bad_date or _period).
    said = await private(chat).say("boss", text)
    assert said.outcome.reply is not None
    assert said.outcome.reply.template.startswith("history/export_"), said.text


@pytest.mark.parametrize(
    "text",
    [
        "/campaign add x2 all 9999-12-31 00:00..23:59",
        "/campaign add x2 all 9999-12-30..9999-12-31",
    ],
)
async def test_campaign_ending_at_the_end_of_the_calendar_is_refused_politely(
    chat: Chat, text: str
) -> None:
    # Repro: an admin: /campaign add x2 all 9999-12-31 00:00..23:59 -> "Something went wrong on
    # my side": read_range adds a minute (or a day) past 9999-12-31 and only catches ValueError,
    # not OverflowError.
    said = await chat.say("boss", text)
    assert said.outcome.reply is not None
    assert said.outcome.reply.template.startswith("earning/"), said.text


# ---- /link merges: what one person farmed with two accounts ------------------------------------


def test_birthday_bonus_is_paid_at_most_once_a_year_after_a_link_merge(
    conn: Connection, community: Community
) -> None:
    # Repro: Telegram account gives /birthday 01-10 (well, any date), Discord account gives
    # /birthday 06-10; the Discord one is paid on 2027-01-10... here: the second account is paid
    # on its birthday, then the two are linked, then the kept account's birthday comes the same
    # year: paid again. Keys are birthday:<member>:<year>, and the absorbed member's key does not
    # stop the kept member's.
    main, second = join(conn, community, "ann", "telegram"), join(conn, community, "ann", "discord")
    birthdays.set_own(conn, second, "12-01")
    birthdays.set_own(conn, main, "12-20")
    dec1 = datetime(2026, 12, 1, 9, tzinfo=SHANGHAI)
    celebrate(FiringContext(conn, community, dec1, dec1, set()))
    link(conn, community, main, second, dec1 + timedelta(hours=1))
    dec20 = datetime(2026, 12, 20, 9, tzinfo=SHANGHAI)
    celebrate(FiringContext(conn, community, dec20, dec20, set()))
    assert len(paid_for(conn, main.id, "birthday")) == 1


def test_a_self_invitation_through_a_second_account_pays_nothing_once_linked(
    conn: Connection, community: Community
) -> None:
    # Repro: ann (Telegram) sends /invite and joins through her own link with a second, fresh
    # account (Discord here, so the two can be linked); it checks in: ann is paid 50. Then ann
    # links the two with /link. The reward for inviting herself stays. The issue: "self-
    # invitations ... earn nothing"; the merge is where the bot learns both are one person.
    ann = join(conn, community, "ann", "telegram")
    code = invitations.invitation_for(
        conn, community.id, ann.id, "telegram", "-1001", local(1)
    ).code
    alt = join(conn, community, "ann_alt", "discord", at=local(2, 10))
    assert invitations.record_join(conn, community.id, "telegram", alt.id, code, local(2, 10))
    check_in(conn, community, alt.id, local(2, 11))
    assert paid_for(conn, ann.id, "invitation") == [50]
    link(conn, community, ann, alt, local(2, 12))
    assert sum(paid_for(conn, ann.id, "invitation", "invitation_reversed")) == 0


def test_an_inviter_is_paid_once_for_one_person_who_came_with_two_accounts(
    conn: Connection, community: Community
) -> None:
    # Repro: bob invites carol; carol joins the Telegram group and the Discord server through
    # bob's two invitations with two accounts, checks in with each (bob paid 50 twice), then
    # carol links her accounts. One person came in, bob keeps 100.
    bob = join(conn, community, "bob")
    on_telegram = invitations.invitation_for(
        conn, community.id, bob.id, "telegram", "-1001", local(1)
    )
    on_discord = invitations.invitation_for(conn, community.id, bob.id, "discord", "g1", local(1))
    carol_t = join(conn, community, "carol", "telegram", at=local(2, 10))
    carol_d = join(conn, community, "carol", "discord", at=local(2, 10))
    assert invitations.record_join(
        conn, community.id, "telegram", carol_t.id, on_telegram.code, local(2, 10)
    )
    assert invitations.record_join(
        conn, community.id, "discord", carol_d.id, on_discord.code, local(2, 10)
    )
    check_in(conn, community, carol_t.id, local(2, 11))
    check_in(conn, community, carol_d.id, local(2, 11))
    link(conn, community, carol_t, carol_d, local(2, 12))
    kept = sum(paid_for(conn, bob.id, "invitation", "invitation_reversed"))
    assert kept == community.rules.earning.invitation.points


def test_linking_two_accounts_whose_growth_together_reaches_a_tier_upgrades_at_once(
    conn: Connection, community: Community
) -> None:
    # Repro: ann has 1,500 growth value on Telegram (Silver), 1,500 on Discord (Silver); /link
    # adds balances.growth to 3,000 (Gold's threshold is 2,000) but leaves her Silver until her
    # next credit happens to re-evaluate: /tier shows "Silver, 3,000 growth, 0 to go".
    # "Upgrade at once when the threshold is crossed."
    main, second = join(conn, community, "ann", "telegram"), join(conn, community, "ann", "discord")
    for member in (main, second):
        credit(
            conn,
            community,
            member_id=member.id,
            action="award",
            key=f"a:{member.id}",
            at=local(1),
            base=1500,
        )
    assert tiers.tier_of(conn, main.id) == 1
    link(conn, community, main, second, local(1, 10))
    assert tiers.growth_value(conn, community.rules.tiers, main.id, local(1, 10)) == 3000
    assert tiers.tier_of(conn, main.id) == 2


# ---- Expiry: points whose expiry has come are spent before the daily run posts them ------------


def test_points_whose_expiry_has_come_cannot_be_spent_before_the_daily_run(
    conn: Connection, community: Community
) -> None:
    # Repro: ann earns 100 on 2026-11-23; they expire 2027-12-01 00:00 (Shanghai); the expiry
    # run is at 00:10. At 00:05 she redeems a 100-point reward: ledger.post takes the expired
    # lot (lots.take orders by expires_at and ignores it), the 00:10 run finds nothing to expire.
    # loyalty/lots.give_back already treats such a lot as expired "whether or not the daily
    # run has posted them yet"; spending must agree (or expire due lots first). With run_at
    # = "23:50" the window is almost a whole day.
    ann = join(conn, community, "ann")
    credit(conn, community, member_id=ann.id, action="award", key="a", at=local(1), base=100)
    just_after = datetime(2027, 12, 1, 0, 5, tzinfo=SHANGHAI)
    with pytest.raises(UserError):
        ledger.post(
            conn,
            community_id=community.id,
            member_id=ann.id,
            delta=-100,
            reason="redeem",
            key="spend",
            at=just_after,
        )


# ---- Races on PostgreSQL: two processes, two connections -------------------------------------


@pytest.fixture
def two_engines(db_url: str) -> Iterator[tuple[Engine, Engine, Community]]:
    if not db_url.startswith("postgresql"):
        pytest.skip("a race of two processes: PostgreSQL (SQLite's one writer serialises them)")
    engines = (
        make_engine(db_url, writer=True, pool_size=2),
        make_engine(db_url, writer=True, pool_size=2),
    )
    config, digest = parse_config(TEST_COMMUNITY)
    with engines[0].begin() as conn:
        community = apply_config(
            conn, config, digest, default_timezone="UTC", default_locale="en", at=T0
        )
    yield engines[0], engines[1], community
    for engine in engines:
        engine.dispose()


def _wait_until_blocked(engine: Engine, done: threading.Event) -> None:
    """Until another backend waits on a lock (the racing unit of work reached its UPDATE)."""
    with engine.connect() as watcher:
        for _ in range(2000):
            waiting = watcher.execute(
                sa.text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            ).scalar_one()
            watcher.rollback()
            if waiting or done.is_set():
                return
            done.wait(0.005)
    raise AssertionError("the racing unit of work never blocked")


def test_a_daily_cap_holds_when_two_processes_credit_at_once_on_postgresql(
    two_engines: tuple[Engine, Engine, Community],
) -> None:
    # Repro: accepted_answer pays 20, at most 100 a day. Ann has 80 today. Two bot processes
    # credit two accepted answers at once: both read the tally (80) before either commits,
    # both pay 20: 120 in a day. caps.allowance reads earn_tallies without a lock; the balance
    # row lock taken later by ledger.post does not make the second re-read the tally.
    first, second, community = two_engines
    with first.begin() as conn:
        ann = join(conn, community, "ann")
        for n in range(4):
            credit(
                conn,
                community,
                member_id=ann.id,
                action="accepted_answer",
                key=f"q{n}",
                at=local(1, 10),
            )
    done = threading.Event()
    errors: list[BaseException] = []

    def racer() -> None:
        try:
            with second.begin() as conn2:
                credit(
                    conn2,
                    community,
                    member_id=ann.id,
                    action="accepted_answer",
                    key="q-b",
                    at=local(1, 11),
                )
        except BaseException as error:
            errors.append(error)
        finally:
            done.set()

    with first.begin() as conn1:
        credit(
            conn1, community, member_id=ann.id, action="accepted_answer", key="q-a", at=local(1, 11)
        )
        thread = threading.Thread(target=racer)
        thread.start()
        _wait_until_blocked(first, done)
    thread.join(30)
    assert not errors, errors
    with first.connect() as conn:
        assert sum(paid_for(conn, ann.id, "accepted_answer")) <= 100


def test_one_free_make_up_card_fills_one_day_when_two_processes_use_it_at_once_on_postgresql(
    two_engines: tuple[Engine, Engine, Community],
) -> None:
    # Repro: ann is Silver (1 free card a month) and missed days 2, 3 and 4. Two processes run
    # /makeup 11-24 and /makeup 11-26 at once: each counts the tier cards used this month (0,
    # the other's row is not committed) and takes "the" free card; nothing guards it (bought
    # cards have _TAKE_BOUGHT ... makeup_cards > 0; tier cards have no such row to guard).
    first, second, community = two_engines
    with first.begin() as conn:
        ann = join(conn, community, "ann")
        conn.execute(update(balances).where(balances.c.member_id == ann.id).values(tier=1))
        check_in(conn, community, ann.id, local(1))
    today = local(5)
    done = threading.Event()
    errors: list[BaseException] = []

    def racer() -> None:
        try:
            with second.begin() as conn2, contextlib.suppress(UserError):  # no card left: right
                makeup.make_up(conn2, community, ann.id, today, DAY1 + timedelta(days=3))
        except BaseException as error:
            errors.append(error)
        finally:
            done.set()

    # The second process runs in a thread: with the member locked it waits for the first to
    # commit (in one thread, it would wait for itself).
    with first.begin() as conn1:
        makeup.make_up(conn1, community, ann.id, today, DAY1 + timedelta(days=1))
        thread = threading.Thread(target=racer)
        thread.start()
        _wait_until_blocked(first, done)
    thread.join(30)
    assert not errors, errors
    with first.connect() as conn:
        used = conn.execute(
            select(func.count()).where(checkins.c.member_id == ann.id, checkins.c.card == "tier")
        ).scalar_one()
    assert used == 1


def test_two_make_ups_of_the_same_day_at_once_refuse_the_second_politely_on_postgresql(
    two_engines: tuple[Engine, Engine, Community],
) -> None:
    # Repro: two processes run /makeup 11-24 for ann at once: both find the day missed, both
    # insert it; the second hits uq_checkins_member_day: "Something went wrong on my side".
    first, second, community = two_engines
    with first.begin() as conn:
        ann = join(conn, community, "ann")
        conn.execute(update(balances).where(balances.c.member_id == ann.id).values(tier=2))
        check_in(conn, community, ann.id, local(1))
    done = threading.Event()
    refusals: list[str] = []
    errors: list[BaseException] = []

    def racer() -> None:
        try:
            with second.begin() as conn2:
                makeup.make_up(conn2, community, ann.id, local(5), DAY1 + timedelta(days=1))
        except UserError as refused:
            refusals.append(refused.key)
        except BaseException as error:
            errors.append(error)
        finally:
            done.set()

    with first.begin() as conn1:
        makeup.make_up(conn1, community, ann.id, local(5), DAY1 + timedelta(days=1))
        thread = threading.Thread(target=racer)
        thread.start()
        _wait_until_blocked(first, done)
    thread.join(30)
    assert not errors, errors
    assert refusals == ["makeup/already_checked_in"]


# ---- community.toml as a careless admin writes it --------------------------------------------


@pytest.mark.parametrize(
    ("what", "edit"),
    [
        # The member day multiplies only earned actions: an award or a birthday bonus is paid as
        # given (loyalty/earning.py ignores them), yet the file accepts them in its actions.
        (
            "member day on awards",
            ('actions = ["checkin",', 'actions = ["award", "birthday", "checkin",'),
        ),
        # "values are checked strictly (10, not "10")": a tier's multiplier given as text passes.
        ("multiplier as text", ("multiplier = 1.1", 'multiplier = "1.1"')),
        # Two tiers both called Silver: /tier and the congratulations cannot tell them apart.
        ("duplicate tier names", ('en = "Gold"', 'en = "Silver"')),
        # A digital reward gives a title; without `value` it gives "" (or its name, by luck).
        ("digital without value", ('value = "Super Fan"', "")),
    ],
)
def test_example_config_mistakes_are_refused(what: str, edit: tuple[str, str]) -> None:
    # Repro: edit community.toml as shown and start the bot: it starts.
    text = (Path(__file__).parent.parent / "community.toml").read_text(encoding="utf-8")
    assert edit[0] in text, what
    with pytest.raises(ConfigError):
        parse_config(text.replace(*edit, 1))


# ---- Migration 0007 as an operator runs it -----------------------------------------------------


def _at_0006_with_a_member(url: str) -> None:
    migrate.upgrade(url, "0006")
    engine = make_engine(url, writer=True, pool_size=1)
    rules = {"checkin": {"points": 15, "streak_bonus_every": 7, "streak_bonus_points": 30}}
    stamp = "2026-01-01 00:00:00"
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO communities (slug, name, timezone, locale, rules, config_hash,"
                " created_at) VALUES ('old', 'Old', 'Asia/Shanghai', 'en', :rules, 'x', :at)"
            ),
            {"rules": json.dumps(rules), "at": stamp},
        )
        conn.execute(
            sa.text(
                "INSERT INTO members (community_id, display_name, created_at, last_seen_at)"
                " VALUES (1, 'Ann', :at, :at)"
            ),
            {"at": stamp},
        )
        conn.execute(
            sa.text(
                "INSERT INTO balances (member_id, community_id, points, updated_at)"
                " VALUES (1, 1, 30, :at)"
            ),
            {"at": stamp},
        )
        conn.execute(
            sa.text(
                "INSERT INTO ledger (community_id, member_id, delta, reason, note, idempotency_key,"
                " created_at) VALUES (1, 1, 30, 'checkin', '', 'k1', :at)"
            ),
            {"at": stamp},
        )
    engine.dispose()


def _downgrade(url: str, revision: str) -> None:
    engine = make_engine(url, writer=True, pool_size=1)
    try:
        with engine.begin() as conn:
            config = migrate.alembic_config(url)
            config.attributes["connection"] = conn
            command.downgrade(config, revision)
    finally:
        engine.dispose()


def test_migration_0007_downgrade_leaves_rules_that_0006_knew(db_url: str) -> None:
    # Repro: apply community.toml at 0007 (the stored rules are the whole model), downgrade to
    # 0006: the rules keep "campaigns" and points.export_default_days, sections 0006's strict
    # models (extra="forbid") do not know, so the downgraded bot cannot load its community.
    if not db_url.startswith("postgresql"):
        # Batch mode rebuilds the tables inside the migration's transaction, where SQLite keeps
        # enforcing foreign keys: open, see issue 10's note.
        pytest.skip("SQLite: a downgrade of a database with members fails on its foreign keys")
    engine = make_engine(db_url, writer=True, pool_size=1)
    with engine.begin() as conn:
        config, digest = parse_config(TEST_COMMUNITY)
        apply_config(conn, config, digest, default_timezone="UTC", default_locale="en", at=T0)
    engine.dispose()
    _downgrade(db_url, "0006")
    engine = make_engine(db_url, writer=True, pool_size=1)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT rules FROM communities")).scalar_one()
    engine.dispose()
    rules = json.loads(stored) if isinstance(stored, str) else stored
    assert "campaigns" not in rules
    assert "export_default_days" not in rules.get("points", {})


async def test_a_chinese_admin_can_name_campaign_actions_in_chinese(
    chat: Chat, store: Store
) -> None:
    # Repro: a zh_CN community, admin: /campaign add 3倍 签到 12-12..12-13 -> "“签到”不是积分活动
    # 可以加倍的行为…checkin, streak_bonus…". The factor reads 3倍 and "all" reads 全部/所有, but
    # the actions only in English, though members check in with 签到 everywhere else.
    reconfigure(store, locale="zh_CN")
    said = await chat.say("boss", "/campaign add 3倍 签到 12-12..12-13")
    assert said.outcome.reply is not None
    assert said.outcome.reply.template == "earning/campaign_added", said.text
