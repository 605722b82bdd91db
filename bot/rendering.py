"""Turns a Reply into text: the chat's locale picks the template, the platform picks escaping."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from babel import Locale
from babel.dates import format_datetime
from jinja2 import (
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    pass_context,
    pass_eval_context,
)
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from handlers.text import strip_invisible
from handlers.types import Reply

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
FALLBACK_LOCALE = "en"

# Control characters (ANSI escapes) are never shown; newline and tab are kept.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Shown instead of a non-blank value that had nothing visible in it (a name made only of
# direction marks or zero-width characters), so a line never names nobody: Unicode's own sign
# for a character that cannot be shown, the same in every language.
INVISIBLE_VALUE = "\ufffd"


def plain_text(value: str) -> str:
    """Escaping for a terminal, and the base of every platform's escaping: no control
    characters, and none of the invisible ones (bidi controls, direction marks, zero-width
    characters) that let a name reverse its line or pass for another; the stored text keeps
    them. A zero-width joiner stays inside an emoji sequence (handlers.text, which parsing
    uses too)."""
    shown = strip_invisible(_CONTROL.sub("", value))
    return shown if shown.strip() or not value.strip() else INVISIBLE_VALUE


def telegram_html(value: str) -> str:
    """Escaping for Telegram's HTML parse mode: plain_text, then <, > and & as entities."""
    return html.escape(plain_text(value), quote=False)


def number(value: Any) -> str:
    """A count with thousands separators (1,000), as every locale of ours writes it."""
    return f"{value:,}" if isinstance(value, int) else str(value)


class Renderer:
    """Renders replies with one platform's escaping applied exactly once to every value a
    template prints.

    Autoescape is on so that what is already escaped is marked (a macro's output is Markup) and
    passes through; everything else is escaped by _finalize with the platform's escaping, not
    HTML's. Markup's own operations still escape as HTML: join plain values (`names|join`), not
    macro outputs, in templates (tests/test_templates_on_platforms.py catches the rest).
    """

    def __init__(self, escape: Callable[[str], str], templates: Path = TEMPLATES) -> None:
        self._escape = escape
        self._plural_rules: dict[str, Callable[[Any], str]] = {}
        # Sandboxed because admins will edit templates; StrictUndefined so a missing value is
        # a bug we see, not a blank in front of members.
        self._env = SandboxedEnvironment(
            loader=FileSystemLoader(templates),
            undefined=StrictUndefined,
            finalize=self._finalize,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=True,
        )
        self._env.filters["num"] = number
        self._env.filters["plural"] = self._plural
        self._env.filters["datetime"] = self._datetime
        self._env.globals["say"] = self._say

    def render(self, reply: Reply) -> str:
        """The reply's text in its locale, falling back to English for a missing template."""
        try:
            template = self._env.get_template(f"{reply.locale}/{reply.template}.j2")
        except TemplateNotFound:
            template = self._env.get_template(f"{FALLBACK_LOCALE}/{reply.template}.j2")
        return template.render(**reply.context).strip()

    def describe(self, locale: str, command: str) -> str:
        """A command's one-line description (help/_commands.j2), for platform command menus."""
        return self._macro(locale, "help/_commands", "describe", command)

    def param_label(self, locale: str, command: str, param: str) -> str:
        """What a command's parameter is called in `locale` (help/_params.j2); "" if unnamed."""
        return self._macro(locale, "help/_params", "label", f"{command}.{param}")

    def param_description(self, locale: str, command: str, param: str) -> str:
        """What a command's parameter means, in one line (help/_params.j2)."""
        return self._macro(locale, "help/_params", "describe", f"{command}.{param}")

    def _macro(self, locale: str, name: str, macro: str, key: str) -> str:
        try:
            template = self._env.get_template(f"{locale}/{name}.j2")
        except TemplateNotFound:
            template = self._env.get_template(f"{FALLBACK_LOCALE}/{name}.j2")
        return str(getattr(template.module, macro)(key)).strip()

    # Taking the eval context stops Jinja from finalizing constant expressions ({{ "a*b" }})
    # at compile time, where it would HTML-escape them first and the platform's escaping never.
    @pass_eval_context
    def _finalize(self, eval_ctx: EvalContext, value: Any) -> Markup:
        if isinstance(value, Markup):
            return value  # escaped already: a macro's output, or a value finalized before
        # Safe: escaped just now, by the platform's own escaping.
        escaped = self._escape(value if isinstance(value, str) else str(value))
        return Markup(escaped)  # noqa: S704

    @pass_context
    def _say(self, context: Context, template: str, values: dict[str, Any]) -> Markup:
        """`{{ say(name, values) }}`: another template's words, in this template's language and
        escaping (a merged message made of answers' one-line forms)."""
        locale = (context.name or FALLBACK_LOCALE).partition("/")[0]
        text = self.render(Reply(template, values, locale=locale))
        return Markup(text)  # noqa: S704 (rendered just now, escaped by the platform's escaping)

    @pass_context
    def _datetime(self, context: Context, value: Any, pattern: str) -> str:
        """`{{ at|datetime("EEE MM-dd HH:mm") }}`: a moment in the template's language (CLDR
        names of weekdays and months), at the UTC offset it carries. Handlers pass moments in
        the community's timezone; a message from the outbox carries them as ISO text."""
        locale = (context.name or FALLBACK_LOCALE).partition("/")[0]
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        if not isinstance(moment, datetime):
            return str(value)
        return format_datetime(moment, pattern, tzinfo=moment.tzinfo, locale=locale)

    @pass_context
    def _plural(self, context: Context, count: Any, *, other: str, **forms: str) -> str:
        """`{{ n|plural(one="point", other="points") }}`: the form the template's language uses
        for `n`, by CLDR's rules (one/other in English; Chinese has only `other`)."""
        # The template's own folder is its language: an English fallback gets English rules.
        locale = (context.name or FALLBACK_LOCALE).partition("/")[0]
        rule = self._plural_rules.get(locale)
        if rule is None:
            rule = self._plural_rules[locale] = Locale.parse(locale).plural_form
        return forms.get(rule(abs(count)), other)
