"""/history and /export through the real core: members read why their points moved, admins take
the ledger or the redemptions of a period away as a CSV file, in English and in Chinese."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import update

from community.messages import Visibility
from handlers.router import Dispatcher
from storage.schema import audit_log, balances
from storage.store import Store
from tests.conftest import TEST_COMMUNITY, load_community, reconfigure
from tests.harness import Chat, Clock, Said, member_id, rows

# The clock starts Monday 2026-11-23 09:00 in the community's Asia/Shanghai.
MONDAY_MEMBER_DAY = '[member_day]\nenabled = true\nwhen = "mon 00:00"\n'


def private(dispatcher: Dispatcher, clock: Clock) -> Chat:
    """A private chat with the bot, where only the asker sees the answers."""
    return Chat(dispatcher, clock, chat_id="dm", private=True)


def csv_rows(said: Said) -> list[dict[str, str]]:
    reply = said.outcome.reply
    assert reply is not None and reply.document is not None, said.text
    assert reply.document.mime == "text/csv"
    content = reply.document.content
    assert content.startswith(b"\xef\xbb\xbf")  # Excel reads Chinese right only with it
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))


async def test_history_says_why_a_member_day_check_in_paid_double(chat: Chat, store: Store) -> None:
    reconfigure(store, extra=MONDAY_MEMBER_DAY)
    await chat.say("alice", "/checkin")
    chat.now += timedelta(days=1)
    await chat.say("alice", "/checkin")
    await chat.say("boss", "/award @alice 5 nice photo")
    said = await chat.say("alice", "/history")
    assert said.text == (
        "📜 alice, your points history (35 points now):\n"
        "2026-11-24  +5  awarded by an admin — nice photo\n"
        "2026-11-24  +10  daily check-in\n"
        "2026-11-23  +20  daily check-in (10 × member day 2)"
    )
    assert said.outcome.reply is not None
    assert said.outcome.reply.visibility is Visibility.CHAT  # a group: like /points


async def test_history_answers_privately_where_the_platform_can(
    dispatcher: Dispatcher, clock: Clock, chat: Chat
) -> None:
    await chat.say("alice", "/checkin")
    said = await private(dispatcher, clock).say("alice", "/history")
    assert said.outcome.reply is not None
    assert said.outcome.reply.visibility is Visibility.PRIVATE
    assert said.text is not None and "+10  daily check-in" in said.text


async def test_history_shows_the_latest_history_entries_and_says_there_were_more(
    chat: Chat, store: Store
) -> None:
    load_community(store, TEST_COMMUNITY.replace("max_award = 1000", "history_entries = 2"))
    for _ in range(3):
        await chat.say("alice", "/checkin")
        chat.now += timedelta(days=1)
    said = await chat.say("alice", "/history")
    assert said.text is not None
    lines = said.text.splitlines()
    assert lines[1:] == [
        "2026-11-25  +10  daily check-in",
        "2026-11-24  +10  daily check-in",
        "These are your latest 2 entries.",
    ]


async def test_a_newcomers_history_invites_a_check_in(chat: Chat) -> None:
    said = await chat.say("newbie", "/history")
    assert said.text == (
        "📜 newbie, your points history (0 points now):\n"
        "No points yet — /checkin to earn your first."
    )


async def test_history_in_chinese(chat: Chat, store: Store) -> None:
    reconfigure(store, locale="zh_CN", extra=MONDAY_MEMBER_DAY)
    await chat.say("alice", "/checkin")
    said = await chat.say("alice", "/history")
    assert (
        said.text
        == "📜 alice 的积分明细（当前 20 积分）：\n2026-11-23  +20  每日签到（10 × 会员日 2）"
    )


async def test_an_admin_exports_the_ledger_as_a_csv_file_and_it_is_audited(
    dispatcher: Dispatcher, clock: Clock, chat: Chat, store: Store
) -> None:
    await chat.say("alice", "/checkin")
    await chat.say("bob", "/checkin")
    await chat.say("boss", "/award @bob 7 =SUM(A1)")
    said = await private(dispatcher, clock).say("boss", "/export ledger")
    assert said.text == (
        "📄 Points ledger from 2026-10-25 to 2026-11-23 (Asia/Shanghai): 3 rows in "
        "ledger-2026-10-25_2026-11-23.csv."
    )
    assert said.outcome.reply is not None and said.outcome.reply.document is not None
    assert said.outcome.reply.document.name == "ledger-2026-10-25_2026-11-23.csv"
    lines = csv_rows(said)
    assert [(r["member_name"], r["delta"], r["reason"], r["note"]) for r in lines] == [
        ("alice", "10", "checkin", ""),
        ("bob", "10", "checkin", ""),
        ("bob", "7", "award", "'=SUM(A1)"),
    ]
    assert lines[0]["accounts"] == "console:alice"
    assert lines[0]["created_at"] == "2026-11-23T09:00:00+08:00"
    (audited,) = [row for row in rows(store, audit_log) if row.action == "export"]
    assert audited.details["kind"] == "ledger" and audited.details["rows"] == 3


async def test_an_export_of_a_period_holds_only_its_days(
    dispatcher: Dispatcher, clock: Clock, chat: Chat
) -> None:
    for _ in range(3):
        await chat.say("alice", "/checkin")
        chat.now += timedelta(days=1)
    said = await private(dispatcher, clock).say("boss", "/export ledger 2026-11-24 2026-11-24")
    assert said.text is not None and "from 2026-11-24 to 2026-11-24" in said.text
    assert [r["created_at"] for r in csv_rows(said)] == ["2026-11-24T09:00:00+08:00"]
    said = await private(dispatcher, clock).say("boss", "/export redemptions")
    assert said.text is not None and said.text.startswith("📄 Redemptions from ")
    assert "0 rows" in said.text
    assert csv_rows(said) == []


async def test_an_export_is_never_posted_in_a_group(chat: Chat, store: Store) -> None:
    said = await chat.say("boss", "/export ledger")
    assert said.outcome.reply is not None and said.outcome.reply.document is None
    assert said.text is not None and said.text.startswith("🔒 /export")
    assert [row for row in rows(store, audit_log) if row.action == "export"] == []


async def test_members_cannot_export(dispatcher: Dispatcher, clock: Clock) -> None:
    said = await private(dispatcher, clock).say("alice", "/export ledger")
    assert said.outcome.reply is not None and said.outcome.reply.document is None
    assert said.outcome.reply.template == "common/admins_only"


async def test_bad_exports_are_refused_politely_and_nothing_is_exported(
    dispatcher: Dispatcher, clock: Clock, store: Store
) -> None:
    dm = private(dispatcher, clock)
    asked = {
        "/export": "Write /export ledger|redemptions [from] [to]",
        "/export members": "Write /export ledger|redemptions [from] [to]",
        "/export ledger 2026-02-30": "“2026-02-30” is no date I can read",
        "/export ledger 2026-11-30 2026-11-01": "The period starts (2026-11-30) after it ends",
    }
    for text, start in asked.items():
        said = await dm.say("boss", text)
        assert said.text is not None and said.text.startswith(start), said.text
        assert said.outcome.reply is not None and said.outcome.reply.document is None
    assert [row for row in rows(store, audit_log) if row.action == "export"] == []


async def test_exports_answer_in_chinese(
    dispatcher: Dispatcher, clock: Clock, chat: Chat, store: Store
) -> None:
    reconfigure(store, locale="zh_CN")
    await chat.say("小明", "/checkin")
    dm = private(dispatcher, clock)
    said = await dm.say("boss", "/export ledger 2026-11-23")
    assert said.text == (
        "📄 积分流水：2026-11-23 至 2026-11-23（Asia/Shanghai），共 1 行，"
        "文件 ledger-2026-11-23_2026-11-23.csv。"
    )
    assert [r["member_name"] for r in csv_rows(said)] == ["小明"]
    said = await dm.say("boss", "/export ledger 2026-11-31")
    assert (
        said.text
        == "无法识别日期“2026-11-31”：请写成 YYYY-MM-DD，例如 2026-11-30。未导出任何内容。"
    )
    said = await dm.say("boss", "/export")
    assert said.text is not None and said.text.startswith("请这样写：/export ledger|redemptions")


async def test_a_silver_members_history_names_the_tier_that_multiplied_it(
    chat: Chat, store: Store
) -> None:
    reconfigure(store, extra=MONDAY_MEMBER_DAY)
    await chat.say("alice", "/start")
    alice = member_id(store, "console", "alice")
    silver = update(balances).where(balances.c.member_id == alice).values(tier=1)
    store.write_now(lambda conn: conn.execute(silver))
    await chat.say("alice", "/checkin")
    said = await chat.say("alice", "/history")
    assert said.text is not None
    assert said.text.splitlines()[1] == (
        "2026-11-23  +22  daily check-in (10 × member day 2 × Silver 1.1)"
    )
    reconfigure(store, locale="zh_CN", extra=MONDAY_MEMBER_DAY)
    said = await chat.say("alice", "/history")
    assert said.text is not None
    assert said.text.splitlines()[1] == "2026-11-23  +22  每日签到（10 × 会员日 2 × 银卡会员 1.1）"
