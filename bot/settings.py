"""Process settings from the environment and `.env` (pydantic-settings); no secrets in code."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


class Settings(BaseSettings):
    """Everything that differs between deployments. Tokens are secrets: never printed."""

    # A blank value means unset, as in the usual .env template lines "TELEGRAM_TOKEN=": an empty
    # token must start the console, and an empty LOG_FILE must mean no log file.
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )

    database_url: str = "sqlite:///data/communitybot.sqlite3"
    community_file: Path = Path("community.toml")
    telegram_token: SecretStr | None = None
    telegram_base_url: str | None = None
    telegram_mode: Literal["polling", "webhook"] = "polling"
    # Webhook mode: the public HTTPS address Telegram posts to, and where this process listens
    # (behind a reverse proxy that terminates TLS). The secret is checked on every request.
    telegram_webhook_url: str | None = None
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: int = Field(default=8443, ge=1, le=65535)
    telegram_webhook_secret: SecretStr | None = None
    discord_token: SecretStr | None = None
    # AutoShardedClient: needed from 2,500 servers, useful well before.
    discord_sharded: bool = False
    default_timezone: str = "UTC"
    default_locale: Literal["en", "zh_CN"] = "en"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_file: Path | None = None
    # Delivery (README, "Delivery"): how the outbox is drained. The platforms' own flood limits,
    # kept by the senders for the whole deployment (one process drains a platform at a time).
    telegram_messages_per_second: int = Field(default=30, ge=1)
    telegram_group_messages_per_minute: int = Field(default=20, ge=1)
    telegram_private_messages_per_second: int = Field(default=1, ge=1)
    telegram_group_burst: int = Field(default=5, ge=1)
    # Discord allows 50; a margin for requests the sender does not count (login, DM channels).
    discord_requests_per_second: int = Field(default=45, ge=1)
    discord_channel_messages_per_5s: int = Field(default=5, ge=1)
    delivery_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    delivery_parallel: int = Field(default=8, ge=1, le=256)
    delivery_lease_seconds: float = Field(default=15.0, ge=1, le=600)
    delivery_refusals_to_idle: int = Field(default=3, ge=1)
    delivery_max_attempts: int = Field(default=12, ge=1)
    delivery_merge_lines: int = Field(default=50, ge=2, le=200)
    delivery_keep_days: int = Field(default=7, ge=1)
    # Scheduler (README, "Topic calendar and member days"): besides waking at each firing, a full
    # sweep this often re-reads the jobs other processes changed and catches anything missed.
    scheduler_sync_seconds: float = Field(default=60.0, ge=1, le=3600)
    # Ask Discord for its privileged "server members" intent (switch it on in the Developer
    # Portal first): joins are then told, so newcomers are welcomed and invitations paid.
    discord_members_intent: bool = False
    # The largest file a command may carry (a CSV of coupon codes for /reward codes N, a
    # /submit's photo or video): 10 MB, Discord's upload limit for bots and Telegram's for a
    # photo, so whatever is taken can be posted again on both. Telegram lets bots download
    # 20 MB at most.
    attached_file_max_bytes: int = Field(default=10_000_000, ge=1, le=20_000_000)

    @field_validator("*", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: object, info: ValidationInfo) -> object:
        # Whitespace alone is blank too ("TELEGRAM_TOKEN= "): the field's default stands.
        if isinstance(value, str) and not value.strip():
            field = cls.model_fields[info.field_name or ""]
            return field.get_default(call_default_factory=True)
        return value

    @field_validator("database_url")
    @classmethod
    def _usable_database(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError as error:
            raise ValueError("not a database URL (sqlite:///path or postgresql://...)") from error
        backend = url.get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise ValueError(f"{backend!r} is not supported; use sqlite:/// or postgresql://")
        if backend == "sqlite" and url.database in (None, "", ":memory:"):
            raise ValueError("SQLite needs a file (sqlite:///data/bot.sqlite3), not memory")
        return value

    @field_validator("telegram_base_url", "telegram_webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("should start with http:// or https://")
        return value

    @field_validator("telegram_webhook_secret")
    @classmethod
    def _header_safe_secret(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram allows 1-256 characters A-Z, a-z, 0-9, _ and - in the secret header.
        if value is not None and not re.fullmatch(
            r"[A-Za-z0-9_-]{1,256}", value.get_secret_value()
        ):
            raise ValueError("use 1-256 characters from A-Z, a-z, 0-9, _ and -")
        return value

    @model_validator(mode="after")
    def _webhook_needs_url(self) -> Settings:
        if self.telegram_mode == "webhook" and not self.telegram_webhook_url:
            raise ValueError("TELEGRAM_MODE=webhook needs TELEGRAM_WEBHOOK_URL")
        return self

    @field_validator("default_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown timezone {value!r}") from error
        return value
