"""Quizzes end to end on both platforms, through the real python-telegram-bot and discord.py
against their fakes: Telegram asks with its own quiz poll (the right option, the explanation,
a countdown) and pays the poll's answers; Discord asks with buttons and answers each press
ephemerally. The sweep ends each question; the leaderboard is posted once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from community.audit import Actor
from community.communities import community_by_slug
from community.quiz_csv import Draft
from community.quizzes import add_questions
from handlers.router import Dispatcher
from storage.quiz_tables import quiz_answers
from storage.schema import polls
from storage.store import Store
from tests.conftest import DISCORD_OWNER, TELEGRAM_OWNER
from tests.harness import Clock
from tests.test_scheduler_platforms import (
    ALICE,
    BOB,
    D_ALICE,
    D_BOB,
    GENERAL_EN,
    GUILD_EN,
    NEWS_EN,
    TG_EN,
    World,
    discord_server,
    running,
)

SKY = Draft("Sky colour?", ("Green", "Blue", "Red"), 1, "Rayleigh scattering.")


@pytest.fixture
async def world(
    store: Store, clock: Clock, dispatcher: Dispatcher, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[World]:
    # Telegram's countdown is worked out by the real clock: the test's starts at it.
    clock.now = datetime.now(UTC).replace(microsecond=0)

    def bank(conn):  # type: ignore[no-untyped-def]
        acme = community_by_slug(conn, "acme")
        assert acme is not None
        add_questions(conn, acme, [SKY], actor=Actor(None, "test"), at=clock.now, source="test")

    store.write_now(bank)
    async with running(store, clock, dispatcher, monkeypatch) as found:
        yield found


def _count(world: World, table: object) -> int:
    query = select(func.count()).select_from(table)  # type: ignore[arg-type]
    return int(world.store.read_now(lambda conn: conn.execute(query).scalar_one()))


async def test_telegram_asks_with_its_own_quiz_poll_and_pays_its_answers(world: World) -> None:
    await world.tg_say(TG_EN, TELEGRAM_OWNER, "/settings")
    before = len(world.tg.texts(TG_EN))
    world.tg_push(TG_EN, TELEGRAM_OWNER, "/quiz start 1")
    (asked,) = await world.tg.wait_for_call("sendPoll")
    params = asked.params
    assert (params["chat_id"], params["question"], params["type"]) == (TG_EN, "Sky colour?", "quiz")
    assert params["correct_option_ids"] == [1] and params["is_anonymous"] is False
    assert params["explanation"] == "Rayleigh scattering."
    assert 25 <= params["open_period"] <= 30  # the question's 30 seconds, from when it went out
    # The words before the poll: the quiz's start, without the question (the poll shows it).
    assert world.tg.texts(TG_EN)[before] == (
        "🎯 Quiz time! 1 question, 30 seconds each.\n"
        "A right answer earns 5 points, the first right answer 5 more.\n\n"
        "❓ Question 1 of 1 (30 s)\nAnswer in the quiz below: your first answer counts."
    )
    poll_id = asked.result["poll"]["id"]
    await world.tg.wait_for(lambda t: None not in _native(world), every=0.01)
    world.tg.push_poll_answer(poll_id, world.tg_user(ALICE), [1])
    world.tg.push_poll_answer(poll_id, world.tg_user(BOB), [0])
    await world.tg.wait_for(lambda t: _count(world, quiz_answers) == 2, every=0.01)
    await world.handled()
    assert "10 points" in await world.tg_say(TG_EN, ALICE, "/points")

    shown = len(world.tg.texts(TG_EN))
    ends = world.clock.now + timedelta(seconds=30)
    assert (await world.sweep(ends)).polls_closed == 1
    await world.delivered()
    [finished] = world.tg.texts(TG_EN)[shown:]
    assert finished.startswith("⏱ Question 1: the answer was B. Blue\n💡 Rayleigh scattering.\n")
    assert "1. Alice — 1 right, 10 points" in finished and "2 took part." in finished
    (stop,) = world.tg.calls_to("stopPoll")
    assert stop.params["message_id"] == asked.result["message_id"]
    assert (await world.sweep(ends + timedelta(minutes=1))).polls_closed == 0
    assert world.tg.duplicates() == []


def _native(world: World) -> list[str | None]:
    query = select(polls.c.native_id)
    return list(world.store.read_now(lambda conn: conn.execute(query).scalars().all()))


async def test_discord_asks_with_buttons_and_answers_each_press_privately(world: World) -> None:
    await discord_server(world, GENERAL_EN, NEWS_EN)
    question = await world.dc_say(GENERAL_EN, DISCORD_OWNER, "/quiz start 1")
    assert "❓ Question 1 of 1 (30 s)\nSky colour?\nA. Green\nB. Blue\nC. Red" in question
    [posted] = [m for m in world.dc.messages if m.content == question]
    assert posted.poll is None  # Discord's polls have no right answer: buttons
    assert [b["label"] for b in posted.components] == ["A. Green", "B. Blue", "C. Red"]
    right, wrong = posted.components[1]["custom_id"], posted.components[0]["custom_id"]

    press = await world.dc.press_button(GUILD_EN, GENERAL_EN, D_ALICE, right, posted.message_id)
    await world.dc.wait_for(lambda: any(m.where == press.id for m in world.dc.messages))
    [said] = [m for m in world.dc.messages if m.where == press.id]
    assert said.ephemeral
    assert (said.content or "").startswith("✅ Right: B. Blue, and you were the first!")
    again = await world.dc.press_button(GUILD_EN, GENERAL_EN, D_ALICE, wrong, posted.message_id)
    await world.dc.wait_for(lambda: any(m.where == again.id for m in world.dc.messages))
    [second] = [m for m in world.dc.messages if m.where == again.id]
    assert second.ephemeral and "only your first answer counts" in (second.content or "")
    # After its 30 seconds, before the sweep: too late, said to the presser alone.
    world.clock.now += timedelta(seconds=31)
    late = await world.dc.press_button(GUILD_EN, GENERAL_EN, D_BOB, right, posted.message_id)
    await world.dc.wait_for(lambda: any(m.where == late.id for m in world.dc.messages))
    [refused] = [m for m in world.dc.messages if m.where == late.id]
    assert refused.ephemeral and "that answer does not count" in (refused.content or "")

    before = len(world.dc_texts(GENERAL_EN))
    assert (await world.sweep(world.clock.now)).polls_closed == 1
    await world.delivered()
    [finished] = world.dc_texts(GENERAL_EN)[before:]
    assert "1 of 1 right; first: Dalia." in finished and "🏆 Leaderboard" in finished
    assert _count(world, quiz_answers) == 1
