"""The ambassador programme on the console, in English and Chinese: an admin appoints an
ambassador, who reads their tasks; the console's clock moved over the month's end runs the
evaluation, and its private messages print."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from community.members import Member
from handlers.router import Dispatcher
from storage.store import Store
from tests.conftest import TEST_COMMUNITY, parse_config, reconfigure
from tests.domain.test_ambassador_evaluation import answered, submitted
from tests.harness import member_id
from tests.test_console import run_console

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def month_console(dispatcher: Dispatcher, script: str, locale: str = "en") -> str:
    """The console session `script`, with the scheduler running as the console's clock moves
    (community.toml's admins get the month-end report)."""
    admins = parse_config(TEST_COMMUNITY)[0].access.admins
    return await run_console(dispatcher, script, locale=locale, scheduled=True, admins=admins)


def output_of_the_month(store: Store, who: str) -> None:
    """`who` had two submissions approved and answered two questions of asker's in November."""
    author_id, asker_id = member_id(store, "console", who), member_id(store, "console", "asker")
    assert author_id is not None and asker_id is not None
    at = datetime(2026, 11, 25, 12, tzinfo=SHANGHAI)

    def write(conn: Connection) -> None:
        author, asker = Member(author_id, 1, who), Member(asker_id, 1, "asker")
        submitted(conn, author, at, times=2)
        answered(conn, author, asker, at)
        answered(conn, author, asker, at)

    store.write_now(write)


SETUP = ":as alice\n/start\n:as asker\n/start\n:as boss\n/ambassador add @alice\n"
MONTH_END = ":as alice\n/mytasks\n:time 2026-12-01T00:30\n"


async def test_an_ambassadors_month_on_the_console(dispatcher: Dispatcher, store: Store) -> None:
    first = await month_console(dispatcher, SETUP)
    assert "🌟 alice (@alice) is now a brand ambassador: Trainee." in first
    assert "[dm alice] 🌟 Congratulations alice, you are now a brand ambassador: Trainee!" in first
    output_of_the_month(store, "alice")
    second = await month_console(dispatcher, MONTH_END)
    assert "✅ Approved submissions 2/2" in second
    assert "🎉 All done: your reward of 50 points comes at the month's end." in second
    assert "[dm alice] 🎉 alice, you met your Trainee tasks for 2026-11!" in second
    assert "Your reward of 50 points is in your balance. Thank you!" in second
    assert "[dm boss] 🌟 Ambassadors, 2026-11: 1 of 1 met their tasks" in second


async def test_an_ambassadors_month_on_the_console_in_chinese(
    dispatcher: Dispatcher, store: Store
) -> None:
    reconfigure(store, locale="zh_CN")
    first = await month_console(dispatcher, SETUP, "zh_CN")
    assert "🌟 alice（@alice）已成为品牌大使：见习大使。" in first
    assert "[私信 alice] 🌟 恭喜 alice，你已成为品牌大使：见习大使！" in first
    output_of_the_month(store, "alice")
    second = await month_console(dispatcher, MONTH_END.replace("/mytasks", "我的任务"), "zh_CN")
    assert "✅ 审核通过的投稿 2/2" in second
    assert "🎉 全部完成：月末可获得 50 积分。" in second
    assert "[私信 alice] 🎉 alice，你已完成 2026-11 的见习大使任务！" in second
    assert "奖励 50 积分 已到账。谢谢你！" in second
    assert "[私信 boss] 🌟 品牌大使 2026-11 月报：1 位中有 1 位完成任务" in second
