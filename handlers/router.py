"""Routers name the commands of one feature; the dispatcher runs each event as one unit of work."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from community.communities import Community, community_for_chat
from community.events import first_sighting, forget_old_events
from community.members import Member, identify
from handlers.parsing import normalize_word
from handlers.types import Event, EventKind, Reply
from loyalty.errors import UserError
from storage.sql import savepoint
from storage.store import Store

log = logging.getLogger(__name__)

# How often handled-event ids past the dedupe window are dropped, by the dispatcher's clock.
PRUNE_EVERY = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Context:
    """What a handler gets: the open connection, the event and who/where it came from."""

    conn: Connection
    event: Event
    community: Community
    member: Member
    is_admin: bool
    commands: tuple[str, ...]

    @property
    def now(self) -> datetime:
        """The time the event happened: the clock every domain call here uses."""
        return self.event.occurred_at


Handler = Callable[[Context], Reply]


@dataclass(frozen=True, slots=True)
class Route:
    """A command, who may use it, and the plain words that mean the same."""

    command: str
    handler: Handler
    admin: bool
    words: tuple[str, ...]


class Router:
    """The commands of one feature module, registered explicitly with `@router.command`."""

    def __init__(self) -> None:
        self.routes: list[Route] = []

    def command(
        self, name: str, *, admin: bool = False, words: Sequence[str] = ()
    ) -> Callable[[Handler], Handler]:
        """Register the decorated function as the handler of /name (and of `words`)."""

        def register(handler: Handler) -> Handler:
            normalized = tuple(normalize_word(word) for word in words)
            self.routes.append(Route(name, handler, admin, normalized))
            return handler

        return register


@dataclass(frozen=True, slots=True)
class Outcome:
    """What handling an event came to: the reply (if any), and whether it was a repeat."""

    reply: Reply | None
    duplicate: bool = False


class Dispatcher:
    """Finds the route for an event, checks permission and runs it in the store's writer."""

    def __init__(
        self,
        store: Store,
        routers: Sequence[Router],
        *,
        default_community: str,
        default_locale: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._clock = clock
        self._pruned_at: datetime | None = None
        self._default_community = default_community
        self._default_locale = default_locale
        self._commands: dict[str, Route] = {}
        self._words: dict[str, Route] = {}
        for router in routers:
            for route in router.routes:
                if route.command in self._commands:
                    raise ValueError(f"/{route.command} is registered twice")
                self._commands[route.command] = route
                for word in route.words:
                    self._words[word] = route
        # What /help lists, worked out once rather than on every event.
        self._visible = {
            admin: tuple(r.command for r in self._commands.values() if admin or not r.admin)
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
            outcome = await self._store.write(self._unit_of_work, event, route, now)
        except Exception:
            log.exception("event failed", extra={"event_id": event.event_id})
            if route is None and event.kind is EventKind.MESSAGE:
                return Outcome(None)  # nobody asked the bot anything
            return Outcome(Reply("common/internal_error", locale=self._default_locale))
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

    def visible_commands(self, is_admin: bool) -> tuple[str, ...]:
        """The commands an actor may use, in registration order."""
        return self._visible[is_admin]

    def _route(self, event: Event) -> Route | None:
        if event.kind is EventKind.COMMAND and event.command:
            # "/签到" means the same as the plain word.
            return self._commands.get(event.command) or self._words.get(event.command)
        return self._words.get(normalize_word(event.text))

    def _unit_of_work(
        self, conn: Connection, event: Event, route: Route | None, now: datetime
    ) -> Outcome:
        if not first_sighting(conn, event.event_id, now):
            return Outcome(None, duplicate=True)
        community = community_for_chat(
            conn,
            platform=event.chat.platform,
            chat_id=event.chat.chat_id,
            title=event.chat.title,
            default_slug=self._default_community,
            at=event.occurred_at,
        )
        actor = event.actor
        member = identify(
            conn,
            community_id=community.id,
            platform=actor.platform,
            user_id=actor.user_id,
            display_name=actor.display_name,
            username=actor.username,
            at=event.occurred_at,
        )
        if route is None and event.kind is EventKind.MESSAGE:
            return Outcome(None)
        is_admin = actor.is_platform_admin or community.lists_admin(actor.platform, actor.user_id)
        reply = self._run(conn, event, route, community, member, is_admin)
        return Outcome(replace(reply, locale=community.locale))

    def _run(
        self,
        conn: Connection,
        event: Event,
        route: Route | None,
        community: Community,
        member: Member,
        is_admin: bool,
    ) -> Reply:
        if route is None:
            return Reply("common/unknown_command", {"command": event.command or ""})
        if route.admin and not is_admin:
            return Reply("common/admins_only", {"command": route.command})
        context = Context(conn, event, community, member, is_admin, self.visible_commands(is_admin))
        try:
            # A savepoint, so a refusal half-way through leaves nothing behind, while the
            # event itself (and the member's first contact) still counts as handled.
            with savepoint(conn):
                return route.handler(context)
        except UserError as refusal:
            return Reply(refusal.key, refusal.context)
