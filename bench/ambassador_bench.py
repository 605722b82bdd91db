"""The ambassador programme's month end under its issue's load: 1,000 ambassadors with four
months of realistic output (submissions approved, featured, rejected, pending, reversed;
answers to other members' questions), evaluated as the month-end job does.

  a  the month's counting for the whole roster (community/ambassador_counts.py, one query):
     p50 / max of 20 runs, what /ambassadors and /top ambassadors read; and one ambassador's
     (what /mytasks reads)
  b  the month-end evaluation of November (community/ambassador_evaluation.py: counting,
     history, the months recorded, 1,000 rewards through the ledger, demotions, notices, the
     admins' report) in one transaction: seconds and statements
  c  the same evaluation run again (a retried firing): seconds and statements

Prints numbers; asserts nothing. Run from the repo root: .venv/bin/python bench/ambassador_bench.py
(--database-url postgresql://postgres@127.0.0.1:5432/bench for PostgreSQL: its tables are
dropped and made again).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import Connection, Engine, event, insert, text

from community.ambassador_counts import month_output
from community.ambassador_evaluation import evaluate_month
from community.ambassador_months import Month
from community.communities import Community, apply_config
from community.config import parse_config
from storage import migrate
from storage.ambassador_tables import ambassadors
from storage.engine import make_engine
from storage.qa_tables import answers, questions
from storage.schema import accounts, balances, members
from storage.ugc_tables import submissions

AMBASSADORS = 1000
ASKERS = 500
MONTHS = (Month(2026, 8), Month(2026, 9), Month(2026, 10), Month(2026, 11))
SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 7, 1, tzinfo=UTC)
COMMUNITY = """
admins = ["console:boss"]
[community]
slug = "bench"
name = "Bench"
timezone = "Asia/Shanghai"
locale = "en"
"""


class Statements:
    """Counts the statements an engine sends (an executemany is one)."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_: Any) -> None:
        self.count += 1


def populate(conn: Connection, community: Community, rng: random.Random) -> None:
    """Ambassadors at all three levels, askers, and four months of their output."""
    people = AMBASSADORS + ASKERS
    conn.execute(
        insert(members),
        [
            {"community_id": community.id, "display_name": f"member {n}", "created_at": T0,
             "last_seen_at": T0}
            for n in range(people)
        ],
    )  # fmt: skip
    ids = [int(i) for i in conn.execute(text("SELECT id FROM members ORDER BY id")).scalars()]
    conn.execute(
        insert(accounts),
        [
            {"community_id": community.id, "member_id": m, "platform": "telegram",
             "platform_user_id": str(m), "display_name": f"member {m}", "created_at": T0}
            for m in ids
        ],
    )  # fmt: skip
    conn.execute(
        insert(balances),
        [{"member_id": m, "community_id": community.id, "updated_at": T0} for m in ids],
    )
    keys = [level.key for level in community.rules.ambassadors.levels]
    roster, askers = ids[:AMBASSADORS], ids[AMBASSADORS:]
    conn.execute(
        insert(ambassadors),
        [
            {"community_id": community.id, "member_id": m, "level": keys[n % len(keys)],
             "appointed_at": T0}
            for n, m in enumerate(roster)
        ],
    )  # fmt: skip
    question_rows = [
        {"community_id": community.id, "member_id": rng.choice(askers), "text": "size?",
         "platform": "telegram", "chat_id": "g", "created_at": T0}
        for _ in range(5000)
    ]  # fmt: skip
    conn.execute(insert(questions), question_rows)
    question_ids = [int(i) for i in conn.execute(text("SELECT id FROM questions")).scalars()]
    subs: list[dict[str, Any]] = []
    given: list[dict[str, Any]] = []
    for month in MONTHS:
        start = month.starts(SHANGHAI)
        for m in roster:
            for _ in range(rng.randint(0, 9)):
                at = start + timedelta(days=rng.randint(0, 27), minutes=rng.randint(0, 1439))
                state = rng.choices(["approved", "rejected", "pending"], [8, 1, 1])[0]
                subs.append(
                    {"community_id": community.id, "member_id": m, "category": "review",
                     "text": "my review", "links": [], "platform": "telegram", "chat_id": "g",
                     "state": state, "featured": state == "approved" and rng.random() < 0.25,
                     "decided_at": None if state == "pending" else at,
                     "reversed_at": at if rng.random() < 0.02 else None,
                     "created_at": at - timedelta(hours=2)}
                )  # fmt: skip
            for _ in range(rng.randint(0, 12)):
                at = start + timedelta(days=rng.randint(0, 27), minutes=rng.randint(0, 1439))
                given.append(
                    {"community_id": community.id, "question_id": rng.choice(question_ids),
                     "member_id": m, "text": "one size down", "platform": "telegram",
                     "chat_id": "g", "created_at": at}
                )  # fmt: skip
    for start in range(0, len(subs), 5000):
        conn.execute(insert(submissions), subs[start : start + 5000])
    for start in range(0, len(given), 5000):
        conn.execute(insert(answers), given[start : start + 5000])
    print(f"data: {AMBASSADORS:,} ambassadors, {len(subs):,} submissions, {len(given):,} answers")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="ambassador-bench-")
    url = args.database_url or f"sqlite:///{folder}/bench.sqlite3"
    if url.startswith("postgresql"):
        wipe = make_engine(url, writer=True)
        with wipe.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        wipe.dispose()
    migrate.upgrade(url)
    engine = make_engine(url, writer=True, pool_size=1)
    statements = Statements(engine)
    rng = random.Random(12)
    config, digest = parse_config(COMMUNITY)
    with engine.begin() as conn:
        community = apply_config(
            conn, config, digest, default_timezone="UTC", default_locale="en", at=T0
        )
        populate(conn, community, rng)
    with engine.begin() as conn:
        # Statistics, as PostgreSQL's autovacuum (and a long-running SQLite's optimize) keeps
        # them: without any, a planner guesses and the counting on PostgreSQL took 5 s.
        conn.execute(text("ANALYZE"))
    with engine.begin() as conn:  # the months before, so November has streaks to read
        for month in MONTHS[:-1]:
            evaluate_month(conn, community, month, at=month.ends(SHANGHAI))
    november = MONTHS[-1]
    with engine.connect() as conn:
        took = []
        for _ in range(20):
            began = time.perf_counter()
            counted = month_output(conn, community, november)
            took.append(time.perf_counter() - began)
        print(
            f"a  counting a month for {len(counted):,} ambassadors: "
            f"p50 {statistics.median(took) * 1000:.1f} ms, max {max(took) * 1000:.1f} ms"
        )
        took = []
        for member in counted[:20]:
            began = time.perf_counter()
            month_output(conn, community, november, member_id=member.member_id)
            took.append(time.perf_counter() - began)
        print(
            f"   one ambassador's month (/mytasks): p50 {statistics.median(took) * 1000:.1f} ms,"
            f" max {max(took) * 1000:.1f} ms"
        )
    for label in ("b  month-end evaluation", "c  the same, run again"):
        before = statements.count
        began = time.perf_counter()
        with engine.begin() as conn:
            done = evaluate_month(conn, community, november, at=november.ends(SHANGHAI))
        seconds = time.perf_counter() - began
        print(
            f"{label}: {seconds:.2f} s, {statements.count - before:,} statements "
            f"({done.evaluated:,} evaluated, {done.met:,} met, {done.paid:,} points paid, "
            f"{len(done.demoted):,} moved down, {len(done.proposals):,} proposals)"
        )
    engine.dispose()


if __name__ == "__main__":
    main()
