"""The Discord adapter: discord.py 2.7 on the shared event loop.

Slash commands carry the core's command names, each with typed options made from the command's
declared parameters (a user picker for a member, a number field within the community's limits,
choices, autocomplete for open polls), read back into the command line the core parses; the
single `text` option older versions synced is still read. Plain channel messages (签到,
"/checkin" typed as text) go through the same parsing as every platform. An edited message goes
to the core as an edit, which runs nothing but reads what the message now shows (a /link code
edited in is spent). Buttons are answered from the raw
interaction by their custom_id (a command line), never from discord.py's view store, so they keep
working after a restart.

Right-click a member → Apps → "Award points" opens a form (amount, reason); what is submitted
is /award for exactly that member (looked up again: one who left is refused like a typed
/award naming nobody), answered as the slash command is.

Polls are posted as Discord's native polls; their votes arrive as bare gateway events with
nothing to answer, so the voter's "+N points" goes unsaid (as on Telegram). A poll Discord cannot
show natively (an option over 55 characters), or refuses, goes out as text with one button per
option, and those buttons keep working, old ones included.

Every answer is in the outbox, written with the event's handling. A message's answer is sent
by the sender through the adapter's `messenger` (discord_messenger.py), quoting the message;
an interaction is answered through itself at once (discord_answers.py) and marked delivered,
and only when Discord refuses that does the sender post the answer instead.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import discord
from discord import app_commands

from bot.adapters.attached_files import ATTACHED_FILE_MAX_BYTES
from bot.adapters.discord_answers import DEFER_AFTER, Answers
from bot.adapters.discord_events import (
    PLATFORM,
    edited_event,
    event_id,
    joined_event,
    message_event,
    vote_event,
)
from bot.adapters.discord_files import with_attachment, with_slash_files
from bot.adapters.discord_inputs import Inputs
from bot.adapters.discord_interactions import (
    button_event,
    interaction_chat,
    menu_target,
    slash_event,
    slash_line,
    slash_name,
)
from bot.adapters.discord_invites import InviteUses
from bot.adapters.discord_menu import (
    AWARD_COMMAND,
    CommandDescriptions,
    award_menu,
    option_names,
    slash_command,
)
from bot.adapters.discord_messenger import (
    DISCORD_LIMITS,
    NO_MENTIONS,
    WAIT_CEILING,
    DiscordMessenger,
)
from bot.adapters.discord_people import People
from bot.adapters.failure import Failure, TokenRefused
from bot.delivery.media_files import MediaFiles
from bot.delivery.messenger import Limits
from bot.rendering import Renderer, plain_text
from community.config import Rules
from handlers.invite import Invitations
from handlers.ports import Deliveries, Polls
from handlers.router import Dispatcher
from handlers.routes import Param

log = logging.getLogger(__name__)

# The gateway intents the bot asks for; message_content (and members, when enabled) are
# privileged and must be switched on for the application in the Developer Portal. polls (votes in
# native polls, in servers and DMs) is not privileged.
INTENTS = ("guilds", "guild_messages", "dm_messages", "message_content", "polls")
MEMBERS_INTENT = "members"
GUILD_READY_TIMEOUT = 2.0  # discord.py's wait for more GUILD_CREATEs before on_ready
STOP_GRACE = 10.0  # seconds stop() lets running handlers finish
AUTHENTICATION_FAILED = 4004  # the gateway's close code for a token it does not accept


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
        polls: Polls,
        deliveries: Deliveries,
        default_locale: str,
        rules: Rules | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        limits: Limits = DISCORD_LIMITS,
        members_intent: bool = False,
        guild_ready_timeout: float = GUILD_READY_TIMEOUT,
        defer_after: float = DEFER_AFTER,
        invitations: Invitations | None = None,
        file_limit: int = ATTACHED_FILE_MAX_BYTES,
        media_files: MediaFiles | None = None,
    ) -> None:
        self._dispatcher = dispatcher
        self._file_limit = file_limit
        self._invite_uses = InviteUses()
        self._options = options
        self._default_locale = default_locale
        self._clock = clock
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
            # A longer wait is the sender's to decide (RetryLater), not discord.py's to sleep.
            max_ratelimit_timeout=WAIT_CEILING,
        )
        self._messenger = DiscordMessenger(
            self.client, polls, limits=limits, invitations=invitations, media_files=media_files
        )
        self.tree = _SyncOnlyTree(self.client)
        # The default community's limits (e.g. /award's max_award) bound the number fields.
        bounds = rules if rules is not None else Rules()
        # Per command: its declared parameters, and which parameter each option name stands for.
        self._params: dict[str, tuple[tuple[Param, ...], dict[str, Param]]] = {}
        for route in dispatcher.visible_commands(is_admin=True):
            self.tree.add_command(slash_command(route, self._plain, default_locale, bounds))
            names = option_names(route, self._plain, default_locale)
            self._params[route.command] = (route.params, names)
        if AWARD_COMMAND in self._params:
            self.tree.add_command(award_menu(self._plain, default_locale))
        handlers: dict[str, Callable[..., Coroutine[Any, Any, None]]] = {
            "on_ready": self._on_ready,
            "on_message": self._on_message,
            # Raw: edits of messages sent before a restart (or out of the cache) count too.
            "on_raw_message_edit": self._on_message_edit,
            "on_interaction": self._on_interaction,
            "on_member_join": self._on_member_join,
            "on_guild_join": self._invite_uses.learn,
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
        self._failure = Failure()
        self._people = People(self.client)
        self._inputs = Inputs(
            polls,
            self._people,
            self._plain,
            default_locale=default_locale,
            params=self._params,
        )
        self._answers = Answers(dispatcher, deliveries, self._messenger, defer_after=defer_after)

    @property
    def messenger(self) -> DiscordMessenger:
        """Sends the outbox's Discord messages through this adapter's client (its sender's)."""
        return self._messenger

    async def start(self) -> None:
        """Log in, connect, wait for READY and the servers, then sync the slash commands.

        Raises TokenRefused for a token Discord does not accept, and whatever else ends the
        connection before it is ready (e.g. discord.PrivilegedIntentsRequired).
        """
        client = self.client
        try:
            await client.login(self._options.token)
            await self.tree.set_translator(CommandDescriptions(self._plain, self._default_locale))
            self._connection = asyncio.create_task(client.connect(), name="discord-connect")
            self._connection.add_done_callback(self._connection_ended)
            await self._settled.wait()  # on_ready, or the end of the connection
            if not self._ready:
                raise gave_up(self._connection.exception())
        except discord.LoginFailure as error:
            await self._close()
            raise gave_up(error) from None
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

    async def failed(self) -> BaseException:
        """Wait until the gateway connection ends for good (a revoked token closes it with
        4004; discord.py itself reconnects after anything it can recover from); return why."""
        return await self._failure.wait()

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
        self._failure.set(gave_up(error))

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
        # Each server's invites as they are now: a join is told by which one's uses went up.
        for guild in self.client.guilds:
            await self._invite_uses.learn(guild)

    async def _on_message(self, message: discord.Message) -> None:
        await self._guarded(event_id(message.id), self._message(message))

    async def _on_message_edit(self, raw: discord.RawMessageUpdateEvent) -> None:
        await self._guarded(f"{PLATFORM}:edit:{raw.message_id}", self._edited(raw))

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
            message,
            handles=handles,
            bot_username=user.name if user is not None else None,
            bot_id=user.id if user is not None else None,
        )
        if event is not None:
            bot_id = user.id if user is not None else None
            event = await with_attachment(
                event,
                message,
                self._file_limit,
                bot_id=bot_id,
                takes_files=self._dispatcher.takes_files(event),
            )
            await self._dispatcher.handle(event)  # the sender posts its answer

    async def _edited(self, raw: discord.RawMessageUpdateEvent) -> None:
        """An edited message: the core reads what it now shows (and runs nothing for it); its
        answer, if any, replies to the edited message."""
        message = raw.message
        if message.author.bot:
            return
        self._people.saw(message.author, *message.mentions)
        handles = {user.id: user.name for user in message.mentions}
        user = self.client.user
        event = edited_event(raw, handles=handles, bot_id=user.id if user is not None else None)
        if event is not None:
            await self._dispatcher.handle(event)  # the sender posts its answer

    async def _joined(self, member: discord.Member) -> None:
        event = joined_event(member, now=self._clock())
        if event is not None:
            invite = await self._invite_uses.used_by_join(member.guild)
            # The welcome goes through the outbox.
            await self._dispatcher.handle(replace(event, invite=invite))

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
            if menu_target(interaction) is not None:  # a user command (right-click a member)
                await self._inputs.open_award_form(interaction)
                return
            name = slash_name(interaction)
            declared, names = self._params.get(name, ((), {}))
            line = slash_line(interaction, declared, names)
            # Mentions typed into a text option arrive as <@id>: written as @username.
            text = await self._people.with_handles(interaction, line.text, line.strangers)
            event = slash_event(
                interaction, name=name, text=text, chat=chat, mentions=line.mentions
            )
            event = await with_slash_files(event, interaction, names, self._file_limit)
        elif interaction.type is discord.InteractionType.component:
            event = button_event(interaction, chat=chat)
        elif interaction.type is discord.InteractionType.autocomplete:
            await self._inputs.autocomplete(interaction)
            return
        elif interaction.type is discord.InteractionType.modal_submit:
            found = await self._inputs.award_event(interaction)
            if found is None:
                return  # no form of this version's
            event = found
        else:
            return
        await self._answers.interaction(interaction, event)


def gave_up(error: BaseException | None) -> BaseException:
    """Why the connection to Discord ended for good, in words for the operator: a refused token
    says what to fix; anything else (e.g. intents not enabled) is discord.py's own error."""
    refused = isinstance(error, discord.LoginFailure) or (
        isinstance(error, discord.ConnectionClosed) and error.code == AUTHENTICATION_FAILED
    )
    if refused:
        return TokenRefused(
            "Discord refused the bot token: it was reset or mistyped; put the current token "
            "from the Developer Portal (Bot, Reset Token) in DISCORD_TOKEN"
        )
    return error or ConnectionError("the Discord gateway closed and will not come back")
