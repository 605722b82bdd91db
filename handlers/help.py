"""/start and /help: what the bot does and which commands the asker may use."""

from __future__ import annotations

from handlers.invite import record_invite
from handlers.routes import Context, Router
from handlers.types import EventKind, Reply

router = Router()


@router.command("start", shows_admin=True, personal=False)
def start(ctx: Context) -> Reply:
    """Greet a member and list what they can do."""
    return Reply("help/start", _help_context(ctx))


@router.command("help", shows_admin=True, personal=False)
def help_(ctx: Context) -> Reply:
    """The commands this member may use."""
    return Reply("help/help", _help_context(ctx))


@router.on(EventKind.JOINED)
def welcome(ctx: Context) -> Reply | None:
    """Greet someone who just joined the group and point them to /help; a join through a
    personal invitation is credited to it (/invite)."""
    record_invite(ctx)
    if ctx.event.join_told:
        return None  # greeted when the platform first told of the join
    return Reply("help/welcome", {"name": ctx.member.display_name, "community": ctx.community.name})


def _help_context(ctx: Context) -> dict[str, object]:
    return {
        "name": ctx.display_name,
        "community": ctx.community.name,
        # Each with its parameters as declared: the template names them in its language.
        "commands": [
            {
                "name": route.command,
                "params": [
                    {"key": f"{route.command}.{p.name}", "required": p.required}
                    for p in route.params
                ],
            }
            for route in ctx.commands
        ],
        "is_admin": ctx.is_admin,
    }
