"""Answering interactions on Discord, inline: within Discord's 3 seconds (deferred, then followed
up, when the core is slow; a private answer never takes a public placeholder's place). The
answer is in the outbox too, held back a while: once it is shown it is marked delivered there;
when Discord refuses it (too late: 10062) the sender posts it instead, unquoted in the channel
(a private one as a DM)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any

import discord

from bot.adapters.discord_messenger import NO_MENTIONS, DiscordMessenger
from handlers.ports import Deliveries
from handlers.router import Dispatcher
from handlers.types import Event, Reply, Visibility

log = logging.getLogger(__name__)

DEFER_AFTER = 2.0  # seconds the core may take before an interaction is deferred (Discord: 3 s)
PLACEHOLDER_DONE = "🔒"  # what a "thinking…" message says when the answer went privately
# Interactions answered as a command is: a slash command, and a submitted form (which is one).
COMMANDS = (discord.InteractionType.application_command, discord.InteractionType.modal_submit)


class Answers:
    """Answers interactions through one client: the core's reply, rendered for Discord."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        deliveries: Deliveries,
        messenger: DiscordMessenger,
        *,
        defer_after: float = DEFER_AFTER,
    ) -> None:
        self._dispatcher = dispatcher
        self._deliveries = deliveries
        self._messenger = messenger
        self._polls = messenger.polls
        self._defer_after = defer_after

    async def interaction(self, interaction: discord.Interaction[Any], event: Event) -> None:
        """Run the core and answer within Discord's 3 s: at once when it is quick, else defer
        and send the answer as follow-ups. The outbox hears whether it was shown."""
        handling = asyncio.ensure_future(self._dispatcher.handle(event))
        # Discord's 3 s run from the interaction's creation by the real clock (not the injected
        # one): time spent reaching us counts; a clock running ahead only makes us defer sooner.
        age = (datetime.now(UTC) - interaction.created_at).total_seconds()
        await asyncio.wait({handling}, timeout=max(0.0, self._defer_after - max(age, 0.0)))
        deferred = not handling.done() and await self._defer(interaction, event)
        outcome = await handling
        shown = False
        try:
            shown = await self._answer(interaction, event, outcome.reply, deferred=deferred)
        finally:
            if shown:
                await self._deliveries.answered(outcome.queued)
            else:
                await self._deliveries.unhold(outcome.queued)

    async def _answer(
        self,
        interaction: discord.Interaction[Any],
        event: Event,
        reply: Reply | None,
        *,
        deferred: bool,
    ) -> bool:
        """Show the reply through the interaction; whether it was shown (at least its first
        part: the rest of a long one lost is not worth posting the whole again)."""
        # A deferred slash command (or form) shows "thinking…" in the channel; the first
        # follow-up takes that message's place, and its visibility.
        placeholder = deferred and interaction.type in COMMANDS
        if reply is None:
            # A redelivered interaction: its first delivery has been answered.
            if placeholder:
                await self._clear_placeholder(interaction, event)
            return True
        if reply.invite is not None:
            try:
                reply = await self._messenger.with_invite(reply)
            except (discord.HTTPException, OSError) as error:
                # Not made now (Discord failing): the sender makes it, and answers, later.
                log.warning(
                    "discord invite not made inline",
                    extra={"event_id": event.event_id, "error": repr(error)},
                )
                return False
        if reply.media:
            try:
                reply = await self._messenger.with_media(reply)
            except Exception as error:
                # Not read now (the store failing): the sender sends it whole, later.
                log.warning(
                    "discord files not read for an inline answer",
                    extra={"event_id": event.event_id, "error": repr(error)},
                )
                return False
            if not all(item.content for item in reply.media):
                return False  # no door to the files here: the sender reads and posts them
        private = reply.visibility is Visibility.PRIVATE
        poll = None if private else reply.poll
        if poll is not None and await self._polls.answer(interaction, poll, deferred=deferred):
            if placeholder:
                # The poll went to the channel, not in the placeholder's place (Discord would
                # drop it from that follow-up): remove the "thinking…" message.
                await self._clear_placeholder(interaction, event)
            return True
        if placeholder and private and not await self._clear_placeholder(interaction, event):
            return False  # the answer would take the public placeholder's place: never a secret
        shown = False
        with self._messenger.parts(reply) as parts:
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
                shown = True
        if shown and reply.ends_poll:
            await self._polls.end_quietly(reply.ends_poll)
        return shown

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
            # 10062 Unknown interaction: answered too late (or twice). An answer not shown at
            # all is left to the sender.
            log.warning(
                "discord interaction answer refused",
                extra={"event_id": event.event_id, "status": error.status, "code": error.code},
            )
            return False
        return True
