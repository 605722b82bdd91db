"""A fake Discord gateway + REST API that the real discord.py client talks to over local sockets.

Usage: ``async with FakeDiscord() as fake:`` add guilds/channels/members, then run the client
inside ``with fake.patch_discord():``. GUILD_CREATE is only sent at IDENTIFY, so configure first.
Clients should pass ``guild_ready_timeout=0.05`` (on_ready fires that long after the last
GUILD_CREATE; the default is 2 s) and enable ``Intents.members`` to cache members other than the
bot. Like Discord, guild message content is blanked for clients without ``message_content``, the
bot's own visible messages are echoed back as MESSAGE_CREATE (deletions as MESSAGE_DELETE), a
user's edit (``edit_message``) comes as MESSAGE_UPDATE with the whole message, and
``member_join`` reaches only clients with the ``members`` intent. Messages may carry a native poll
(checked against Discord's limits); ``poll_vote`` votes in one (sent only to clients with the
polls intents), and ``POST .../polls/{id}/expire`` ends it. Synced commands are checked the way
Discord checks them (names, descriptions, option order, limits) and kept in ``commands``; a slash
command may pick users (``users``: options of type 6, resolved like Discord resolves them), and
``autocomplete`` asks for an option's choices (answered with callback type 8). User commands
(context menus) are synced and checked too; ``user_command`` right-clicks a member, which may be
answered with a modal (callback type 9, checked and kept in ``responses``), and ``submit_modal``
sends what was typed into one (MODAL_SUBMIT, type 5).

Sending, as a bot's sender meets it: with ``limits=FakeLimits()`` the fake keeps Discord's limits
(5 messages per 5 s per channel as fixed buckets whose state every message's X-RateLimit headers
tell, 50 requests a second for the bot outside interactions) and answers what exceeds them with a
429 as Discord does (``retry_after``, ``Via``, ``Retry-After``, the scope), counted in
``throttled``. Every message the bot posts is kept in ``accepted`` (channel, content, nonce,
time); a nonce sent with ``enforce_nonce`` again in the same channel within ``NONCE_WINDOW`` gets
the first message back and posts nothing (counted in ``deduplicated``). ``refuse`` makes a
channel answer 403 (50001 Missing Access, or another code) from now on; ``fail`` makes its next
calls answer a 5xx, optionally after posting the message (the answer lost on the way).
``too_late`` answers every interaction callback 10062 Unknown interaction.

Files and invites: a multipart send's files are kept in ``files`` (where, name, bytes, message
id; ``files_in(channel)``) with the message (a channel message, an interaction's answer or
follow-up); ``send_message(..., attachments=[(name, bytes)])`` posts a user's message with files
the bot can download from the fake (``GET /attachments/...``, counted in ``downloads``), and
``slash_command(..., files={"option": (name, bytes)})`` fills attachment options.
``POST /channels/{id}/invites`` makes an invite (kept in ``invites``; needs Create Invite),
``GET /guilds/{id}/invites`` lists them
(needs Manage Server: ``deny_invites`` takes it away), and ``member_join(..., invite=code)``
counts a use of that invite before GUILD_MEMBER_ADD, as Discord does.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import mimetypes
import re
import secrets
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Self

import discord.gateway
import discord.http
import yarl
from aiohttp import WSMsgType, web

APP_ID, BOT_ID = 1000, 1001
MANAGE_GUILD, ADMINISTRATOR = 1 << 5, 1 << 3
AUTHENTICATION_FAILED = 4004  # the gateway's close code for a token it does not accept
# invite, reactions, view channel, send, embed, attach, history, external emoji, app commands
EVERYONE_PERMS = sum(1 << b for b in (0, 6, 10, 11, 14, 15, 16, 18, 31))
ALL_PERMS = (1 << 53) - 1
GUILD_MEMBERS, GUILD_MESSAGES, DM_MESSAGES, MESSAGE_CONTENT = 1 << 1, 1 << 9, 1 << 12, 1 << 15
GUILD_MESSAGE_POLLS, DIRECT_MESSAGE_POLLS = 1 << 24, 1 << 25
MESSAGE_EVENTS = ("MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE")
MENTION_RE = re.compile(r"<@!?(\d+)>")
BLANKED = {"content": "", "embeds": [], "attachments": [], "components": []}  # no content intent
Json = dict[str, Any]
Reply = tuple[int, Any]  # (HTTP status, JSON body, or None for an empty 204)
Opts = dict[str, str | int] | None
# Discord's rules for command and option names, and the locales it takes localizations in.
NAME_RE = re.compile(r"[-_\w]{1,32}")
LOCALES = {"id", "da", "de", "en-GB", "en-US", "es-ES", "es-419", "fr", "hr", "it", "lt", "hu",
           "nl", "no", "pl", "pt-BR", "ro", "fi", "sv-SE", "vi", "tr", "cs", "el", "bg", "ru",
           "uk", "hi", "th", "zh-CN", "ja", "zh-TW", "ko"}  # fmt: skip
NUMERIC_OPTIONS, CHOICE_OPTIONS = {4, 10}, {3, 4, 10}  # integer, number; string too for choices
NONCE_WINDOW = 180.0  # seconds Discord remembers an enforced nonce ("a few minutes")
REFUSALS = {50001: "Missing Access", 50013: "Missing Permissions",
            50007: "Cannot send messages to this user"}  # fmt: skip
CHANNEL_PATH = re.compile(r"/channels/(?P<cid>\d+)(?P<rest>/.*)?$")


@dataclass(frozen=True)
class FakeLimits:
    """Discord's limits as the fake keeps them; shorter windows keep a test fast."""

    per_channel: int = 5  # messages the bot may post in one channel per window
    channel_seconds: float = 5.0
    overall: int = 50  # requests a window for the whole bot (interactions excepted)
    overall_seconds: float = 1.0


@dataclass
class Accepted:
    """A message the bot posted (a channel message, an interaction's answer or follow-up)."""

    channel: int
    message_id: int
    content: str
    nonce: str | None
    at: float  # time.monotonic() when it was taken


@dataclass
class _Bucket:
    """A fixed window, as Discord's buckets are: ``count`` taken since ``start``."""

    start: float = 0.0
    count: int = 0

    def left(self, now: float, size: int, seconds: float) -> float:
        """Seconds until it takes one more (0: now), starting a new window when one ended."""
        if now - self.start >= seconds:
            self.start, self.count = now, 0
        return 0.0 if self.count < size else self.start + seconds - now


