"""The slash command menu: one command per core command, each with one optional text option,
described in the community's locale and translated into the others Discord shows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import TranslationContextLocation, TranslationContextTypes, locale_str

from bot.adapters.discord_events import TEXT_OPTION
from bot.adapters.splitting import shorten
from bot.rendering import Renderer
from handlers.types import Reply

DESCRIPTION_LIMIT = 100
# Discord's locales for the command descriptions, per locale of ours.
MENU_LOCALES: Mapping[str, tuple[discord.Locale, ...]] = {
    "en": (discord.Locale.american_english, discord.Locale.british_english),
    "zh_CN": (discord.Locale.chinese,),
}


def slash_command(
    name: str, renderer: Renderer, locale: str
) -> app_commands.Command[Any, ..., None]:
    """The slash command /name with one optional text option, described in `locale` (the
    translator adds the other locales at sync)."""
    description = locale_str(command_description(renderer, locale, name), command=name)
    command: app_commands.Command[Any, ..., None] = app_commands.Command(
        name=name, description=description, callback=_slash_signature
    )
    words = option_description(renderer, locale)
    describe = app_commands.describe(**{TEXT_OPTION: locale_str(words, option=TEXT_OPTION)})
    return describe(command)


def command_description(renderer: Renderer, locale: str, command: str) -> str:
    """A command's description for the slash menu (Discord requires 1 to 100 characters)."""
    return shorten(renderer.describe(locale, command) or f"/{command}", DESCRIPTION_LIMIT)


def option_description(renderer: Renderer, locale: str) -> str:
    """What the `text` option of every slash command is for (help/command_argument.j2)."""
    words = renderer.render(Reply("help/command_argument", locale=locale))
    return shorten(words, DESCRIPTION_LIMIT)


class CommandDescriptions(app_commands.Translator):
    """Slash command descriptions in every locale we have templates for (help/_commands.j2)."""

    def __init__(self, renderer: Renderer, default_locale: str) -> None:
        self._renderer = renderer
        self._default = default_locale
        self._ours = {theirs: ours for ours, locales in MENU_LOCALES.items() for theirs in locales}

    async def translate(
        self, string: locale_str, locale: discord.Locale, context: TranslationContextTypes
    ) -> str | None:
        ours = self._ours.get(locale)
        if ours is None or ours == self._default:
            return None  # the command's own description is in the default locale
        if context.location is TranslationContextLocation.command_description:
            command = string.extras.get("command")
            return command_description(self._renderer, ours, command) if command else None
        if context.location is TranslationContextLocation.parameter_description:
            return option_description(self._renderer, ours)
        return None


async def _slash_signature(interaction: discord.Interaction[Any], text: str | None = None) -> None:
    """The shape of every slash command (one optional text option); never called."""
