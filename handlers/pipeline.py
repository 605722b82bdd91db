"""The steps one chat event goes through in its unit of work, each named and separate.

record the event id -> find the place (chat -> community) -> identify the actor -> adopt the
group -> spend codes shown in public -> authorize -> run the handler in a savepoint -> queue the
answer. bot/app.py lists them; a step may answer and end the chain (a duplicate, a refusal), and
the answer, if any, is then queued. Other origins (a scheduled firing, a shop call, the operator's
CLI) run the steps that apply to them: see handlers/tasks.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Connection

from community.communities import ChatPlace, adopt_chat, community_by_id, community_for_chat
from community.config import Access
from community.events import first_sighting, settle_arrival
from community.linking import spend_codes_shown, spend_member_codes
from community.members import Member, identify
from community.outbox import Kind, enqueue
from community.outbox_drain import heard_from
from community.polls import poll_by_native
from handlers.routes import Context, Route
from handlers.types import Event, EventKind, Reply, Visibility
from loyalty.errors import UserError
from storage.sql import savepoint

# Events in which someone asks the bot something, and so always get an answer.
ASKING = (EventKind.COMMAND, EventKind.BUTTON)
# How long an answer the adapter gives inline (a Discord interaction, the console) is kept back
# from the sender: past it, the adapter is taken to have died, and the sender sends it instead.
INLINE_HOLD = timedelta(seconds=30)


@dataclass(slots=True)
class Unit:
    """One event's unit of work as the steps fill it in."""

    conn: Connection
    event: Event
    route: Route | None
    now: datetime
    # The commands the actor may use, by whether they are an admin (for /help).
    commands: dict[bool, tuple[Route, ...]]
    duplicate: bool = False
    place: ChatPlace | None = None
    member: Member | None = None
    listed: bool = False  # named in community.toml's admins
    adopted: bool = False  # the group is vouched for by a listed admin
    reply: Reply | None = None
    queued: tuple[int, ...] = ()
    # Platforms with new messages in the outbox: their senders are woken after the commit.
    platforms: set[str] = field(default_factory=set)
    # When the unit of work began to run (the writer may have kept it waiting since `now`).
    started: datetime | None = None

    @property
    def in_public(self) -> bool:
        """Whether others read what the event says: anything in a group, except a private
        command answered where only the asker sees it (a Discord slash /link)."""
        private_answer = self.route is not None and self.route.private and self.event.private_reply
        return not self.event.chat.private and not private_answer


class Step(Protocol):
    def __call__(self, unit: Unit) -> bool:
        """Do this step's part; True when the event is done with (its reply, if any, set)."""
        ...


def run_steps(steps: Sequence[Step], unit: Unit) -> Unit:
    for step in steps:
        if step(unit):
            break
    return unit


def record_event(unit: Unit) -> bool:
    """The event leaves the inbox and is recorded as handled: a second delivery stops here."""
    if unit.event.from_inbox:
        settle_arrival(unit.conn, unit.event.event_id)
    unit.duplicate = not first_sighting(unit.conn, unit.event.event_id, unit.now)
    return unit.duplicate


class FindPlace:
    """Chat -> community; a chat seen for the first time joins the default community."""

    def __init__(self, default_community: str) -> None:
        self._default = default_community

    def __call__(self, unit: Unit) -> bool:
        event, conn = unit.event, unit.conn
        if event.kind is EventKind.VOTE:
            # A native vote names only its poll; the poll knows its community.
            poll = poll_by_native(conn, event.chat.platform, event.poll_ref)
            found = None if poll is None else community_by_id(conn, poll.community_id)
            unit.place = None if found is None else ChatPlace(found, adopted_by=None)
            return unit.place is None  # a vote in a poll we never posted: nothing to count
        unit.place = community_for_chat(
            conn,
            platform=event.chat.platform,
            chat_id=event.chat.chat_id,
            title=event.chat.title,
            default_slug=self._default,
            at=event.occurred_at,
            private=event.chat.private,
            needs_channel=event.chat.needs_channel,
        )
        if unit.place.refused:
            heard_from(conn, event.chat.platform, event.chat.chat_id)  # reachable again
        return False


