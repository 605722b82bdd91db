"""Plain messages (no command, no check-in word): each activity that reads them is asked in
turn, and the first that answers has it. One handler, since a kind of event has one route."""

from __future__ import annotations

from collections.abc import Callable

from handlers import faq, questions, survey
from handlers.routes import Context, Router
from handlers.types import EventKind, Reply

router = Router()

# In order: a free-text survey answer in a private chat, then an answer to a question (a reply
# to it) or a question asked with a prefix ("问:"), then the FAQ's automatic answer.
READERS: tuple[Callable[[Context], Reply | None], ...] = (
    survey.on_message,
    questions.on_message,
    faq.on_message,
)


@router.on(EventKind.MESSAGE)
def plain_message(ctx: Context) -> Reply | None:
    """The first activity's answer to a plain message; None: nothing to say."""
    for read in READERS:
        reply = read(ctx)
        if reply is not None:
            return reply
    return None
