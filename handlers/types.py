"""The platform-neutral values that cross between adapters and handlers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


@dataclass(frozen=True, slots=True)
class ChatRef:
    """A chat on some platform: a group, a channel or a private conversation."""

    platform: str
    chat_id: str
    title: str = ""
    private: bool = False


@dataclass(frozen=True, slots=True)
class AccountRef:
    """Who acted, as the platform tells it."""

    platform: str
    user_id: str
    display_name: str
    username: str | None = None
    is_platform_admin: bool = False


class EventKind(StrEnum):
    """What sort of thing happened in the chat."""

    COMMAND = "command"
    MESSAGE = "message"


@dataclass(frozen=True, slots=True)
class Event:
    """One thing a member did, with a stable id so it is handled once however often it arrives."""

    event_id: str
    chat: ChatRef
    actor: AccountRef
    occurred_at: datetime
    kind: EventKind
    text: str
    command: str | None = None
    args: tuple[str, ...] = ()
    arg_text: str = ""
    attachments: tuple[str, ...] = ()


class Visibility(StrEnum):
    """Where a reply should be seen."""

    CHAT = "chat"
    PRIVATE = "private"


@dataclass(frozen=True, slots=True)
class Reply:
    """What to answer: a template name and its context; the renderer turns it into words."""

    template: str
    context: Mapping[str, Any] = field(default_factory=dict)
    locale: str = "en"
    choices: tuple[str, ...] = ()
    visibility: Visibility = Visibility.CHAT
