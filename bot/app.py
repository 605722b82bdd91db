"""Composition: the only place that builds things and connects them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from sqlalchemy import Connection
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.delivery.media_files import MediaFiles
from bot.delivery.messenger import Limits, Messenger, Rate
from bot.delivery.sender import Sender, SenderSettings
from bot.rendering import Renderer, plain_text
from bot.scheduler import Scheduler
from bot.settings import Settings
from community import calendar_file, quizzes, shop, surveys
from community import faq as faq_entries
from community.communities import Community, apply_config, file_is_new
from community.config import LOCALES, Access, CommunityConfig, ConfigError, parse_config
from community.jobs import SCHEDULE_CHANGED
from community.messages import Reply, Unrenderable
from handlers import (
    adjust,
    ambassador,
    announce,
    birthday,
    calendar,
    chat_messages,
    checkin,
    contest,
    draw,
    earning_rules,
    faq,
    help,
    history,
    invite,
    link,
    makeup,
    memberday,
    points,
    polls,
    questions,
    quiz,
    remind,
    review,
    reward_admin,
    rewards,
    settings,
    submit,
    survey,
    tiers,
)
from handlers.firings import Firings
from handlers.invite import Invitations
from handlers.pipeline import (
    AdoptGroup,
    Authorize,
    FindPlace,
    identify_actor,
    record_event,
    spend_shown_codes,
)
from handlers.ports import Chats, Deliveries, Inbox, Polls
from handlers.router import Dispatcher
from handlers.routes import Router
from storage import migrate
from storage.store import Store

log = logging.getLogger(__name__)

# Every feature's router, in the order /help lists their commands.
ROUTERS: tuple[Router, ...] = (
    help.router,
    checkin.router,
    makeup.router,
    points.router,
    tiers.router,
    history.router,
    rewards.router,
    reward_admin.router,
    birthday.router,
    invite.router,
    link.router,
    adjust.router,
    questions.router,
    faq.router,
    quiz.router,
    survey.router,
    submit.router,
    review.router,
    ambassador.router,
    contest.router,
    draw.router,
    polls.router,
    calendar.router,
    memberday.router,
    remind.router,
    earning_rules.router,
    announce.router,
    settings.router,
    chat_messages.router,
)


class StartupError(Exception):
    """The bot cannot start; the message is one line for the operator."""


@dataclass(slots=True)
class Ports:
    """The adapters' doors into the store, besides the dispatcher."""

    inbox: Inbox
    chats: Chats
    polls: Polls
    deliveries: Deliveries
    invitations: Invitations
    media_files: MediaFiles


@dataclass(slots=True)
class App:
    """A running core: the store, the dispatcher, the ports and the default community."""

    store: Store
    dispatcher: Dispatcher
    community: Community
    ports: Ports
    # The running senders by platform: a unit of work that queued messages wakes its platform's.
    senders: dict[str, Sender] = field(default_factory=dict)
    # What the scheduler's alarms (or the console's moved clock) run.
    firings: Firings | None = None
    # The running scheduler, told when a command changed what is scheduled.
    scheduler: Scheduler | None = None

    def close(self) -> None:
        """Finish pending writes and release the database."""
        self.store.close()


class Adapter(Protocol):
    """A chat platform connection: started and stopped by `serve`; its messenger sends the
    outbox's messages on its platform."""

    @property
    def messenger(self) -> Messenger:
        """How this platform is sent to (usable once started)."""

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
    limits = platform_limits(settings)
    ports = app.ports
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
            TelegramAdapter(
                app.dispatcher,
                options,
                inbox=ports.inbox,
                chats=ports.chats,
                polls=ports.polls,
                deliveries=ports.deliveries,
                default_locale=app.community.locale,
                limits=limits["telegram"],
                invitations=ports.invitations,
                file_limit=settings.attached_file_max_bytes,
                media_files=ports.media_files,
            )
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
                polls=ports.polls,
                deliveries=ports.deliveries,
                default_locale=app.community.locale,
                # Its limits bound the slash commands' number fields (/award up to max_award).
                rules=app.community.rules,
                limits=limits["discord"],
                # Joins (welcomes, invitations) come with Discord's privileged members intent.
                members_intent=settings.discord_members_intent,
                invitations=ports.invitations,
                file_limit=settings.attached_file_max_bytes,
                media_files=ports.media_files,
            )
        )
    return adapters


def sender_settings(settings: Settings) -> SenderSettings:
    return SenderSettings(
        poll_seconds=settings.delivery_poll_seconds,
        parallel=settings.delivery_parallel,
        lease_seconds=settings.delivery_lease_seconds,
        refusals_to_idle=settings.delivery_refusals_to_idle,
        max_attempts=settings.delivery_max_attempts,
        merge_lines=settings.delivery_merge_lines,
        keep_days=settings.delivery_keep_days,
    )