@dataclass
class Call:
    """One REST request; ``path`` is relative to /api/v10, ``json`` also from payload_json."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    status: int = 0
    files: list[tuple[str, bytes]] = field(default_factory=list)  # a multipart body's files


@dataclass(frozen=True)
class SentFile:
    """A file the bot sent: where (a channel id, or the interaction's id), its name, its bytes,
    and the message it came with (0 when the answer named none)."""

    where: int
    filename: str
    content: bytes
    message_id: int = 0


@dataclass
class SentMessage:
    """A normalized message-like send; ``where`` is the channel id or the interaction id."""

    kind: str  # channel, channel_edit, response, update, followup, original_edit
    where: int
    message_id: int
    content: str | None
    components: list[Json]  # flattened buttons/selects: {"custom_id", "label", "type"}
    embeds: list[Json]
    flags: int
    allowed_mentions: Json | None
    poll: Json | None = None  # the poll as sent (question, answers, duration, ...)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & 64)


@dataclass
class FakeInteraction:
    """An interaction sent to the bot; ``responses`` holds the callback bodies it posted."""

    id: int
    token: str
    type: int
    guild_id: int | None
    channel_id: int
    user_id: int
    payload: Json
    message_id: int | None = None  # what @original refers to
    responses: list[Json] = field(default_factory=list)


@dataclass
class _Guild:
    id: int
    name: str
    owner_id: int
    roles: list[Json]
    members: dict[int, list[int]] = field(default_factory=dict)  # user id -> role ids
    channel_ids: list[int] = field(default_factory=list)
    system_channel_id: int | None = None  # where Discord posts (and bots greet) newcomers


@dataclass
class _Session:
    ws: web.WebSocketResponse | None
    session_id: str = ""
    seq: int = 0
    intents: int = 0
    shard: tuple[int, int] = (0, 1)
    ready: bool = False

    def owns(self, guild_id: int | None) -> bool:
        # Discord routes a guild to shard (id >> 22) % num_shards, and DMs to shard 0.
        shard = 0 if guild_id is None else (guild_id >> 22) % self.shard[1]
        return self.ws is not None and shard == self.shard[0]


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _flatten(components: list[Json]) -> list[Json]:
    """Buttons/selects in action rows (and v2 sections' accessories), in order."""
    out: list[Json] = []
    for c in components:
        if "custom_id" in c or c.get("type") == 2:
            out.append({k: c.get(k) for k in ("custom_id", "label", "type")})
        out += _flatten(c.get("components") or [])
        out += _flatten([c["accessory"]] if isinstance(c.get("accessory"), dict) else [])
    return out


def _error(status: int, code: int, message: str, **extra: Any) -> Reply:
    return status, {"code": code, "message": message, **extra}


def _invalid(body: Json, *, need_any: bool = True) -> Reply | None:
    """Discord's own checks on a message body: lengths (and a poll's limits), then emptiness."""
    if len(body.get("content") or "") > 2000:
        err = {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}
        return _error(400, 50035, "Invalid Form Body", errors={"content": {"_errors": [err]}})
    if (bad := _bad_poll(body.get("poll"))) is not None:
        errors: Json = {"_errors": [{"code": "BASE_TYPE_BAD_LENGTH", "message": bad[1]}]}
        for key in reversed(["poll", *bad[0]]):
            errors = {key: errors}
        return _error(400, 50035, "Invalid Form Body", errors=errors)
    keys = ("content", "embeds", "components", "attachments", "sticker_ids", "poll")
    if need_any and not any(body.get(k) for k in keys):
        return _error(400, 50006, "Cannot send an empty message")
    return None


def _bad_command(cmd: Json) -> str | None:
    """What Discord would refuse in a command's definition; None when it takes it."""
    if cmd.get("type", 1) in (2, 3):
        return _bad_menu(cmd)
    options: list[Json] = cmd.get("options") or []
    named = [(item.get("name") or "", item.get("name_localizations") or {})
             for item in (cmd, *options)]  # fmt: skip
    texts = [cmd.get("description") or "", *(o.get("description") or "" for o in options)]
    for item in (cmd, *options):
        texts += (item.get("description_localizations") or {}).values()
    for name, localized in named:
        for word in (name, *localized.values()):
            if not NAME_RE.fullmatch(word) or word.lower() != word:
                return f"bad name {word!r}"
        if set(localized) - LOCALES:
            return f"unknown locales {sorted(set(localized) - LOCALES)}"
    if any(not 1 <= len(text) <= 100 for text in texts):
        return "a description is not 1 to 100 characters"
    if len(options) > 25 or len({o["name"] for o in options}) != len(options):
        return "more than 25 options, or two of one name"
    required = [bool(o.get("required")) for o in options]
    if required != sorted(required, reverse=True):
        return "a required option after an optional one"
    for o in options:
        limits = "min_value" in o or "max_value" in o
        if (limits and o["type"] not in NUMERIC_OPTIONS) or (
            o.get("choices") and (o["type"] not in CHOICE_OPTIONS or o.get("autocomplete"))
        ):
            return f"option {o['name']!r} cannot have these fields"
    return None


def _bad_menu(cmd: Json) -> str | None:
    """What Discord refuses in a context menu's (user or message command's) definition: names
    of 1-32 characters (any case, spaces allowed), no description, no options."""
    localized = cmd.get("name_localizations") or {}
    if any(not 1 <= len(word) <= 32 for word in (cmd.get("name") or "", *localized.values())):
        return "a context menu name is not 1 to 32 characters"
    if set(localized) - LOCALES:
        return f"unknown locales {sorted(set(localized) - LOCALES)}"
    if cmd.get("description") or cmd.get("options"):
        return "a context menu takes no description or options"
    return None


def _bad_modal(data: Json) -> str | None:
    """What Discord refuses in a modal (response type 9): a custom_id of 1-100 characters, a
    title of 1-45, 1 to 5 labels (type 18, text 1-45) each holding a text input (type 4) with
    a custom_id."""
    custom_id, title = data.get("custom_id") or "", data.get("title") or ""
    labels: list[Json] = data.get("components") or []
    if not 1 <= len(custom_id) <= 100 or not 1 <= len(title) <= 45 or not 1 <= len(labels) <= 5:
        return "a modal's custom_id, title or number of components is out of bounds"
    for label in labels:
        field = label.get("component") or {}
        if label.get("type") != 18 or not 1 <= len(label.get("label") or "") <= 45:
            return "a modal component is no label of 1 to 45 characters"
        if field.get("type") != 4 or not field.get("custom_id") or field.get("label"):
            return "a label holds no text input with a custom_id (and no label of its own)"
        if len(label.get("description") or "") > 100:
            return "a label's description is over 100 characters"
    return None


def _bad_poll(poll: Json | None) -> tuple[list[str], str] | None:
    """The field of a poll that breaks Discord's limits, and how; None when none does."""
    if poll is None:
        return None
    answers, question = poll.get("answers") or [], (poll.get("question") or {}).get("text") or ""
    texts = enumerate((a.get("poll_media") or {}).get("text") or "" for a in answers)
    checks = [(["question", "text"], len(question), 300), (["answers"], len(answers), 10),
              *((["answers", str(i), "poll_media", "text"], len(t), 55) for i, t in texts),
              (["duration"], poll.get("duration", 24), 768)]  # fmt: skip
    bad = ((path, f"Must be between 1 and {top}.") for path, n, top in checks if not 1 <= n <= top)
    return next(bad, None)


class FakeDiscord:
    """Serves /ws (gateway) and /api/v10 (REST) on 127.0.0.1 and records everything."""

    def __init__(self, *, echo_own_messages: bool = True, limits: FakeLimits | None = None) -> None:
        self.echo_own_messages = echo_own_messages
        self.limits = limits  # None: no limit is kept (only throttle() answers 429)
        self.accepted: list[Accepted] = []
        self.throttled = 0  # 429s answered, for any reason
        self.throttled_global = 0  # of which for the bot's overall limit
        self.deduplicated = 0  # sends answered with an earlier message, by their nonce
        self.too_late = False  # answers to interactions get 10062, as after Discord's 3 s
        self._refused: dict[int, int] = {}  # channel -> the error code it answers
        self._failing: dict[int, tuple[int, int, bool]] = {}  # channel -> (times, status, accept)
        self._nonces: dict[tuple[int, str], tuple[float, Json]] = {}
        self._buckets: dict[int, _Bucket] = {}  # channel -> its message bucket
        self._overall = _Bucket()
        self.calls: list[Call] = []
        self.misses: list[Call] = []  # requests no route matched (answered 404)
        self.messages: list[SentMessage] = []
        self.deleted: list[int] = []  # ids of messages deleted through the REST API
        self.poll_votes: dict[int, dict[int, set[int]]] = {}  # message -> answer id -> users
        self.interactions: dict[int, FakeInteraction] = {}
        self.commands: dict[int | None, list[Json]] = {}  # guild id (None: global) -> commands
        self.gateway_log: list[Json] = []  # frames received from clients
        self.resumes = 0
        self.revoked = False  # revoke_token(): REST says 401, the gateway closes with 4004
        self.users: dict[int, Json] = {}
        self.guilds: dict[int, _Guild] = {}
        self.channels: dict[int, Json] = {}
        self.dms: dict[int, int] = {}  # user id -> DM channel id
        self.files: list[SentFile] = []
        self.downloads: list[str] = []  # attachment URLs the bot fetched
        self.invites: dict[str, Json] = {}  # code -> invite (with its uses)
        self.invites_denied = False  # GET /guilds/{id}/invites answers 403 (no Manage Server)
        self._attachments: dict[str, bytes] = {}  # path -> bytes users attached
        self.port, self.base_url, self.ws_url = 0, "", ""  # set by start()
        self._stored: dict[int, Json] = {}  # message id -> message object
        self._sessions: dict[str, _Session] = {}
        self._sockets: set[web.WebSocketResponse] = set()
        self._throttles: list[list[Any]] = []
        self._echoes: list[tuple[str, Json]] = []  # (event, data) to dispatch after a request
        self._ids = itertools.count(1)
        self._cond = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._add_user(BOT_ID, "communitybot", None, True)
        tok = r"/webhooks/(?P<app>\d+)/(?P<token>[^/]+)"
        routes: list[tuple[str, str, Callable[[Call, re.Match[str]], Reply]]] = [
            ("GET", r"/users/@me", lambda c, m: (200, self.users[BOT_ID])),
            ("GET", r"/oauth2/applications/@me", self._app),
            ("GET", r"/gateway(?P<bot>/bot)?", self._gateway),
            ("GET PUT", r"/applications/(?P<app>\d+)(/guilds/(?P<g>\d+))?/commands", self._cmds),
            ("POST", r"/interactions/(?P<iid>\d+)/(?P<token>[^/]+)/callback", self._callback),
            ("POST", tok, self._followup),
            ("GET PATCH DELETE", rf"{tok}/messages/(?P<mid>@original|\d+)", self._webhook_msg),
            ("POST", r"/channels/(?P<cid>\d+)/messages", self._channel_send),
            ("GET PATCH", r"/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)", self._channel_msg),
            ("GET", r"/channels/(?P<cid>\d+)", self._channel),
            ("POST", r"/channels/(?P<cid>\d+)/polls/(?P<mid>\d+)/expire", self._expire_poll),
            ("GET", r"/users/(?P<uid>\d+)", self._user),
            ("POST", r"/users/@me/channels", self._create_dm),
            ("GET", r"/guilds/(?P<g>\d+)/members/(?P<uid>\d+)", self._guild_member),
            ("POST", r"/channels/(?P<cid>\d+)/invites", self._create_invite),
            ("GET", r"/guilds/(?P<g>\d+)/invites", self._guild_invites),
        ]
        self._routes = [(m.split(), re.compile(p + "$"), h) for m, p, h in routes]

    # -- lifecycle and setup -------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/ws", self._ws)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        app.router.add_get("/attachments/{path:.*}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))  # the port is ours before serving: no race for it
        self.port = sock.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/ws"
        await web.SockSite(self._runner, sock).start()

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close(code=1001, message=b"fake discord stopping")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @contextlib.contextmanager
    def patch_discord(self) -> Iterator[None]:
        """Point discord.py here; webhooks/interactions share ``http.Route``, so one BASE."""
        assert self.port, "start() the fake first"
        old = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
        discord.http.Route.BASE = f"{self.base_url}/api/v10"
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.ws_url)
        try:
            yield
        finally:
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old

    def snowflake(self) -> int:
        """A fresh real-shaped snowflake: ms since the Discord epoch, then a counter."""
        return ((int(time.time() * 1000) - 1_420_070_400_000) << 22) | (next(self._ids) & 0xFFF)

    def add_guild(
        self, guild_id: int, name: str, *, owner_id: int, system_channel_id: int | None = None
    ) -> None:
        roles = [_role(guild_id, "@everyone", EVERYONE_PERMS, 0),  # @everyone's id == guild id
                 _role(self.snowflake(), "Manager", EVERYONE_PERMS | MANAGE_GUILD, 1)]  # fmt: skip
        guild = self.guilds[guild_id] = _Guild(guild_id, name, owner_id, roles, {BOT_ID: []})
        guild.system_channel_id = system_channel_id

    def add_channel(self, guild_id: int, channel_id: int, name: str) -> None:
        guild = self.guilds[guild_id]
        self.channels[channel_id] = {
            "id": str(channel_id), "type": 0, "guild_id": str(guild_id), "name": name,
            "position": len(guild.channel_ids), "permission_overwrites": [], "nsfw": False,
            "topic": None, "last_message_id": None, "parent_id": None, "rate_limit_per_user": 0,
            "flags": 0,
        }  # fmt: skip
        guild.channel_ids.append(channel_id)

    def add_member(
        self, guild_id: int, user_id: int, username: str, *, global_name: str | None = None,
        manage_guild: bool = False,
    ) -> None:  # fmt: skip
        self._add_user(user_id, username, global_name)
        guild = self.guilds[guild_id]
        guild.members[user_id] = [int(guild.roles[1]["id"])] if manage_guild else []

    async def member_leave(self, guild_id: int, user_id: int) -> None:
        """``user_id`` leaves the server: no longer its member (REST says 10007 Unknown
        Member), then GUILD_MEMBER_REMOVE."""
        del self.guilds[guild_id].members[user_id]
        data = {"guild_id": str(guild_id), "user": self.users[user_id]}
        await self.dispatch("GUILD_MEMBER_REMOVE", data)

    def open_dm(self, user_id: int) -> int:
        """The id of the DM channel (type 1) with ``user_id``, created on first use."""
        if user_id not in self.dms:
            cid = self.dms[user_id] = self.snowflake()
            self.channels[cid] = {"id": str(cid), "type": 1, "last_message_id": None,
                                  "flags": 0, "recipients": [self.users[user_id]]}  # fmt: skip
        return self.dms[user_id]

    def permissions(self, guild_id: int, user_id: int) -> int:
        guild = self.guilds[guild_id]
        held = {str(r) for r in [guild_id, *guild.members.get(user_id, [])]}
        value = 0
        for role in guild.roles:
            value |= int(role["permissions"]) if role["id"] in held else 0
        owner = user_id == guild.owner_id
        return ALL_PERMS if owner or value & ADMINISTRATOR else value

    async def revoke_token(self) -> None:
        """Reset the bot's token, as the Developer Portal does: every REST call is answered 401
        from now on, and gateway sessions (live ones and new IDENTIFYs) are closed with 4004
        Authentication failed."""
        self.revoked = True
        for ws in list(self._sockets):
            await ws.close(code=AUTHENTICATION_FAILED, message=b"Authentication failed.")
        await self._notify()

    def throttle(
        self, method: str, path_prefix: str, times: int = 1, retry_after: float = 0.05
    ) -> None:
        """Answer the next ``times`` matching requests (path after /api/v10) with a 429."""
        self._throttles.append([method.upper(), path_prefix, times, retry_after])

    def refuse(self, channel_id: int, code: int = 50001) -> None:
        """From now on every call about ``channel_id`` is answered 403 with ``code`` (50001
        Missing Access: the bot was removed; 50013 Missing Permissions; 50007 a user who takes
        no DMs, on their DM channel)."""
        self._refused[channel_id] = code

    def fail(
        self, channel_id: int, times: int = 1, status: int = 503, *, accept: bool = False
    ) -> None:
        """Answer the next ``times`` calls about ``channel_id`` with ``status``; with ``accept``
        a message is posted first (Discord took it, its answer was lost). discord.py retries
        500, 502 and 504 itself, after a second's sleep or more; 503 it raises at once."""
        self._failing[channel_id] = (times, status, accept)

    def sent_in(self, channel_id: int) -> list[str]:
        """The words of the messages the bot posted in a channel, in order."""
        return [m.content for m in self.accepted if m.channel == channel_id]

    # -- waiting -------------------------------------------------------------------------------

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10) -> None:  # noqa: ASYNC109
        """Wait until ``predicate()`` holds; re-checked after every request, frame and event."""
        async with self._cond:
            try:
                await asyncio.wait_for(self._cond.wait_for(predicate), timeout)
            except TimeoutError:
                calls = "\n".join(f"  {c.method} {c.path} -> {c.status}" for c in self.calls)
                raise AssertionError(f"not met in {timeout}s; calls:\n{calls or '-'}") from None

    async def wait_for_message(self, count: int = 1, timeout: float = 10) -> SentMessage:  # noqa: ASYNC109
        """Wait until ``count`` sends were recorded in all; returns the ``count``-th."""
        await self.wait_for(lambda: len(self.messages) >= count, timeout)
        return self.messages[count - 1]

    async def wait_for_ready(self, count: int = 1, timeout: float = 10) -> None:  # noqa: ASYNC109
        """Wait until ``count`` sessions identified and got all their GUILD_CREATEs."""
        await self.wait_for(lambda: sum(s.ready for s in self._sessions.values()) >= count, timeout)

    async def _notify(self) -> None:
        async with self._cond:
            self._cond.notify_all()

    # -- gateway -------------------------------------------------------------------------------

    async def dispatch(self, event: str, data: Json) -> None:
        """Send a DISPATCH to each live session whose shard owns ``data["guild_id"]`` and that
        has the intent the event needs (message and member events; others are always sent)."""
        guild_id = int(data["guild_id"]) if data.get("guild_id") else None
        if event in MESSAGE_EVENTS:
            need = GUILD_MESSAGES if guild_id else DM_MESSAGES
        elif event.startswith("MESSAGE_POLL_VOTE_"):
            need = GUILD_MESSAGE_POLLS if guild_id else DIRECT_MESSAGE_POLLS
        else:
            need = GUILD_MEMBERS if event.startswith("GUILD_MEMBER_") else 0
        for sess in [s for s in self._sessions.values() if s.owns(guild_id)]:
            payload = data
            if sess.intents & need != need:
                continue
            if event in ("MESSAGE_CREATE", "MESSAGE_UPDATE"):
                mentioned = any(int(u["id"]) == BOT_ID for u in data["mentions"])
                privileged = mentioned or not guild_id or data["author"]["id"] == str(BOT_ID)
                if not sess.intents & MESSAGE_CONTENT and not privileged:
                    payload = {**data, **BLANKED}
            await self._send(sess, 0, payload, event)
        await self._notify()

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT to every live session; discord.py then RESUMEs."""
        for sess in [s for s in self._sessions.values() if s.ws is not None]:
            await self._send(sess, 7, None)

    async def _send(self, sess: _Session, op: int, d: Any, t: str | None = None) -> None:
        sess.seq += t is not None
        frame = {"op": op, "d": d, "s": sess.seq if t else None, "t": t}
        if sess.ws is not None and not sess.ws.closed:
            with contextlib.suppress(ConnectionError):  # the client may hang up meanwhile
                await sess.ws.send_str(json.dumps(frame))

    async def _ws(self, request: web.Request) -> web.WebSocketResponse:
        # discord.py asks for ?compress=zlib-stream but only inflates *binary* frames; text
        # frames are parsed as plain JSON, so the fake never compresses.
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.add(ws)
        sess = _Session(ws)
        try:
            await self._send(sess, 10, {"heartbeat_interval": 41250})
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    sess = await self._on_frame(sess, json.loads(msg.data))
        finally:
            self._sockets.discard(ws)
            if sess.ws is ws:
                sess.ws = None
        return ws

    async def _on_frame(self, sess: _Session, frame: Json) -> _Session:
        self.gateway_log.append(frame)
        op, d = frame.get("op"), frame.get("d") or {}
        if op == 1:
            await self._send(sess, 11, None)
        elif op == 2:
            await self._identify(sess, d)
        elif op == 6 and (old := self._sessions.get(d.get("session_id", ""))) is not None:
            old.ws, sess = sess.ws, old
            self.resumes += 1
            await self._send(sess, 0, {}, "RESUMED")
        elif op == 6:
            await self._send(sess, 9, False)  # not resumable: the client re-IDENTIFYs
        await self._notify()
        return sess

    async def _identify(self, sess: _Session, d: Json) -> None:
        if self.revoked and sess.ws is not None:
            await sess.ws.close(code=AUTHENTICATION_FAILED, message=b"Authentication failed.")
            return
        sess.session_id, sess.intents = secrets.token_hex(16), int(d.get("intents", 0))
        shard = d.get("shard")
        sess.shard = (shard[0], shard[1]) if shard else (0, 1)
        self._sessions[sess.session_id] = sess
        guilds = [g for g in self.guilds.values() if sess.owns(g.id)]
        ready = {
            "v": 10, "user": self.users[BOT_ID], "session_id": sess.session_id,
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "resume_gateway_url": self.ws_url,  # discord.py RESUMEs there: must be us
            "application": {"id": str(APP_ID), "flags": 0}, "session_type": "normal",
            "private_channels": [], "relationships": [], "presences": [],
            **({"shard": list(shard)} if shard else {}),
        }  # fmt: skip
        await self._send(sess, 0, ready, "READY")
        for g in guilds:
            await self._send(sess, 0, self._guild_payload(g), "GUILD_CREATE")
        sess.ready = True

    # -- events the tests inject ---------------------------------------------------------------

    async def send_message(
        self, channel_id: int, author_id: int, content: str, *, reply_to: int | None = None,
        ping: bool = False, attachments: list[tuple[str, bytes]] | None = None,
    ) -> int:  # fmt: skip
        """A user posts ``content`` in a guild channel or DM; returns the message id. With
        ``reply_to`` it is a reply (type 19) to that message, carrying it as Discord does; with
        ``ping`` the reply mentions the replied message's author too (Discord's default).
        ``attachments`` (name, bytes) are served for download, their content_type told from
        their name as Discord does ("a.jpg": image/jpeg)."""
        replied = self._stored.get(reply_to or 0)
        if reply_to is not None and replied is None:
            raise ValueError(f"no message {reply_to} to reply to")
        msg = self._make_message(channel_id, author_id, {"content": content}, 19 if replied else 0)
        msg["attachments"] = [self.attachment(channel_id, n, d) for n, d in attachments or ()]
        if replied is not None:
            where = {k: replied[k] for k in ("channel_id", "guild_id") if k in replied}
            msg["message_reference"] = {"type": 0, "message_id": replied["id"], **where}
            # Nested one level deep only, as on Discord.
            msg["referenced_message"] = {
                k: v for k, v in replied.items() if k != "referenced_message"
            }
            if ping and all(u["id"] != replied["author"]["id"] for u in msg["mentions"]):
                msg["mentions"].append(replied["author"])
        await self.dispatch("MESSAGE_CREATE", msg)
        return int(msg["id"])

    def attachment(self, channel_id: int, name: str, data: bytes) -> Json:
        """A user's file as Discord describes it (its CDN url served by the fake)."""
        aid = self.snowflake()
        path = f"{channel_id}/{aid}/{name}"
        self._attachments[path] = data
        url = f"{self.base_url}/attachments/{path}"
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        if kind.startswith("text/"):
            kind += "; charset=utf-8"
        return {"id": str(aid), "filename": name, "size": len(data), "url": url,
                "proxy_url": url, "content_type": kind}  # fmt: skip

    def files_in(self, where: int) -> list[SentFile]:
        """The files the bot sent into a channel (or an interaction's answers), in order."""
        return [f for f in self.files if f.where == where]

    async def edit_message(self, message_id: int, content: str) -> None:
        """The author of user message ``message_id`` edits it to say ``content``: Discord sends
        MESSAGE_UPDATE with the whole message as it now is (mentions read anew) and a new
        ``edited_timestamp``."""
        msg = self._stored[message_id]
        if msg["author"]["id"] == str(BOT_ID):
            raise ValueError("edit the bot's own messages through the REST API")
        guild_id = msg.get("guild_id")
        msg["content"] = content
        msg["mentions"] = self._mentions(content, self.guilds[int(guild_id)] if guild_id else None)
        msg["edited_timestamp"] = _now()
        await self.dispatch("MESSAGE_UPDATE", msg)

    async def unfurl_links(self, message_id: int) -> None:
        """Discord resolves the links in message ``message_id`` into embeds: MESSAGE_UPDATE
        again, but no edit (``edited_timestamp`` stays as it was)."""
        msg = self._stored[message_id]
        msg["embeds"] = [{"type": "link", "url": "https://example.com", "title": "Example"}]
        await self.dispatch("MESSAGE_UPDATE", msg)

    async def member_join(
        self, guild_id: int, user_id: int, username: str, *, global_name: str | None = None,
        invite: str | None = None,
    ) -> None:  # fmt: skip
        """``user_id`` joins the server (through the invite ``invite``, a code, whose uses go
        up): added as by ``add_member``, then GUILD_MEMBER_ADD."""
        if invite is not None:
            self.invites[invite]["uses"] += 1
        self.add_member(guild_id, user_id, username, global_name=global_name)
        member = self._member(self.guilds[guild_id], user_id)
        await self.dispatch("GUILD_MEMBER_ADD", {**member, "guild_id": str(guild_id)})

    async def poll_vote(
        self, guild_id: int | None, channel_id: int, message_id: int, user_id: int,
        answer_id: int, *, remove: bool = False,
    ) -> None:  # fmt: skip
        """``user_id`` votes for answer ``answer_id`` (from 1) of the poll on ``message_id``, or
        with ``remove`` takes that vote back: MESSAGE_POLL_VOTE_ADD/REMOVE. An ended poll
        takes no votes, and sends nothing."""
        poll = (self._stored.get(message_id) or {}).get("poll")
        if poll is not None and poll["results"]["is_finalized"]:
            return
        voters = self.poll_votes.setdefault(message_id, {}).setdefault(answer_id, set())
        if remove:
            voters.discard(user_id)
        else:
            voters.add(user_id)
        data: Json = {"user_id": str(user_id), "channel_id": str(channel_id),
                      "message_id": str(message_id), "answer_id": answer_id}  # fmt: skip
        data.update({"guild_id": str(guild_id)} if guild_id else {})
        await self.dispatch(f"MESSAGE_POLL_VOTE_{'REMOVE' if remove else 'ADD'}", data)

    async def slash_command(
        self, guild_id: int | None, channel_id: int, user_id: int, name: str, options: Opts = None,
        users: dict[str, int] | None = None, files: dict[str, tuple[str, bytes]] | None = None,
    ) -> FakeInteraction:  # fmt: skip
        """A user runs ``/name``; ``data.id`` is the synced command's id when there is one.
        ``users`` are user options (name -> user id): Discord sends the id as the value and the
        user (and, in a server, their member) in ``data.resolved``. ``files`` are attachment
        options (name -> (file name, bytes)): the attachment's id as the value, the attachment
        (served for download) in ``data.resolved.attachments``."""
        data = self._command_data(guild_id, name)
        types = {bool: 5, int: 4, float: 10, str: 3}
        picked = [{"name": k, "type": 6, "value": str(v)} for k, v in (users or {}).items()]
        given = {k: self.attachment(channel_id, *f) for k, f in (files or {}).items()}
        picked += [{"name": k, "type": 11, "value": a["id"]} for k, a in given.items()]
        opts = picked + [
            {"name": k, "type": types[type(v)], "value": v} for k, v in (options or {}).items()
        ]
        data.update({"options": opts} if opts else {})
        if users:
            data["resolved"] = self._resolved(guild_id, set(users.values()))
        if given:
            attached = {a["id"]: a for a in given.values()}
            data["resolved"] = {**data.get("resolved", {}), "attachments": attached}
        return await self._interact(2, guild_id, channel_id, user_id, data)

    async def autocomplete(
        self, guild_id: int | None, channel_id: int, user_id: int, name: str, focused: str,
        typed: str = "", options: Opts = None,
    ) -> FakeInteraction:  # fmt: skip
        """A user types ``typed`` into the option ``focused`` of ``/name``: an interaction of
        type 4, its focused option's value a string whatever the option's type (as Discord
        sends it). The bot answers with callback type 8 and its choices."""
        data = self._command_data(guild_id, name)
        synced = next((c for c in self._synced(guild_id) if c["name"] == name), {})
        kinds = {o["name"]: o["type"] for o in synced.get("options", [])}
        opts: list[Json] = [{"name": k, "type": 3 if isinstance(v, str) else 4, "value": v}
                            for k, v in (options or {}).items()]  # fmt: skip
        opts.append({"name": focused, "type": kinds.get(focused, 3), "value": typed,
                     "focused": True})  # fmt: skip
        data["options"] = opts
        return await self._interact(4, guild_id, channel_id, user_id, data)

    async def user_command(
        self, guild_id: int | None, channel_id: int, user_id: int, name: str, target_id: int
    ) -> FakeInteraction:
        """A user right-clicks ``target_id`` → Apps → ``name``: an interaction of type 2 whose
        data is of type 2 (a user command), with ``target_id`` and the target resolved (user,
        and member in a server) as Discord sends it. The bot may answer with a modal (9)."""
        cmd = next((c for c in self._synced(guild_id)
                    if c["name"] == name and c.get("type") == 2), {})  # fmt: skip
        data: Json = {"id": cmd.get("id", str(self.snowflake())), "name": name, "type": 2,
                      "target_id": str(target_id)}  # fmt: skip
        data.update({"guild_id": cmd["guild_id"]} if "guild_id" in cmd else {})
        data["resolved"] = self._resolved(guild_id, {target_id})
        return await self._interact(2, guild_id, channel_id, user_id, data)

    async def submit_modal(
        self, guild_id: int | None, channel_id: int, user_id: int, custom_id: str,
        values: dict[str, str],
    ) -> FakeInteraction:  # fmt: skip
        """A user submits the modal ``custom_id`` with ``values`` (text input custom_id ->
        what was typed): MODAL_SUBMIT (type 5), each input inside its label (type 18), as
        Discord sends a modal made of labels."""
        components = [
            {"type": 18, "id": index * 2 + 1,
             "component": {"type": 4, "id": index * 2 + 2, "custom_id": key, "value": value}}
            for index, (key, value) in enumerate(values.items())
        ]  # fmt: skip
        data = {"custom_id": custom_id, "components": components}
        return await self._interact(5, guild_id, channel_id, user_id, data)

    def _resolved(self, guild_id: int | None, ids: set[int]) -> Json:
        """Users (and, in a server, their members with permissions) as Discord resolves them."""
        resolved: Json = {"users": {str(u): self.users[u] for u in ids}}
        guild = self.guilds.get(guild_id or 0)
        if guild is not None:
            resolved["members"] = {
                str(u): {**self._member(guild, u, with_user=False),
                         "permissions": str(self.permissions(guild.id, u))}
                for u in ids if u in guild.members
            }  # fmt: skip
        return resolved

    def _synced(self, guild_id: int | None) -> list[Json]:
        return self.commands.get(guild_id, []) + self.commands.get(None, [])

    def _command_data(self, guild_id: int | None, name: str) -> Json:
        cmd = next((c for c in self._synced(guild_id) if c["name"] == name), {})
        data: Json = {"id": cmd.get("id", str(self.snowflake())), "name": name, "type": 1}
        if "guild_id" in cmd:
            data["guild_id"] = cmd["guild_id"]  # the tree finds guild commands by this
        return data

    async def press_button(
        self, guild_id: int | None, channel_id: int, user_id: int, custom_id: str,
        message_id: int | None = None,
    ) -> FakeInteraction:  # fmt: skip
        """A user presses a button on ``message_id``, else on the bot's latest message with it."""
        msg = self._stored.get(message_id or 0) or next(
            (m for m in reversed(self._stored.values()) if m["channel_id"] == str(channel_id)
             and any(c["custom_id"] == custom_id for c in _flatten(m["components"]))), None,
        )  # fmt: skip
        if msg is None:  # unknown message: a minimal one carrying just that button
            button = {"type": 2, "style": 1, "label": custom_id, "custom_id": custom_id}
            body = {"components": [{"type": 1, "components": [button]}]}
            msg = self._make_message(channel_id, BOT_ID, body)
        data = {"custom_id": custom_id, "component_type": 2}
        return await self._interact(3, guild_id, channel_id, user_id, data, msg)

    async def _interact(
        self, itype: int, guild_id: int | None, channel_id: int, user_id: int, data: Json,
        message: Json | None = None,
    ) -> FakeInteraction:  # fmt: skip
        iid, token = self.snowflake(), f"fake-itoken-{secrets.token_urlsafe(24)}"
        payload: Json = {
            "id": str(iid), "application_id": str(APP_ID), "type": itype, "token": token,
            "version": 1, "channel_id": str(channel_id), "channel": self.channels[channel_id],
            "data": data, "locale": "en-US", "entitlements": [], "entitlement_sku_ids": [],
            "attachment_size_limit": 10_485_760,  # discord.py reads this key unconditionally
            "context": 0 if guild_id else 1, "app_permissions": str(EVERYONE_PERMS),
            "authorizing_integration_owners": {"0": str(guild_id)} if guild_id else {},
            **({"message": message} if message else {}),
        }  # fmt: skip
        if guild_id is None:
            payload["user"] = self.users[user_id]
        else:
            perms = str(self.permissions(guild_id, user_id))
            member = {**self._member(self.guilds[guild_id], user_id), "permissions": perms}
            payload.update(guild_id=str(guild_id), guild_locale="en-US", member=member)
            payload["app_permissions"] = str(self.permissions(guild_id, BOT_ID))
            payload["guild"] = {"id": str(guild_id), "locale": "en-US", "features": []}
        msg_id = int(message["id"]) if message else None
        inter = FakeInteraction(iid, token, itype, guild_id, channel_id, user_id, payload, msg_id)
        self.interactions[iid] = inter
        await self.dispatch("INTERACTION_CREATE", payload)
        return inter

    # -- payload builders ----------------------------------------------------------------------

    def _add_user(
        self, uid: int, name: str, global_name: str | None = None, bot: bool = False
    ) -> None:
        self.users[uid] = {
            "id": str(uid), "username": name, "global_name": global_name, "discriminator": "0",
            "avatar": None, "bot": bot, "public_flags": 0, "flags": 0, "banner": None,
            "accent_color": None, "avatar_decoration_data": None,
        }  # fmt: skip

    def _member(self, guild: _Guild, uid: int, with_user: bool = True) -> Json:
        member: Json = {
            "roles": [str(r) for r in guild.members.get(uid, [])], "joined_at": _now(),
            "deaf": False, "mute": False, "flags": 0, "pending": False, "nick": None,
            "avatar": None, "premium_since": None, "communication_disabled_until": None,
        }  # fmt: skip
        return {**member, "user": self.users[uid]} if with_user else member

    def _guild_payload(self, g: _Guild) -> Json:
        members = [self._member(g, uid) for uid in g.members]
        return {
            "id": str(g.id), "name": g.name, "icon": None, "owner_id": str(g.owner_id),
            "afk_timeout": 300, "verification_level": 0, "default_message_notifications": 0,
            "explicit_content_filter": 0, "mfa_level": 0, "nsfw_level": 0, "premium_tier": 0,
            "preferred_locale": "en-US", "features": [], "emojis": [], "stickers": [],
            "roles": g.roles, "threads": [], "system_channel_flags": 0,
            "system_channel_id": str(g.system_channel_id) if g.system_channel_id else None,
            "channels": [self.channels[c] for c in g.channel_ids], "members": members,
            "member_count": len(members),  # == members sent, else discord.py asks for chunks
            "presences": [], "voice_states": [], "stage_instances": [],
            "guild_scheduled_events": [], "large": False, "unavailable": False,
            "joined_at": _now(), "max_members": 500000,
        }  # fmt: skip

    def _make_message(self, channel_id: int, author_id: int, body: Json, mtype: int = 0) -> Json:
        mid, gid = self.snowflake(), self.channels[channel_id].get("guild_id")
        guild = self.guilds[int(gid)] if gid else None
        content = body.get("content") or ""
        mentions = self._mentions(content, guild)
        msg: Json = {
            "id": str(mid), "channel_id": str(channel_id), "author": self.users[author_id],
            "content": content, "timestamp": _now(), "edited_timestamp": None, "tts": False,
            "mention_everyone": False, "mentions": mentions, "mention_roles": [],
            "attachments": [], "embeds": body.get("embeds") or [], "pinned": False,
            "components": body.get("components") or [], "type": mtype,
            "flags": int(body.get("flags") or 0),
        }  # fmt: skip
        if (poll := body.get("poll")) is not None:  # answers numbered from 1, as on Discord
            expiry = datetime.now(UTC) + timedelta(hours=poll.get("duration", 24))
            msg["poll"] = {
                "question": poll["question"], "expiry": expiry.isoformat(),
                "answers": [{"answer_id": i, "poll_media": a["poll_media"]}
                            for i, a in enumerate(poll["answers"], 1)],
                "allow_multiselect": bool(poll.get("allow_multiselect")),
                "layout_type": poll.get("layout_type", 1),
                "results": {"is_finalized": False, "answer_counts": []},
            }  # fmt: skip
        if guild is not None:
            msg["guild_id"] = gid
            if author_id in guild.members:
                msg["member"] = self._member(guild, author_id, False)
        if body.get("webhook") or mtype == 20:  # interaction replies come from the app webhook
            msg["webhook_id"] = msg["application_id"] = str(APP_ID)
        self._stored[mid] = msg
        return msg

    def _mentions(self, content: str, guild: _Guild | None) -> list[Json]:
        """The users ``content`` mentions as <@id>, as a message carries them."""
        return [
            {**self.users[u], **({"member": self._member(guild, u, False)} if guild else {})}
            for u in dict.fromkeys(int(x) for x in MENTION_RE.findall(content)) if u in self.users
        ]  # fmt: skip

    def _record(self, kind: str, where: int, msg: Json, body: Json, *, new: bool = False) -> None:
        """Record a send (flags as the message ends up); echo new visible ones like Discord."""
        components, embeds = _flatten(body.get("components") or []), body.get("embeds") or []
        content, mentions = body.get("content"), body.get("allowed_mentions")
        shown = (content, components, embeds, msg["flags"], mentions, body.get("poll"))
        self.messages.append(SentMessage(kind, where, int(msg["id"]), *shown))
        if new:
            nonce = msg.get("nonce")
            taken = (int(msg["channel_id"]), int(msg["id"]), content or "", nonce, time.monotonic())
            self.accepted.append(Accepted(*taken))
        if new and self.echo_own_messages and not msg["flags"] & 64:  # ephemerals: no echo
            self._echoes.append(("MESSAGE_CREATE", msg))

    @staticmethod
    def _edit(msg: Json, body: Json) -> None:
        for key in ("content", "embeds", "components"):
            if key in body:
                msg[key] = body[key] if body[key] is not None else ("" if key == "content" else [])
        msg["flags"] &= ~128  # a deferred "thinking" message stops loading once edited
        msg["edited_timestamp"] = _now()

    # -- REST ----------------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.Response:
        call = Call(request.method, "/" + request.match_info["tail"], dict(request.query), None)
        if request.content_type == "application/json":
            call.json = await request.json()
        elif request.content_type.startswith("multipart/"):
            form = await request.post()
            raw = form.get("payload_json")
            call.json = json.loads(raw) if isinstance(raw, str) else None
            for value in form.values():
                if isinstance(value, web.FileField):
                    call.files.append((value.filename, value.file.read()))
        self.calls.append(call)
        headers: dict[str, str] = {}
        rule = next((r for r in self._throttles if r[2] > 0 and r[0] == call.method
                     and call.path.startswith(r[1])), None)  # fmt: skip
        if rule is not None:
            rule[2] -= 1
            call.status, body, headers = self._too_many(rule[3])
        elif (limited := self._limited(call)) is not None:
            call.status, body, headers = limited
        elif self.revoked:
            call.status, body = _error(401, 0, "401: Unauthorized")
        else:
            call.status, body = self._channel_trouble(call) or self._route(call)
            headers = self._bucket_headers(call)
            if call.files and call.status < 300:
                where, mid = _files_where(call.path), _message_id(body)
                self.files.extend(SentFile(where, name, data, mid) for name, data in call.files)
        echoes, self._echoes = self._echoes, []
        for event, data in echoes:
            await self.dispatch(event, data)
        await self._notify()
        if body is None:
            return web.Response(status=call.status, headers=headers)
        # Exactly "application/json": discord.py JSON-decodes only on an exact match.
        headers["Content-Type"] = "application/json"
        return web.Response(status=call.status, body=json.dumps(body).encode(), headers=headers)

    def _too_many(
        self, retry_after: float, *, whole: bool = False
    ) -> tuple[int, Json, dict[str, str]]:
        """A 429 as Discord answers it; discord.py sits one out only when it carries `Via`
        (else it takes it for a Cloudflare ban)."""
        self.throttled += 1
        self.throttled_global += whole
        retry_after = round(retry_after, 3)  # as Discord gives it
        after = f"{retry_after:.3f}"
        headers = {"Via": "1.1 google", "Retry-After": after,
                   "X-RateLimit-Scope": "global" if whole else "user"}  # fmt: skip
        if whole:
            headers["X-RateLimit-Global"] = "true"
        else:
            headers.update({
                "X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
                "X-RateLimit-Reset-After": after, "X-RateLimit-Bucket": "fake-bucket",
            })  # fmt: skip
        body = {"message": "You are being rate limited.", "retry_after": retry_after,
                "global": whole}  # fmt: skip
        return 429, body, headers

    def _limited(self, call: Call) -> tuple[int, Json, dict[str, str]] | None:
        """A 429 for a call over the limits (when kept); else it counts against them."""
        limits, now = self.limits, time.monotonic()
        if limits is None or call.path.startswith(("/interactions/", "/webhooks/")):
            return None  # interactions have limits of their own, not the bot's
        wait = self._overall.left(now, limits.overall, limits.overall_seconds)
        if wait > 0:
            return self._too_many(wait, whole=True)
        cid = _message_channel(call)
        if cid is not None:
            bucket = self._buckets.setdefault(cid, _Bucket())
            wait = bucket.left(now, limits.per_channel, limits.channel_seconds)
            if wait > 0:
                return self._too_many(wait)
            bucket.count += 1
        self._overall.count += 1
        return None

    def _bucket_headers(self, call: Call) -> dict[str, str]:
        """What Discord tells of a message's bucket, so discord.py waits before it is spent."""
        cid = _message_channel(call) if self.limits is not None else None
        if self.limits is None or cid is None or call.status >= 400:
            return {}
        bucket, limits = self._buckets[cid], self.limits
        reset = max(0.0, bucket.start + limits.channel_seconds - time.monotonic())
        return {
            "X-RateLimit-Limit": str(limits.per_channel),
            "X-RateLimit-Remaining": str(max(0, limits.per_channel - bucket.count)),
            "X-RateLimit-Reset": f"{time.time() + reset:.3f}",
            "X-RateLimit-Reset-After": f"{reset:.3f}", "X-RateLimit-Bucket": "fake-messages",
        }  # fmt: skip

    def _channel_trouble(self, call: Call) -> Reply | None:
        """A refused channel's 403, or a failing one's 5xx (after posting, when asked)."""
        found = CHANNEL_PATH.match(call.path)
        cid = int(found["cid"]) if found else 0
        if cid in self._refused:
            code = self._refused[cid]
            return _error(403, code, REFUSALS.get(code, "Forbidden"))
        if cid not in self._failing:
            return None
        times, status, accept = self._failing.pop(cid)
        if times > 1:
            self._failing[cid] = (times - 1, status, accept)
        if accept:
            self._route(call)
        return _error(status, 0, f"{status}: Server Error")

    def _route(self, call: Call) -> Reply:
        for methods, pattern, handler in self._routes:
            if call.method in methods and (match := pattern.match(call.path)):
                return handler(call, match)
        self.misses.append(call)
        return _error(404, 0, "404: Not Found")

    def _app(self, call: Call, m: re.Match[str]) -> Reply:
        return 200, {
            "id": str(APP_ID), "name": "communitybot", "description": "", "icon": None,
            "bot_public": True, "bot_require_code_grant": False, "owner": self.users[BOT_ID],
            "verify_key": "0" * 64, "flags": 0, "team": None, "bot": self.users[BOT_ID],
        }  # fmt: skip

    def _gateway(self, call: Call, m: re.Match[str]) -> Reply:
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        extra = {"shards": 1, "session_start_limit": limit} if m["bot"] else {}
        return 200, {"url": self.ws_url, **extra}

    def _cmds(self, call: Call, m: re.Match[str]) -> Reply:
        if int(m["app"]) != APP_ID:
            return _error(404, 10002, "Unknown Application")
        key = int(m["g"]) if m["g"] else None
        if call.method == "GET":
            return 200, self.commands.get(key, [])
        for cmd in call.json or []:
            if (bad := _bad_command(cmd)) is not None:
                err = {"code": "APPLICATION_COMMAND_INVALID", "message": bad}
                return _error(400, 50035, "Invalid Form Body", errors={"_errors": [err]})
        ids = {c["name"]: c["id"] for c in self.commands.get(key, [])}  # re-syncs keep ids
        self.commands[key] = [
            {"type": 1, "description": "", "options": [], "default_member_permissions": None,
             "dm_permission": True, "nsfw": False, **cmd, "application_id": str(APP_ID),
             "id": ids.get(cmd["name"]) or str(self.snowflake()),
             "version": str(self.snowflake()), **({"guild_id": str(key)} if key else {})}
            for cmd in call.json or []
        ]  # fmt: skip
        return 200, self.commands[key]

    def _callback(self, call: Call, m: re.Match[str]) -> Reply:
        inter = self.interactions.get(int(m["iid"]))
        if inter is None or inter.token != m["token"] or self.too_late:
            return _error(404, 10062, "Unknown interaction")
        if inter.responses:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        body = call.json or {}
        rtype, data = body.get("type"), body.get("data") or {}
        if rtype in (4, 7) and (bad := _invalid(data, need_any=rtype == 4)):
            return bad
        if (rtype == 8) != (inter.type == 4) or (rtype == 9 and inter.type not in (2, 3)):
            # Autocomplete is answered with choices only; a modal opens from a command or a
            # component, never from a modal (or autocomplete).
            return _error(400, 40043, "Interaction response type not valid for this interaction")
        if rtype == 9 and (wrong := _bad_modal(data)) is not None:
            err = {"code": "COMPONENT_INVALID", "message": wrong}
            return _error(400, 50035, "Invalid Form Body", errors={"data": {"_errors": [err]}})
        choices = data.get("choices") or []
        if rtype == 8 and (len(choices) > 25 or any(
            not 1 <= len(c.get("name") or "") <= 100 for c in choices)):  # fmt: skip
            return _error(400, 50035, "Invalid Form Body", errors={"choices": {"_errors": []}})
        inter.responses.append(body)
        msg = self._stored.get(inter.message_id or 0) if rtype == 7 else None
        if rtype in (4, 5):  # a new message; for 5 an empty "thinking" one (flag 128)
            shown = data if rtype == 4 else {"flags": int(data.get("flags") or 0) | 128}
            msg = self._make_message(inter.channel_id, BOT_ID, shown, 20 if inter.type == 2 else 0)
            inter.message_id = int(msg["id"])
            if rtype == 4:
                self._record("response", inter.id, msg, data, new=True)
            elif self.echo_own_messages and not msg["flags"] & 64:
                self._echoes.append(("MESSAGE_CREATE", msg))  # "thinking" shows in the channel
        elif msg is not None:  # 7: update the message the component was on
            self._edit(msg, data)
            self._record("update", inter.id, msg, data)
        if call.query.get("with_response") not in ("1", "true", "True"):
            return 204, None
        # discord.py >= 2.5 always sends ?with_response=1 and parses this shape.
        info = {"id": str(inter.id), "type": inter.type, "response_message_loading": rtype == 5,
                "response_message_ephemeral": bool(msg and msg["flags"] & 64)}  # fmt: skip
        resource: Json = {"type": rtype}
        if msg is not None:
            info["response_message_id"], resource["message"] = msg["id"], msg
        return 200, {"interaction": info, "resource": resource}

    def _by_token(self, m: re.Match[str]) -> FakeInteraction | None:
        found = (i for i in self.interactions.values() if i.token == m["token"])
        return next(found, None) if int(m["app"]) == APP_ID else None

    def _followup(self, call: Call, m: re.Match[str]) -> Reply:
        inter, body = self._by_token(m), call.json or {}
        if inter is None or not inter.responses:  # follow-ups need an initial response
            return _error(404, 10015, "Unknown Webhook")
        msg = self._stored.get(inter.message_id or 0)
        if msg is not None and msg["flags"] & 128:  # Discord drops a poll here (api-docs#7022)
            body = {k: v for k, v in body.items() if k != "poll"}
        if bad := _invalid(body):
            return bad
        if msg is not None and msg["flags"] & 128:
            # After a defer the first follow-up replaces the "thinking" message and keeps the
            # defer's ephemerality, as on Discord.
            self._edit(msg, body)
            self._record("followup", inter.id, msg, body)
        else:
            msg = self._make_message(inter.channel_id, BOT_ID, {**body, "webhook": True})
            self._record("followup", inter.id, msg, body, new=True)
        return (200, msg) if call.query.get("wait") in ("1", "true", "True") else (204, None)

    def _webhook_msg(self, call: Call, m: re.Match[str]) -> Reply:
        inter = self._by_token(m)
        if inter is None:
            return _error(404, 10015, "Unknown Webhook")
        mid = inter.message_id if m["mid"] == "@original" else int(m["mid"])
        msg = self._stored.get(mid or 0)
        if msg is None:
            return _error(404, 10008, "Unknown Message")
        if call.method != "DELETE":
            return self._edit_reply(call, msg, "original_edit", inter.id)
        del self._stored[int(msg["id"])]
        self.deleted.append(int(msg["id"]))
        if self.echo_own_messages and not msg["flags"] & 64:  # clients see visible ones go
            keys = ("id", "channel_id", "guild_id")
            self._echoes.append(("MESSAGE_DELETE", {k: msg[k] for k in keys if k in msg}))
        return 204, None

    def _channel_send(self, call: Call, m: re.Match[str]) -> Reply:
        cid, body = int(m["cid"]), call.json or {}
        if cid not in self.channels:
            return _error(404, 10003, "Unknown Channel")
        if bad := _invalid(body):
            return bad
        nonce = str(body["nonce"]) if body.get("nonce") is not None else None
        key, now = (cid, nonce or ""), time.monotonic()
        earlier = self._nonces.get(key) if body.get("enforce_nonce") else None
        if earlier is not None and now - earlier[0] < NONCE_WINDOW:
            self.deduplicated += 1
            return 200, earlier[1]  # the message that nonce posted, not a second one
        msg = self._make_message(cid, BOT_ID, body)
        if nonce is not None:
            msg["nonce"] = nonce
            self._nonces[key] = (now, msg)
        self._record("channel", cid, msg, body, new=True)
        return 200, msg

    def _channel_msg(self, call: Call, m: re.Match[str]) -> Reply:
        msg = self._stored.get(int(m["mid"]))
        if msg is None or msg["channel_id"] != m["cid"]:
            return _error(404, 10008, "Unknown Message")
        if call.method == "PATCH" and msg["author"]["id"] != str(BOT_ID):
            return _error(403, 50005, "Cannot edit a message authored by another user")
        return self._edit_reply(call, msg, "channel_edit", int(m["cid"]))

    def _edit_reply(self, call: Call, msg: Json, kind: str, where: int) -> Reply:
        """GET returns ``msg``; PATCH validates, edits and records it."""
        if call.method == "PATCH":
            if bad := _invalid(body := call.json or {}, need_any=False):
                return bad
            self._edit(msg, body)
            self._record(kind, where, msg, body)
        return 200, msg

    def _channel(self, call: Call, m: re.Match[str]) -> Reply:
        channel = self.channels.get(int(m["cid"]))
        return (200, channel) if channel else _error(404, 10003, "Unknown Channel")

    def _expire_poll(self, call: Call, m: re.Match[str]) -> Reply:
        """End a poll now: final counts, ``results.is_finalized``; only its author may."""
        msg = self._stored.get(int(m["mid"]))
        if msg is None or msg["channel_id"] != m["cid"]:
            return _error(404, 10008, "Unknown Message")
        if msg["author"]["id"] != str(BOT_ID):
            return _error(403, 50013, "Missing Permissions")
        if (poll := msg.get("poll")) is None:
            return _error(400, 520006, "Cannot expire a non-poll message")
        if poll["results"]["is_finalized"]:
            return _error(400, 520001, "Poll expired")
        votes = self.poll_votes.get(int(msg["id"]), {})
        counts = [{"id": a, "count": len(u), "me_voted": BOT_ID in u} for a, u in votes.items()]
        poll["results"] = {"is_finalized": True, "answer_counts": counts}
        poll["expiry"] = _now()
        return 200, msg

    def _user(self, call: Call, m: re.Match[str]) -> Reply:
        user = self.users.get(int(m["uid"]))
        return (200, user) if user else _error(404, 10013, "Unknown User")

    def _create_dm(self, call: Call, m: re.Match[str]) -> Reply:
        uid = int((call.json or {}).get("recipient_id", 0))
        if uid not in self.users:
            return _error(404, 10013, "Unknown User")
        return 200, self.channels[self.open_dm(uid)]

    def _create_invite(self, call: Call, m: re.Match[str]) -> Reply:
        channel = self.channels.get(int(m["cid"]))
        if channel is None or "guild_id" not in channel:
            return _error(404, 10003, "Unknown Channel")
        guild = self.guilds[int(channel["guild_id"])]
        if not self.permissions(guild.id, BOT_ID) & 1:  # CREATE_INSTANT_INVITE
            return _error(403, 50013, "Missing Permissions")
        body = call.json or {}
        code = f"fake{secrets.token_hex(4)}"
        self.invites[code] = {
            "type": 0, "code": code, "uses": 0, "max_uses": int(body.get("max_uses") or 0),
            "max_age": int(body.get("max_age", 86400)), "temporary": False,
            "created_at": _now(), "inviter": self.users[BOT_ID],
            "guild": {"id": str(guild.id), "name": guild.name, "features": [], "icon": None,
                      "splash": None, "description": None, "verification_level": 0},
            "channel": {"id": channel["id"], "name": channel["name"], "type": 0},
            "unique": bool(body.get("unique")),
        }  # fmt: skip
        return 200, self.invites[code]

    def _guild_invites(self, call: Call, m: re.Match[str]) -> Reply:
        if self.invites_denied:
            return _error(403, 50013, "Missing Permissions")
        gid = m["g"]
        return 200, [i for i in self.invites.values() if i["guild"]["id"] == gid]

    async def _download(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        if path not in self._attachments:
            return web.Response(status=404)
        self.downloads.append(path)
        kind = mimetypes.guess_type(path)[0] or "application/octet-stream"
        return web.Response(body=self._attachments[path], content_type=kind)

    def _guild_member(self, call: Call, m: re.Match[str]) -> Reply:
        guild, uid = self.guilds.get(int(m["g"])), int(m["uid"])
        if guild is None:
            return _error(404, 10004, "Unknown Guild")
        known = uid in guild.members
        return (200, self._member(guild, uid)) if known else _error(404, 10007, "Unknown Member")


def _files_where(path: str) -> int:
    """Where files sent with a call went: its channel, or its interaction (by id or token)."""
    found = re.match(r"/(?:channels|interactions)/(\d+)", path)
    return int(found[1]) if found else 0


def _message_id(body: Any) -> int:
    """The id of the message a REST answer carries (0 for none: a 204, a bare callback)."""
    if isinstance(body, dict) and isinstance(body.get("resource"), dict):
        body = body["resource"].get("message")
    return int(body["id"]) if isinstance(body, dict) and "id" in body else 0


def _message_channel(call: Call) -> int | None:
    """The channel a call posts a message in (what a channel's message bucket counts)."""
    found = CHANNEL_PATH.match(call.path)
    if call.method != "POST" or found is None or found["rest"] != "/messages":
        return None
    return int(found["cid"])


def _role(role_id: int, name: str, perms: int, position: int) -> Json:
    return {
        "id": str(role_id), "name": name, "permissions": str(perms), "position": position,
        "color": 0, "colors": {"primary_color": 0}, "hoist": False, "icon": None,
        "unicode_emoji": None, "managed": False, "mentionable": False, "flags": 0,
    }  # fmt: skip
