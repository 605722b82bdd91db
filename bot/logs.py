"""Structured logs: one line per event, `key=value` pairs after the message."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class KeyValueFormatter(logging.Formatter):
    """`time level logger message key=value ...`, the extras a call passed, in order."""

    def format(self, record: logging.LogRecord) -> str:
        # The key=value pairs go on the first line, before any traceback, so the line that
        # says what failed also says which event it was.
        record.message = record.getMessage()
        record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        extras = " ".join(
            f"{key}={_value(value)}" for key, value in vars(record).items() if key not in _STANDARD
        )
        if extras:
            line = f"{line} {extras}"
        if record.exc_info:
            line = f"{line}\n{self.formatException(record.exc_info)}"
        if record.stack_info:
            line = f"{line}\n{self.formatStack(record.stack_info)}"
        return line


def _value(value: object) -> str:
    """A value as it goes into a log line: quoted when it could be mistaken for more pairs or
    lines (spaces, newlines, control characters), so no user text can forge a log line."""
    text = str(value)
    if isinstance(value, str) and (not text or not text.isprintable() or " " in text):
        return repr(value)
    return text


class RedactSecrets(logging.Filter):
    """Replaces secrets (bot tokens) wherever they appear in a log line, tracebacks included:
    Telegram puts the token in every request URL, and libraries log URLs."""

    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__()
        self._secrets = [secret for secret in secrets if secret]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        text = KeyValueFormatter("%(message)s").format(record)
        if any(secret in text for secret in self._secrets):
            for secret in self._secrets:
                text = text.replace(secret, "[secret]")
            record.msg, record.args = text, None
            record.exc_info = record.exc_text = record.stack_info = None
            for key in [k for k in vars(record) if k not in _STANDARD]:
                delattr(record, key)
        return True


# Libraries whose INFO lines are noise or carry request URLs (with the Telegram token in them).
_QUIET = (
    "httpx",
    "httpcore",
    "telegram.ext",
    "discord.http",
    "discord.gateway",
    "aiohttp.access",
    # "Running job ... executed successfully" for every alarm and the minutely sweep.
    "apscheduler",
)


def configure(level: str, file: Path | None = None, secrets: Sequence[str] = ()) -> None:
    """Send logs to `file` (the console chat keeps stderr quiet) or to stderr."""
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in _QUIET:
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))
