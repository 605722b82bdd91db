"""The `communitybot` command: `run` serves chats, `migrate` brings the database up to date."""

from __future__ import annotations

import asyncio
import logging
import signal
import uuid
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from pydantic import ValidationError

from bot import logs
from bot.adapters.console import run_console
from bot.app import (
    App,
    StartupError,
    build_adapters,
    build_app,
    first_line,
    safe_url,
    sender_settings,
    serve,
)
from bot.rendering import Renderer, plain_text
from bot.scheduler import Scheduler
from bot.settings import Settings
from community import announcements
from community.audit import Actor
from handlers.tasks import Tasks, UnknownCommunity
from storage import migrate as migrations

cli = typer.Typer(
    help=(
        "Community bot: daily check-ins, points and more for brand member groups.\n\n"
        "Settings come from the environment or .env (DATABASE_URL, TELEGRAM_TOKEN, "
        "DISCORD_TOKEN, DEFAULT_TIMEZONE, DEFAULT_LOCALE, LOG_LEVEL, ...)."
    ),
    no_args_is_help=True,
    add_completion=False,
    # Locals in a traceback could print a token; keep tracebacks plain.
    pretty_exceptions_show_locals=False,
)
log = logging.getLogger(__name__)
# Who the audit log says did what the operator did from the command line.
OPERATOR = "operator:cli"

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Community rules file (default: COMMUNITY_FILE or ./community.toml)."
    ),
]


def _settings(config: Path | None) -> Settings:
    try:
        settings = Settings()
    except ValidationError as error:
        first = error.errors()[0]
        name = ".".join(map(str, first["loc"])).upper()
        where = f"{name}: " if name else ""
        _fail(f"settings: {where}{first['msg'].removeprefix('Value error, ')}")
    except (OSError, UnicodeDecodeError) as error:
        _fail(f"settings: cannot read .env: {error}")
    if config is not None:
        settings = settings.model_copy(update={"community_file": config})
    return settings


def _logs(settings: Settings, file: Path | None) -> None:
    try:
        logs.configure(settings.log_level, file, _secrets(settings))
    except OSError as error:
        _fail(f"cannot write logs to {file}: {error.strerror}")


def _secrets(settings: Settings) -> list[str]:
    tokens = (
        settings.telegram_token,
        settings.discord_token,
        settings.telegram_webhook_secret,
    )
    # An empty string "redacted" would garble every message between its characters.
    values = (token.get_secret_value().strip() for token in tokens if token is not None)
    return [value for value in values if value]


def _fail(message: str) -> NoReturn:
    typer.echo(f"communitybot: {message}", err=True)
    raise typer.Exit(code=2)


@cli.command()
def run(config: ConfigOption = None) -> None:
    """Start the bot: migrate, load the community file, then serve chats.

    With no TELEGRAM_TOKEN or DISCORD_TOKEN set it opens the console chat: type as a member
    would (/checkin, /points, 签到 ...) and use :as NAME, :admin on|off, :chat NAME,
    :time 2026-11-23T09:00 and :quit to steer it. Piped input is read to its end.
    """
    settings = _settings(config)
    console = settings.telegram_token is None and settings.discord_token is None
    _logs(settings, settings.log_file or (Path("data/communitybot.log") if console else None))
    try:
        app = build_app(settings)
    except StartupError as error:
        _fail(str(error))
    if not console:
        _serve_platforms(settings, app)
        return
    if app.firings is not None:
        # The console's clock is moved by hand (:time): what it moves past all runs, in order.
        app.firings.replay = True
    try:
        adapter = run_console(
            app.dispatcher,
            Renderer(plain_text),
            locale=app.community.locale,
            timezone=app.community.timezone,
            deliveries=app.ports.deliveries,
            firings=app.firings,
            invitations=app.ports.invitations,
            file_limit=settings.attached_file_max_bytes,
        )
        asyncio.run(adapter.run())
    except KeyboardInterrupt:
        pass
    finally:
        app.close()


def _serve_platforms(settings: Settings, app: App) -> None:
    """Serve Telegram and/or Discord until SIGINT or SIGTERM; a failed start is one line."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        if app.firings is not None:
            app.scheduler = Scheduler(app.firings, sync_seconds=settings.scheduler_sync_seconds)
        await serve(
            build_adapters(settings, app),
            stop,
            deliveries=app.ports.deliveries,
            senders=app.senders,
            settings=sender_settings(settings),
            scheduler=app.scheduler,
        )

    try:
        asyncio.run(main())
    except Exception as error:
        message = first_line(error)
        for secret in _secrets(settings):
            message = message.replace(secret, "[secret]")
        # One line for the operator; the traceback only when they ask for DEBUG logs.
        log.debug("could not serve", exc_info=True)
        _fail(f"cannot serve: {message}")
    finally:
        app.close()


@cli.command()
def announce(
    text: Annotated[str, typer.Argument(help="What to post in every group of the community.")],
    community: Annotated[
        str | None,
        typer.Option(help="The community's short name (default: the one in the community file)."),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            help="Names this announcement: run again with the same key, it posts nothing."
        ),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Queue an announcement to every group of a community, as /announce does in a chat.

    The running bot sends it (its senders look at the outbox every DELIVERY_POLL_SECONDS);
    this command only writes it down, so it works while the bot runs or before it starts.
    """
    settings = _settings(config)
    _logs(settings, settings.log_file)
    try:
        app = build_app(settings)
    except StartupError as error:
        _fail(str(error))
    try:
        slug = community or app.community.slug
        limit = app.community.rules.announce.max_length
        if not text.strip() or len(text) > limit:
            _fail(f"the text must be 1 to {limit} characters (announce.max_length)")
        name = key or uuid.uuid4().hex
        outcome = asyncio.run(
            Tasks(app.store).run(
                f"cli-announce:{name}",
                slug,
                lambda task: announcements.announce(
                    task.conn,
                    task.community,
                    text,
                    actor=Actor(None, OPERATOR),
                    key=f"cli:{name}",
                    at=task.now,
                ),
            )
        )
    except UnknownCommunity:
        _fail(f"no community is called {community!r}")
    finally:
        app.close()
    if outcome.result is None:
        typer.echo("this announcement was queued before; nothing more was queued")
        return
    sent = outcome.result
    typer.echo(
        f"queued for {sent.queued} group(s); skipped {sent.inactive} inactive group(s) and "
        f"{sent.no_channel} Discord server(s) without a posting channel"
    )


@cli.command()
def migrate() -> None:
    """Bring the database at DATABASE_URL up to the newest schema, then exit."""
    settings = _settings(None)
    _logs(settings, settings.log_file)
    try:
        migrations.upgrade(settings.database_url)
    except Exception as error:
        _fail(f"database {safe_url(settings.database_url)}: {first_line(error)}")
    typer.echo("database is up to date")


def main() -> None:
    """Entry point of the `communitybot` script."""
    cli()
