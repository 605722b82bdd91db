"""What an interaction (a slash command, a button, a context menu, a form, an autocomplete
request) asks of the core, without I/O: its chat, its actor and the command line it stands for,
with the accounts Discord resolved for its member options."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import discord

from bot.adapters.discord_events import (
    TEXT_OPTION,
    account_ref,
    dm_chat,
    event_id,
    guild_chat,
    payload_account,
)
from handlers.parsing import event_from_button
from handlers.routes import Param, ParamKind
from handlers.types import AccountRef, ChatRef, Event, EventKind, Mention


def interaction_chat(interaction: discord.Interaction[Any]) -> ChatRef:
    """Where an interaction happened: its server (known to the client or not), else a DM."""
    if interaction.guild_id is not None:
        guild = interaction.guild
        return guild_chat(interaction.guild_id, guild.name if guild is not None else None)
    return dm_chat(interaction.user)


def interaction_actor(interaction: discord.Interaction[Any]) -> AccountRef:
    """Who used a command or pressed a button; Discord sends their resolved permissions."""
    in_guild = interaction.guild_id is not None
    return account_ref(interaction.user, is_admin=in_guild and interaction.permissions.manage_guild)


def slash_name(interaction: discord.Interaction[Any]) -> str:
    """The name of the slash command an interaction runs."""
    data: Mapping[str, Any] = interaction.data or {}
    return str(data.get("name", "")).lower()


def slash_text(interaction: discord.Interaction[Any]) -> str:
    """The value of a slash command's text option ("" when it was left out)."""
    data: Mapping[str, Any] = interaction.data or {}
    options: Sequence[Mapping[str, Any]] = data.get("options") or ()
    strings = [o for o in options if isinstance(o.get("value"), str)]
    chosen = next((o for o in strings if o.get("name") == TEXT_OPTION), None)
    if chosen is None and strings:
        chosen = strings[0]  # an option renamed since the last sync still carries the words
    return str(chosen["value"]).strip() if chosen is not None else ""


@dataclass(frozen=True, slots=True)
class SlashLine:
    """What a slash command's options say, as the core reads a typed command: the words after
    the command, and the accounts picked for its member options (each shown as @username)."""

    text: str
    mentions: tuple[Mention, ...] = ()
    # Users picked who are not in this server (Discord's user option takes anyone): they stay
    # <@id>, which the core refuses as it refuses an unknown member, as the award form does.
    strangers: frozenset[int] = frozenset()


def slash_line(
    interaction: discord.Interaction[Any],
    declared: Sequence[Param] = (),
    names: Mapping[str, Param] | None = None,
) -> SlashLine:
    """The command line a slash command's options stand for: its declared parameters in order
    (`names` maps each option name to its parameter), a member as @username with the account
    Discord resolved for it, a number as its digits, text as given. A command that sends none
    of them (one synced by an older version, with its single text option) gives that text."""
    data: Mapping[str, Any] = interaction.data or {}
    options: Sequence[Mapping[str, Any]] = data.get("options") or ()
    given: dict[str, Any] = {}
    for option in options:
        param = (names or {}).get(str(option.get("name", "")))
        if param is not None and option.get("value") is not None:
            given[param.name] = option["value"]
    if not given:
        return SlashLine(slash_text(interaction))
    resolved: Mapping[str, Any] = data.get("resolved") or {}
    members: Mapping[str, Any] = resolved.get("members") or {}
    in_server = interaction.guild_id is not None
    words: list[str] = []
    mentions: list[Mention] = []
    strangers: set[int] = set()
    for param in declared:
        if param.name not in given or param.kind is ParamKind.FILE:
            continue  # a file is no word of the line: the adapter fetches it (Event.media)
        value = str(given[param.name]).strip()
        account = resolved_account(resolved, value) if param.kind is ParamKind.MEMBER else None
        if (
            account is not None
            and in_server
            and value not in members
            and value.isascii()
            and value.isdecimal()
        ):
            strangers.add(int(value))  # not (or no longer) in this server
            words.append(f"<@{value}>")
        elif account is not None and account.username:
            shown = f"@{account.username}"
            words.append(shown)
            mentions.append(Mention(shown, account))
        elif param.kind is ParamKind.MEMBER:
            # Not resolved (Discord always resolves a user option): the adapter looks it up.
            words.append(f"<@{value}>" if value.isdecimal() else value)
        elif value:
            words.append(value)
    return SlashLine(" ".join(words), tuple(mentions), frozenset(strangers))


