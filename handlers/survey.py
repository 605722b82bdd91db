"""/survey: admins start one and see its results, members answer privately."""

from __future__ import annotations

from handlers.routes import Context, Router
from handlers.types import Reply

router = Router()


def on_message(ctx: Context) -> Reply | None:
    """A plain message this feature answers (see handlers/chat_messages.py); None: not ours."""
    return None
