"""Structured logs: one line per event, `key=value` pairs after the message."""

from __future__ import annotations

import logging
import sys
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


def configure(level: str, file: Path | None = None) -> None:
    """Send logs to `file` (the console chat keeps stderr quiet) or to stderr."""
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.FileHandler(file, encoding="utf-8")
    else:
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
