"""The dispatcher: runs each event as one unit of work through the route it asks for."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from community.communities import (
    ChatPlace,
    Community,
    adopt_chat,
    community_by_id,
    community_for_chat,
)
from community.config import Access
from community.events import first_sighting, forget_old_events, settle_arrival
from community.linking import spend_codes_shown, spend_member_codes
from community.members import Member, identify
from community.outbox import Kind, enqueue, heard_from
from community.polls import poll_by_native
from handlers.parsing import normalize_word
from handlers.routes import Context, Route, Router
from handlers.types import Event, EventKind, Reply, Visibility
from loyalty.errors import UserError
from storage.sql import savepoint
from storage.store import Store

log = logging.getLogger(__name__)

# How often handled-event ids past the dedupe window are dropped, by the dispatcher's clock.
PRUNE_EVERY = timedelta(hours=1)
# Events in which someone asks the bot something, and so always get an answer.
_ASKING = (EventKind.COMMAND, EventKind.BUTTON)
# How long an answer the adapter gives inline (a Discord interaction, the console) is kept back
# from the sender: past it, the adapter is taken to have died, and the sender sends it instead.
INLINE_HOLD = timedelta(seconds=30)


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
        default_community: str,
        default_locale: str,
        access: Access,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        queued: Callable[[str], None] = lambda platform: None,
    ) -> None:
        self._store = store
        # Told the platform whenever a unit of work queued messages for it: its sender wakes.
        self._queued = queued
        self._access = access
        self._clock = clock
        self._pruned_at: datetime | None = None
        self._default_community = default_community
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
                self._kinds[kind] = Route(kind.value, handler, admin=False, words=(), hidden=True)
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
            outcome = await self._store.write(self._unit_of_work, event, route, now)
        except Exception:
            log.exception("event failed", extra={"event_id": event.event_id})
            if event.from_inbox:
                await self._give_up(event)
            if route is None and event.kind not in _ASKING:
                return Outcome(None)  # nobody asked the bot anything
            return await self._apologize(event, now)
        if outcome.queued:
            self._queued(event.chat.platform)
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
            outcome = await self._store.write(self._queue_apology, event, sorry, now)
        except Exception:
            log.exception("the apology was not queued", extra={"event_id": event.event_id})
            return Outcome(sorry)
        self._queued(event.chat.platform)
        return outcome

    def _queue_apology(
        self, conn: Connection, event: Event, sorry: Reply, now: datetime
    ) -> Outcome:
        place = self._place(conn, event)
        if place is None:
            return Outcome(sorry)
        sorry = replace(sorry, locale=place.community.locale)
        return Outcome(sorry, queued=self._queue(conn, event, place, sorry, now))

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

    def command_menu(self) -> tuple[tuple[str, bool], ...]:
        """Every listed command and whether it is for admins: what platforms show in menus."""
        return tuple((r.command, r.admin) for r in self._commands.values() if not r.hidden)

    def _route(self, event: Event) -> Route | None:
        if event.kind is EventKind.EDITED:
            return None  # an edit runs nothing: an edited "签到" is no second check-in
        if event.kind in (EventKind.COMMAND, EventKind.BUTTON) and event.command:
            # "/签到" means the same as the plain word.
            return self._commands.get(event.command) or self._words.get(event.command)
        if event.kind in self._kinds:
            return self._kinds[event.kind]
        return self._words.get(normalize_word(event.text))

    def _place(self, conn: Connection, event: Event) -> ChatPlace | None:
        if event.kind is EventKind.VOTE:
            # A native vote names only its poll; the poll knows its community.
            poll = poll_by_native(conn, event.chat.platform, event.poll_ref)
            found = None if poll is None else community_by_id(conn, poll.community_id)
            return None if found is None else ChatPlace(found, adopted_by=None)
        return community_for_chat(
            conn,
            platform=event.chat.platform,
            chat_id=event.chat.chat_id,
            title=event.chat.title,
            default_slug=self._default_community,
            at=event.occurred_at,
            private=event.chat.private,
        )

    def _unit_of_work(
        self, conn: Connection, event: Event, route: Route | None, now: datetime
    ) -> Outcome:
        if event.from_inbox:
            settle_arrival(conn, event.event_id)
        if not first_sighting(conn, event.event_id, now):
            return Outcome(None, duplicate=True)
        place = self._place(conn, event)
        if place is None:
            return Outcome(None)  # a vote in a poll we never posted: nothing to count
        if place.refused and event.kind is not EventKind.VOTE:
            heard_from(conn, event.chat.platform, event.chat.chat_id)  # reachable again
        reply = self._decide(conn, event, route, place, now)
        if reply is None:
            return Outcome(None)
        return Outcome(reply, queued=self._queue(conn, event, place, reply, now))

    @staticmethod
    def _queue(
        conn: Connection, event: Event, place: ChatPlace, reply: Reply, now: datetime
    ) -> tuple[int, ...]:
        """Write the answer to the outbox, in this unit of work: a crash after the commit
        loses nothing. A private answer to something done in a group goes to the asker's
        private chat; a native vote names no chat, and its answer goes nowhere."""
        if event.kind is EventKind.VOTE:
            return ()
        chat, actor = event.chat, event.actor
        group = None if chat.private else chat.chat_id
        hold = INLINE_HOLD if event.answered_inline else timedelta()
        if reply.visibility is Visibility.PRIVATE and not chat.private:
            kind, target, quote = Kind.DIRECT, actor.user_id, None
        else:
            # A Discord server is no channel: the answer goes where it was asked, else (a
            # newcomer's welcome) to the server's posting channel.
            kind, quote = Kind.REPLY, event.message_id or None
            target = event.channel_id or place.posting_channel or chat.chat_id
        message_id = enqueue(
            conn,
            community_id=place.community.id,
            platform=chat.platform,
            chat_id=target,
            kind=kind,
            reply=reply,
            at=now,
            group_chat_id=group,
            reply_to=quote,
            recipient=actor.display_name,
            hold=hold,
        )
        return (message_id,)

    def _decide(
        self,
        conn: Connection,
        event: Event,
        route: Route | None,
        place: ChatPlace,
        now: datetime,
    ) -> Reply | None:
        community, actor = place.community, event.actor
        # Someone speaking for a chat (an anonymous admin, a channel) is nobody's member.
        member = None if actor.anonymous else self._identify(conn, community, event)
        listed = self._access.lists(actor.platform, actor.user_id)
        # Adoption is deliberate: a listed admin running an admin command here (/settings).
        # Chatting, voting or being added to a stranger's group vouches for nobody, and an
        # adoption ends when its adopter is no longer listed.
        adopted = place.adopted_by is not None and place.adopted_by in self._access.admins
        deliberate = event.kind in _ASKING and route is not None and route.admin
        if listed and deliberate and not adopted and not event.chat.private:
            chat = event.chat
            adopt_chat(
                conn,
                platform=chat.platform,
                chat_id=chat.chat_id,
                adopter=actor.key,
                at=now,
                channel=event.channel_id or None,
            )
            adopted = True
        # Whatever it was meant as, text everyone here reads (an edit, a quote, a forward, a
        # public answer's echo) spends any /link code it shows; the spend is said where it was
        # what the message was about.
        exposed = self._in_public(event, route) and self._spend_shown_codes(conn, event, member)
        if exposed and (route is None or route.command == "link"):
            return Reply("link/spent_in_public", locale=community.locale)
        if route is None and (event.kind not in _ASKING or not event.addressed):
            # Nobody asked this bot anything: a chat message, or a command in a group that
            # is for another bot there ("/ban x").
            return None
        # A group's own admins count once the group is adopted: otherwise whoever adds the bot
        # to a group of their own would be an admin of the brand's community.
        vouched = adopted or event.chat.trusted
        group_admin = bool(actor.is_platform_admin) and self._access.platform_admins
        is_admin = listed or (group_admin and vouched)
        # Only a platform that was asked and could not answer leaves this open, and only where
        # its answer would count: refuse to guess rather than refuse a real admin.
        unsure = actor.is_platform_admin is None and self._access.platform_admins and vouched
        context = Context(
            conn,
            event,
            community,
            member,
            is_admin,
            listed,
            self.visible_commands(is_admin),
            admin_unknown=unsure and not is_admin,
        )
        reply = self._run(context, route)
        if reply.template == "common/admins_only" and group_admin and not vouched:
            reply = replace(reply, template="common/group_not_adopted")
        return replace(reply, locale=community.locale)

    @staticmethod
    def _in_public(event: Event, route: Route | None) -> bool:
        """Whether others read what the event says: anything in a group, except a private
        command answered where only the asker sees it (a Discord slash /link)."""
        answered_privately = route is not None and route.private and event.private_reply
        return not event.chat.private and not answered_privately

    @staticmethod
    def _spend_shown_codes(conn: Connection, event: Event, member: Member | None) -> bool:
        spent = spend_codes_shown(conn, f"{event.text}\n{event.quoted}")
        if event.shows_private_chat and member is not None:
            spent = spend_member_codes(conn, member.id) or spent
        return spent

    def _identify(self, conn: Connection, community: Community, event: Event) -> Member:
        actor = event.actor
        return identify(
            conn,
            community_id=community.id,
            platform=actor.platform,
            user_id=actor.user_id,
            display_name=actor.display_name,
            username=actor.username,
            at=event.occurred_at,
        )

    def _run(self, ctx: Context, route: Route | None) -> Reply:
        event = ctx.event
        if route is None:
            if event.kind is EventKind.BUTTON:
                # Only the presser needs to know; the group does not.
                return Reply("common/stale_button", visibility=Visibility.PRIVATE)
            return Reply("common/unknown_command", {"command": event.command or ""})
        # A refused button press concerns the presser alone, not everyone in the group.
        refusal = Visibility.PRIVATE if event.kind is EventKind.BUTTON else Visibility.CHAT
        if route.admin and ctx.admin_unknown:
            # Nothing is done: they are asked to try again.
            return Reply(
                "common/admin_check_failed", {"command": route.command}, visibility=refusal
            )
        if route.admin and not ctx.is_admin:
            return Reply("common/admins_only", {"command": route.command}, visibility=refusal)
        if route.personal and ctx.acting_member is None:
            # Points belong to people: an anonymous admin or a channel earns nothing.
            return Reply("common/post_as_yourself", {"command": route.command}, visibility=refusal)
        if route.private and not event.private_reply:
            return Reply("common/private_only", {"command": route.command})
        try:
            # A savepoint, so a refusal half-way through leaves nothing behind, while the
            # event itself (and the member's first contact) still counts as handled.
            with savepoint(ctx.conn):
                reply = route.handler(ctx)
        except UserError as refusal:
            reply = Reply(refusal.key, refusal.context, line=refusal.line)
        if route.private and event.private_reply:
            reply = replace(reply, visibility=Visibility.PRIVATE)
        elif (
            reply.visibility is Visibility.PRIVATE
            and not event.private_reply
            and event.kind in _ASKING
        ):
            # Meant for the asker alone, asked where everyone would see the answer: say where
            # to ask instead (what was done stays done).
            return Reply("common/private_only", {"command": route.command})
        return reply
