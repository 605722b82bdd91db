"""What the race tests share: the test community on two engines (two bot processes of one
database), with console members m0, m1, ... registered."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

from community.communities import Community, apply_config
from community.config import parse_config
from community.members import Member, identify
from storage.engine import make_engine
from tests.conftest import T0, TEST_COMMUNITY


@contextmanager
def two_processes(
    db_url: str, *, workers: int, members: int
) -> Iterator[tuple[tuple[Engine, Engine], Community, list[Member]]]:
    """Two engines of `workers` connections each, the test community and `members` members
    (committed); the engines are disposed after."""
    engines = (
        make_engine(db_url, writer=True, pool_size=workers),
        make_engine(db_url, writer=True, pool_size=workers),
    )
    config, digest = parse_config(TEST_COMMUNITY)
    with engines[0].begin() as conn:
        community = apply_config(
            conn, config, digest, default_timezone="UTC", default_locale="en", at=T0
        )
        people = [
            identify(
                conn,
                community_id=community.id,
                platform="console",
                user_id=f"m{n}",
                display_name=f"M{n}",
                username=None,
                at=T0,
            )
            for n in range(members)
        ]
    try:
        yield engines, community, people
    finally:
        for engine in engines:
            engine.dispose()
