"""The Messenger port: what each platform implements to send the outbox's messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from community.outbox import Outgoing


@dataclass(frozen=True, slots=True)
class Rate:
    """At most `count` messages in any `seconds`."""

    count: int
    seconds: float


@dataclass(frozen=True, slots=True)
class Limits:
    """A platform's flood limits, as the sender keeps them (a count of 0 means no limit)."""

    overall: Rate  # all messages of the bot
    group: Rate  # into one group chat (one Discord channel)
    private: Rate  # into one person's private chat
    # How many of a group's messages may go at once before the rest are spread out over the
    # group's window: a burst never spends a whole minute's budget in a second, so later
    # answers (merged) still go out soon.
    group_burst: int = 0


class RetryLater(Exception):
    """Not now: the platform said wait (429: `after` is its retry_after) or could not be
    reached (a network error, a 5xx: `after` is None, the sender backs off)."""

    def __init__(self, reason: str, after: float | None = None, *, whole_platform: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.after = after
        # A global limit was hit (Telegram's overall one, Discord's global 429): every chat
        # waits, not only this one.
        self.whole_platform = whole_platform


class Refused(Exception):
    """Never: the bot was removed from the group, the user blocked it, the chat is gone (403,
    400 chat not found, Discord 10003/50001/50007). Sending it again cannot help."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Messenger(Protocol):
    """Sends the outbox's messages on one platform. A feature the platform lacks degrades: a
    native poll becomes buttons, an edit of a message it cannot find becomes a new message."""

    platform: str
    limits: Limits

    # A messenger may also have `extra_requests(message) -> int`: requests a send takes
    # besides its messages (Discord opens a DM channel the first time), counted against the
    # platform's overall limit before the send.

    async def send(self, message: Outgoing) -> tuple[str, ...]:
        """Send one message (rendered now, in message.reply.locale); the ids the platform gave
        the messages it posted (a long text may take several). Raises RetryLater or Refused.

        Discord: each message carries a nonce made from message.id with enforce_nonce, so a
        message sent again within Discord's few minutes returns the first one, not a second.
        """
        ...
