"""Discord's Messenger: sends the outbox's messages through the adapter's discord.py client.

A message goes to a channel (its chat id), a user's DM ("dm:<user id>", or a DIRECT message's
user id), quoting the message it answers (never failing when that one is gone), split to fit,
the buttons under the last part, pinging nobody. A poll goes as Discord's own, else with
buttons; an edit edits, else posts anew; the end of a poll ends it.

Nonces: discord.py 2.7.1 takes `nonce` in Messageable.send and sends `enforce_nonce: true`
with every nonce (discord/http.py, handle_message_parameters; it makes up a random one when
none is given). Each part here carries "<message key>-<part>" (Outgoing.key: "o<outbox id>",
or a hash of the merged answers' ids), so a message sent again within
Discord's few minutes (after a crash between the send and its mark, a send cut off after
Discord took it, discord.py's own retry of a 500) gets the first message back, not a second.
Later than that, a resend posts again. Edits and the end of a poll need none: done twice, they
are done once.

Waiting: discord.py sits out a 429 by itself (sleeping its retry_after, five tries), waits
before a request whose bucket its headers say is spent (also after a send that spent it: the
fifth message to a channel in 5 s returns once the bucket resets), and retries a 500/502/504
four times, after 1, 3, 5 and 7 s. The adapter's client gives up a wait over 30 s
(max_ratelimit_timeout; discord.py takes no less) with RateLimited: RetryLater(after). A send
taking longer than `patience` in all is cut off: RetryLater, after the retry_after of the 429
it was sitting out when there was one (aiohttp's trace shows each 429; `throttled` counts
them). Every wait is a cancellable sleep, so a sender that stops cancels its sends at once. A
global 429 holds every request of the client until it passes (at most 30 s), and a send
sitting one out is not cut off: discord.py would never lift it (a stopping sender does cut it
off; the client closes next). The first message to a user opens their DM channel: two
requests against Discord's global limit, not one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, replace
from types import SimpleNamespace
from typing import Any

import aiohttp
import discord

from bot.adapters.discord_events import PLATFORM, discord_markdown
from bot.adapters.discord_files import reply_files
from bot.adapters.discord_invites import make_invite
from bot.adapters.discord_polls import NativePolls, poll_message_ref
from bot.adapters.splitting import shorten, split_discord_markdown
from bot.delivery.invites import InviteLinks
from bot.delivery.media_files import MediaFiles
from bot.delivery.messenger import Limits, Rate, Refused, RetryLater
from bot.rendering import Renderer, plain_text
from community.messages import InviteSpec
from community.outbox import Kind, Outgoing
from handlers.invite import Invitations
from handlers.ports import Polls
from handlers.types import Reply

log = logging.getLogger(__name__)

# Discord: 50 requests a second for the whole bot, about 5 messages per 5 s in one channel.
DISCORD_LIMITS = Limits(overall=Rate(50, 1), group=Rate(5, 5), private=Rate(5, 5))
PATIENCE = 10.0  # seconds a send may take, waits included, before the sender hears "later"
WAIT_CEILING = 30.0  # the longest 429 discord.py sits out (its smallest max_ratelimit_timeout)
GLOBAL_SLACK = 1.0  # seconds a send may take after a global 429's wait, before it is cut off
NO_MENTIONS = discord.AllowedMentions.none()
CUSTOM_ID_LIMIT = 100
LABEL_LIMIT = 80
BUTTONS_LIMIT = 25  # five rows of five
DMS_KEPT = 100_000  # DM channels remembered (a few MB)
TOO_MANY, UNAUTHORIZED = 429, 401
# An edit of a message that is gone, or is not the bot's: the words are posted anew.
UNKNOWN_MESSAGE, NOT_OURS = 10008, 50005

Parts = list[tuple[str, dict[str, Any]]]


def _dm_user(message: Outgoing) -> str | None:
    """The user whose DM the message goes to ("dm:<id>", or a direct message's user), if any."""
    chat = message.chat_id
    if chat.startswith("dm:"):
        return chat.removeprefix("dm:")
    return chat if message.kind is Kind.DIRECT else None


def nonce(key: str, part: int) -> str:
    """The nonce of one part of an outbox message, from its key ("o<id>", or "m<hash>" for a
    busy channel's merged answers: another merge is another message). Discord takes up to 25
    characters."""
    return f"{key}-{part}"


@dataclass(slots=True)
class _Waits:
    """The 429s Discord answered the send in progress, by the event loop's clock."""

    until: float = 0.0
    whole_platform: bool = False


# The send running in this task, for aiohttp's trace (which runs in the task that requests).
_WAITS: ContextVar[_Waits | None] = ContextVar("discord_send_waits", default=None)


class DiscordMessenger:
    """Sends outbox messages on Discord (bot.delivery.messenger.Messenger)."""

    platform = PLATFORM

    def __init__(
        self,
        client: discord.Client,
        polls: Polls,
        *,
        limits: Limits = DISCORD_LIMITS,
        patience: float = PATIENCE,
        invitations: Invitations | None = None,
        media_files: MediaFiles | None = None,
    ) -> None:
        self.limits = limits
        self._media_files = media_files
        self.throttled = 0  # 429s Discord answered this client (discord.py sat them out)
        self.polls = NativePolls(client, polls)
        self._client = client
        self._patience = patience
        self._invites = InviteLinks(self._make_invite, invitations)
        self._dms: OrderedDict[int, int] = OrderedDict()  # user id -> DM channel id, LRU
        self._markdown = Renderer(discord_markdown)
        self._plain = Renderer(plain_text)
        trace = aiohttp.TraceConfig()
        trace.on_request_end.append(self._answered)
        # Read when the client logs in and makes its HTTP session.
        client.http.http_trace = trace

    async def send(self, message: Outgoing) -> tuple[str, ...]:
        """Send one outbox message; the ids of the messages posted (or edited)."""
        if self._client.is_closed() or self._client.user is None:
            raise RetryLater("discord: not connected")
        waits = _Waits()
        token = _WAITS.set(waits)
        try:
            sending = asyncio.ensure_future(self._send(message))  # in a copy of this context
        finally:
            _WAITS.reset(token)
        if not await self._within_patience(sending, waits):
            left = waits.until - asyncio.get_running_loop().time()
            if left > 0:
                reason = "discord: rate limited"
                raise RetryLater(reason, left, whole_platform=waits.whole_platform)
            raise RetryLater(f"discord: no answer in {self._patience:g} s")
        try:
            return sending.result()
        except discord.RateLimited as error:
            raise RetryLater("discord: rate limited", error.retry_after) from None
        except discord.HTTPException as error:
            raise not_now_or_never(error) from None
        except (aiohttp.ClientError, OSError) as error:  # TimeoutError is an OSError
            raise RetryLater(f"discord: {type(error).__name__}") from None

    async def _within_patience(self, sending: asyncio.Future[Any], waits: _Waits) -> bool:
        """Whether the send ended within `patience`; else it is cut off (so is it when the
        sender is cancelled). Not while discord.py sits out a global 429, though: it lifts
        that for the whole client only when its sleep ends, and cut off there, every later
        request would wait forever."""
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait({sending}, timeout=self._patience)
            while not sending.done() and waits.whole_platform and waits.until > loop.time():
                await asyncio.wait({sending}, timeout=waits.until - loop.time() + GLOBAL_SLACK)
        finally:
            if not sending.done():
                sending.cancel()
                await asyncio.gather(sending, return_exceptions=True)
        return not sending.cancelled()

    async def with_invite(self, reply: Reply) -> Reply:
        """The reply with its invitation made and its link in the words (if it has one)."""
        return reply if reply.invite is None else await self._invites.fill(reply)

    async def _make_invite(self, spec: InviteSpec) -> str:
        return await make_invite(self._client, spec)

    async def with_media(self, reply: Reply) -> Reply:
        """The reply with its files' bytes, where no outbox read brought them (an interaction
        answered inline). Without the store's door, files without bytes are left out."""
        if not reply.media or self._media_files is None:
            return reply
        return await self._media_files.filled(reply, PLATFORM)

    @contextlib.contextmanager
    def parts(self, reply: Reply, *, media: bool = True) -> Iterator[Parts]:
        """The reply in messages that fit, each with the send options it needs (the buttons and
        the files go with the last one; `media=False`: only the document). The view is stopped
        afterwards: buttons are answered from raw interactions, not from discord.py's view
        store."""
        chunks = split_discord_markdown(self._markdown.render(reply)) or ["…"]
        view = reply_view(reply, self._plain)
        last_extra: dict[str, Any] = {} if view is None else {"view": view}
        if files := reply_files(reply, media=media):
            last_extra["files"] = files
        last = len(chunks) - 1
        try:
            yield [
                (chunk, last_extra if index == last else {}) for index, chunk in enumerate(chunks)
            ]
        finally:
            if view is not None:
                view.stop()

    async def _send(self, message: Outgoing) -> tuple[str, ...]:
        if message.kind is Kind.END_POLL:
            await self.polls.end(self._poll_to_end(message))
            return ()
        if message.reply.invite is not None:
            message = replace(message, reply=await self.with_invite(message.reply))
        if message.kind is not Kind.EDIT:
            message = replace(message, reply=await self.with_media(message.reply))
        channel = await self._channel(message)
        ids = None
        if message.kind is Kind.EDIT:
            ids = await self._edit(channel, message)
        if ids is None:
            ids = await self._post(channel, message)
        if message.reply.ends_poll:
            await self.polls.end_quietly(message.reply.ends_poll)
        return ids

    def extra_requests(self, message: Outgoing) -> int:
        """Requests the send takes besides its messages: opening the user's DM channel, the
        first time (the sender counts it against Discord's global limit)."""
        user = _dm_user(message)
        return int(user is not None and user.isdecimal() and int(user) not in self._dms)

    async def _channel(self, message: Outgoing) -> discord.abc.Messageable:
        """Where it goes: a channel, or a user's DM (opened once; discord.py keeps it)."""
        chat = message.chat_id
        user = _dm_user(message)
        if user is not None:
            if not user.isdecimal():
                raise Refused(f"discord: no user {user!r}")
            return await self._dm(int(user))
        if not chat.isdecimal():
            raise Refused(f"discord: no channel {chat!r}")
        if chat == message.group_chat_id:
            # A server is no channel: nothing says where in it to post.
            raise Refused("discord: the server has no channel to post in")
        return self._client.get_partial_messageable(int(chat))

    async def _dm(self, user_id: int) -> discord.abc.Messageable:
        """A user's DM channel: opening one is a request of its own (counted in Discord's
        global limit), and discord.py remembers only the last 128, so it is remembered here."""
        known = self._dms.get(user_id)
        if known is None:
            known = self._dms[user_id] = (await self._client.create_dm(discord.Object(user_id))).id
            if len(self._dms) > DMS_KEPT:
                self._dms.popitem(last=False)
        else:
            self._dms.move_to_end(user_id)
        return self._client.get_partial_messageable(known)

    async def _post(self, channel: discord.abc.Messageable, message: Outgoing) -> tuple[str, ...]:
        reply = message.reply
        quote = _quote(message, channel)
        if reply.poll is not None and not message.private:
            poll = await self.polls.post(
                channel, reply.poll, nonce=nonce(message.key, 0), reference=quote
            )
            if poll is not None:
                return (str(poll.id),)
        with self.parts(reply) as parts:
            return await self._send_parts(channel, message, parts, quote=quote)

    async def _send_parts(
        self,
        channel: discord.abc.Messageable,
        message: Outgoing,
        parts: Parts,
        *,
        quote: discord.MessageReference | None = None,
        first: int = 0,
    ) -> tuple[str, ...]:
        ids: list[str] = []
        for index, (chunk, extra) in enumerate(parts, start=first):
            if quote is not None and index == 0:
                extra = {**extra, "reference": quote}
            sent = await channel.send(
                chunk, nonce=nonce(message.key, index), allowed_mentions=NO_MENTIONS, **extra
            )
            ids.append(str(sent.id))
        return tuple(ids)

    async def _edit(
        self, channel: discord.abc.Messageable, message: Outgoing
    ) -> tuple[str, ...] | None:
        """New words for a message posted before (a longer text's rest posted after it); None
        when there is no such message of the bot's to edit, and the words go out anew."""
        target = message.edits or ""
        if not target.isdecimal() or not isinstance(
            channel, discord.PartialMessageable | discord.DMChannel
        ):
            return None
        with self.parts(message.reply, media=False) as parts:  # an edit keeps its files
            (chunk, extra), rest = parts[0], parts[1:]
            try:
                edited = await channel.get_partial_message(int(target)).edit(
                    content=chunk, view=extra.get("view"), allowed_mentions=NO_MENTIONS
                )
            except discord.HTTPException as error:
                if error.code not in (UNKNOWN_MESSAGE, NOT_OURS):
                    raise
                log.info(
                    "discord message to edit is gone; posted anew",
                    extra={"message_id": message.id, "edits": target},
                )
                return None
            more = await self._send_parts(channel, message, rest, first=1)
        return (str(edited.id), *more)

    @staticmethod
    def _poll_to_end(message: Outgoing) -> str:
        """The poll an END_POLL names: the reply's ends_poll, else the message it edits."""
        ref = message.reply.ends_poll
        if ref:
            return ref
        if message.chat_id.isdecimal() and (message.edits or "").isdecimal():
            return poll_message_ref(int(message.chat_id), int(message.edits or 0))
        raise Refused("discord: no poll to end")

    async def _answered(
        self,
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        """Each response to this client: a 429 is counted, and noted for the send waiting."""
        response = params.response
        if response.status != TOO_MANY:
            return
        self.throttled += 1
        waits = _WAITS.get()
        if waits is None:
            return
        headers = response.headers
        after = _seconds(headers.get("Retry-After"))
        waits.until = max(waits.until, asyncio.get_running_loop().time() + after)
        scope = headers.get("X-RateLimit-Scope", "")
        waits.whole_platform |= scope == "global" or headers.get("X-RateLimit-Global") == "true"


def not_now_or_never(error: discord.HTTPException) -> RetryLater | Refused:
    """What an HTTP error means for a message: try later (5xx, a 429 discord.py would not sit
    out, a refused token: fixed, the messages still go), or never (any other 4xx: missing
    access 50001/50013, unknown channel 10003, a user who takes no DMs 50007)."""
    reason = shorten(f"discord {error.status}/{error.code}: {error.text}", 200)
    if error.status == TOO_MANY:
        # Without `Via`: Cloudflare's limit, on the whole bot.
        headers = getattr(error.response, "headers", {}) or {}
        return RetryLater(reason, _seconds(headers.get("Retry-After")), whole_platform=True)
    if error.status >= 500 or error.status == UNAUTHORIZED:
        return RetryLater(reason, whole_platform=error.status == UNAUTHORIZED)
    return Refused(reason)


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


def _quote(message: Outgoing, channel: discord.abc.Messageable) -> discord.MessageReference | None:
    """The message an answer quotes; Discord posts it unquoted if that one is gone."""
    quoted = message.reply_to or ""
    channel_id = getattr(channel, "id", None)
    if not quoted.isdecimal() or not isinstance(channel_id, int):
        return None
    return discord.MessageReference(
        message_id=int(quoted), channel_id=channel_id, fail_if_not_exists=False
    )


def _seconds(value: str | None, default: float = 1.0) -> float:
    try:
        return max(0.0, float(value)) if value else default
    except ValueError:
        return default
