"""The Discord adapter: discord.py 2.7 on the shared event loop.

Slash commands carry the core's command names, each with one optional `text` option for its
arguments; plain channel messages (签到, "/checkin" typed as text) go through the same parsing as
every platform. Buttons are answered from the raw interaction by their custom_id (a command line),
never from discord.py's view store, so they keep working after a restart.

Polls are posted as Discord's native polls; their votes arrive as bare gateway events with
nothing to answer, so the voter's "+N points" goes unsaid (as on Telegram). A poll Discord cannot
show natively (an option over 55 characters), or refuses, goes out as text with one button per
option, and those buttons keep working, old ones included.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import discord
from discord import app_commands

from bot.adapters.discord_events import (
    PLATFORM,
    CommandDescriptions,
    button_event,
    discord_markdown,
    event_id,
    interaction_chat,
    joined_event,
    message_event,
    reply_view,
    slash_command,
    slash_event,
    slash_name,
    slash_text,
    vote_event,
)
from bot.adapters.discord_people import People
from bot.adapters.discord_polls import NativePolls
from bot.adapters.splitting import split_discord_markdown
from bot.rendering import Renderer, plain_text
from handlers.router import Dispatcher
from handlers.types import Event, Reply, Visibility

log = logging.getLogger(__name__)

# The gateway intents the bot asks for; message_content (and members, when enabled) are
# privileged and must be switched on for the application in the Developer Portal. polls (votes in
# native polls, in servers and DMs) is not privileged.
INTENTS = ("guilds", "guild_messages", "dm_messages", "message_content", "polls")
MEMBERS_INTENT = "members"
DEFER_AFTER = 2.0  # seconds the core may take before an interaction is deferred (Discord: 3 s)
GUILD_READY_TIMEOUT = 2.0  # discord.py's wait for more GUILD_CREATEs before on_ready
STOP_GRACE = 10.0  # seconds stop() lets running handlers finish
NO_MENTIONS = discord.AllowedMentions.none()
PLACEHOLDER_DONE = "🔒"  # what a "thinking…" message says when the answer went privately


@dataclass(frozen=True, slots=True)
class DiscordOptions:
    """How to reach Discord."""

    token: str
    sharded: bool = False


class _SyncOnlyTree(app_commands.CommandTree[discord.Client]):
    """The slash commands, for syncing only: the adapter answers every interaction itself in
    on_interaction, so a command Discord still shows but the core dropped gets a polite answer
    instead of discord.py's CommandNotFound and a spinner."""

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        return False


