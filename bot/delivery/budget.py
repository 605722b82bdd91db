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

    def _windows(self, chat: str | None, private: bool = False) -> list[tuple[RateLimitItem, str]]:
        """The windows a message to `chat` counts in (None: a request to no chat), each with
        the key it is counted under: the chat's own, then the platform's."""
        found = [(item, OVERALL) for item in (self._overall, self._pace) if item is not None]
        if chat is None:
            return found
        own = (self._private,) if private else (self._group, self._burst)
        return [(item, chat) for item in own if item is not None] + found

    def room(self, chat: str, *, private: bool) -> int:
        """How many messages the chat may be sent right now (0: wait; see `wait`)."""
        return self._room(chat, self._windows(chat, private))

    def overall_room(self) -> int:
        """How many messages the platform as a whole takes right now."""
        return self._room(None, self._windows(None))

    def wait(self, chat: str, *, private: bool) -> float:
        """Seconds until the chat may be sent one more message."""
        return self._wait(chat, self._windows(chat, private))

    def overall_wait(self) -> float:
        """Seconds until the platform as a whole takes one more message."""
        return self._wait(None, self._windows(None))

    def spend(self, chat: str, *, private: bool, count: int = 1) -> None:
        """Count `count` messages sent to the chat (a long text may take several). Past a
        limit (parts beyond the room there was) the chat, or everyone, waits for the window."""
        self._hit(self._windows(chat, private), count)

    def spend_overall(self, count: int) -> None:
        """Count `count` requests that are no message to any chat (opening a DM channel)."""
        self._hit(self._windows(None), count)

    def _room(self, chat: str | None, windows: list[tuple[RateLimitItem, str]]) -> int:
        if self._waiting(OVERALL) or (chat is not None and self._waiting(chat)):
            return 0
        rooms = [self._limiter.get_window_stats(item, key).remaining for item, key in windows]
        return min(rooms, default=1_000_000)

    def _wait(self, chat: str | None, windows: list[tuple[RateLimitItem, str]]) -> float:
        now = self._clock()
        held = [OVERALL] if chat is None else [OVERALL, chat]  # waits a platform ordered
        waits = [self._waits.get(key, 0.0) - now for key in held]
        for item, key in windows:
            stats = self._limiter.get_window_stats(item, key)
            if stats.remaining <= 0:
                waits.append(stats.reset_time - now)
        return max(0.0, *waits)

    def _hit(self, windows: list[tuple[RateLimitItem, str]], count: int) -> None:
        for item, key in windows:
            for _ in range(count):
                # One at a time: `limits` records nothing for a cost that does not fit whole.
                if not self._limiter.hit(item, key):
                    reset = self._limiter.get_window_stats(item, key).reset_time
                    self.hold(None if key == OVERALL else key, reset - self._clock())
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
