"""/announce: an admin's post to every group of the community, on every platform."""

from __future__ import annotations

from community import announcements
from handlers.arguments import BadArgument, read_arguments
from handlers.routes import Context, Param, ParamKind, Router
from handlers.types import Reply

router = Router()

ANNOUNCE_PARAMS = (Param("text", ParamKind.TEXT),)


@router.command("announce", admin=True, params=ANNOUNCE_PARAMS)
def announce(ctx: Context) -> Reply:
    """Queue the text as a post to each active group (each in its language's frame)."""
    try:
        text = read_arguments(ANNOUNCE_PARAMS, ctx.event.arg_text, ctx.community.rules).get("text")
    except BadArgument:
        text = None
    limit = ctx.community.rules.announce.max_length
    if not text or not text.strip():
        return Reply("announce/usage")
    if len(text) > limit:
        return Reply("announce/too_long", {"length": len(text), "limit": limit})
    # Keyed by the event: a redelivered /announce queues nothing twice.
    sent = announcements.announce(
        ctx.conn, ctx.community, text, actor=ctx.actor, key=ctx.event.event_id, at=ctx.now
    )
    ctx.outbox_platforms.update(sent.platforms)
    return Reply(
        "announce/queued",
        {"groups": sent.queued, "inactive": sent.inactive, "no_channel": sent.no_channel},
    )