class DiscordAdapter:
    """Serves every server and DM the bot is in through the dispatcher."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        options: DiscordOptions,
        *,
        default_locale: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        members_intent: bool = False,
        guild_ready_timeout: float = GUILD_READY_TIMEOUT,
        defer_after: float = DEFER_AFTER,
    ) -> None:
        self._dispatcher = dispatcher
        self._options = options
        self._default_locale = default_locale
        self._clock = clock
        self._defer_after = defer_after
        self._markdown = Renderer(discord_markdown)
        self._plain = Renderer(plain_text)
        intents = discord.Intents.none()
        for name in (*INTENTS, *((MEMBERS_INTENT,) if members_intent else ())):
            setattr(intents, name, True)
        # The bot never joins voice: discord.py's warnings about missing voice libraries would
        # only puzzle operators.
        discord.VoiceClient.warn_nacl = discord.VoiceClient.warn_dave = False
        client_class = discord.AutoShardedClient if options.sharded else discord.Client
        self.client: discord.Client = client_class(
            intents=intents,
            allowed_mentions=NO_MENTIONS,  # user text must never ping anyone
            guild_ready_timeout=guild_ready_timeout,
        )
        self.tree = _SyncOnlyTree(self.client)
        for name, _ in dispatcher.command_menu():
            self.tree.add_command(slash_command(name, self._plain, default_locale))
        handlers: dict[str, Callable[..., Coroutine[Any, Any, None]]] = {
            "on_ready": self._on_ready,
            "on_message": self._on_message,
            "on_interaction": self._on_interaction,
            "on_member_join": self._on_member_join,
            "on_raw_poll_vote_add": self._on_vote_add,
            "on_raw_poll_vote_remove": self._on_vote_remove,
        }
        for event, handler in handlers.items():
            setattr(self.client, event, handler)  # what client.event does, by name
        self._ready = False  # on_ready fired (again after each full reconnect)
        self._settled = asyncio.Event()  # start() may go on: ready, or the connection ended
        self._connection: asyncio.Task[None] | None = None
        self._stopping = False
        self._busy: set[asyncio.Task[Any]] = set()
        self._refused: set[int] = set()
        self._people = People(self.client)
        self._polls = NativePolls(self.client, dispatcher)

    async def start(self) -> None:
        """Log in, connect, wait for READY and the servers, then sync the slash commands.

        Raises discord.LoginFailure for a bad token, and whatever ends the connection before
        it is ready (e.g. discord.PrivilegedIntentsRequired).
        """
        client = self.client
        try:
            await client.login(self._options.token)
            await self.tree.set_translator(CommandDescriptions(self._plain, self._default_locale))
            self._connection = asyncio.create_task(client.connect(), name="discord-connect")
            self._connection.add_done_callback(self._connection_ended)
            await self._settled.wait()  # on_ready, or the end of the connection
            if not self._ready:
                error = self._connection.exception()
                raise error or ConnectionError("the Discord gateway closed before READY")
        except BaseException:
            await self._close()
            raise
        await self._sync_commands()
        user = client.user
        log.info(
            "discord ready",
            extra={"bot": user.name if user else None, "guilds": len(client.guilds)},
        )

    async def stop(self) -> None:
        """Let running handlers finish (briefly), then close the gateway and HTTP sessions."""
        self._stopping = True
        deadline = asyncio.get_running_loop().time() + STOP_GRACE
        while self._busy:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                log.warning(
                    "discord handlers still running at stop", extra={"count": len(self._busy)}
                )
                break
            await asyncio.wait(set(self._busy), timeout=left)
        await self._close()

    async def send(self, channel_id: int, reply: Reply) -> None:
        """Post a reply in a channel (text split to fit, buttons under the last part)."""
        await self._post(self.client.get_partial_messageable(channel_id), reply)

    # Start and stop --------------------------------------------------------------------------

    async def _close(self) -> None:
        await self.client.close()
        if self._connection is not None:
            # connect() returns once the socket is closed; its errors were dealt with already.
            await asyncio.gather(self._connection, return_exceptions=True)

    def _connection_ended(self, task: asyncio.Task[None]) -> None:
        self._settled.set()
        if self._stopping or not self._ready or task.cancelled():
            return  # before READY, start() raises what ended it
        error = task.exception()
        log.error(
            "discord connection ended; the bot no longer receives Discord events",
            extra={"error": repr(error) if error else "closed"},
        )

    async def _sync_commands(self) -> None:
        try:
            synced = await self.tree.sync()
        except Exception as error:
            # Slash commands stay as last synced; plain messages work regardless.
            log.warning("discord command sync failed", extra={"error": repr(error)})
            return
        log.info("discord commands synced", extra={"count": len(synced)})

    # Receiving -------------------------------------------------------------------------------

    async def _on_ready(self) -> None:
        self._ready = True
        self._settled.set()

    async def _on_message(self, message: discord.Message) -> None:
        await self._guarded(event_id(message.id), self._message(message))

    async def _on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        await self._guarded(event_id(interaction.id), self._interaction(interaction))

    async def _on_member_join(self, member: discord.Member) -> None:
        await self._guarded(f"{PLATFORM}:joined:{member.id}", self._joined(member))

    async def _on_vote_add(self, raw: discord.RawPollVoteActionEvent) -> None:
        await self._guarded(f"{PLATFORM}:vote:{raw.message_id}", self._vote(raw, added=True))

    async def _on_vote_remove(self, raw: discord.RawPollVoteActionEvent) -> None:
        await self._guarded(f"{PLATFORM}:vote:{raw.message_id}", self._vote(raw, added=False))

    async def _guarded(self, key: str, work: Coroutine[Any, Any, None]) -> None:
        """Run one event's handling; a failure is logged with the event id, never raised."""
        task = asyncio.current_task()
        if task is not None:
            self._busy.add(task)
        try:
            await work
        except Exception:
            log.exception("discord event failed", extra={"event_id": key})
        finally:
            if task is not None:
                self._busy.discard(task)

    async def _message(self, message: discord.Message) -> None:
        if message.author.bot:
            return  # its own echoes, and other bots
        self._people.saw(message.author, *message.mentions)
        handles = {user.id: user.name for user in message.mentions}
        user = self.client.user
        event = message_event(
            message, handles=handles, bot_username=user.name if user is not None else None
        )
        if event is None:
            return
        outcome = await self._dispatcher.handle(event)
        if outcome.reply is not None:
            reference = message.to_reference(fail_if_not_exists=False)
            await self._post(message.channel, outcome.reply, reference=reference)

    async def _joined(self, member: discord.Member) -> None:
        event = joined_event(member, now=self._clock())
        if event is None:
            return
        outcome = await self._dispatcher.handle(event)
        channel = member.guild.system_channel
        if outcome.reply is not None and channel is not None:
            await self._post(channel, outcome.reply)

    async def _vote(self, raw: discord.RawPollVoteActionEvent, *, added: bool) -> None:
        """A vote in a native poll (ours, or anybody's: the core ignores polls it never posted).
        Its answer has nobody to go to, and is dropped."""
        user = self.client.user
        if user is not None and raw.user_id == user.id:
            return
        stamp = time.time_ns()  # unique to this event, across restarts too
        async with self._people.in_order(raw.user_id):
            actor = await self._people.voter(raw.guild_id, raw.user_id)
            guild = self.client.get_guild(raw.guild_id) if raw.guild_id is not None else None
            event = vote_event(
                raw,
                actor=actor,
                guild_name=guild.name if guild is not None else None,
                added=added,
                at=self._clock(),
                stamp=stamp,
            )
            await self._dispatcher.handle(event)

    async def _interaction(self, interaction: discord.Interaction[Any]) -> None:
        self._people.saw(interaction.user)
        chat = interaction_chat(interaction)
        if interaction.type is discord.InteractionType.application_command:
            text = await self._people.with_handles(interaction, slash_text(interaction))
            event = slash_event(interaction, name=slash_name(interaction), text=text, chat=chat)
        elif interaction.type is discord.InteractionType.component:
            event = button_event(interaction, chat=chat)
        else:
            return  # autocomplete, modals: the bot offers none
        await self._answer(interaction, event)

    # Answering -------------------------------------------------------------------------------

    async def _answer(self, interaction: discord.Interaction[Any], event: Event) -> None:
        """Run the core and answer within Discord's 3 s: at once when it is quick, else defer
        and send the answer as follow-ups."""
        handling = asyncio.ensure_future(self._dispatcher.handle(event))
        # Discord's 3 s run from the interaction's creation by the real clock (not the injected
        # one): time spent reaching us counts; a clock running ahead only makes us defer sooner.
        age = (datetime.now(UTC) - interaction.created_at).total_seconds()
        await asyncio.wait({handling}, timeout=max(0.0, self._defer_after - max(age, 0.0)))
        deferred = not handling.done() and await self._defer(interaction, event)
        reply = (await handling).reply
        # A deferred slash command shows "thinking…" in the channel; the first follow-up takes
        # that message's place, and its visibility.
        placeholder = deferred and interaction.type is discord.InteractionType.application_command
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
        if interaction.type is discord.InteractionType.application_command:
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

    async def _post(
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


def _channel_id(channel: discord.abc.Messageable) -> int:
    return int(getattr(channel, "id", 0))
