"""Composition: the only place that builds things and connects them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.settings import Settings
from community.communities import Community, apply_config
from community.config import CommunityConfig, ConfigError, parse_config
from handlers import adjust, checkin, help, points
from handlers.router import Dispatcher, Router
from storage import migrate
from storage.store import Store

log = logging.getLogger(__name__)

# Every feature's router, in the order /help lists their commands.
ROUTERS: tuple[Router, ...] = (help.router, checkin.router, points.router, adjust.router)


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


def load_community_file(path: Path) -> tuple[CommunityConfig, str]:
    """Read and check community.toml; StartupError names the file and the problem in one line."""
    try:
        text = path.read_text(encoding="utf-8")
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
