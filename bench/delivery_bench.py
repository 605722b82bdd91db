"""Delivery through the outbox at the platforms' limits: the real `communitybot run` in a process
of its own (real python-telegram-bot, real discord.py, real senders) against the fake Bot API
and the fake Discord API on 127.0.0.1, both keeping their platform's flood limits (they answer
429 past them), on a real SQLite file (or PostgreSQL). The fakes run in this process and count
what they took.

  a  a broadcast to --groups Telegram groups plus --dms direct messages, written to the outbox
     as /announce and a scheduled DM batch would write them: the rate achieved against
     Telegram's 30 messages/s (goal >= 95 %), 429s (goal 0), lost 0, duplicated 0
  b  --checkins members check in in one group within --checkin-seconds: seconds until every
     one of them is acknowledged by name in the group (goal <= 60 s), messages posted in that
     first minute (goal <= 20), 429s
  c  the broadcast of (a) again, the bot killed with SIGKILL half-way and started again: lost
     0, and sent twice no more than were on the wire at the kill (taken by Telegram, not yet
     marked sent)
  d  the broadcast of (a) on Discord: rate against the bot's 45 messages/s (Discord allows 50
     requests/s; a first DM to a user costs a second request, to open the channel), 429s, and
     sends Discord dropped as repeats of a nonce

Exits 1 when a message was lost or sent twice beyond the kill window (or a run did not finish).
Run from the repo root:

    python bench/delivery_bench.py [--full] [--groups N] [--dms N] [--checkins N]
                                   [--only abcd] [--postgresql URL]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_databases import fresh_database
from sqlalchemy import Connection

from community.communities import apply_config, community_for_chat, set_posting_channel
from community.config import parse_config
from community.messages import Reply
from community.outbox import Kind, broadcast, enqueue
from storage.store import Store
from tests.conftest import TEST_COMMUNITY
from tests.fakes.discord_api import FakeDiscord, FakeLimits
from tests.fakes.process import BotProcess, kill
from tests.fakes.telegram_api import FakeTelegram, FloodLimits

TOKEN = "424242:BENCH-token"
DISCORD_TOKEN = "fake-discord-BENCH-token"
COMMUNITY = "Acme Fans"  # the test community's name, as the posts show it
TELEGRAM_LIMIT, DISCORD_LIMIT = 30, 45  # messages a second the senders keep by default
FIRST_GROUP, FIRST_USER = -1_000_000_000, 7_000_000
GUILDS, CHANNELS, USERS = 900_000_000_000_000_000, 910_000_000_000_000_000, 920_000_000_000_000_000
Key = tuple[int, str]  # (chat, the last line of the message): what a message is, to count it


@dataclass
class Row:
    """One line of the table."""

    name: str
    sent: int
    lost: int
    twice: int
    throttled: int
    rate: float | None = None
    limit: int | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    ok: bool = True


# Databases -----------------------------------------------------------------------------------


def write(url: str, work: Callable[[Connection, int], None]) -> None:
    """Load the community, then run `work(conn, community_id)` in one transaction."""
    store = Store(url)
    try:
        config, digest = parse_config(TEST_COMMUNITY)
        community = store.write_now(
            apply_config,
            config,
            digest,
            default_timezone="UTC",
            default_locale="en",
            at=datetime.now(UTC),
        )
        store.write_now(work, community.id)
    finally:
        store.close()


def post(words: str) -> Reply:
    return Reply("announce/post", {"text": words, "community": COMMUNITY})


def telegram_outbox(groups: int, dms: int) -> Callable[[Connection, int], None]:
    """The broadcast to every group, then a batch of direct messages to as many members."""

    def work(conn: Connection, community_id: int) -> None:
        now = datetime.now(UTC)
        for n in range(groups):
            community_for_chat(
                conn,
                platform="telegram",
                chat_id=str(FIRST_GROUP - n),
                title=f"Group {n}",
                default_slug="acme",
                at=now,
            )
        broadcast(conn, community_id, post("Bench broadcast"), key="bench", at=now)
        for n in range(dms):
            enqueue(
                conn,
                community_id=community_id,
                platform="telegram",
                chat_id=str(FIRST_USER + n),
                kind=Kind.DIRECT,
                reply=post(f"DM {n}"),
                at=now,
            )

    return work


def telegram_expected(groups: int, dms: int) -> set[Key]:
    return {(FIRST_GROUP - n, "Bench broadcast") for n in range(groups)} | {
        (FIRST_USER + n, f"DM {n}") for n in range(dms)
    }


def pending(bot: BotProcess) -> int:
    return int(str(bot.rows("SELECT count(*) FROM outbox WHERE state = 'pending'")[0][0]))


async def until(predicate: Callable[[], bool], deadline: float) -> bool:
    """Poll `predicate` (the bot's database, the fakes' counts) until it holds or time's up."""
    while time.monotonic() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.25)
    return predicate()


