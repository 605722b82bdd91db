"""How many messages a platform takes now: its limits as moving windows (the `limits` library),
per chat and overall, plus waits a platform ordered (429 retry_after)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from limits import RateLimitItem
from limits.limits import Granularity
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from bot.delivery.messenger import Limits, Rate

OVERALL = "*"
PACES = 4  # slices of the overall window
# Each window is kept this much longer than the platform's: a message is counted when it
# leaves, the platform counts it when it arrives, and arrivals jitter by some milliseconds
# (measured against the fake Bot API at 30/s: whole-second windows drew 11-29 429s a run,
# these none, for 5 % of the overall rate).
SLACK_SECONDS = 0.05


class _Window(RateLimitItem):
    """`amount` in any `multiples` milliseconds: `limits` counts whole units of its granularity,
    and the platforms' windows plus the slack are no whole seconds."""

    GRANULARITY = Granularity(0.001, "millisecond")  # type: ignore[arg-type]


def _item(rate: Rate) -> RateLimitItem | None:
    """A moving window of `rate`, with the slack (None: no limit)."""
    if rate.count <= 0:
        return None
    return _Window(rate.count, round((rate.seconds + SLACK_SECONDS) * 1000))


class Budget:
    """What each chat (and the platform as a whole) may still be sent, by the real clock.

    Moving windows, not leaky buckets: Telegram's "20 a minute in a group" holds for any
    minute, so a bucket that refills one message every 3 s after a burst of 20 would overrun
    it. A group's burst is capped separately (`group_burst`), spread over its window.
    """

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.time) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self._clock = clock
        self._overall = _item(limits.overall)
        # The overall budget spent in slices of its window, not in one burst a window: a
        # burst's arrivals spread over its round trips and run into the next window.
        self._pace: RateLimitItem | None = None
        if self._overall is not None and limits.overall.count >= PACES:
            share = math.ceil(limits.overall.count / PACES)
            pace = limits.overall.seconds * share / limits.overall.count
            self._pace = _Window(share, round(pace * 1000))
        self._group = _item(limits.group)
        self._private = _item(limits.private)
        burst = limits.group_burst
        self._burst: RateLimitItem | None = None
        if burst and limits.group.count > burst:
            # `burst` messages per the share of the window they are worth.
            worth = limits.group.seconds * burst / limits.group.count
            self._burst = _Window(burst, round(worth * 1000))
        self._waits: dict[str, float] = {}
        self.window = max(limits.group.seconds, limits.private.seconds, limits.overall.seconds)

    def _all(self) -> list[RateLimitItem]:
        """The platform-wide windows."""
        return [item for item in (self._overall, self._pace) if item is not None]

    def _items(self, chat: str, private: bool) -> list[RateLimitItem]:
        found = [self._private] if private else [self._group, self._burst]
        return [item for item in found if item is not None]

    def room(self, chat: str, *, private: bool) -> int:
        """How many messages the chat may be sent right now (0: wait; see `wait`)."""
        if self._waiting(chat) or self._waiting(OVERALL):
            return 0
        rooms = [
            self._limiter.get_window_stats(i, chat).remaining for i in self._items(chat, private)
        ]
        rooms += [self._limiter.get_window_stats(i, OVERALL).remaining for i in self._all()]
        return min(rooms, default=1_000_000)

    def overall_room(self) -> int:
        """How many messages the platform as a whole takes right now."""
        if self._waiting(OVERALL):
            return 0
        rooms = [self._limiter.get_window_stats(i, OVERALL).remaining for i in self._all()]
        return min(rooms, default=1_000_000)

    def overall_wait(self) -> float:
        """Seconds until the platform as a whole takes one more message."""
        now = self._clock()
        waits = [self._waits.get(OVERALL, 0.0) - now]
        for item in self._all():
            stats = self._limiter.get_window_stats(item, OVERALL)
            if stats.remaining <= 0:
                waits.append(stats.reset_time - now)
        return max(0.0, *waits)

    def wait(self, chat: str, *, private: bool) -> float:
        """Seconds until the chat may be sent one more message."""
        now = self._clock()
        waits = [self._waits.get(chat, 0.0) - now, self._waits.get(OVERALL, 0.0) - now]
        for item, key in [(i, chat) for i in self._items(chat, private)] + (
            [(i, OVERALL) for i in self._all()]
        ):
            stats = self._limiter.get_window_stats(item, key)
            if stats.remaining <= 0:
                waits.append(stats.reset_time - now)
        return max(0.0, *waits)

    def spend(self, chat: str, *, private: bool, count: int = 1) -> None:
        """Count `count` messages sent to the chat (a long text may take several). Past a
        limit (parts beyond the room there was) the chat, or everyone, waits for the window."""
        keyed = [(item, chat) for item in self._items(chat, private)]
        keyed += [(item, OVERALL) for item in self._all()]
        for item, key in keyed:
            for _ in range(count):
                # One at a time: `limits` records nothing for a cost that does not fit whole.
                if not self._limiter.hit(item, key):
                    reset = self._limiter.get_window_stats(item, key).reset_time
                    self.hold(None if key == OVERALL else chat, reset - self._clock())
                    break

    def spend_overall(self, count: int) -> None:
        """Count `count` requests that are no message to any chat (opening a DM channel)."""
        for item in self._all():
            for _ in range(count):
                if not self._limiter.hit(item, OVERALL):
                    reset = self._limiter.get_window_stats(item, OVERALL).reset_time
                    self.hold(None, reset - self._clock())
                    break

    def hold(self, chat: str | None, seconds: float) -> None:
        """The platform said wait (a 429): nothing more to `chat` (None: to anyone) until then."""
        key = OVERALL if chat is None else chat
        self._waits[key] = max(self._waits.get(key, 0.0), self._clock() + seconds)

    def _waiting(self, key: str) -> bool:
        until = self._waits.get(key)
        if until is None:
            return False
        if until <= self._clock():
            del self._waits[key]
            return False
        return True
