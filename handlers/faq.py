"""/faq: search, and admins' add, edit, remove, list, promote; the automatic answer's buttons."""

from __future__ import annotations

from handlers.routes import Context, Router
from handlers.types import Reply

router = Router()


def on_message(ctx: Context) -> Reply | None:
    """A plain message this feature answers (see handlers/chat_messages.py); None: not ours."""
    return None
