"""/rules and /campaign through the real core: everyone reads the earning table; admins plan,
list and cancel campaigns, which then multiply what members earn; every change is audited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from community.communities import community_by_slug
from storage.schema import audit_log, campaigns
from storage.store import Store
from tests.conftest import reconfigure
from tests.domain.conftest import local
from tests.harness import Chat, rows

# T0 is Monday 2026-11-23, 09:00 in the test community's Asia/Shanghai.
ADD = "/campaign add ×2 checkin,vote 2026-11-24 00:00..23:59"


def changes(store: Store) -> list[dict[str, Any]]:
    return [row.details for row in rows(store, audit_log) if row.action == "campaign"]


def version(store: Store) -> str:
    found = store.read_now(community_by_slug, "acme")
    assert found is not None
    return found.program.version


async def test_everyone_reads_the_earning_table(chat: Chat, store: Store) -> None:
    said = await chat.say("alice", "/rules")
    assert said.text is not None
    lines = said.text.splitlines()
    assert lines[:4] == [
        "📋 How points are earned",
        "• daily check-in: 10 points",
        "• streak bonus: 20 points every 7 days in a row",
        "• voting in a poll: 2 points",
    ]
    assert "• an accepted answer: 20 points · at most 100 points a day" in lines
    assert "• inviting a friend: 50 points · at most 500 points a month" in lines
    assert "• an admin's award: what an admin gives" in lines
    assert "🏅 Tiers: Member ×1 · Silver ×1.1 · Gold ×1.2 · Diamond ×1.5" in lines
    assert lines[-1] == f"Rules version {version(store)}"
    assert "Member day" not in said.text  # none is set up


async def test_the_member_day_and_its_actions_show_when_it_is_on(chat: Chat, store: Store) -> None:
    reconfigure(store, extra='[member_day]\nenabled = true\nactions = ["checkin", "vote"]\n')
    said = await chat.say("alice", "/rules")
    assert said.text is not None
    assert "🎉 Member day (/memberday): ×2 on daily check-in, voting in a poll" in said.text


async def test_an_admin_plans_a_campaign_it_is_audited_and_multiplies_checkins(
    chat: Chat, store: Store
) -> None:
    said = await chat.say("boss", ADD)
    assert said.text == (
        "🚀 Campaign planned (Asia/Shanghai):\n"
        "#1 ×2 on daily check-in, voting in a poll: Tue 11-24 00:00 – Tue 11-24 23:59\n"
        "A member day at the same time doesn't add to it: the larger applies."
        " /campaign cancel 1 calls it off."
    )
    (row,) = rows(store, campaigns)
    assert (row.percent, row.actions) == (200, ",checkin,vote,")
    # The community's midnight to midnight, in UTC.
    assert row.starts_at == datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
    assert row.ends_at == datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
    assert [(c["change"], c["by"], c["percent"]) for c in changes(store)] == [
        ("add", "console:boss", 200)
    ]
    chat.now = local(2, 23, 59)
    checked = await chat.say("alice", "/checkin")
    assert checked.text is not None and checked.text.startswith("✅ Checked in, alice! +20 points")
    table = await chat.say("alice", "/rules")
    assert table.text is not None
    assert (
        "#1 ×2 on daily check-in, voting in a poll: Tue 11-24 00:00 – Tue 11-24 23:59 (on now)"
        in (table.text)
    )


async def test_multipliers_actions_and_spans_as_admins_write_them(chat: Chat, store: Store) -> None:
    for text in (
        "/campaign add x2 checkin 11-24 00:00..23:59",
        "/campaign add 2x vote 2026-11-25 08:00~2026-11-26 20:00",
        "/campaign add ×1.5 all 11-27..11-28",
        "/campaign add 3倍 checkin，vote 11-29 20:00 至 22:00",
    ):
        said = await chat.say("boss", text)
        assert said.text is not None and said.text.startswith("🚀 Campaign planned"), text
    stored = [
        (row.percent, row.actions, row.starts_at, row.ends_at) for row in rows(store, campaigns)
    ]
    assert [s[:2] for s in stored] == [
        (200, ",checkin,"),
        (200, ",vote,"),
        (
            150,
            ","
            + ",".join(
                [
                    "checkin",
                    "streak_bonus",
                    "vote",
                    "accepted_answer",
                    "question_thanks",
                    "quiz_answer",
                    "quiz_first",
                    "survey",
                    "submission",
                    "invitation",
                    "purchase",
                ]
            )
            + ",",
        ),
        (300, ",checkin,vote,"),
    ]
    assert (stored[1][2], stored[1][3]) == (local(3, 8), local(4, 20, 1))
    assert (stored[2][2], stored[2][3]) == (local(5, 0), local(7, 0))
    assert (stored[3][2], stored[3][3]) == (local(7, 20), local(7, 22, 1))
    listed = await chat.say("boss", "/campaign list")
    assert listed.text is not None and len(listed.text.splitlines()) == 6


async def test_an_admin_cancels_a_campaign_and_it_stops_at_once(chat: Chat, store: Store) -> None:
    await chat.say("boss", ADD)
    chat.now = local(2, 9)
    said = await chat.say("boss", "/campaign cancel 1")
    assert said.text == (
        "🛑 Campaign cancelled: from now on it multiplies nothing.\n"
        "#1 ×2 on daily check-in, voting in a poll: Tue 11-24 00:00 – Tue 11-24 23:59 (on now)"
    )
    assert [c["change"] for c in changes(store)] == ["add", "cancel"]
    checked = await chat.say("alice", "/checkin")
    assert checked.text is not None and "+10 points" in checked.text
    listed = await chat.say("boss", "/campaign list")
    assert listed.text is not None and listed.text.startswith("No campaign is running or planned.")
    again = await chat.say("boss", "/campaign cancel 1")
    assert again.text == "There's no campaign #1 running or to come: /campaign list shows them."


async def test_members_cannot_plan_campaigns(chat: Chat, store: Store) -> None:
    said = await chat.say("alice", ADD)
    assert said.text is not None and "only" in said.text.lower()
    assert rows(store, campaigns) == []


async def test_mistakes_say_what_to_write_and_save_nothing(chat: Chat, store: Store) -> None:
    answers = {
        text: (await chat.say("boss", text)).text
        for text in (
            "/campaign add x11 checkin 11-24 00:00..23:59",
            "/campaign add x2 award 11-24 00:00..23:59",
            "/campaign add x2 checkin tomorrow",
            "/campaign add x2 checkin 11-24 10:00..09:00",
            "/campaign add x2 checkin 11-24 00:00..2027-03-01 00:00",
            "/campaign frobnicate",
        )
    }
    assert [text.split(" ")[0] if text else None for text in answers.values()] == [
        "“x11”",
        "“award”",
        "I",
        "The",
        "A",
        "Usage:",
    ]
    assert answers["/campaign add x2 checkin 11-24 00:00..2027-03-01 00:00"] == (
        "A campaign may run for 90 days at most. Nothing was saved."
    )
    assert rows(store, campaigns) == []
    assert changes(store) == []


async def test_the_table_in_chinese(chat: Chat, store: Store) -> None:
    reconfigure(store, locale="zh_CN")
    await chat.say("boss", ADD)
    said = await chat.say("alice", "积分规则")
    assert said.text is not None
    lines = said.text.splitlines()
    assert lines[:2] == ["📋 积分规则", "• 每日签到：10 积分"]
    assert "#1 每日签到、参与投票 ×2：11-24 周二 00:00 – 11-24 周二 23:59" in lines
    assert "会员日与积分活动的倍数不叠加，取较大者；会员等级倍数另外叠加。" in lines