def resolved_account(resolved: Mapping[str, Any], user_id: str) -> AccountRef | None:
    """The account Discord resolved for a user option: its username, and the name the server
    shows (nickname, display name, username)."""
    users: Mapping[str, Mapping[str, Any]] = resolved.get("users") or {}
    user = users.get(user_id)
    if not user or not user.get("username"):
        return None
    members: Mapping[str, Mapping[str, Any]] = resolved.get("members") or {}
    return payload_account({**members.get(user_id, {}), "user": user})


def focused_option(interaction: discord.Interaction[Any]) -> tuple[str, str] | None:
    """The option an autocomplete interaction asks choices for, and what is typed in it."""
    data: Mapping[str, Any] = interaction.data or {}
    options: Sequence[Mapping[str, Any]] = data.get("options") or ()
    found = next((o for o in options if o.get("focused")), None)
    if found is None:
        return None
    return str(found.get("name", "")), str(found.get("value", "")).strip()


def resolved_handles(interaction: discord.Interaction[Any]) -> dict[int, str]:
    """Usernames Discord resolved with an interaction (for user options; mentions typed into a
    text option usually come without them, and the adapter looks those up)."""
    data: Mapping[str, Any] = interaction.data or {}
    resolved: Mapping[str, Any] = data.get("resolved") or {}
    users: Mapping[str, Mapping[str, Any]] = resolved.get("users") or {}
    return {
        int(user_id): str(user["username"])
        for user_id, user in users.items()
        if user_id.isdecimal() and user.get("username")
    }


def slash_event(
    interaction: discord.Interaction[Any],
    *,
    name: str,
    text: str,
    chat: ChatRef,
    mentions: tuple[Mention, ...] = (),
) -> Event:
    """The event a slash command is: `/name text`, answered to the user alone when asked; the
    members picked in its options go along as mentions, so exactly those accounts are meant."""
    line = f"/{name} {text}".strip()
    return Event(
        event_id(interaction.id),
        chat,
        interaction_actor(interaction),
        interaction.created_at,
        EventKind.COMMAND,
        line,
        # Always a command, even a name the core no longer knows: it answers that politely.
        command=name,
        args=tuple(text.split()),
        arg_text=text,
        # Interactions can be answered ephemerally, so secrets may be shown.
        private_reply=True,
        addressed=True,  # a slash command picked from this bot's own menu
        mentions=mentions,
        **_answered_inline(interaction),
    )


def menu_target(interaction: discord.Interaction[Any]) -> tuple[int, str] | None:
    """Whom a user context menu was used on: their id and the name the server shows (from what
    Discord resolved with the interaction); None for any other command."""
    data: Mapping[str, Any] = interaction.data or {}
    target = str(data.get("target_id") or "")
    if data.get("type") != discord.AppCommandType.user.value or not target.isdecimal():
        return None
    account = resolved_account(data.get("resolved") or {}, target)
    return int(target), account.display_name if account is not None else target


def form_values(interaction: discord.Interaction[Any]) -> dict[str, str]:
    """What was typed into a submitted form, by each field's custom_id (fields in labels, or in
    the action rows older forms used)."""
    data: Mapping[str, Any] = interaction.data or {}
    found: dict[str, str] = {}

    def walk(components: Sequence[Mapping[str, Any]]) -> None:
        for component in components:
            custom_id, value = component.get("custom_id"), component.get("value")
            if isinstance(custom_id, str) and isinstance(value, str):
                found.setdefault(custom_id, value)
            walk(component.get("components") or ())
            inner = component.get("component")
            walk([inner] if isinstance(inner, Mapping) else ())

    walk(data.get("components") or ())
    return found


def form_target(interaction: discord.Interaction[Any], prefix: str) -> int | None:
    """The member id a submitted form's custom_id carries after `prefix`; None for another
    form."""
    data: Mapping[str, Any] = interaction.data or {}
    custom_id = str(data.get("custom_id") or "")
    target = custom_id.removeprefix(prefix)
    return int(target) if custom_id.startswith(prefix) and target.isdecimal() else None


def button_event(interaction: discord.Interaction[Any], *, chat: ChatRef) -> Event:
    """The event a pressed button is: its custom_id is the command line it sends."""
    custom_id = interaction.data.get("custom_id", "") if interaction.data else ""
    event = event_from_button(
        event_id=event_id(interaction.id),
        chat=chat,
        actor=interaction_actor(interaction),
        data=str(custom_id),
        occurred_at=interaction.created_at,
    )
    return replace(event, **_answered_inline(interaction))


def _answered_inline(interaction: discord.Interaction[Any]) -> dict[str, Any]:
    """An interaction is answered through itself, at once; should that fail, the outbox posts
    the answer in its channel (quoting nothing: an interaction is no message)."""
    return {"answered_inline": True, "channel_id": str(interaction.channel_id or "")}
