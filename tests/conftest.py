"""Fixtures: a real database (SQLite file, and PostgreSQL where TEST_DATABASE_URL is set)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sqlalchemy import Connection, Engine, create_engine, make_url, text

from community.communities import Community, apply_config
from community.config import parse_config
from handlers.router import Dispatcher
from storage import migrate
from storage.engine import make_engine, normalize_url
from storage.store import Store
from tests.harness import Chat, Clock

# Property tests check behaviour, never speed: on a loaded CI machine (two cores, PostgreSQL and
# two workers busy) generating inputs is slow, and Hypothesis's timing health check and deadline
# then failed a correct test. Tests that set their own settings start from these.
settings.register_profile("suite", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("suite")

T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)

# Listed community admins on the real platforms: their first words in a group adopt it, after
# which that group's own admins count as community admins too.
TELEGRAM_OWNER = 1000
DISCORD_OWNER = 1000

TEST_COMMUNITY = f"""
admins = ["console:boss", "telegram:{TELEGRAM_OWNER}", "discord:{DISCORD_OWNER}"]
[community]
slug = "acme"
name = "Acme Fans"
timezone = "Asia/Shanghai"
locale = "en"
[checkin]
streak_bonus_every = 7
[earning.checkin]
points = 10
[earning.streak_bonus]
points = 20
[points]
max_award = 1000
"""


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per session; each test gets a copy (migrating costs ~0.2 s)."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    migrate.upgrade(f"sqlite:///{path}")
    return path


def _database_url(base: str, name: str) -> str:
    """`base` (TEST_DATABASE_URL) naming the database `name` instead."""
    url = make_url(normalize_url(base)).set(database=name)
    return url.render_as_string(hide_password=False)


# Used test databases are dropped a batch at a time: dropped one by one after each test, 383
# PostgreSQL tests took 87 s, in batches 66 s (the drops waited for the test's last
# connections and PostgreSQL's own work). A batch bounds the disk they hold (~8 MB each).
DROP_BATCH = 25
_DROP_LATER: list[str] = []


def _drop(admin: Engine, names: list[str]) -> None:
    """Drop the databases `names` (emptying the list); FORCE: a test may leave a connection
    open (a killed process's, a pool's)."""
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    names.clear()


@pytest.fixture(scope="session")
def _postgresql_template() -> Iterator[str | None]:
    """One migrated PostgreSQL database per session and xdist worker, which each test's
    database is copied from (CREATE DATABASE ... TEMPLATE: ~0.1 s, where migrating a fresh
    schema costs ~0.8 s and most of the suite's time); None without TEST_DATABASE_URL."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield None
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"template_{worker}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(normalize_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    migrate.upgrade(_database_url(base, name))  # disposes its engine: a template has no users
    yield name
    _drop(admin, [*_DROP_LATER, name])
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    _sqlite_template: Path,
    _postgresql_template: str | None,
) -> Iterator[str]:
    """The URL of a fresh, migrated database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "bot.sqlite3"
        shutil.copy(_sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    base = os.environ.get("TEST_DATABASE_URL")
    if not base or _postgresql_template is None:
        pytest.skip("PostgreSQL run skipped: TEST_DATABASE_URL is not set")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalize_url(base), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        # FILE_COPY copies the small template's files (PostgreSQL 15's default, WAL_LOG, writes
        # every page through the WAL): 0.12 s instead of 0.18 s per test, measured.
        conn.execute(
            text(f"CREATE DATABASE {name} TEMPLATE {_postgresql_template} STRATEGY FILE_COPY")
        )
    yield _database_url(base, name)
    _DROP_LATER.append(name)
    if len(_DROP_LATER) >= DROP_BATCH:
        _drop(admin, _DROP_LATER)
    admin.dispose()


@pytest.fixture
def conn(db_url: str) -> Iterator[Connection]:
    """A connection in an open transaction, for synchronous domain tests."""
    engine = make_engine(db_url, writer=True, pool_size=1)
    with engine.connect() as connection, connection.begin():
        yield connection
    engine.dispose()


@pytest.fixture
def community(conn: Connection) -> Community:
    """The test community (Asia/Shanghai, 10 points a day, bonus 20 every 7th day)."""
    config, digest = parse_config(TEST_COMMUNITY)
    return apply_config(conn, config, digest, default_timezone="UTC", default_locale="en", at=T0)


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    """The real store on the test database, with the test community loaded."""
    store = Store(db_url)
    load_community(store)
    yield store
    store.close()


def reconfigure(
    store: Store, *, locale: str | None = None, timezone: str | None = None, extra: str = ""
) -> None:
    """The test community with another language or timezone, or more tables (`extra`, say a
    [member_day]), as a start with that community.toml would load it."""
    text = TEST_COMMUNITY
    if locale is not None:
        text = text.replace('locale = "en"', f'locale = "{locale}"')
    if timezone is not None:
        text = text.replace('timezone = "Asia/Shanghai"', f'timezone = "{timezone}"')
    load_community(store, text + extra)


def load_community(store: Store, text: str = TEST_COMMUNITY) -> None:
    """Load a community.toml into the store, as a start with that file would (a changed file
    re-applies the community's rules: another locale, a [member_day] table)."""
    config, digest = parse_config(text)
    store.write_now(
        apply_config, config, digest, default_timezone="UTC", default_locale="en", at=T0
    )


@pytest.fixture
def clock() -> Clock:
    """The test's clock, starting at T0 (09:00 in the community's Asia/Shanghai)."""
    return Clock(T0)


def make_dispatcher(
    store: Store,
    clock: Callable[[], datetime],
    queued: Callable[[str], None] = lambda platform: None,
) -> Dispatcher:
    """The dispatcher with every feature router and the test community's admins, as
    bot/app.py wires it."""
    from bot.app import build_dispatcher

    return build_dispatcher(
        store,
        access=parse_config(TEST_COMMUNITY)[0].access,
        default_community="acme",
        default_locale="en",
        clock=clock,
        queued=queued,
    )


@pytest.fixture
def woken() -> list[str]:
    """What units of work woke after their commit: platforms' senders, and the scheduler
    (SCHEDULE_CHANGED) when a command changed what is scheduled."""
    return []


@pytest.fixture
def dispatcher(store: Store, clock: Clock, woken: list[str]) -> Dispatcher:
    """The dispatcher over the test store, on the test's clock."""
    return make_dispatcher(store, clock, woken.append)


@pytest.fixture
def chat(dispatcher: Dispatcher, clock: Clock) -> Chat:
    """A group where members talk to the bot; `boss` is an admin by the community's list."""
    return Chat(dispatcher, clock)