def busy_rate(times: list[float], window: float = 1.0) -> float:
    """Messages a second while sending: those in the whole windows from the first message on
    (so a last, partial second neither flatters nor penalizes), else over the whole span."""
    if len(times) < 2:
        return float(len(times))
    ordered = sorted(times)
    whole = math.floor((ordered[-1] - ordered[0]) / window)
    if whole == 0:
        return len(ordered) / (ordered[-1] - ordered[0] + window)
    return sum(at < ordered[0] + whole * window for at in ordered) / (whole * window)


def last_line(words: str) -> str:
    return words.strip().splitlines()[-1] if words.strip() else ""


# a: Telegram broadcast + DMs -----------------------------------------------------------------


async def telegram_broadcast(url: str, folder: Path, groups: int, dms: int) -> Row:
    write(url, telegram_outbox(groups, dms))
    expected = telegram_expected(groups, dms)
    async with FakeTelegram(flood_limits=FloodLimits()) as tg:
        bot = BotProcess.telegram(folder, tg.base_url, TOKEN, DATABASE_URL=url)
        process = await bot.start()
        began = time.monotonic()
        done = await until(lambda: pending(bot) == 0, began + len(expected) / 10 + 120)
        await kill(process)  # everything is marked: how it stops is not measured here
        keys = Counter((a.chat_id, last_line(a.text)) for a in tg.accepted)
        times = [a.at for a in tg.accepted]
        row = Row(
            "a telegram: broadcast + DMs",
            sent=len(expected),
            lost=len(expected - keys.keys()),
            twice=sum(times - 1 for times in keys.values() if times > 1),
            throttled=tg.too_many_requests,
            rate=busy_rate(times),
            limit=TELEGRAM_LIMIT,
            seconds=max(times) - min(times) if times else 0.0,
        )
    row.ok = done and row.lost == 0 and row.twice == 0
    if not done:
        row.notes.append("did not finish")
    return row


# b: 300 check-ins in one group ---------------------------------------------------------------


async def checkins(url: str, folder: Path, members: int, seconds: float) -> Row:
    group = -4_000_000
    names = [f"Member{n:04d}" for n in range(members)]
    async with FakeTelegram(flood_limits=FloodLimits()) as tg:
        bot = BotProcess.telegram(folder, tg.base_url, TOKEN, DATABASE_URL=url)
        process = await bot.start()
        await tg.wait_for_call("getUpdates", timeout=60)
        chat = tg.group(group, "Member day")
        began = time.monotonic()
        for n, name in enumerate(names):  # evenly over `seconds`
            await asyncio.sleep(max(0.0, began + n * seconds / members - time.monotonic()))
            tg.push_message(chat, tg.user(FIRST_USER + n, name), "/checkin")
        checked_in = "SELECT count(*) FROM checkins"
        done = await until(
            lambda: bot.rows(checked_in) == [(members,)] and pending(bot) == 0,
            began + seconds + 300,
        )
        await kill(process)
        posted = [a for a in tg.accepted if a.chat_id == group]
        told: dict[str, float] = {}
        for message in posted:
            for name in names:
                if name not in told and name in message.text:
                    told[name] = message.at - began
        everyone = max(told.values()) if len(told) == members else None
        first_minute = sum(message.at - began <= 60 for message in posted)
        row = Row(
            f"b {members} check-ins, one group",
            sent=len(posted),
            lost=members - len(told),
            twice=0,
            throttled=tg.too_many_requests,
            seconds=everyone or 0.0,
        )
    row.ok = done and everyone is not None
    if everyone is None:
        row.notes.append(f"{members - len(told)} member(s) never acknowledged")
    else:
        goal = "ok" if everyone <= 60 else "MISSED"
        row.notes.append(f"all acknowledged by name after {everyone:.1f} s (goal <= 60 s: {goal})")
    goal = "ok" if first_minute <= 20 else "MISSED"
    row.notes.append(f"{first_minute} messages in the first minute (goal <= 20: {goal})")
    return row


# c: kill -9 half-way -------------------------------------------------------------------------


