"""A chat harness for handler tests: members type text, the real core answers, we read the words."""

from __future__ import annotations

import contextlib
import itertools
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypedDict, TypeVar, Unpack

from sqlalchemy import Connection, Row, func, select

from bot.delivery.messenger import Messenger
from bot.delivery.sender import Sender, SenderSettings
from bot.rendering import Renderer, plain_text
from community.outbox import decode_reply
from handlers.parsing import event_from_button, event_from_text
from handlers.ports import Deliveries
from handlers.router import Dispatcher, Outcome
from handlers.types import AccountRef, ChatRef, Event, EventKind, IncomingFile, Mention
from loyalty.ledger import balance, ledger_sum
from storage.schema import accounts, communities, outbox
from storage.store import Store

RENDERER = Renderer(plain_text)
_ids = itertools.count(1)


@dataclass
class Said:
    """What the bot answered to one message: the outcome and the rendered words."""

    outcome: Outcome
    text: str | None
    event: Event

    def button(self, index: int) -> str:
        """The command the reply's button number `index` (from 0) sends when pressed."""
        assert self.outcome.reply is not None, "the bot did not answer"
        return self.outcome.reply.choices[index].command


class Sending(TypedDict, total=False):
    """How a message is sent: its event id (a redelivery repeats one), the author of the
    message it replies to, and the words in it the platform links to people (a Telegram
    text_mention). People are named as members of the chat's platform, or given whole."""

    event_id: str | None
    replying_to: str | AccountRef | None
    mentioning: Mapping[str, str | AccountRef]
    # Files sent with the message (a photo with a /submit caption), and the words of the
    # message it replies to.
    media: Sequence[IncomingFile]
    replied_text: str


@dataclass
class Clock:
    """The test's clock: events carry its time, and the dispatcher reads it too."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 23, 1, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Chat:
    """A chat on a fake platform where members talk to the real dispatcher.

    Several chats may share one dispatcher and clock: a Discord group beside a Telegram one,
    or a private chat (`private=True`: only the asker sees the answers there).
    """

    dispatcher: Dispatcher
    clock: Clock = field(default_factory=Clock)
    chat_id: str = "group-1"
    platform: str = "console"
    admins: set[str] = field(default_factory=set)
    private: bool = False
    # An ordinary group: its platform admins count only once a listed admin adopted it.
    # `trusted=True` makes it the operator's own chat, like the console.
    trusted: bool = False
    # A Discord server: no message goes to the chat itself, only to one of its channels.
    needs_channel: bool = False

    @property
    def now(self) -> datetime:
        """What time it is in the test."""
        return self.clock.now

    @now.setter
    def now(self, value: datetime) -> None:
        self.clock.now = value

    def ref(self) -> ChatRef:
        """This chat as the platform names it."""
        return ChatRef(
            self.platform,
            self.chat_id,
            title=self.chat_id,
            private=self.private,
            trusted=self.trusted,
            needs_channel=self.needs_channel,
        )

    def actor(self, who: str) -> AccountRef:
        """The account of member `who` on this chat's platform."""
        return AccountRef(
            self.platform,
            who.casefold(),
            who,
            username=who,
            is_platform_admin=who in self.admins,
        )

    def new_id(self) -> str:
        """A fresh event id on this platform."""
        return f"{self.platform}:{next(_ids)}"

    def event(self, who: str, text: str, **how: Unpack[Sending]) -> Event:
        """The event a member's message becomes. `replying_to` is the author of the message it
        replies to; `mentioning` maps words in the text to the people the platform linked
        them to (a Telegram text_mention). Names are members' accounts on this platform."""
        event = event_from_text(
            event_id=how.get("event_id") or self.new_id(),
            chat=self.ref(),
            actor=self.actor(who),
            text=text,
            occurred_at=self.now,
        )
        replying_to = how.get("replying_to")
        target = None if replying_to is None else self._account(replying_to)
        mentioning = how.get("mentioning", {})
        mentions = tuple(Mention(shown, self._account(whom)) for shown, whom in mentioning.items())
        return replace(
            event,
            private_reply=self.private,
            target=target,
            mentions=mentions,
            media=tuple(how.get("media", ())),
            replied_text=how.get("replied_text", ""),
        )

    def _account(self, whom: str | AccountRef) -> AccountRef:
        # As a platform names someone else: whether they are an admin is never asked.
        return replace(self.actor(whom), is_platform_admin=False) if isinstance(whom, str) else whom

    async def say(self, who: str, text: str, **how: Unpack[Sending]) -> Said:
        """`who` sends `text` (as a reply to `replying_to`'s message, if given); returns what
        the bot answered."""
        return await self.deliver(self.event(who, text, **how))

    async def press(self, who: str, command: str) -> Said:
        """`who` presses a button whose data is the command line `command` (e.g. "/vote 1 0")."""
        event = event_from_button(
            event_id=self.new_id(),
            chat=self.ref(),
            actor=self.actor(who),
            data=command,
            occurred_at=self.now,
        )
        return await self.deliver(event)

    async def vote_natively(self, who: str, poll_ref: str, options: Sequence[int]) -> Said:
        """`who` answers the platform's own poll `poll_ref`; like Telegram, it names no chat."""
        event = Event(
            self.new_id(),
            ChatRef(self.platform, ""),
            self.actor(who),
            self.now,
            EventKind.VOTE,
            "",
            poll_ref=poll_ref,
            options=tuple(options),
        )
        return await self.deliver(event)

    async def edits(self, who: str, text: str) -> Said:
        """`who` edits one of their messages here to read `text`."""
        event = Event(self.new_id(), self.ref(), self.actor(who), self.now, EventKind.EDITED, text)
        return await self.deliver(replace(event, private_reply=self.private))

    async def joins(self, who: str) -> Said:
        """`who` joins this group."""
        event = Event(self.new_id(), self.ref(), self.actor(who), self.now, EventKind.JOINED, "")
        return await self.deliver(event)

    async def deliver(self, event: Event) -> Said:
        """Hand an already built event to the core (as a redelivering platform would)."""
        outcome = await self.dispatcher.handle(event)
        text = RENDERER.render(outcome.reply) if outcome.reply else None
        return Said(outcome, text, event)


