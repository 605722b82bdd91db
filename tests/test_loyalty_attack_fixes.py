"""What the fixes of tests/test_loyalty_attacks.py promise beyond the attacks themselves: a
Chinese admin names campaign actions as /rules names them, and dates at the calendar's edge
are refused in words."""

from __future__ import annotations

import re
from pathlib import Path

from handlers.earning_rules import ACTION_WORDS
from loyalty.campaigns import MULTIPLIABLE
from storage.schema import campaigns
from storage.store import Store
from tests.conftest import reconfigure
from tests.harness import Chat, rows

TEMPLATES = Path(__file__).parent.parent / "templates"


def test_every_chinese_action_name_rules_shows_is_one_campaign_reads() -> None:
    macro = (TEMPLATES / "zh_CN" / "earning" / "_actions.j2").read_text(encoding="utf-8")
    shown = dict(re.findall(r'"(\w+)": "([^"]+)"', macro))
    assert set(shown) >= set(MULTIPLIABLE)
    assert {ACTION_WORDS.get(name) for name in shown.values()} == set(shown)


async def test_a_chinese_admin_names_several_actions_and_all_in_chinese(
    chat: Chat, store: Store
) -> None:
    reconfigure(store, locale="zh_CN")
    said = await chat.say("boss", "/campaign add 2倍 签到、投票、投稿 12-12..12-13")
    assert said.outcome.reply is not None and said.outcome.reply.template == (
        "earning/campaign_added"
    )
    assert said.text is not None and "每日签到、参与投票、投稿通过审核 ×2" in said.text
    await chat.say("boss", "/campaign add 1.5倍 全部 12-14..12-15")
    assert [row.actions for row in rows(store, campaigns)] == [
        ",checkin,vote,submission,",
        "," + ",".join(MULTIPLIABLE) + ",",
    ]


async def test_a_given_action_is_refused_in_chinese_words(chat: Chat, store: Store) -> None:
    reconfigure(store, locale="zh_CN")
    said = await chat.say("boss", "/campaign add 2倍 生日礼 12-12..12-13")
    assert said.text is not None
    assert said.text.startswith("“生日礼”不是积分活动可以加倍的行为。")
    assert "每日签到（checkin）" in said.text
    assert rows(store, campaigns) == []


async def test_a_campaign_ending_at_the_end_of_the_calendar_says_what_it_could_not_read(
    chat: Chat,
) -> None:
    said = await chat.say("boss", "/campaign add x2 all 9999-12-31 00:00..23:59")
    assert said.outcome.reply is not None
    assert said.outcome.reply.template == "earning/bad_when"
