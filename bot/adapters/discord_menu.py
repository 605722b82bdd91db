"""The slash command menu: one command per core command, its options made from the command's
declared parameters (Route.params) — a user picker for a member, a number field with its limits,
a list of choices, autocomplete for a poll, text for the rest —, named and described in the
community's locale (help/_params.j2) and translated into the others Discord shows. Admin
commands are shown by default only to members with Manage Server."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import TranslationContextLocation, TranslationContextTypes, locale_str

from bot.adapters.splitting import shorten
from bot.rendering import Renderer
from community.config import Rules
from handlers.routes import Param, ParamKind, Route

DESCRIPTION_LIMIT = 100
# Discord's locales for the command descriptions, per locale of ours.
MENU_LOCALES: Mapping[str, tuple[discord.Locale, ...]] = {
    "en": (discord.Locale.american_english, discord.Locale.british_english),
    "zh_CN": (discord.Locale.chinese,),
}
# Who sees an admin command by default (server admins can allow others per command in Server
# Settings → Integrations); the core still checks every use.
ADMIN_PERMISSIONS = discord.Permissions(manage_guild=True)

# What Discord takes as an option's name: lower case, 1-32 letters (any script), digits, - or _.
_NAME = re.compile(r"[-_\w]{1,32}")

SlashCallback = Callable[..., Coroutine[Any, Any, None]]


def slash_command(
    route: Route, renderer: Renderer, locale: str, rules: Rules
) -> app_commands.Command[Any, ..., None]:
    """The slash command for a route: its declared parameters as typed options, named and
    described in `locale` (the translator adds the other locales at sync); limits read from
    `rules` (e.g. /award's amount up to max_award)."""
    name = route.command
    callback = _callback(route.params, rules)
    if route.params:
        labels = {
            p.name: locale_str(
                option_name(renderer, locale, name, p.name), command=name, param=p.name
            )
            for p in route.params
        }
        texts = {
            p.name: locale_str(
                option_description(renderer, locale, name, p.name), command=name, param=p.name
            )
            for p in route.params
        }
        callback = app_commands.rename(**labels)(callback)
        callback = app_commands.describe(**texts)(callback)
        choices = {
            p.name: [app_commands.Choice(name=c, value=c) for c in p.choices]
            for p in route.params
            if p.kind is ParamKind.CHOICE and p.choices
        }
        if choices:
            callback = app_commands.choices(**choices)(callback)
        polls = {p.name: _autocomplete for p in route.params if p.kind is ParamKind.POLL}
        if polls:
            callback = app_commands.autocomplete(**polls)(callback)
    if route.admin:
        callback = app_commands.default_permissions(ADMIN_PERMISSIONS)(callback)
    description = locale_str(command_description(renderer, locale, name), command=name)
    return app_commands.Command(name=name, description=description, callback=callback)


def option_names(route: Route, renderer: Renderer, locale: str) -> dict[str, Param]:
    """The parameter each option name of a synced command stands for (its name in `locale`,
    and its declared name as well)."""
    named = {p.name: p for p in route.params}
    named.update({option_name(renderer, locale, route.command, p.name): p for p in route.params})
    return named


def option_name(renderer: Renderer, locale: str, command: str, param: str) -> str:
    """An option's name in `locale` (help/_params.j2); its declared name when the template
    names it not, or not as Discord allows (lower case, 1-32 letters, digits, - or _)."""
    label = renderer.param_label(locale, command, param)
    return label if _NAME.fullmatch(label) and label.lower() == label else param


def option_description(renderer: Renderer, locale: str, command: str, param: str) -> str:
    """What an option means, in one line (Discord requires 1 to 100 characters)."""
    words = renderer.param_description(locale, command, param)
    return shorten(" ".join(words.split()), DESCRIPTION_LIMIT) or param


def command_description(renderer: Renderer, locale: str, command: str) -> str:
    """A command's description for the slash menu (Discord requires 1 to 100 characters)."""
    return shorten(renderer.describe(locale, command) or f"/{command}", DESCRIPTION_LIMIT)


class CommandDescriptions(app_commands.Translator):
    """Slash command descriptions, option names and option descriptions in every locale we
    have templates for (help/_commands.j2, help/_params.j2)."""

    def __init__(self, renderer: Renderer, default_locale: str) -> None:
        self._renderer = renderer
        self._default = default_locale
        self._ours = {theirs: ours for ours, locales in MENU_LOCALES.items() for theirs in locales}

    async def translate(
        self, string: locale_str, locale: discord.Locale, context: TranslationContextTypes
    ) -> str | None:
        ours = self._ours.get(locale)
        if ours is None or ours == self._default:
            return None  # the command's own words are in the default locale
        command = string.extras.get("command")
        if not command:
            return None
        if context.location is TranslationContextLocation.command_description:
            return command_description(self._renderer, ours, command)
        param = string.extras.get("param")
        if not param:
            return None
        if context.location is TranslationContextLocation.parameter_name:
            return option_name(self._renderer, ours, command, param)
        if context.location is TranslationContextLocation.parameter_description:
            return option_description(self._renderer, ours, command, param)
        return None


def _callback(params: tuple[Param, ...], rules: Rules) -> SlashCallback:
    """A callback whose signature is the options' (discord.py reads options from it); never
    called, since the adapter answers every interaction itself."""

    async def slash(interaction: discord.Interaction[Any], **values: Any) -> None:
        """The shape of one slash command."""

    options = [
        inspect.Parameter(
            p.name,
            inspect.Parameter.KEYWORD_ONLY,
            annotation=_annotation(p, rules),
            default=inspect.Parameter.empty if p.required else None,
        )
        for p in params
    ]
    first = inspect.Parameter(
        "interaction", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=discord.Interaction
    )
    slash.__signature__ = inspect.Signature([first, *options])  # type: ignore[attr-defined]
    return slash


def _annotation(param: Param, rules: Rules) -> Any:
    """The type discord.py makes an option of: a user, a number in its range, text."""
    if param.kind is ParamKind.MEMBER:
        return discord.User
    if param.kind is ParamKind.POLL:
        return app_commands.Range[int, 1, None]
    if param.kind is ParamKind.INTEGER:
        least, most = param.minimum, param.most(rules)
        if least is None and most is None:
            return int
        return app_commands.Range[int, least, most]
    return str


async def _autocomplete(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[int]]:
    """Marks an option for autocomplete; the adapter answers those interactions itself."""
    return []