async def killed_broadcast(url: str, folder: Path, groups: int, dms: int) -> Row:
    write(url, telegram_outbox(groups, dms))
    expected = telegram_expected(groups, dms)
    async with FakeTelegram(flood_limits=FloodLimits()) as tg:
        bot = BotProcess.telegram(folder, tg.base_url, TOKEN, DATABASE_URL=url)
        first = await bot.start()
        began = time.monotonic()
        half = len(expected) // 2
        await until(lambda: len(tg.accepted) >= half, began + len(expected) / 10 + 120)
        await kill(first)
        await asyncio.sleep(0.5)  # requests already received are answered (to no one)
        taken = {(a.chat_id, last_line(a.text)) for a in tg.accepted}
        unmarked = {
            (int(str(chat)), str(_words(payload)))
            for chat, payload in bot.rows(
                "SELECT chat_id, payload FROM outbox WHERE state = 'pending'"
            )
        }
        on_the_wire = len(taken & unmarked)  # Telegram took them; the bot had not marked them
        killed_at = time.monotonic()
        second = await bot.start()
        resumed = await until(lambda: len(tg.accepted) > len(taken), killed_at + 120)
        resumed_after = time.monotonic() - killed_at
        done = await until(lambda: pending(bot) == 0, killed_at + len(expected) / 10 + 120)
        await kill(second)
        keys = Counter((a.chat_id, last_line(a.text)) for a in tg.accepted)
        row = Row(
            "c telegram: kill -9 half-way",
            sent=len(expected),
            lost=len(expected - keys.keys()),
            twice=sum(times - 1 for times in keys.values() if times > 1),
            throttled=tg.too_many_requests,
            seconds=time.monotonic() - began,
        )
    row.ok = done and resumed and row.lost == 0 and row.twice <= on_the_wire
    row.notes.append(
        f"killed after {len(taken)} taken; on the wire at the kill (taken, not marked): "
        f"{on_the_wire}; sent twice: {row.twice}; the restart sent again after "
        f"{resumed_after:.1f} s (the dead process's drain lease expiring)"
    )
    if not done:
        row.notes.append("did not finish")
    return row


def _words(payload: object) -> object:
    """The text a queued post says (its payload is JSON: text on SQLite, a dict on psycopg)."""
    found = json.loads(payload) if isinstance(payload, str) else payload
    return found["context"]["text"] if isinstance(found, dict) else None


# d: Discord broadcast + DMs ------------------------------------------------------------------


async def discord_broadcast(url: str, folder: Path, groups: int, dms: int) -> Row:
    async with FakeDiscord(limits=FakeLimits()) as dc:
        for n in range(groups):
            dc.add_guild(GUILDS + n, f"Guild {n}", owner_id=USERS)
            dc.add_channel(GUILDS + n, CHANNELS + n, "general")
        for n in range(dms):  # members of the servers, spread over them
            dc.add_member(GUILDS + n % max(groups, 1), USERS + n, f"member{n}")

        def work(conn: Connection, community_id: int) -> None:
            now = datetime.now(UTC)
            for n in range(groups):
                guild = str(GUILDS + n)
                community_for_chat(
                    conn,
                    platform="discord",
                    chat_id=guild,
                    title=f"Guild {n}",
                    default_slug="acme",
                    at=now,
                    needs_channel=True,
                )
                set_posting_channel(conn, "discord", guild, str(CHANNELS + n))
            broadcast(conn, community_id, post("Bench broadcast"), key="bench", at=now)
            for n in range(dms):
                enqueue(
                    conn,
                    community_id=community_id,
                    platform="discord",
                    chat_id=str(USERS + n),
                    kind=Kind.DIRECT,
                    reply=post(f"DM {n}"),
                    at=now,
                )

        write(url, work)
        bot = BotProcess.discord(folder, dc.base_url, dc.ws_url, DISCORD_TOKEN, DATABASE_URL=url)
        process = await bot.start()
        began = time.monotonic()
        done = await until(lambda: pending(bot) == 0, began + (groups + 2 * dms) / 10 + 120)
        await kill(process)
        expected = {(CHANNELS + n, "Bench broadcast") for n in range(groups)} | {
            (dc.dms.get(USERS + n, 0), f"DM {n}") for n in range(dms)
        }
        keys = Counter((m.channel, last_line(m.content)) for m in dc.accepted)
        times = [m.at for m in dc.accepted]
        span = max(times) - min(times) if times else 0.0
        opens = [c for c in dc.calls if c.method == "POST" and c.path == "/users/@me/channels"]
        opened = sum(c.status == 200 for c in opens)
        refused_opens = sum(c.status == 429 for c in opens)
        row = Row(
            "d discord: broadcast + DMs",
            sent=len(expected),
            lost=len(expected - keys.keys()),
            twice=sum(times - 1 for times in keys.values() if times > 1),
            throttled=dc.throttled,
            rate=busy_rate(times),
            limit=DISCORD_LIMIT,
            seconds=span,
        )
        requests = len(dc.accepted) + len(opens) + dc.throttled - refused_opens
        row.notes.append(
            f"{opened} DM channels opened (a request each, not counted by the sender): "
            f"~{requests / max(span, 1):.0f} requests/s against Discord's 50; 429s "
            f"{dc.throttled} ({dc.throttled_global} global, {refused_opens} of them on opening "
            f"a DM); sends dropped as a repeated nonce: {dc.deduplicated}"
        )
    row.ok = done and row.lost == 0 and row.twice == 0
    if not done:
        row.notes.append("did not finish")
    return row


