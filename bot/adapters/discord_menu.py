"""The slash command menu: one command per core command, its options made from the command's
declared parameters (Route.params) — a user picker for a member, a number field with its limits,
a list of choices, autocomplete for a poll, text for the rest —, named and described in the
community's locale (help/_params.j2) and translated into the others Discord shows. Admin
commands are shown by default only to members with Manage Server.

And the user context menu "Award points" (right-click a member, Apps): a form asking /award's
amount and reason, its custom_id naming the member, which the adapter reads back as /award."""

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
from handlers.types import Reply

DESCRIPTION_LIMIT = 100
# Discord's locales for the command descriptions, per locale of ours.
MENU_LOCALES: Mapping[str, tuple[discord.Locale, ...]] = {
    "en": (discord.Locale.american_english, discord.Locale.british_english),
    "zh_CN": (discord.Locale.chinese,),
}
# The other way round: our locale for each of Discord's (the words of menus and forms).
OUR_LOCALES: Mapping[discord.Locale, str] = {
    theirs: ours for ours, both in MENU_LOCALES.items() for theirs in both
}
# Who sees an admin command by default (server admins can allow others per command in Server
# Settings → Integrations); the core still checks every use.
ADMIN_PERMISSIONS = discord.Permissions(manage_guild=True)

# What Discord takes as an option's name: lower case, 1-32 letters (any script), digits, - or _.
_NAME = re.compile(r"[-_\w]{1,32}")

SlashCallback = Callable[..., Coroutine[Any, Any, None]]

# The user context menu that awards points, and the form it opens: the command it stands for,
# the form's custom_id before the member's id, the template naming both, and the fields (those of
# the command's parameters).
AWARD_COMMAND = "award"
AWARD_FORM = "award-form:"
AWARD_MENU_TEMPLATE = "discord/_award_menu"
AWARD_FIELDS = ("amount", "reason")
MENU_NAME_LIMIT = 32
TITLE_LIMIT = 45  # a form's title
FIELD_LABEL_LIMIT = 45
AMOUNT_LENGTH = 12  # characters a typed amount may have (the core checks the number itself)
REASON_LENGTH = 200  # what the core keeps of a reason


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


def menu_name(renderer: Renderer, locale: str) -> str:
    """The award menu's name in `locale` (Discord: 1 to 32 characters, any case, spaces)."""
    words = " ".join(renderer.render(Reply(AWARD_MENU_TEMPLATE, {}, locale)).split())
    return words[:MENU_NAME_LIMIT] or AWARD_COMMAND


def award_menu(renderer: Renderer, locale: str) -> app_commands.ContextMenu:
    """Right-click a member → Apps → "Award points", named in `locale` (the translator adds
    the others), shown by default to Manage Server as /award is; only in servers."""
    name = locale_str(menu_name(renderer, locale), menu=AWARD_COMMAND)
    menu = app_commands.ContextMenu(name=name, callback=_award_target)
    menu.default_permissions = ADMIN_PERMISSIONS
    menu.guild_only = True
    return menu


def award_form(renderer: Renderer, locale: str, target_id: int, target: str) -> discord.ui.Modal:
    """The form the award menu opens for one member (`target`, their shown name): the amount
    (required) and the reason (optional), labelled and described as /award's options are."""
    title = shorten(f"{menu_name(renderer, locale)} · {' '.join(target.split())}", TITLE_LIMIT)
    form = discord.ui.Modal(title=title, custom_id=f"{AWARD_FORM}{target_id}", timeout=None)
    for param in AWARD_FIELDS:
        label = renderer.param_label(locale, AWARD_COMMAND, param) or param
        required = param == "amount"
        field: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id=param,
            style=discord.TextStyle.short if required else discord.TextStyle.paragraph,
            required=required,
            max_length=AMOUNT_LENGTH if required else REASON_LENGTH,
        )
        form.add_item(
            discord.ui.Label(
                text=shorten(label[:1].upper() + label[1:], FIELD_LABEL_LIMIT),
                description=option_description(renderer, locale, AWARD_COMMAND, param),
                component=field,
            )
        )
    # Answered from the raw interaction, never from discord.py's view store (as buttons are).
    form.stop()
    return form


class CommandDescriptions(app_commands.Translator):
    """Slash command descriptions, option names and option descriptions in every locale we
    have templates for (help/_commands.j2, help/_params.j2)."""

    def __init__(self, renderer: Renderer, default_locale: str) -> None:
        self._renderer = renderer
        self._default = default_locale
        self._ours = OUR_LOCALES

    async def translate(
        self, string: locale_str, locale: discord.Locale, context: TranslationContextTypes
    ) -> str | None:
        ours = self._ours.get(locale)
        if ours is None or ours == self._default:
            return None  # the command's own words are in the default locale
        location = context.location
        if string.extras.get("menu") and location is TranslationContextLocation.command_name:
            return menu_name(self._renderer, ours)
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
    """The type discord.py makes an option of: a user, a number in its range, a file, text."""
    if param.kind is ParamKind.MEMBER:
        return discord.User
    if param.kind is ParamKind.POLL:
        return app_commands.Range[int, 1, None]
    if param.kind is ParamKind.FILE:
        return discord.Attachment  # an attachment field (option type 11)
    if param.kind is ParamKind.INTEGER:
        least, most = param.minimum, param.most(rules)
        if least is None and most is None:
            return int
        return app_commands.Range[int, least, most]
    return str


async def _award_target(interaction: discord.Interaction[Any], member: discord.User) -> None:
    """The shape of the award menu (a user command); never called: the adapter answers it."""


async def _autocomplete(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[int]]:
    """Marks an option for autocomplete; the adapter answers those interactions itself."""
    return []
