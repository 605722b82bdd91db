"""A chat harness for handler tests: members type text, the real core answers, we read the words."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.rendering import Renderer, plain_text
from handlers.parsing import event_from_text
from handlers.router import Dispatcher, Outcome
from handlers.types import AccountRef, ChatRef, Event

RENDERER = Renderer(plain_text)
_ids = itertools.count(1)


@dataclass
class Said:
    """What the bot answered to one message: the outcome and the rendered words."""

    outcome: Outcome
    text: str | None
    event: Event


@dataclass
class Clock:
    """The test's clock: events carry its time, and the dispatcher reads it too."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 23, 1, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Chat:
    """A group on a fake platform where members talk to the real dispatcher."""

    dispatcher: Dispatcher
    clock: Clock = field(default_factory=Clock)
    chat_id: str = "group-1"
    platform: str = "test"
    admins: set[str] = field(default_factory=set)

    @property
    def now(self) -> datetime:
        """What time it is in the test."""
        return self.clock.now

    @now.setter
    def now(self, value: datetime) -> None:
        self.clock.now = value

    def event(self, who: str, text: str, *, event_id: str | None = None) -> Event:
        """The event a member's message becomes."""
        return event_from_text(
            event_id=event_id or f"{self.platform}:{next(_ids)}",
            chat=ChatRef(self.platform, self.chat_id, title=self.chat_id),
            actor=AccountRef(
                self.platform,
                who.casefold(),
                who,
                username=who,
                is_platform_admin=who in self.admins,
            ),
            text=text,
            occurred_at=self.now,
        )

    async def say(self, who: str, text: str, *, event_id: str | None = None) -> Said:
        """`who` sends `text`; returns what the bot answered."""
        event = self.event(who, text, event_id=event_id)
        return await self.deliver(event)

    async def deliver(self, event: Event) -> Said:
        """Hand an already built event to the core (as a redelivering platform would)."""
        outcome = await self.dispatcher.handle(event)
        text = RENDERER.render(outcome.reply) if outcome.reply else None
        return Said(outcome, text, event)
