"""A redelivered or retried event is handled once: the second time changes nothing."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from community.events import DEDUPE_WINDOW, forget_old_events
from handlers.router import PRUNE_EVERY
from storage.schema import processed_events
from storage.store import Store
from tests.harness import Chat


async def test_replayed_checkin_changes_nothing_and_is_logged(
    chat: Chat, caplog: pytest.LogCaptureFixture
) -> None:
    first = await chat.say("alice", "/checkin", event_id="test:update-1")
    assert first.text is not None and "+10 points" in first.text
    with caplog.at_level(logging.INFO, logger="handlers.router"):
        again = await chat.deliver(first.event)
    assert again.outcome.duplicate and again.outcome.reply is None
    assert any(
        getattr(r, "event_id", None) == "test:update-1" and getattr(r, "duplicate", None) is True
        for r in caplog.records
    )
    points = await chat.say("alice", "/points")
    assert points.text is not None and "you have 10 points" in points.text


async def test_replayed_award_pays_once(chat: Chat) -> None:
    await chat.say("alice", "/start")
    award = await chat.say("boss", "/award @alice 100 launch party", event_id="test:award-7")
    for _ in range(3):
        await chat.deliver(award.event)
    points = await chat.say("alice", "/points")
    assert points.text is not None and "you have 100 points" in points.text


async def test_refused_event_replayed_stays_refused_silently(chat: Chat) -> None:
    await chat.say("alice", "/checkin")
    refused = await chat.say("alice", "/checkin", event_id="test:dup-checkin")
    assert refused.text is not None and "already checked in" in refused.text
    again = await chat.deliver(refused.event)
    assert again.outcome.duplicate and again.text is None


async def test_event_ids_are_forgotten_after_the_dedupe_window(chat: Chat, store: Store) -> None:
    await chat.say("alice", "/start", event_id="test:old")
    chat.now += DEDUPE_WINDOW - timedelta(minutes=1)
    await chat.say("alice", "/start", event_id="test:recent")
    assert store.write_now(forget_old_events, chat.now) == 0
    assert store.write_now(forget_old_events, chat.now + timedelta(minutes=2)) == 1
    again = await chat.deliver(chat.event("alice", "/start", event_id="test:recent"))
    assert again.outcome.duplicate


async def test_a_running_bot_forgets_old_event_ids_by_itself(chat: Chat, store: Store) -> None:
    for n in range(5):
        await chat.say("alice", f"hello {n}")
    chat.now += DEDUPE_WINDOW + timedelta(hours=1)
    await chat.say("alice", "still here")
    remembered = store.read_now(
        lambda c: c.execute(select(processed_events.c.event_id)).scalars().all()
    )
    assert len(remembered) == 1


async def test_failed_housekeeping_does_not_cost_the_event_its_answer(
    chat: Chat, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fault injection: the hourly clean-up of old event ids fails (say, the database
    # connection dropped just then); the check-in that triggered it must still be answered.
    def broken(*_args: object) -> int:
        raise RuntimeError("connection lost")

    monkeypatch.setattr("handlers.router.forget_old_events", broken)
    chat.now += PRUNE_EVERY * 2
    said = await chat.say("alice", "/checkin")
    assert said.text is not None and "+10 points" in said.text
