"""Composition: the only place that builds things and connects them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.settings import Settings
from community.communities import Community, apply_config
from community.config import CommunityConfig, ConfigError, parse_config
from handlers import adjust, checkin, help, link, points, polls, settings
from handlers.router import Dispatcher
from handlers.routes import Router
from storage import migrate
from storage.store import Store

log = logging.getLogger(__name__)

# Every feature's router, in the order /help lists their commands.
ROUTERS: tuple[Router, ...] = (
    help.router,
    checkin.router,
    points.router,
    link.router,
    adjust.router,
    polls.router,
    settings.router,
)


class StartupError(Exception):
    """The bot cannot start; the message is one line for the operator."""


@dataclass(slots=True)
class App:
    """A running core: the store, the dispatcher and the default community."""

    store: Store
    dispatcher: Dispatcher
    community: Community

    def close(self) -> None:
        """Finish pending writes and release the database."""
        self.store.close()


class Adapter(Protocol):
    """A chat platform connection: started and stopped by `serve`."""

    async def start(self) -> None:
        """Connect and start receiving."""

    async def stop(self) -> None:
        """Stop receiving and disconnect."""

    async def failed(self) -> BaseException:
        """Wait until the adapter cannot go on by itself (a revoked token, a closed gateway
        that will not come back) and return why; never returns while all is well."""


def build_adapters(settings: Settings, app: App) -> list[Adapter]:
    """The platform adapters the settings ask for (tokens set); empty means console."""
    # Imported here so a console-only run never loads the platform libraries.
    adapters: list[Adapter] = []
    if settings.telegram_token is not None:
        from bot.adapters.telegram import TelegramAdapter, TelegramOptions

        secret = settings.telegram_webhook_secret
        options = TelegramOptions(
            token=settings.telegram_token.get_secret_value(),
            base_url=settings.telegram_base_url,
            mode=settings.telegram_mode,
            webhook_url=settings.telegram_webhook_url,
            webhook_listen=settings.telegram_webhook_listen,
            webhook_port=settings.telegram_webhook_port,
            webhook_secret=secret.get_secret_value() if secret else None,
        )
        adapters.append(
            TelegramAdapter(app.dispatcher, options, default_locale=app.community.locale)
        )
    if settings.discord_token is not None:
        from bot.adapters.discord import DiscordAdapter, DiscordOptions

        adapters.append(
            DiscordAdapter(
                app.dispatcher,
                DiscordOptions(
                    token=settings.discord_token.get_secret_value(),
                    sharded=settings.discord_sharded,
                ),
                default_locale=app.community.locale,
                # Its limits bound the slash commands' number fields (/award up to max_award).
                rules=app.community.rules,
            )
        )
    return adapters


async def serve(adapters: Sequence[Adapter], stop: asyncio.Event) -> None:
    """Run every adapter on this one event loop until `stop` is set, or until one of them
    fails for good (then its error is raised, after every adapter was stopped in reverse)."""
    started: list[Adapter] = []
    watchers: list[asyncio.Task[BaseException]] = []
    stopping = asyncio.ensure_future(stop.wait())
    fatal: BaseException | None = None
    try:
        for adapter in adapters:
            await adapter.start()
            started.append(adapter)
            watchers.append(asyncio.ensure_future(adapter.failed()))
        log.info("serving", extra={"adapters": len(started)})
        done, _ = await asyncio.wait([stopping, *watchers], return_when=asyncio.FIRST_COMPLETED)
        for watcher in watchers:
            if watcher in done:
                fatal = watcher.result()
                break
    finally:
        for task in (stopping, *watchers):
            task.cancel()
        for adapter in reversed(started):
            try:
                await adapter.stop()
            except Exception:
                log.exception("adapter did not stop cleanly")
    if fatal is not None:
        raise fatal


def load_community_file(path: Path) -> tuple[CommunityConfig, str]:
    """Read and check community.toml; StartupError names the file and the problem in one line."""
    try:
        # utf-8-sig: Windows Notepad starts a UTF-8 file with a byte order mark.
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise StartupError(f"{path}: cannot read community file: {reason}") from error
    try:
        return parse_config(text)
    except ConfigError as error:
        raise StartupError(f"{path}: {error}") from error


def build_app(settings: Settings, *, now: datetime | None = None) -> App:
    """Migrate the database, load the community file into it and wire the dispatcher."""
    config, config_hash = load_community_file(settings.community_file)
    now = now or datetime.now(UTC)
    where = safe_url(settings.database_url)
    try:
        migrate.upgrade(settings.database_url)
        store = Store(settings.database_url)
    except Exception as error:
        raise StartupError(f"database {where}: {first_line(error)}") from error
    try:
        community = store.write_now(
            apply_config,
            config,
            config_hash,
            default_timezone=settings.default_timezone,
            default_locale=settings.default_locale,
            at=now,
        )
    except ConfigError as error:
        store.close()
        raise StartupError(f"{settings.community_file}: {error}") from error
    except Exception as error:
        store.close()
        raise StartupError(f"database {where}: {first_line(error)}") from error
    dispatcher = Dispatcher(
        store,
        ROUTERS,
        default_community=community.slug,
        default_locale=community.locale,
        access=config.access,
    )
    log.info("core ready", extra={"community": community.slug, "database": where})
    return App(store, dispatcher, community)


def safe_url(url: str) -> str:
    """The database URL without its password, fit for logs and messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unreadable URL)"


def first_line(error: BaseException) -> str:
    """The driver's own first line, without SQLAlchemy's statement and background link."""
    cause = getattr(error, "orig", None) or error
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]