def identify_actor(unit: Unit) -> bool:
    """The member behind the account, registered at first sight. Someone speaking for a chat
    (an anonymous admin, a channel) is nobody's member."""
    actor = unit.event.actor
    if actor.anonymous or unit.place is None:
        return False
    unit.member = identify(
        unit.conn,
        community_id=unit.place.community.id,
        platform=actor.platform,
        user_id=actor.user_id,
        display_name=actor.display_name,
        username=actor.username,
        at=unit.event.occurred_at,
    )
    return False


class AdoptGroup:
    """Adoption is deliberate: a listed admin running an admin command in a group. Chatting,
    voting or being added to a stranger's group vouches for nobody, and an adoption ends when
    its adopter is no longer listed."""

    def __init__(self, access: Access) -> None:
        self._access = access

    def __call__(self, unit: Unit) -> bool:
        event, place = unit.event, unit.place
        assert place is not None
        actor, chat = event.actor, event.chat
        unit.listed = self._access.lists(actor.platform, actor.user_id)
        unit.adopted = place.adopted_by is not None and place.adopted_by in self._access.admins
        deliberate = event.kind in ASKING and unit.route is not None and unit.route.admin
        if unit.listed and deliberate and not unit.adopted and not chat.private:
            adopt_chat(
                unit.conn,
                platform=chat.platform,
                chat_id=chat.chat_id,
                adopter=actor.key,
                at=unit.now,
                channel=event.channel_id or None,
            )
            unit.adopted = True
        return False


def spend_shown_codes(unit: Unit) -> bool:
    """Whatever it was meant as, text everyone here reads (an edit, a quote, a forward, a public
    answer's echo) spends any /link code it shows; the spend is said where it was what the
    message was about. Then a message nobody asked this bot about ends here."""
    event, route = unit.event, unit.route
    if unit.in_public:
        spent = spend_codes_shown(unit.conn, f"{event.text}\n{event.quoted}")
        if event.shows_private_chat and unit.member is not None:
            spent = spend_member_codes(unit.conn, unit.member.id) or spent
        # A plain message (the MESSAGE route reads it) was about the code it showed.
        if spent and (route is None or route.command in ("link", EventKind.MESSAGE.value)):
            unit.reply = Reply("link/spent_in_public")
            return True
    # A chat message, or a command in a group that is for another bot there ("/ban x").
    return route is None and (event.kind not in ASKING or not event.addressed)


class Authorize:
    """Who may run the route: listed admins anywhere; a group's own admins once the group is
    adopted (or the chat is trusted). A refusal is the answer."""

    def __init__(self, access: Access) -> None:
        self._access = access

    def __call__(self, unit: Unit) -> bool:
        event, route = unit.event, unit.route
        actor = event.actor
        # Otherwise whoever adds the bot to a group of their own would be an admin of the
        # brand's community.
        vouched = unit.adopted or event.chat.trusted
        group_admin = bool(actor.is_platform_admin) and self._access.platform_admins
        is_admin = unit.listed or (group_admin and vouched)
        # Only a platform that was asked and could not answer leaves this open, and only where
        # its answer would count: refuse to guess rather than refuse a real admin.
        unsure = actor.is_platform_admin is None and self._access.platform_admins and vouched
        refusal = _refusal(event, route, is_admin, unsure and not is_admin, unit.member)
        if refusal is not None:
            if refusal.template == "common/admins_only" and group_admin and not vouched:
                refusal = replace(refusal, template="common/group_not_adopted")
            unit.reply = refusal
            return True
        assert route is not None and unit.place is not None
        unit.reply = _run_in_savepoint(
            route,
            Context(
                unit.conn,
                event,
                unit.place.community,
                unit.member,
                is_admin,
                unit.listed,
                unit.commands[is_admin],
                admin_unknown=unsure and not is_admin,
                outbox_platforms=unit.platforms,
            ),
        )
        return True


