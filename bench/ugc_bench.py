"""The review queue under its issue's load: 10,000 pending submissions (2,000 members, one in
ten with a photo), a reviewer working through them in a private chat.

  a  /review: the next pending submission shown (the whole command through the dispatcher:
     the oldest pending one that is not the reviewer's own, its files, the count waiting, the
     answer written to the outbox), p50 / p99 / max of 300
  b  /review approve N: the decision (conditional UPDATE, the credit through the ledger, the
     author's notice, the audit line) and the next one shown, p50 / p99 / max of 300
  c  the next item's reads alone (community/submissions.py next_pending, files_of,
     pending_count) in a read transaction, p50 / p99 of 1,000

Prints numbers; asserts nothing. Run from the repo root: .venv/bin/python bench/ugc_bench.py
(--database-url postgresql://postgres@127.0.0.1:5432/bench for PostgreSQL: its tables are
dropped and made again).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Connection, insert, select, text

from bot.app import build_dispatcher
from community import media, submissions
from community.communities import apply_config, community_by_slug
from community.config import parse_config
from community.members import identify
from handlers.parsing import event_from_text
from handlers.router import Dispatcher
from handlers.types import AccountRef, ChatRef
from storage import migrate
from storage.store import Store
from storage.ugc_tables import submission_files
from storage.ugc_tables import submissions as submissions_table

PENDING = 10_000
AUTHORS = 2_000
T0 = datetime(2026, 11, 1, tzinfo=UTC)
COMMUNITY = """
admins = ["console:boss"]
[community]
slug = "bench"
name = "Bench"
timezone = "Asia/Shanghai"
locale = "en"
"""


def seed(conn: Connection) -> None:
    """The community, its members and 10,000 pending submissions, oldest first."""
    config, digest = parse_config(COMMUNITY)
    community = apply_config(
        conn, config, digest, default_timezone="UTC", default_locale="en", at=T0
    )
    authors = [
        identify(
            conn,
            community_id=community.id,
            platform="console",
            user_id=f"m{n}",
            display_name=f"Member {n}",
            username=f"m{n}",
            at=T0,
        ).id
        for n in range(AUTHORS)
    ]
    identify(
        conn,
        community_id=community.id,
        platform="console",
        user_id="boss",
        display_name="Boss",
        username="boss",
        at=T0,
    )
    rows = [
        {
            "community_id": community.id,
            "member_id": authors[n % AUTHORS],
            "category": ("purchase", "review", "post")[n % 3],
            "text": f"Submission {n}: loving the new collection https://shop.example/p/{n}",
            "links": [f"https://shop.example/p/{n}"],
            "platform": "console",
            "chat_id": "lobby",
            "state": "pending",
            "created_at": T0 + timedelta(seconds=30 * n),
        }
        for n in range(PENDING)
    ]
    conn.execute(insert(submissions_table), rows)
    numbers = conn.execute(select(submissions_table.c.id).order_by(submissions_table.c.id))
    for n, number in enumerate(numbers.scalars().all()):
        if n % 10 == 0:
            kept = media.keep(
                conn,
                community_id=community.id,
                kind="photo",
                name=f"p{n}.jpg",
                mime="image/jpeg",
                data=b"\xff\xd8" + n.to_bytes(4, "big") * 5000,
                at=T0,
            )
            conn.execute(
                insert(submission_files),
                {"submission_id": number, "position": 0, "media_id": kept.media_id},
            )


def percentiles(label: str, seconds: list[float]) -> None:
    ordered = sorted(seconds)
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
    print(
        f"{label}: p50 {statistics.median(ordered) * 1000:.2f} ms · "
        f"p99 {p99 * 1000:.2f} ms · max {ordered[-1] * 1000:.2f} ms ({len(ordered)} runs)"
    )


async def timed(runs: int, step: Callable[[int], Awaitable[object]]) -> list[float]:
    found = []
    for n in range(runs):
        started = time.perf_counter()
        await step(n)
        found.append(time.perf_counter() - started)
    return found


async def bench(url: str) -> None:
    migrate.upgrade(url)
    store = Store(url)
    started = time.perf_counter()
    store.write_now(seed)
    print(f"seeded {PENDING:,} pending submissions in {time.perf_counter() - started:.1f} s")
    clock = itertools.count()
    dispatcher: Dispatcher = build_dispatcher(
        store,
        access=parse_config(COMMUNITY)[0].access,
        default_community="bench",
        default_locale="en",
        clock=lambda: T0 + timedelta(days=20, seconds=next(clock)),
    )
    chat = ChatRef("console", "boss", private=True)
    boss = AccountRef("console", "boss", "Boss", username="boss")
    events = itertools.count()

    async def say(line: str) -> None:
        event = event_from_text(
            event_id=f"bench:{next(events)}",
            chat=chat,
            actor=boss,
            text=line,
            occurred_at=dispatcher.clock(),
        )
        outcome = await dispatcher.handle(replace(event, private_reply=True))
        assert outcome.reply is not None and outcome.reply.template == "ugc/review_item", outcome

    percentiles("a  /review (next item)", await timed(300, lambda n: say("/review")))
    first = store.read_now(
        lambda conn: (
            conn.execute(select(submissions_table.c.id).order_by(submissions_table.c.id))
            .scalars()
            .first()
        )
    )
    percentiles(
        "b  /review approve N + next",
        await timed(300, lambda n: say(f"/review approve {first + n}")),
    )

    def read_next(conn: Connection) -> None:
        community = community_by_slug(conn, "bench")
        assert community is not None
        found = submissions.next_pending(conn, community.id, -1)
        assert found is not None
        submissions.files_of(conn, found.id)
        submissions.pending_count(conn, community.id)

    reads = []
    for _ in range(1000):
        started = time.perf_counter()
        store.read_now(read_next)
        reads.append(time.perf_counter() - started)
    percentiles("c  next item's reads alone", reads)
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL to bench on (its tables are replaced)")
    args = parser.parse_args()
    if args.database_url:
        from sqlalchemy import create_engine

        engine = create_engine(args.database_url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
        asyncio.run(bench(args.database_url))
        return
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(bench(f"sqlite:///{folder}/ugc.sqlite3"))


if __name__ == "__main__":
    main()
