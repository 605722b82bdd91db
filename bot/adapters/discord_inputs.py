"""Interactions that fill in a command before the core sees it: the award form behind the
member menu ("Award points" on a right-clicked member) and autocomplete of poll options."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import discord
from discord import app_commands

from bot.adapters.discord_events import PLATFORM, event_id
from bot.adapters.discord_interactions import (
    focused_option,
    form_target,
    form_values,
    interaction_chat,
    menu_target,
    slash_event,
    slash_name,
)
from bot.adapters.discord_menu import AWARD_COMMAND, AWARD_FORM, OUR_LOCALES, award_form
from bot.adapters.discord_people import People
from bot.adapters.splitting import shorten
from bot.rendering import Renderer
from handlers.ports import Polls
from handlers.routes import Param, ParamKind
from handlers.types import Event, Mention

log = logging.getLogger(__name__)

AUTOCOMPLETE_LIMIT = 25  # choices Discord shows for an autocompleted option
CHOICE_NAME_LIMIT = 100


class Inputs:
    """What the adapter asks of a user before a command runs, and reads back from them."""

    def __init__(
        self,
        polls: Polls,
        people: People,
        plain: Renderer,
        *,
        default_locale: str,
        params: Mapping[str, tuple[tuple[Param, ...], dict[str, Param]]],
    ) -> None:
        self._polls = polls
        self._people = people
        self._plain = plain
        self._default_locale = default_locale
        self._params = params

    async def open_award_form(self, interaction: discord.Interaction[Any]) -> None:
        """The award menu used on a member: the form asking how many points, and why, in the
        user's language when we have it."""
        target = menu_target(interaction)
        if target is None or AWARD_COMMAND not in self._params:
            return
        locale = OUR_LOCALES.get(interaction.locale, self._default_locale)
        try:
            await interaction.response.send_modal(award_form(self._plain, locale, *target))
        except discord.HTTPException as error:
            log.warning(
                "discord award form refused",
                extra={"event_id": event_id(interaction.id), "status": error.status},
            )

    async def award_event(self, interaction: discord.Interaction[Any]) -> Event | None:
        """A submitted award form as the /award it stands for: the member its custom_id names
        (their account, as a picked member's), the amount (one word: "50 thanks" there is no
        number) and the reason. A member no longer in the server is named by id, and the core
        refuses that as it refuses any unknown member."""
        target = form_target(interaction, AWARD_FORM)
        if target is None:
            return None
        values = form_values(interaction)
        # One word: "10 5" must not become 105 (nor 10 with "5" as the reason): "10_5" is no
        # number, and the core answers it with the usage, as it does "50 thanks".
        amount = "_".join(values.get("amount", "").split())
        reason = " ".join(values.get("reason", "").split())
        guild_id = interaction.guild_id
        account = await self._people.member(guild_id, target) if guild_id is not None else None
        mentions: tuple[Mention, ...] = ()
        shown = f"<@{target}>"
        if account is not None and account.username:
            shown = f"@{account.username}"
            mentions = (Mention(shown, account),)
        text = " ".join(word for word in (shown, amount, reason) if word)
        chat = interaction_chat(interaction)
        return slash_event(interaction, name=AWARD_COMMAND, text=text, chat=chat, mentions=mentions)

    async def autocomplete(self, interaction: discord.Interaction[Any]) -> None:
        """Choices for the option being typed: a poll option lists this chat's open polls
        (those matching what is typed so far); anything else gets none."""
        _, names = self._params.get(slash_name(interaction), ((), {}))
        focused = focused_option(interaction)
        param = names.get(focused[0]) if focused is not None else None
        choices: list[app_commands.Choice[int]] = []
        if focused is not None and param is not None and param.kind is ParamKind.POLL:
            typed = focused[1].lstrip("#＃").casefold()
            chat = interaction_chat(interaction)
            for number, question in await self._polls.open_in(PLATFORM, chat.chat_id):
                shown = shorten(" ".join(f"#{number} {question}".split()), CHOICE_NAME_LIMIT)
                if typed in str(number) or typed in question.casefold():
                    choices.append(app_commands.Choice(name=shown, value=number))
        try:
            await interaction.response.autocomplete(choices[:AUTOCOMPLETE_LIMIT])
        except discord.HTTPException as error:
            log.warning(
                "discord autocomplete answer refused",
                extra={"event_id": event_id(interaction.id), "status": error.status},
            )
