"""One platform's sender: drains its outbox within its limits, merges a busy group's answers,
waits out 429s, backs off on network errors, and gives up on refusals."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial

from bot.delivery.budget import Budget
from bot.delivery.messenger import Messenger, Refused, RetryLater
from community.messages import Reply, Visibility
from community.outbox import Kind, Outgoing
from handlers.ports import Deliveries

log = logging.getLogger(__name__)

# Seconds a finished message is remembered, so that a read of the outbox begun before it was
# marked does not send it again (reads take milliseconds; a minute is a wide margin).
SETTLED_MEMORY = 60.0


@dataclass(frozen=True, slots=True)
class SenderSettings:
    """How a sender behaves; every number is a setting (bot/settings.py, README)."""

    batch: int = 200  # messages read from the outbox at a time
    # Chats sent to at once. More is slower on Telegram: httpcore scans its whole connection
    # pool on every request (32 cost the adapter a quarter of its rate against 8).
    parallel: int = 8
    poll_seconds: float = 1.0  # how often the outbox is looked at when nobody says so
    lease_seconds: float = 15.0  # how long a drain lease lasts unrenewed
    refusals_to_idle: int = 3  # refusals in a row after which a group is inactive
    max_attempts: int = 12  # network errors/5xx before a message is given up
    max_backoff_seconds: float = 300.0
    merge_lines: int = 50  # answers merged into one message at most
    keep_days: int = 7  # delivered messages are kept this long, then forgotten
    stop_seconds: float = 3.0  # how long a stop lets sends in flight finish


def holder_name() -> str:
    """This process, as a lease names it: unique even where containers share a hostname and
    all run as pid 1."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Sender:
    """Drains one platform's outbox through its Messenger; start() runs it in the background."""

    def __init__(
        self,
        messenger: Messenger,
        deliveries: Deliveries,
        settings: SenderSettings | None = None,
        *,
        holder: str | None = None,
        budget: Budget | None = None,
    ) -> None:
        self._messenger = messenger
        self._deliveries = deliveries
        self._settings = settings or SenderSettings()
        self._holder = holder or holder_name()
        self._budget = budget or Budget(messenger.limits)
        self._platform = messenger.platform
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._inflight: dict[str, asyncio.Task[None]] = {}
        # Messages this sender just marked (sent, failed, postponed) and until when to skip
        # them: a read of what is due that began before the mark may still show one pending.
        self._settled: dict[int, datetime] = {}
        self._lease_until = 0.0

    @property
    def platform(self) -> str:
        return self._platform

    def wake(self) -> None:
        """Something was queued: look at the outbox now rather than at the next poll."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"sender-{self._platform}"
        )

    async def stop(self) -> None:
        """Stop sending: what is in flight gets `stop_seconds` to finish, the rest stays in the
        outbox for the next start (a send cut off may go twice: see README, Delivery)."""
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
        if self._inflight:
            # Sends already on the wire may finish (and be marked), briefly; the rest are cut
            # off and stay pending.
            _, late = await asyncio.wait(
                list(self._inflight.values()), timeout=self._settings.stop_seconds
            )
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._deliveries.release(self._platform, self._holder)

    async def _run(self) -> None:
        cleaned = 0.0
        loop = asyncio.get_running_loop()
        while True:
            pause = self._settings.poll_seconds
            try:
                if await self._leading():
                    pause = await self._start_ready()
                    if loop.time() - cleaned > 3600:
                        cleaned = loop.time()
                        await self._deliveries.forget(timedelta(days=self._settings.keep_days))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sender round failed", extra={"platform": self._platform})
            self._wake.clear()
            # Not asyncio.wait_for: on Python 3.11 it swallows a cancel that comes in the turn
            # the wake-up does, and a stopping sender would then run (and be waited for) forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.01, pause)):
                    await self._wake.wait()

    async def _leading(self) -> bool:
        """Whether this process drains the platform now (renewing its lease as it goes)."""
        loop = asyncio.get_running_loop()
        ttl = self._settings.lease_seconds
        if loop.time() < self._lease_until - ttl * 2 / 3:
            return True
        if await self._deliveries.lease(self._platform, self._holder, timedelta(seconds=ttl)):
            if self._lease_until == 0.0:
                await self._recall_recent_sends()
            self._lease_until = loop.time() + ttl
            return True
        self._lease_until = 0.0
        return False

    async def _recall_recent_sends(self) -> None:
        """Taking the drain over (at a start, or from another process): what was sent in the
        last window still counts against each chat, as if sent just now (a little too careful,
        never over the limit)."""
        window = timedelta(seconds=self._budget.window)
        for chat, private, count in await self._deliveries.recent(self._platform, window):
            self._budget.spend(chat, private=private, count=count)

    async def drain_once(self) -> float:
        """Send what the limits allow now and wait for those sends; seconds until more could go.
        (The running sender does not wait: each chat's send is a task of its own, so one slow
        chat never holds the others up.)"""
        pause = await self._start_ready()
        while self._inflight:
            await asyncio.gather(*self._inflight.values(), return_exceptions=True)
        return pause

    async def _start_ready(self) -> float:
        """Start a send for every chat that has something due and room for it; the seconds
        until the next chat has room (or the poll interval)."""
        batch = self._settings.batch
        self._forget_settled()
        due = await self._deliveries.due(self._platform, batch)
        by_chat: dict[str, list[Outgoing]] = {}
        for message in due:
            if message.id in self._settled:
                continue  # read before it was marked
            if message.chat_id not in self._inflight:  # one send at a time per chat, in order
                by_chat.setdefault(message.chat_id, []).append(message)
        pause = self._settings.poll_seconds
        started = 0
        blocked: dict[str, float] = {}
        for chat, pending in by_chat.items():
            if len(self._inflight) >= self._settings.parallel:
                break  # a finishing send wakes the loop
            if not self._budget.overall_room():
                pause = min(pause, self._budget.overall_wait())
                break  # nobody may be sent anything before then
            private = pending[0].private
            room = self._budget.room(chat, private=private)
            if room <= 0:
                blocked[chat] = self._budget.wait(chat, private=private)
                continue
            unit = self._unit(pending, room)
            self._budget.spend(chat, private=private)
            self._budget.spend_overall(self._extra_requests(unit[0]))
            task = asyncio.get_running_loop().create_task(self._deliver(unit))
            self._inflight[chat] = task
            task.add_done_callback(partial(self._finished, chat))
            started += len(unit)
        if blocked:
            pause = min(pause, *blocked.values())
            if len(due) == batch:
                # The oldest rows wait on chats that are full: step them aside (one write), or
                # the chats behind them in the outbox would starve.
                waits = {chat: timedelta(seconds=wait) for chat, wait in blocked.items()}
                await self._deliveries.defer(self._platform, waits)
        if started and started < len(due):
            pause = 0.0  # more is due behind what was just started
        return max(pause, 0.0)

    def _extra_requests(self, message: Outgoing) -> int:
        ask = getattr(self._messenger, "extra_requests", None)
        return int(ask(message)) if ask is not None else 0

    def _finished(self, chat: str, _: asyncio.Task[None]) -> None:
        self._inflight.pop(chat, None)
        self.wake()

    def _unit(self, pending: list[Outgoing], room: int) -> list[Outgoing]:
        """What goes next to one chat: its oldest message, or, when the chat has more waiting
        than its budget allows now, every waiting answer that can be said in one line."""
        first = pending[0]
        if len(pending) <= room or not _mergeable(first):
            return [first]
        merged = [m for m in pending if _mergeable(m)][: self._settings.merge_lines]
        return merged if len(merged) > 1 else [first]

    async def _deliver(self, unit: list[Outgoing]) -> None:
        try:
            ids = await self._send(unit)
            if ids is not None:
                await self._deliveries.sent([(m, ids) for m in unit])
        except asyncio.CancelledError:
            raise
        except Exception:
            # The outbox could not be told: the message stays pending and goes again.
            log.exception("delivery not recorded", extra={"message_id": unit[0].id})
            return
        if ids is not None:
            self._settle(unit, SETTLED_MEMORY)

    def _settle(self, unit: Sequence[Outgoing], seconds: float) -> None:
        # By the outbox's clock, the one its rows' not_before are written in.
        until = self._deliveries.now() + timedelta(seconds=seconds)
        for message in unit:
            known = self._settled.get(message.id)
            self._settled[message.id] = until if known is None else max(until, known)

    def _forget_settled(self) -> None:
        """Marked long enough ago that no read still running can have missed the mark."""
        now = self._deliveries.now()
        for message_id, until in list(self._settled.items()):
            if until <= now:
                del self._settled[message_id]

    async def _send(self, unit: list[Outgoing]) -> tuple[str, ...] | None:
        message = unit[0] if len(unit) == 1 else merge(unit)
        try:
            ids = await self._messenger.send(message)
        except RetryLater as later:
            await self._later(unit, later)
            return None
        except Refused as refusal:
            await self._refused(unit, refusal.reason)
            return None
        except asyncio.CancelledError:
            raise
        except Exception as error:
            # A bug of ours or an error nobody mapped: treated as passing, and logged.
            log.exception("send failed unexpectedly", extra={"message_id": message.id})
            await self._later(unit, RetryLater(type(error).__name__))
            return None
        if len(ids) > 1:
            # A long text went as several messages: they count too.
            self._budget.spend(message.chat_id, private=message.private, count=len(ids) - 1)
        return ids or ("",)

    async def _later(self, unit: list[Outgoing], later: RetryLater) -> None:
        first = unit[0]
        if later.after is not None:
            # The platform's own wait: nothing more to that chat (or anyone) until then.
            self._budget.hold(None if later.whole_platform else first.chat_id, later.after)
            wait = later.after
        else:
            if first.attempts + 1 >= self._settings.max_attempts:
                reason = f"gave up after {first.attempts + 1} tries: {later}"
                await self._refused(unit, reason, refused=False)
                return
            wait = min(2.0**first.attempts, self._settings.max_backoff_seconds)
        log.warning(
            "send postponed",
            extra={"message_id": first.id, "seconds": wait, "reason": later.reason},
        )
        await self._deliveries.retry(unit, timedelta(seconds=wait))
        # Not again before its wait, even if a read begun before this shows it due.
        self._settle(unit, min(wait, SETTLED_MEMORY))

    async def _refused(self, unit: list[Outgoing], reason: str, *, refused: bool = True) -> None:
        """Mark the unit failed; one send refused is one refusal of its group, however many
        answers it merged. Given up after failed tries (`refused=False`) is none."""
        idle = await self._deliveries.failed(
            unit, reason, refusals_to_idle=self._settings.refusals_to_idle, refused=refused
        )
        self._settle(unit, SETTLED_MEMORY)
        first = unit[0]
        log.warning(
            "message refused for good" if refused else "message given up",
            extra={"message_id": first.id, "chat_id": first.chat_id, "reason": reason},
        )
        if idle:
            log.warning(
                "group marked inactive until it speaks again",
                extra={"platform": first.platform, "chat_id": first.group_chat_id},
            )


def _mergeable(message: Outgoing) -> bool:
    """An answer that can be one line of a merged message: plain words, no buttons, poll, file,
    photo or invitation."""
    reply = message.reply
    return (
        message.kind in (Kind.REPLY, Kind.POST)
        and reply.line is not None
        and not reply.choices
        and reply.poll is None
        and reply.document is None
        and not reply.media
        and reply.invite is None
        and not reply.ends_poll
        and reply.visibility is Visibility.CHAT
    )


def merge(unit: Sequence[Outgoing]) -> Outgoing:
    """Several answers to one chat as one message, each as its one line, naming its asker."""
    first = unit[0]
    answers = [
        {"template": m.reply.line, "context": {**m.reply.context, "asker": m.recipient}}
        for m in unit
    ]
    reply = Reply("delivery/merged", {"answers": answers}, locale=first.reply.locale)
    merged = tuple(m.id for m in unit)
    return replace(first, kind=Kind.POST, reply=reply, reply_to=None, merged=merged)