def platform_limits(settings: Settings) -> dict[str, Limits]:
    """Each platform's flood limits as the operator set them (defaults: the platforms' own)."""
    return {
        "telegram": Limits(
            overall=Rate(settings.telegram_messages_per_second, 1),
            group=Rate(settings.telegram_group_messages_per_minute, 60),
            private=Rate(settings.telegram_private_messages_per_second, 1),
            group_burst=settings.telegram_group_burst,
        ),
        "discord": Limits(
            overall=Rate(settings.discord_requests_per_second, 1),
            group=Rate(settings.discord_channel_messages_per_5s, 5),
            private=Rate(settings.discord_channel_messages_per_5s, 5),
        ),
    }


async def serve(
    adapters: Sequence[Adapter],
    stop: asyncio.Event,
    *,
    deliveries: Deliveries,
    senders: dict[str, Sender] | None = None,
    settings: SenderSettings | None = None,
    scheduler: Scheduler | None = None,
) -> None:
    """Run every adapter on this one event loop, each with a sender draining its outbox, until
    `stop` is set or one of them fails for good (then its error is raised). Stopping stops the
    senders first (what is unsent stays in the outbox), then the adapters in reverse."""
    started: list[Adapter] = []
    watchers: list[asyncio.Task[BaseException]] = []
    stopping = asyncio.ensure_future(stop.wait())
    fatal: BaseException | None = None
    # The senders by platform (the app's, so that units of work can wake them).
    running = senders if senders is not None else {}
    try:
        for adapter in adapters:
            await adapter.start()
            started.append(adapter)
            watchers.append(asyncio.ensure_future(adapter.failed()))
            sender = Sender(adapter.messenger, deliveries, settings)
            running[sender.platform] = sender
            sender.start()
        if scheduler is not None:
            # After the senders: what the catch-up sweep queues goes out at once.
            await scheduler.start()
        log.info("serving", extra={"adapters": len(started)})
        done, _ = await asyncio.wait([stopping, *watchers], return_when=asyncio.FIRST_COMPLETED)
        for watcher in watchers:
            if watcher in done:
                fatal = watcher.result()
                break
    finally:
        for task in (stopping, *watchers):
            task.cancel()
        if scheduler is not None:
            await scheduler.stop()
        for sender in list(running.values()):
            await sender.stop()
        running.clear()
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
            _apply_file,
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
    senders: dict[str, Sender] = {}
    app: App | None = None

    def wake(platform: str) -> None:
        if platform in senders:
            senders[platform].wake()
        elif platform == SCHEDULE_CHANGED and app is not None and app.scheduler is not None:
            app.scheduler.changed()

    dispatcher = build_dispatcher(
        store,
        access=config.access,
        default_community=community.slug,
        default_locale=community.locale,
        queued=wake,
    )
    ports = Ports(
        Inbox(store),
        Chats(store),
        Polls(store),
        Deliveries(store),
        Invitations(store),
        MediaFiles(store),
    )
    log.info("core ready", extra={"community": community.slug, "database": where})
    firings = Firings(
        store, queued=wake, check=renders_in_every_language, admins=config.access.admins
    )
    app = App(store, dispatcher, community, ports, senders, firings)
    return app


_CHECKING = Renderer(plain_text)


def renders_in_every_language(reply: Reply) -> None:
    """Raise Unrenderable if the reply's template fails in a language (an admin's edit broke
    it): a scheduled post is checked before it is queued for every group."""
    for locale in LOCALES:
        try:
            _CHECKING.render(replace(reply, locale=locale))
        except Exception as error:
            raise Unrenderable(f"{locale}/{reply.template}: {first_line(error)}") from error


def _apply_file(
    conn: Connection,
    config: CommunityConfig,
    config_hash: str,
    *,
    default_timezone: str,
    default_locale: str,
    at: datetime,
) -> Community:
    """The community file into the database: its rules, and its [[calendar]] entries when the
    file changed (entries added by command stay; those of the file follow the file)."""
    new = file_is_new(conn, config.community.slug, config_hash)
    community = apply_config(
        conn,
        config,
        config_hash,
        default_timezone=default_timezone,
        default_locale=default_locale,
        at=at,
    )
    if new:
        calendar_file.sync_file_entries(conn, community, config.calendar, at)
        shop.sync_file_rewards(conn, community, config.rewards, at)
        faq_entries.sync_file_entries(conn, community, config.faq_entries, at)
        quizzes.sync_file_bank(conn, community, config.quiz_bank, at)
        surveys.sync_file_surveys(conn, community, config.surveys, at)
    return community


def build_dispatcher(
    store: Store,
    *,
    access: Access,
    default_community: str,
    default_locale: str,
    queued: Callable[[str], None] = lambda platform: None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    routers: Sequence[Router] = ROUTERS,
) -> Dispatcher:
    """The dispatcher with every feature's router and a chat event's steps, in order."""
    find_place = FindPlace(default_community)
    return Dispatcher(
        store,
        routers,
        steps=(
            record_event,
            find_place,
            identify_actor,
            AdoptGroup(access),
            spend_shown_codes,
            Authorize(access),
        ),
        # An event that failed is answered where it happened, and nothing else is done.
        apology_steps=(find_place,),
        default_locale=default_locale,
        clock=clock,
        queued=queued,
    )


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
