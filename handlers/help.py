"""/start and /help: what the bot does and which commands the asker may use."""

from __future__ import annotations

from handlers.invite import record_invite
from handlers.routes import Context, Param, ParamKind, Route, Router
from handlers.types import EventKind, Reply

router = Router()

# /help lists the members' commands, and tells admins /help admin lists theirs: both in one
# message no longer fit a Telegram message (4,096 characters) once issue 12 came.
ADMIN = "admin"
_ADMIN_WORDS = {ADMIN, "admins", "管理", "管理员"}


@router.command("start", shows_admin=True, personal=False)
def start(ctx: Context) -> Reply:
    """Greet a member and list what they can do."""
    return Reply("help/start", _help_context(ctx))


@router.command(
    "help",
    shows_admin=True,
    personal=False,
    params=(Param("part", ParamKind.CHOICE, required=False, choices=(ADMIN,)),),
)
def help_(ctx: Context) -> Reply:
    """The commands this member may use; `/help admin`: an admin's own commands."""
    wants_admin = bool(ctx.event.args) and ctx.event.args[0].casefold() in _ADMIN_WORDS
    if wants_admin and ctx.is_admin:
        return Reply("help/admin", _help_context(ctx, admin=True))
    return Reply("help/help", _help_context(ctx))


@router.on(EventKind.JOINED)
def welcome(ctx: Context) -> Reply | None:
    """Greet someone who just joined the group and point them to /help; a join through a
    personal invitation is credited to it (/invite)."""
    record_invite(ctx)
    if ctx.event.join_told:
        return None  # greeted when the platform first told of the join
    return Reply("help/welcome", {"name": ctx.member.display_name, "community": ctx.community.name})


def _help_context(ctx: Context, *, admin: bool = False) -> dict[str, object]:
    """The members' commands (admin=False) or the admins' own (admin=True) the asker may use,
    and how many admin commands /help admin would list."""
    return {
        "name": ctx.display_name,
        "community": ctx.community.name,
        "commands": [_listed(route) for route in ctx.commands if route.admin == admin],
        "admin_commands": sum(1 for route in ctx.commands if route.admin),
        "is_admin": ctx.is_admin,
    }


def _listed(route: Route) -> dict[str, object]:
    # Each with its parameters as declared: the template names them in its language.
    return {
        "name": route.command,
        "params": [
            {"key": f"{route.command}.{p.name}", "required": p.required} for p in route.params
        ],
    }
