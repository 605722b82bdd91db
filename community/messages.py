"""What the core says: a reply's words (a template and its context), its buttons, its poll.

A value the whole core shares: handlers return it, broadcasts and scheduled posts write it to
the outbox, every platform's messenger renders and sends it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Visibility(StrEnum):
    """Where a reply should be seen."""

    CHAT = "chat"
    PRIVATE = "private"


@dataclass(frozen=True, slots=True)
class Choice:
    """A button under a reply. Pressing it sends `command` (e.g. "/vote 3 1") as the presser."""

    label: str  # template name of the button's words
    command: str
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PollSpec:
    """A poll to post natively where the platform has polls, as buttons where it has not."""

    poll_id: int
    question: str
    options: tuple[str, ...]
    # When it closes by itself (UTC), if it was opened with an end: a platform whose native
    # polls must end by themselves (Discord) lasts until then; a quiz poll's countdown (its
    # open period, Telegram's) runs until then.
    closes_at: datetime | None = None
    # A quiz question: the right option (from 0), and what the answerer is told after
    # answering. Telegram posts it as a quiz poll; a platform without quiz polls, with buttons.
    correct: int | None = None
    explanation: str = ""

    @property
    def quiz(self) -> bool:
        """Whether it is a quiz question rather than an opinion poll."""
        return self.correct is not None


@dataclass(frozen=True, slots=True)
class Document:
    """A file sent with a reply (an /export's CSV): a document on the platforms, a file the
    console writes."""

    name: str  # "ledger-2026-12.csv": letters, digits, - _ . only
    content: bytes
    mime: str = "text/csv"


@dataclass(frozen=True, slots=True)
class Media:
    """A photo, video or file kept by the bot (storage media table) and shown with a reply: a
    featured submission reposted, a submission shown to a reviewer. The outbox keeps only its
    id; the bytes are read back when the message is sent (`content`), and a platform that has
    its own reference for the file (`ref`: Telegram's file_id) is sent that instead."""

    media_id: int
    kind: str  # "photo", "video", "file"
    name: str
    mime: str
    content: bytes = b""
    ref: str = ""


@dataclass(frozen=True, slots=True)
class InviteSpec:
    """A personal invitation to make on the platform as the reply is sent: a named Telegram
    invite link, a Discord invite, a console code. The messenger reports the platform's link
    for `code` back to the core and puts it in the reply's words where {{ invite_link }}
    stands."""

    code: str
    chat_id: str  # the group (its platform's chat id) the invitation is into


@dataclass(frozen=True, slots=True)
class Reply:
    """What to answer: a template name and its context; the renderer turns it into words."""

    template: str
    context: Mapping[str, Any] = field(default_factory=dict)
    locale: str = "en"
    choices: tuple[Choice, ...] = ()
    visibility: Visibility = Visibility.CHAT
    poll: PollSpec | None = None
    # The platform poll this reply ends (native id as stored when it was posted), if any.
    ends_poll: str | None = None
    # A one-line template saying the same about the asker ("Alice +10, day 3"): when a busy
    # group's answers are merged into one message, each answer is its line.
    line: str | None = None
    # A file sent with it (an export).
    document: Document | None = None
    # A personal invitation the messenger makes on the platform as it sends the reply.
    invite: InviteSpec | None = None
    # Photos, videos, files shown with it (a featured submission), in order.
    media: tuple[Media, ...] = ()


class Unrenderable(Exception):
    """A reply its template cannot turn into words (an edited template that broke); the
    message is the template engine's one line."""


def renders_anywhere(reply: Reply) -> None:
    """A check that passes everything: where no renderer is at hand (the domain's tests)."""