# Report --------------------------------------------------------------------------------------


def report(rows: list[Row]) -> None:
    print(
        f"   {'scenario':32} {'msgs':>6} {'lost':>5} {'twice':>6} {'429s':>5} "
        f"{'msg/s':>7} {'limit':>6} {'share':>6} {'span s':>7}"
    )
    for row in rows:
        rate = f"{row.rate:7.1f}" if row.rate is not None else f"{'-':>7}"
        limit = f"{row.limit:6d}" if row.limit is not None else f"{'-':>6}"
        share = (
            f"{100 * row.rate / row.limit:5.1f}%"
            if row.rate is not None and row.limit
            else f"{'-':>6}"
        )
        print(
            f"   {row.name:32} {row.sent:6,d} {row.lost:5d} {row.twice:6d} {row.throttled:5d} "
            f"{rate} {limit} {share} {row.seconds:7.1f}  {'' if row.ok else 'FAILED'}"
        )
        for note in row.notes:
            print(f"      {note}")


async def run(args: argparse.Namespace, folder: Path) -> list[Row]:
    rows: list[Row] = []
    scenarios: dict[str, Callable[[str, Path], Awaitable[Row]]] = {
        "a": lambda url, where: telegram_broadcast(url, where, args.groups, args.dms),
        "b": lambda url, where: checkins(url, where, args.checkins, args.checkin_seconds),
        "c": lambda url, where: killed_broadcast(url, where, args.groups, args.dms),
        "d": lambda url, where: discord_broadcast(url, where, args.groups, args.dms),
    }
    for name, scenario in scenarios.items():
        if name not in args.only:
            continue
        where = folder / name
        where.mkdir()
        with fresh_database(folder, args.postgresql) as url:
            rows.append(await scenario(url, where))
        print(f"   ({name} done)", flush=True)
    return rows


def main() -> int:
    intro, _, scenarios = __doc__.partition("\n\n")
    parser = argparse.ArgumentParser(
        description=" ".join(intro.split()),
        epilog=scenarios,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--groups", type=int, default=200, help="groups (default 200)")
    parser.add_argument(
        "--dms", type=int, default=400, help="direct messages (default 400; --full: 2,000)"
    )
    parser.add_argument(
        "--full", action="store_true", help="the issue's size: 200 groups + 2,000 DMs"
    )
    parser.add_argument("--checkins", type=int, default=300, help="members checking in (300)")
    parser.add_argument("--checkin-seconds", type=float, default=10.0, help="within (10 s)")
    parser.add_argument("--only", default="abcd", help="scenarios to run (default abcd)")
    parser.add_argument("--postgresql", metavar="URL", help="run on PostgreSQL (fresh schemas)")
    args = parser.parse_args()
    if args.full:
        args.groups, args.dms = 200, 2000
    logging.basicConfig(level=logging.WARNING)
    database = "PostgreSQL" if args.postgresql else "SQLite file (WAL)"
    print(
        f"== delivery: `communitybot run` against the fake platforms, their limits on; {database}"
    )
    print(
        f"   run: {args.groups} groups + {args.dms:,} DMs (the issue's size: --full, "
        f"200 + 2,000); {args.checkins} check-ins within {args.checkin_seconds:g} s",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as folder:
        rows = asyncio.run(run(args, Path(folder)))
    report(rows)
    return 0 if all(row.ok for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
