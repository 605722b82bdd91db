"""Routes: what a feature module registers (a command, who may use it, its handler) and what
a handler is given (the Context of one event)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Connection

from community.audit import Actor
from community.communities import Community
from community.config import Rules
from community.members import Member
from handlers.parsing import normalize_word
from handlers.types import Event, EventKind, Reply


@dataclass(frozen=True, slots=True)
class Context:
    """What a handler gets: the open connection, the event and who/where it came from."""

    conn: Connection
    event: Event
    community: Community
    # None for an actor who is no member (an anonymous group admin): only routes that are not
    # `personal` run for them, and those read `actor` instead.
    acting_member: Member | None
    is_admin: bool
    # Named in community.toml's admins (not only a group's own admin).
    listed_admin: bool
    commands: tuple[Route, ...]
    # The platform could not say whether the actor is an admin here, and it would matter.
    admin_unknown: bool = False
    # Platforms the handler queued messages for besides its answer (a broadcast): their
    # senders are woken after the commit. Shared with the unit of work.
    outbox_platforms: set[str] = field(default_factory=set)

    @property
    def now(self) -> datetime:
        """The time the event happened: the clock every domain call here uses."""
        return self.event.occurred_at

    @property
    def member(self) -> Member:
        """The member who acted (personal routes only ever run for one)."""
        if self.acting_member is None:
            raise LookupError("an anonymous actor reached a personal route")
        return self.acting_member

    @property
    def actor(self) -> Actor:
        """Who acted, for the audit log: their member (if any) and platform account."""
        member_id = None if self.acting_member is None else self.acting_member.id
        return Actor(member_id, self.event.actor.key)

    @property
    def display_name(self) -> str:
        """What to call the actor."""
        if self.acting_member is None:
            return self.event.actor.display_name
        return self.acting_member.display_name


# None: nothing to answer (an event that needs no words, such as a second report of one join).
Handler = Callable[[Context], Reply | None]


def admins_only(ctx: Context, command: str) -> Reply:
    """The answer to a member who asked for an admin's action of a command anyone may use
    (/faq add, /survey start): the pipeline's own refusal, "try again" when the platform could
    not say whether they are an admin."""
    refusal = "common/admin_check_failed" if ctx.admin_unknown else "common/admins_only"
    return Reply(refusal, {"command": command})


class ParamKind(StrEnum):
    """What a command's parameter holds, so each platform can offer the right input for it: a
    member picker, a number field with its limits, a list to choose from, free text."""

    MEMBER = "member"
    INTEGER = "integer"
    TEXT = "text"
    CHOICE = "choice"
    # An open poll of this chat, by number (platforms with autocomplete list the live ones).
    POLL = "poll"
    # A photo, video or file sent with the command (Event.media), never typed: Discord offers
    # an attachment field for it; elsewhere the file simply comes with the message.
    FILE = "file"


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter of a command, declared once next to its handler. Typed text reads the
    parameters in order, separated by spaces; the last TEXT takes the rest of the line (a FILE
    is never typed, and may follow it). Names are ASCII (Discord's option names); what they are
    called and mean in each language comes from templates/<locale>/help/_params.j2."""

    name: str
    kind: ParamKind
    required: bool = True
    minimum: int | None = None
    # The largest value: a number, or read from the community's rules (e.g. max_award).
    maximum: int | Callable[[Rules], int] | None = None
    choices: tuple[str, ...] = ()

    def most(self, rules: Rules) -> int | None:
        """The largest value this parameter takes under `rules`."""
        return self.maximum(rules) if callable(self.maximum) else self.maximum


@dataclass(frozen=True, slots=True)
class Route:
    """A command, who may use it, and the plain words that mean the same."""

    command: str
    handler: Handler
    admin: bool
    words: tuple[str, ...]
    # Only answered where the asker alone sees the answer (a private chat, an ephemeral reply).
    private: bool = False
    # Not listed in /help or the platform's command menu: buttons send it.
    hidden: bool = False
    # Answers differently for admins (e.g. /help lists their commands too).
    shows_admin: bool = False
    # Acts as or for the member (earns, shows their points): refused to anonymous actors.
    personal: bool = True
    # What follows the command, in order: the one declaration that platforms' inputs, their
    # command menus and /help are made from.
    params: tuple[Param, ...] = ()
    # Reads a file sent with it (a CSV, a photo): adapters download a command's files only
    # then, so "/points" with ten 10 MB attachments costs the bot nothing.
    takes_files: bool = False


class Router:
    """The commands of one feature module, registered explicitly with `@router.command`."""

    def __init__(self) -> None:
        self.routes: list[Route] = []
        self.event_handlers: dict[EventKind, Handler] = {}

    def command(
        self,
        name: str,
        *,
        admin: bool = False,
        words: Sequence[str] = (),
        private: bool = False,
        hidden: bool = False,
        shows_admin: bool = False,
        personal: bool | None = None,
        params: Sequence[Param] = (),
        takes_files: bool = False,
    ) -> Callable[[Handler], Handler]:
        """Register the decorated function as the handler of /name (and of `words`). Admin
        commands are not `personal` unless they say so; member commands are. A command with a
        FILE parameter takes files; one that reads a typed-for file (a CSV) says so."""

        def register(handler: Handler) -> Handler:
            normalized = tuple(normalize_word(word) for word in words)
            route = Route(
                name,
                handler,
                admin,
                normalized,
                private,
                hidden,
                shows_admin,
                personal=not admin if personal is None else personal,
                params=tuple(params),
                takes_files=takes_files or any(p.kind is ParamKind.FILE for p in params),
            )
            self.routes.append(route)
            return handler

        return register

    def on(self, kind: EventKind) -> Callable[[Handler], Handler]:
        """Register the decorated function for events that are not commands (votes, joins)."""

        def register(handler: Handler) -> Handler:
            self.event_handlers[kind] = handler
            return handler

        return register