def member_id(store: Store, platform: str, who: str, community: str = "acme") -> int | None:
    """The member behind `who`'s account on `platform` in `community`, as stored now."""
    query = (
        select(accounts.c.member_id)
        .join(communities, communities.c.id == accounts.c.community_id)
        .where(
            communities.c.slug == community,
            accounts.c.platform == platform,
            accounts.c.platform_user_id == who.casefold(),
        )
    )
    return store.read_now(lambda conn: conn.execute(query).scalar_one_or_none())


def ledger_state(store: Store, platform: str, who: str, community: str = "acme") -> tuple[int, int]:
    """`who`'s balance and the sum of their ledger entries: the two must always agree."""
    member = member_id(store, platform, who, community)
    assert member is not None, f"{platform}:{who} is no member of {community}"
    return store.read_now(lambda conn: (balance(conn, member), ledger_sum(conn, member)))


class Served(Protocol):
    """An adapter as bot/app.py's serve runs it: started, stopped, with a messenger."""

    @property
    def messenger(self) -> Messenger: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


A = TypeVar("A", bound=Served)


@contextlib.asynccontextmanager
async def serving_with_sender(
    adapter: A, deliveries: Deliveries, settings: SenderSettings, *, sending: bool = True
) -> AsyncIterator[A]:
    """The adapter started and a sender draining its outbox through its messenger (unless
    `sending=False`: a test then drains by hand), as bot/app.py runs them; then both stopped."""
    await adapter.start()
    sender = Sender(adapter.messenger, deliveries, settings)
    if sending:
        sender.start()
    try:
        yield adapter
    finally:
        await sender.stop()
        await adapter.stop()


def moving_on(clock: Callable[[], datetime]) -> Callable[[], datetime]:
    """`clock` with real time running on top: for the outbox's side of adapter tests, where
    held answers and 429s must come due while the test's own clock stands still."""
    started = time.monotonic()
    return lambda: clock() + timedelta(seconds=time.monotonic() - started)


def rows(store: Store, table: Any) -> list[Row[Any]]:
    """Every row of a table, in its primary key's order."""
    query = select(table).order_by(*table.primary_key.columns)
    return store.read_now(lambda c: list(c.execute(query).all()))


def posted(store: Store, locale: str = "en", kind: str = "post") -> list[tuple[str, str]]:
    """(chat, words) of every message of one kind in the outbox (group posts; "direct": the
    private messages the bot sent of its own), in order, rendered in `locale`."""
    return [
        (row.chat_id, RENDERER.render(decode_reply(row.payload, locale)))
        for row in rows(store, outbox)
        if row.kind == kind
    ]


def add_sticker(store: Store, at: datetime) -> int:
    """A 5-point sticker in Acme's catalogue, one per member; its number (the shop's tests on
    the platforms redeem it)."""
    from community.communities import community_by_slug
    from loyalty import rewards
    from loyalty.reward_rules import RewardConfig

    def add(conn: Connection) -> int:
        acme = community_by_slug(conn, "acme")
        assert acme is not None
        config = RewardConfig(name="Sticker", cost=5, kind="entry", per_member=1)
        return rewards.add_reward(conn, acme.id, config, at=at, max_rewards=10).id

    return store.write_now(add)


def redeemed_and_held(store: Store) -> tuple[int, int]:
    """(redemptions, points held) over the whole community: what a double press must not move."""
    from storage.schema import balances, redemptions

    return store.read_now(
        lambda conn: (
            int(conn.execute(select(func.count()).select_from(redemptions)).scalar_one()),
            int(conn.execute(select(func.sum(balances.c.points))).scalar_one()),
        )
    )