def _refusal(
    event: Event, route: Route | None, is_admin: bool, unknown: bool, member: Member | None
) -> Reply | None:
    if route is None:
        if event.kind is EventKind.BUTTON:
            # Only the presser needs to know; the group does not.
            return Reply("common/stale_button", visibility=Visibility.PRIVATE)
        return Reply("common/unknown_command", {"command": event.command or ""})
    # A refused button press concerns the presser alone, not everyone in the group.
    where = Visibility.PRIVATE if event.kind is EventKind.BUTTON else Visibility.CHAT
    command = {"command": route.command}
    if route.admin and unknown:
        return Reply("common/admin_check_failed", command, visibility=where)  # try again
    if route.admin and not is_admin:
        return Reply("common/admins_only", command, visibility=where)
    if route.personal and member is None:
        # Points belong to people: an anonymous admin or a channel earns nothing.
        return Reply("common/post_as_yourself", command, visibility=where)
    if route.private and not event.private_reply:
        return Reply("common/private_only", command)
    return None


def _run_in_savepoint(route: Route, ctx: Context) -> Reply | None:
    """Run the handler; a refusal half-way through leaves nothing behind, while the event
    itself (and the member's first contact) still counts as handled. Then its visibility."""
    event = ctx.event
    try:
        with savepoint(ctx.conn):
            reply = route.handler(ctx)
    except UserError as refusal:
        reply = Reply(refusal.key, refusal.context, line=refusal.line)
    if reply is None:
        return None
    if route.private and event.private_reply:
        return replace(reply, visibility=Visibility.PRIVATE)
    if reply.visibility is Visibility.PRIVATE and not event.private_reply and event.kind in ASKING:
        # Meant for the asker alone, asked where everyone would see the answer: say where to
        # ask instead (what was done stays done).
        return Reply("common/private_only", {"command": route.command})
    return reply


def queue_answer(unit: Unit) -> None:
    """The answer, in the community's language, goes to the outbox in this unit of work: a
    crash after the commit loses nothing. A private answer to something done in a group goes
    to the asker's private chat; a native vote names no chat, and its answer goes nowhere."""
    event, place, reply = unit.event, unit.place, unit.reply
    if reply is None or place is None:
        return
    reply = unit.reply = replace(reply, locale=place.community.locale)
    if event.kind is EventKind.VOTE:
        return
    chat, actor = event.chat, event.actor
    target: str | None
    if reply.visibility is Visibility.PRIVATE and not chat.private:
        kind, target, quote = Kind.DIRECT, actor.user_id, None
    else:
        # A Discord server is no channel: the answer goes where it was asked, else (a
        # newcomer's welcome) to the server's posting channel.
        kind, quote = Kind.REPLY, event.message_id or None
        target = event.channel_id or place.posting_channel
        target = target or (None if chat.needs_channel else chat.chat_id)
    if target is None:
        return  # a server with no channel to say it in (nor a posting channel yet)
    message_id = enqueue(
        unit.conn,
        community_id=place.community.id,
        platform=chat.platform,
        chat_id=target,
        kind=kind,
        reply=reply,
        at=unit.now,
        # A person's private chat is no group: their refusals say nothing of one.
        group_chat_id=None if chat.private or kind is Kind.DIRECT else chat.chat_id,
        reply_to=quote,
        recipient=actor.display_name,
        # Counted from when this unit of work runs, not from when the event was taken: a write
        # that waited must not leave the adapter less than its time to answer.
        hold=_inline_hold(unit) if event.answered_inline else timedelta(),
    )
    unit.queued += (message_id,)
    unit.platforms.add(chat.platform)


def _inline_hold(unit: Unit) -> timedelta:
    waited = (unit.started or unit.now) - unit.now
    return max(waited, timedelta()) + INLINE_HOLD
