"""The dispatcher: finds the route an event asks for and runs the pipeline's steps for it as
one unit of work (handlers/pipeline.py); the senders of platforms it queued messages for are
woken after the commit."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from community.events import forget_old_events, settle_arrival
from handlers.parsing import normalize_word
from handlers.pipeline import ASKING, Step, Unit, queue_answer, run_steps
from handlers.routes import Route, Router
from handlers.types import Event, EventKind, Reply
from storage.store import Store

log = logging.getLogger(__name__)

# How often handled-event ids past the dedupe window are dropped, by the dispatcher's clock.
PRUNE_EVERY = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What handling an event came to: the reply (if any), and whether it was a repeat."""

    reply: Reply | None
    duplicate: bool = False
    # The reply's message in the outbox, for an adapter that answers inline to mark delivered.
    queued: tuple[int, ...] = ()


class Dispatcher:
    """Finds the route for an event, checks permission and runs it in the store's writer."""

    def __init__(
        self,
        store: Store,
        routers: Sequence[Router],
        *,
        steps: Sequence[Step],
        apology_steps: Sequence[Step],
        default_locale: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        queued: Callable[[str], None] = lambda platform: None,
    ) -> None:
        self._store = store
        # The unit of work's steps, in order (bot/app.py lists them); the apology for an event
        # that failed runs only those that find where to say it.
        self._steps = tuple(steps)
        self._apology_steps = tuple(apology_steps)
        # Told the platform whenever a unit of work queued messages for it: its sender wakes.
        self._queued = queued
        self._clock = clock
        self._pruned_at: datetime | None = None
        self._default_locale = default_locale
        self._commands: dict[str, Route] = {}
        self._words: dict[str, Route] = {}
        self._kinds: dict[EventKind, Route] = {}
        for router in routers:
            for route in router.routes:
                if route.command in self._commands:
                    raise ValueError(f"/{route.command} is registered twice")
                self._commands[route.command] = route
                for word in route.words:
                    self._words[word] = route
            for kind, handler in router.event_handlers.items():
                # A plain message may come from an anonymous admin: its readers check for a
                # member themselves rather than refuse everyone who is none.
                personal = kind is not EventKind.MESSAGE
                self._kinds[kind] = Route(
                    kind.value, handler, admin=False, words=(), hidden=True, personal=personal
                )
        # What /help lists, worked out once rather than on every event.
        self._visible = {
            admin: tuple(
                r for r in self._commands.values() if not r.hidden and (admin or not r.admin)
            )
            for admin in (False, True)
        }

    async def handle(self, event: Event) -> Outcome:
        """Handle one event; a repeated event_id changes nothing and gets no reply.

        Plain chat messages get no reply, but still register the member and keep names current.
        """
        route = self._route(event)
        now = self._clock()
        await self._prune(now)
        started = time.perf_counter()
        try:
            unit = await self._store.write(self._unit_of_work, event, route, now, self._steps)
        except Exception:
            log.exception("event failed", extra={"event_id": event.event_id})
            if event.from_inbox:
                await self._give_up(event)
            if route is None and event.kind not in ASKING:
                return Outcome(None)  # nobody asked the bot anything
            return await self._apologize(event, now)
        outcome = self._woken(unit)
        log.info(
            "event handled",
            extra={
                "event_id": event.event_id,
                "command": route.command if route else event.command,
                "reply": outcome.reply.template if outcome.reply else None,
                "duplicate": outcome.duplicate,
                "ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
        return outcome

    async def _give_up(self, event: Event) -> None:
        """The member is told it failed and may try again: a replay of this update at the next
        start could then pay twice, so it leaves the inbox (best effort: the store may be down)."""
        try:
            await self._store.write(settle_arrival, event.event_id)
        except Exception:
            log.exception("failed event stays in the inbox", extra={"event_id": event.event_id})

    async def _apologize(self, event: Event, now: datetime) -> Outcome:
        """Say it failed (the member may try again), through the outbox like any answer."""
        sorry = Reply("common/internal_error", locale=self._default_locale)
        try:
            unit = await self._store.write(
                self._unit_of_work, event, None, now, self._apology_steps, sorry
            )
        except Exception:
            log.exception("the apology was not queued", extra={"event_id": event.event_id})
            return Outcome(sorry)
        return self._woken(unit) if unit.reply is not None else Outcome(sorry)

    def _woken(self, unit: Unit) -> Outcome:
        for platform in unit.platforms:
            self._queued(platform)
        return Outcome(unit.reply, unit.duplicate, unit.queued)

    def _unit_of_work(
        self,
        conn: Connection,
        event: Event,
        route: Route | None,
        now: datetime,
        steps: Sequence[Step],
        reply: Reply | None = None,
    ) -> Unit:
        unit = Unit(conn, event, route, now, self._visible, reply=reply, started=self._clock())
        run_steps(steps, unit)
        queue_answer(unit)
        return unit

    async def _prune(self, now: datetime) -> None:
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return
        self._pruned_at = now
        try:
            forgotten = await self._store.write(forget_old_events, now)
        except Exception:
            # Housekeeping: the event that triggered it must still be handled.
            log.exception("forgetting old event ids failed")
            return
        log.info("old event ids forgotten", extra={"count": forgotten})

    @property
    def clock(self) -> Callable[[], datetime]:
        """The clock its units of work read (what the outbox's times are written in)."""
        return self._clock

    @property
    def store(self) -> Store:
        """The store it runs units of work in (what the ports beside it are built on)."""
        return self._store

    def visible_commands(self, is_admin: bool) -> tuple[Route, ...]:
        """The commands an actor may use, in registration order."""
        return self._visible[is_admin]

    def asks_who_is_admin(self, event: Event) -> bool:
        """Whether handling `event` depends on the actor being an admin, so an adapter knows
        when asking the platform (a network round trip) is worth it."""
        route = self._route(event)
        return route is not None and (route.admin or route.shows_admin)

    def takes_files(self, event: Event) -> bool:
        """Whether `event`'s command reads the files sent with it: the adapters fetch them
        only then."""
        route = self._route(event)
        return route is not None and route.takes_files

    def command_menu(self) -> tuple[tuple[str, bool], ...]:
        """Every listed command and whether it is for admins: what platforms show in menus."""
        return tuple((r.command, r.admin) for r in self._commands.values() if not r.hidden)

    def _route(self, event: Event) -> Route | None:
        if event.kind is EventKind.EDITED:
            return None  # an edit runs nothing: an edited "签到" is no second check-in
        if event.kind in (EventKind.COMMAND, EventKind.BUTTON) and event.command:
            # "/签到" means the same as the plain word.
            return self._commands.get(event.command) or self._words.get(event.command)
        if event.kind is EventKind.MESSAGE:
            # A plain word ("签到") is its command; any other message goes to its readers.
            return self._words.get(normalize_word(event.text)) or self._kinds.get(event.kind)
        return self._kinds.get(event.kind) or self._words.get(normalize_word(event.text))
