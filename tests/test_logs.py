"""Log lines: one per event, key=value pairs first, no user text can forge a line."""

from __future__ import annotations

import logging

from bot.logs import KeyValueFormatter


def format_line(message: str, exc: bool = False, **extra: object) -> str:
    formatter = KeyValueFormatter("%(levelname)s %(message)s")
    record = logging.makeLogRecord({"msg": message, "levelname": "INFO", **extra})
    if exc:
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            import sys

            record.exc_info = sys.exc_info()
    return formatter.format(record)


def test_a_failure_line_names_its_event_before_the_traceback() -> None:
    text = format_line("event failed", exc=True, event_id="telegram:42")
    first, *rest = text.splitlines()
    assert first == "INFO event failed event_id=telegram:42"
    assert rest[0].startswith("Traceback") and "RuntimeError: boom" in rest[-1]


def test_user_text_cannot_forge_a_log_line() -> None:
    text = format_line("event handled", member="alice\nINFO forged", note="a b", n=3)
    assert text.splitlines() == ["INFO event handled member='alice\\nINFO forged' note='a b' n=3"]
