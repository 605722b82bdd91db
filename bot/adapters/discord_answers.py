"""Answering on Discord: interactions within Discord's 3 seconds (deferred, then followed up,
when the core is slow; a private answer never takes a public placeholder's place), and posts in
channels, split to fit, buttons under the last part, pinging nobody."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Iterator
from datetime import UTC, datetime
from typing import Any

import discord

from bot.adapters.discord_polls import NativePolls
from bot.adapters.splitting import shorten, split_discord_markdown
from bot.rendering import Renderer
from handlers.router import Dispatcher
from handlers.types import Event, Reply, Visibility

log = logging.getLogger(__name__)

DEFER_AFTER = 2.0  # seconds the core may take before an interaction is deferred (Discord: 3 s)
NO_MENTIONS = discord.AllowedMentions.none()
PLACEHOLDER_DONE = "🔒"  # what a "thinking…" message says when the answer went privately
CUSTOM_ID_LIMIT = 100
LABEL_LIMIT = 80
BUTTONS_LIMIT = 25  # five rows of five
# Interactions answered as a command is: a slash command, and a submitted form (which is one).
COMMANDS = (discord.InteractionType.application_command, discord.InteractionType.modal_submit)


class Answers:
    """Answers events through one client: the core's reply, rendered for Discord."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        polls: NativePolls,
        *,
        markdown: Renderer,
        plain: Renderer,
        defer_after: float = DEFER_AFTER,
    ) -> None:
        self._dispatcher = dispatcher
        self._polls = polls
        self._markdown = markdown
        self._plain = plain
        self._defer_after = defer_after
        self._refused: set[int] = set()

    async def interaction(self, interaction: discord.Interaction[Any], event: Event) -> None:
        """Run the core and answer within Discord's 3 s: at once when it is quick, else defer
        and send the answer as follow-ups."""
        handling = asyncio.ensure_future(self._dispatcher.handle(event))
        # Discord's 3 s run from the interaction's creation by the real clock (not the injected
        # one): time spent reaching us counts; a clock running ahead only makes us defer sooner.
        age = (datetime.now(UTC) - interaction.created_at).total_seconds()
        await asyncio.wait({handling}, timeout=max(0.0, self._defer_after - max(age, 0.0)))
        deferred = not handling.done() and await self._defer(interaction, event)
        reply = (await handling).reply
        # A deferred slash command (or form) shows "thinking…" in the channel; the first
        # follow-up takes that message's place, and its visibility.
        placeholder = deferred and interaction.type in COMMANDS
        if reply is None:
            # A redelivered interaction: its first delivery has been answered.
            if placeholder:
                await self._clear_placeholder(interaction, event)
            return
        private = reply.visibility is Visibility.PRIVATE
        poll = None if private else reply.poll
        if poll is not None and await self._polls.answer(interaction, poll, deferred=deferred):
            if placeholder:
                # The poll went to the channel, not in the placeholder's place (Discord would
                # drop it from that follow-up): remove the "thinking…" message.
                await self._clear_placeholder(interaction, event)
            return
        if placeholder and private and not await self._clear_placeholder(interaction, event):
            return  # the answer would take the public placeholder's place: never a secret
        with self._parts(reply) as parts:
            for index, (chunk, extra) in enumerate(parts):
                if index == 0 and not deferred:
                    call = interaction.response.send_message(
                        chunk, ephemeral=private, allowed_mentions=NO_MENTIONS, **extra
                    )
                else:
                    call = interaction.followup.send(
                        chunk, ephemeral=private, allowed_mentions=NO_MENTIONS, **extra
                    )
                if not await self._interaction_call(event, call):
                    break
        if reply.ends_poll:
            await self._polls.end(reply.ends_poll)

    async def _defer(self, interaction: discord.Interaction[Any], event: Event) -> bool:
        if interaction.type in COMMANDS:
            # Public: most answers are (a private one removes the placeholder first).
            call = interaction.response.defer(thinking=True)
        else:
            call = interaction.response.defer()  # a button: no placeholder message at all
        return await self._interaction_call(event, call)

    async def _clear_placeholder(self, interaction: discord.Interaction[Any], event: Event) -> bool:
        """Remove the public "thinking…" message (or, failing that, end it with a lock), so the
        follow-ups are new messages with their own visibility."""
        if await self._interaction_call(event, interaction.delete_original_response()):
            return True
        return await self._interaction_call(
            event, interaction.edit_original_response(content=PLACEHOLDER_DONE)
        )

    async def _interaction_call(self, event: Event, call: Coroutine[Any, Any, Any]) -> bool:
        try:
            await call
        except discord.HTTPException as error:
            # 10062 Unknown interaction: answered too late (or twice); nothing else to do.
            log.warning(
                "discord interaction answer refused",
                extra={"event_id": event.event_id, "status": error.status, "code": error.code},
            )
            return False
        return True

    async def post(
        self,
        channel: discord.abc.Messageable,
        reply: Reply,
        *,
        reference: discord.MessageReference | None = None,
    ) -> None:
        if reply.poll is not None and await self._polls.post(
            channel, reply.poll, reference=reference
        ):
            return
        try:
            with self._parts(reply) as parts:
                for index, (chunk, extra) in enumerate(parts):
                    if reference is not None and index == 0:
                        extra["reference"] = reference
                    await channel.send(chunk, allowed_mentions=NO_MENTIONS, **extra)
        except (discord.Forbidden, discord.NotFound) as error:
            self._refused_in(_channel_id(channel), error)
        except discord.HTTPException as error:
            log.error(
                "discord send failed",
                extra={"channel_id": _channel_id(channel), "status": error.status},
            )
        if reply.ends_poll:
            await self._polls.end(reply.ends_poll)

    def _refused_in(self, channel_id: int, error: discord.HTTPException) -> None:
        """A channel the bot may not write to (403) or that is gone (404): said once."""
        if channel_id in self._refused:
            log.debug("discord send refused again", extra={"channel_id": channel_id})
            return
        self._refused.add(channel_id)
        log.warning(
            "discord refused a message to this channel; check the bot's permissions there",
            extra={"channel_id": channel_id, "status": error.status, "code": error.code},
        )

    @contextlib.contextmanager
    def _parts(self, reply: Reply) -> Iterator[list[tuple[str, dict[str, Any]]]]:
        """The reply in messages that fit, each with the send options it needs (the buttons go
        under the last one). The view is stopped afterwards: buttons are answered from raw
        interactions, not from discord.py's view store."""
        chunks = split_discord_markdown(self._markdown.render(reply)) or ["…"]
        view = reply_view(reply, self._plain)
        last = len(chunks) - 1
        try:
            yield [
                (chunk, {"view": view} if view is not None and index == last else {})
                for index, chunk in enumerate(chunks)
            ]
        finally:
            if view is not None:
                view.stop()


def reply_view(reply: Reply, labels: Renderer) -> discord.ui.View | None:
    """A reply's choices as buttons (labels rendered plain); each custom_id is the command line
    the button sends. Choices Discord cannot carry (too long, repeated, past 25) are left out."""
    if not reply.choices:
        return None
    view = discord.ui.View(timeout=None)
    seen: set[str] = set()
    for choice in reply.choices:
        custom_id = choice.command
        if len(custom_id) > CUSTOM_ID_LIMIT or custom_id in seen or len(seen) == BUTTONS_LIMIT:
            continue
        seen.add(custom_id)
        words = labels.render(Reply(choice.label, choice.context, reply.locale))
        label = shorten(" ".join(words.split()), LABEL_LIMIT) or custom_id[:LABEL_LIMIT]
        style = discord.ButtonStyle.secondary
        view.add_item(discord.ui.Button(label=label, custom_id=custom_id, style=style))
    return view if seen else None


def _channel_id(channel: discord.abc.Messageable) -> int:
    return int(getattr(channel, "id", 0))
