"""Turns a Reply into text: the chat's locale picks the template, the platform picks escaping."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import FileSystemLoader, StrictUndefined, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment

from handlers.types import Reply

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
FALLBACK_LOCALE = "en"


def plain_text(value: str) -> str:
    """Escaping for a terminal: drop control characters (ANSI escapes), keep newlines and tabs."""
    return "".join(ch for ch in value if ch in "\n\t" or not (ord(ch) < 32 or 127 <= ord(ch) < 160))


def telegram_html(value: str) -> str:
    """Escaping for Telegram's HTML parse mode: control characters out, <, > and & as entities."""
    return html.escape(plain_text(value), quote=False)


def _number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


class Renderer:
    """Renders replies with one platform's escaping applied to every value a template prints."""

    def __init__(self, escape: Callable[[str], str], templates: Path = TEMPLATES) -> None:
        self._escape = escape
        # Sandboxed because admins will edit templates; StrictUndefined so a missing value is
        # a bug we see, not a blank in front of members.
        self._env = SandboxedEnvironment(
            loader=FileSystemLoader(templates),
            undefined=StrictUndefined,
            finalize=self._finalize,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=False,
        )
        self._env.filters["num"] = _number

    def render(self, reply: Reply) -> str:
        """The reply's text in its locale, falling back to English for a missing template."""
        try:
            template = self._env.get_template(f"{reply.locale}/{reply.template}.j2")
        except TemplateNotFound:
            template = self._env.get_template(f"{FALLBACK_LOCALE}/{reply.template}.j2")
        return template.render(**reply.context).strip()

    def describe(self, locale: str, command: str) -> str:
        """A command's one-line description (help/_commands.j2), for platform command menus."""
        try:
            template = self._env.get_template(f"{locale}/help/_commands.j2")
        except TemplateNotFound:
            template = self._env.get_template(f"{FALLBACK_LOCALE}/help/_commands.j2")
        return str(template.module.describe(command)).strip()  # type: ignore[attr-defined]

    def _finalize(self, value: Any) -> str:
        return self._escape(value if isinstance(value, str) else str(value))
