"""A fake Telegram Bot API server that the real python-telegram-bot talks to over a local socket.

Usage: ``async with FakeTelegram() as tg:`` then ``Bot(token, base_url=tg.base_url)``. Push updates
with ``tg.push_message(...)`` (a user's later edit of it: ``tg.push_edited_message(...)``) etc.;
read what the bot did from ``tg.calls``. Written from the Bot API docs: the ``{"ok": ...}``
envelope, long-polled ``getUpdates`` confirmed by ``offset`` and filtered by ``allowed_updates``,
HTML validation like Telegram's, 429 with ``retry_after``. Files: ``sendDocument`` keeps what
the bot uploads (``documents``); ``sendPhoto``/``sendVideo``/``sendDocument`` and albums
(``sendMediaGroup``) take an upload or a file_id the fake gave out, keep every file posted with its
bytes in ``sent_media`` (``media_in(chat)``), and answer a new file_id for each upload; a user's
photo, video or document (``photo_message(content=...)``, ``video_message``,
``document_message(content=...)``, each may ``reply_to`` a message) is served by ``getFile``
and downloaded from ``/file/bot<token>/<file_path>`` (``downloads``); an edit of a file's words
is ``editMessageCaption`` (``editMessageText`` there is refused, as on Telegram);
``createChatInviteLink`` makes named links (the bot must be an admin:
``set_member_status(chat, BOT_ID, ...)``) and ``chat_member_joined`` says who joined through
one. With
``FakeTelegram(flood_limits=FloodLimits())`` it keeps Telegram's flood limits (429 past them);
``tg.accepted`` keeps every message taken, ``tg.too_many_requests`` counts the 429s answered.
Limits: MarkdownV2 is not validated, no webhook delivery, no inline mode.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import math
import re
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Self

from aiohttp import web

JSON = dict[str, Any]
BOT_ID = 999000
BOT_USER: JSON = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Community Bot",
    "username": "community_bot",
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
TEXT_LIMIT = 4096  # UTF-16 code units, after entity parsing
NOT_FOUND: JSON = {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
MEMBER_STATUSES = ("creator", "administrator", "member", "left", "kicked")
# fmt: off
ADMIN_RIGHTS: JSON = {  # every field PTB's ChatMemberAdministrator requires
    "can_manage_chat": True, "can_delete_messages": True, "can_manage_video_chats": True,
    "can_restrict_members": True, "can_change_info": True, "can_invite_users": True,
    "can_pin_messages": True, "can_be_edited": False, "is_anonymous": False,
    "can_promote_members": False, "can_post_stories": False, "can_edit_stories": False,
    "can_delete_stories": False, "can_manage_topics": False,
}
# Free text is never JSON-decoded: a user's "123" or "[1]" must stay a string.
TEXT_PARAMS = frozenset({
    "text", "caption", "question", "explanation", "description", "short_description", "name",
    "title", "url", "data", "secret_token", "custom_title", "callback_query_id",
    "inline_message_id", "language_code",
})
HTML_TAGS = frozenset({  # what Telegram's HTML parse mode supports, nothing more
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
    "code", "pre", "blockquote", "tg-emoji",
})
GIFT_TYPES = {  # ChatFullInfo.accepted_gift_types: required by PTB 22.8
    "unlimited_gifts": False, "limited_gifts": False, "unique_gifts": False,
    "premium_subscription": False, "gifts_from_channels": False,
}
# fmt: on
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
_SPECIAL_RE = re.compile(r"[<&]")
_TAG_RE = re.compile(
    r"<(/?)([A-Za-z][\w-]*)((?:\s+[\w-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'>]+))?)*)\s*>"
)
_ATTR_RE = re.compile(r"([\w-]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+)))?")
_ENTITY_RE = re.compile(r"&(?:(lt|gt|amp|quot)|#(\d{1,7})|#[xX]([0-9A-Fa-f]{1,6}));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_NUMBER_RE = re.compile(r"-?\d+(?:\.\d+)?")
# Methods that post a message into a chat: what Telegram's flood limits count.
POSTING = frozenset(
    {"sendMessage", "sendPoll", "sendDocument", "sendPhoto", "sendVideo", "sendMediaGroup"}
)
# Methods that act in a chat, and so are refused where the bot was removed or blocked.
IN_CHAT = POSTING | {
    "editMessageText",
    "editMessageCaption",
    "editMessageReplyMarkup",
    "stopPoll",
    "createChatInviteLink",
}
CAPTION_LIMIT = 1024


@dataclass(frozen=True, slots=True)
class FloodLimits:
    """Telegram's flood limits as the fake enforces them (defaults: Telegram's own). Past one,
    a posting call is answered 429 with ``retry_after``: whole seconds until it would pass."""

    overall: int = 30  # messages in all ...
    overall_seconds: float = 1.0  # ... in any window this long
    group: int = 20  # into one group (a negative chat id) ...
    group_seconds: float = 60.0
    private: int = 1  # into one private chat
    private_seconds: float = 1.0


@dataclass(frozen=True, slots=True)
class Accepted:
    """A message the fake took: where, what its reader sees (a poll: its question), when
    (``time.monotonic()``)."""

    chat_id: int
    message_id: int
    text: str
    at: float


@dataclass(frozen=True, slots=True)
class SentDocument:
    """A file the bot sent (sendDocument): where, its name and bytes, its caption as shown."""

    chat_id: int
    message_id: int
    filename: str
    content: bytes
    caption: str


@dataclass(frozen=True, slots=True)
class SentMedia:
    """A photo, video or file the bot posted (alone or in an album): where, which kind, its
    name and bytes (those of the file a given file_id names), its caption as shown, the file_id
    it has now, and whether the bot named a file_id instead of uploading bytes."""

    chat_id: int
    message_id: int
    kind: str  # photo, video, document
    filename: str
    content: bytes
    caption: str
    file_id: str
    by_file_id: bool
    media_group_id: str = ""


class ApiError(Exception):
    """An error answer in the Bot API envelope."""

    def __init__(self, code: int, description: str, parameters: JSON | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters

    def body(self) -> JSON:
        body: JSON = {"ok": False, "error_code": self.code, "description": self.description}
        return body | ({"parameters": self.parameters} if self.parameters else {})


def _unauthorized() -> ApiError:
    """What Telegram answers every method once the token was revoked (or never existed)."""
    return ApiError(401, "Unauthorized")


@dataclass
class Call:
    """One request. ``status`` is the HTTP status answered, 0 while it is still held."""

    method: str
    params: JSON
    at: float  # time.monotonic(), to measure intervals between calls
    token: str = ""
    throttled: bool = False
    status: int = 0
    result: Any = None


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def _bad_html(what: str) -> ApiError:
    return ApiError(400, f"Bad Request: can't parse entities: {what}")


def _entity(match: re.Match[str]) -> str | None:
    named, decimal, hexa = match.groups()
    if named:
        return _NAMED[named]
    code = int(decimal) if decimal else int(hexa, 16)
    return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else None


def html_to_plain(text: str) -> str:
    """What the user sees of Telegram-HTML ``text``; raises ApiError where Telegram refuses it."""
    out: list[str] = []
    open_tags: list[str] = []
    pos = 0
    while (found := _SPECIAL_RE.search(text, pos)) is not None:
        start = found.start()
        out.append(text[pos:start])
        where = f"at byte offset {len(text[:start].encode())}"
        if text[start] == "&":
            entity = _ENTITY_RE.match(text, start)
            char = _entity(entity) if entity else None
            if entity is None or char is None:
                raise _bad_html(f'Unsupported HTML entity {where} (write a bare "&" as &amp;)')
            out.append(char)
            pos = entity.end()
            continue
        tag = _TAG_RE.match(text, start)
        if tag is None:
            looks_like_tag = re.match(r"</?[A-Za-z]", text[start : start + 3]) is not None
            raise _bad_html(
                f"Unclosed start tag {where}"
                if looks_like_tag
                else f'Unexpected "<" {where} (write it as &lt;)'
            )
        name = tag.group(2).lower()
        if tag.group(1):
            if not open_tags:
                raise _bad_html(f'Unexpected end tag "</{name}>" {where}')
            if open_tags[-1] != name:
                raise _bad_html(
                    f'Unmatched end tag {where}, expected "</{open_tags[-1]}>", found "</{name}>"'
                )
            open_tags.pop()
        else:
            if name not in HTML_TAGS:
                raise _bad_html(f'Unsupported start tag "{name}" {where}')
            attrs = {a[1].lower(): a[2] or a[3] or a[4] or "" for a in _ATTR_RE.finditer(tag[3])}
            if name == "span" and attrs.get("class") != "tg-spoiler":
                raise _bad_html(f'Tag "span" must have class "tg-spoiler" {where}')
            open_tags.append(name)
        pos = tag.end()
    out.append(text[pos:])
    if open_tags:
        raise _bad_html(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')
    return "".join(out)


def command_entities(text: str | None) -> list[JSON]:
    """The ``bot_command`` entity Telegram adds when a text starts with ``/``."""
    if not text or not text.startswith("/") or len(text) < 2 or text[1].isspace():
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(text.split()[0])}]


def _decode(key: str, value: str) -> Any:
    """PTB JSON-encodes every non-string value into the form; undo that, but leave free text."""
    stripped = value.strip()
    literal = stripped in ("true", "false", "null") or _NUMBER_RE.fullmatch(stripped)
    if key in TEXT_PARAMS or not (literal or stripped.startswith(("{", "["))):
        return value
    try:
        return json.loads(stripped)
    except ValueError:  # "007", "[not json": a string after all
        return value


async def read_params(request: web.Request) -> JSON:
    """Query string plus a form-encoded, multipart or JSON body, as one dict of decoded values."""
    raw: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        body = await request.json()
        if not isinstance(body, dict):
            raise ValueError("a JSON body must be an object")
        raw.update(body)
    elif request.can_read_body:
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):  # an upload: its name and bytes
                content = value.file.read()
                raw[key] = {"filename": value.filename, "size": len(content), "content": content}
            else:
                raw[key] = value.decode() if isinstance(value, bytes | bytearray) else value
    return {k: _decode(k, v) if isinstance(v, str) else v for k, v in raw.items()}


class FakeTelegram:
    """The fake server, its recorded calls, and builders for the updates it hands out."""

    def __init__(self, *, flood_limits: FloodLimits | None = None) -> None:
        self.calls: list[Call] = []
        self.flood_limits = flood_limits  # None: no flood limits (answers as fast as asked)
        self.accepted: list[Accepted] = []  # every message posted, in order
        self.tokens: set[str] = set()
        self.offsets: list[int] = []
        self.confirmed_up_to = 0  # the highest update_id confirmed by an offset
        self.on_offset: Callable[[int], Awaitable[None]] | None = None
        self.messages: dict[tuple[int, int], JSON] = {}  # (chat_id, message_id) -> Message
        self.polls: dict[str, JSON] = {}
        self.users: dict[int, JSON] = {}
        self.chats: dict[int, JSON] = {}
        self.commands: dict[tuple[str, str], list[JSON]] = {}  # (scope JSON, language) -> list
        self.webhook: JSON = {}
        self.documents: list[SentDocument] = []
        self.sent_media: list[SentMedia] = []
        self.invite_links: dict[str, JSON] = {}  # link -> ChatInviteLink
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id -> (name, bytes) users sent
        self.downloads: list[str] = []  # file ids downloaded, in order
        self.port = 0
        self._pending: list[JSON] = []
        self._update_ids = itertools.count(1)
        self._ids = itertools.count(1)  # poll, callback and file ids
        self._next_message_id: Counter[int] = Counter()
        self._raw_text: dict[tuple[int, int], str] = {}  # what editMessageText compares
        self._poll_of: dict[tuple[int, int], str] = {}
        self._members: dict[tuple[int, int], str] = {}
        self._disabled: set[str] = set()
        self._failures: dict[str, tuple[ApiError, list[int]]] = {}  # method -> error, [left]
        self._forbidden: dict[int, str] = {}  # chat id -> the 403's description
        self._upgraded: dict[int, int] = {}  # old group id -> supergroup id
        self._posted_at: dict[int, deque[float]] = {}  # chat id -> recent posting times
        self._posted_overall: deque[float] = deque()
        self._throttles: dict[str, list[int]] = {}  # method -> [calls left, retry_after]
        self._holds: dict[str, asyncio.Event] = {}
        self._poll_generation = 0
        self._closing = False
        self._revoked = False
        # One Event per "state version", replaced on every change: sync code (push_update) can
        # wake waiters, which an asyncio.Condition (whose notify needs its lock) cannot.
        self._change = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._handlers: dict[str, Callable[[JSON], Any]] = {
            "getMe": lambda p: BOT_USER,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._webhook_info,
            "setMyCommands": self._set_commands,
            "deleteMyCommands": lambda p: self.commands.pop(_scope_key(p), None) is None or True,
            "getMyCommands": lambda p: self.commands.get(_scope_key(p), []),
            "getChatMember": self._chat_member,
            "getChat": self._get_chat,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_text,
            "editMessageReplyMarkup": self._edit_markup,
            "sendPoll": self._send_poll,
            "stopPoll": self._stop_poll,
            "answerCallbackQuery": lambda p: True,
            "sendDocument": lambda p: self._send_file(p, "document"),
            "sendPhoto": lambda p: self._send_file(p, "photo"),
            "sendVideo": lambda p: self._send_file(p, "video"),
            "sendMediaGroup": self._send_media_group,
            "editMessageCaption": self._edit_caption,
            "getFile": self._get_file,
            "createChatInviteLink": self._create_invite_link,
            "close": lambda p: True,
            "logOut": lambda p: True,
        }
        self._canonical = {name.lower(): name for name in self._handlers}

    # Lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> Self:
        """Listen on 127.0.0.1 on a free port."""
        app = web.Application(client_max_size=64 << 20)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.*}", self._download)
        app.router.add_route("*", "/{tail:.*}", self._no_route)
        # No handler cancellation: an on_offset hook must finish even if the client dies.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        """End held requests and long polls (they answer at once), then close the server."""
        self._closing = True
        for event in self._holds.values():
            event.set()
        self._changed()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """For ``Bot(base_url=...)``: PTB appends the token and the method."""
        return f"http://127.0.0.1:{self.port}/bot"

    # Test controls -----------------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        """Every recorded call of ``method``, throttled and held ones included."""
        return [call for call in self.calls if call.method == method]

    def texts(self, chat_id: int | None = None) -> list[str]:
        """What users saw of accepted sendMessage calls, in order."""
        sent = [c for c in self.calls_to("sendMessage") if "_plain" in c.params]
        return [c.params["_plain"] for c in sent if chat_id in (None, c.params.get("chat_id"))]

    def media_in(self, chat_id: int | None = None) -> list[SentMedia]:
        """The photos, videos and files the bot posted (into ``chat_id``), in order."""
        return [m for m in self.sent_media if chat_id in (None, m.chat_id)]

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """What getChatMember answers for this user in this chat (default "member")."""
        if status not in MEMBER_STATUSES:
            raise ValueError(f"status must be one of {MEMBER_STATUSES}")
        self._members[(chat_id, user_id)] = status

    def disable(self, method: str) -> None:
        """Answer ``method`` with 404, like a Bot API server that lacks it."""
        self._disabled.add(method)

    def fail(
        self,
        method: str,
        error_code: int = 400,
        description: str | None = None,
        *,
        times: int | None = None,
    ) -> None:
        """Answer later calls of ``method`` with this error: every one, or the next ``times``
        (``fail("sendMessage", 502, "Bad Gateway", times=2)``)."""
        text = description or f"Bad Request: {method} failed"
        self._failures[method] = (ApiError(error_code, text), [-1 if times is None else times])

    def forbid(self, chat_id: int, description: str | None = None) -> None:
        """The bot was removed from the group (or blocked by the user, for a private chat):
        whatever it sends there is answered 403, as Telegram does."""
        self._forbidden[chat_id] = description or (
            "Forbidden: bot was kicked from the group chat"
            if chat_id < 0
            else "Forbidden: bot was blocked by the user"
        )

    def allow(self, chat_id: int) -> None:
        """Undo ``forbid``: the bot was added back (or unblocked)."""
        self._forbidden.pop(chat_id, None)

    def upgrade_group(self, old_chat_id: int, new_chat_id: int) -> None:
        """The group became a supergroup: what is sent to its old id is answered 400 with
        ``migrate_to_chat_id``, as Telegram does."""
        self._upgraded[old_chat_id] = new_chat_id

    @property
    def too_many_requests(self) -> int:
        """How many calls were answered 429 (flood limits and ``throttle`` alike)."""
        return sum(1 for call in self.calls if call.status == 429)

    def duplicates(self) -> list[tuple[int, str]]:
        """(chat, text) of every message posted more than once to the same chat."""
        seen = Counter((a.chat_id, a.text) for a in self.accepted)
        return [key for key, times in seen.items() if times > 1]

    def enable(self, method: str) -> None:
        """Undo ``disable`` and ``fail``."""
        self._disabled.discard(method)
        self._failures.pop(method, None)

    def revoke_token(self) -> None:
        """Revoke the bot's token, as @BotFather's /revoke does: every call (a held long poll
        too) is answered 401 Unauthorized from now on."""
        self._revoked = True
        self._changed()

    def throttle(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with 429 (flagged ``Call.throttled``)."""
        self._throttles[method] = [times, retry_after]

    def hold(self, method: str) -> asyncio.Event:
        """Calls of ``method`` wait for the returned event before they are answered."""
        event = self._holds.get(method)
        if event is None or event.is_set():
            event = self._holds[method] = asyncio.Event()
        return event

    def release(self, method: str) -> None:
        """Let held calls of ``method`` (and later ones) through."""
        if (event := self._holds.pop(method, None)) is not None:
            event.set()
        self._changed()

    async def wait_for(
        self,
        predicate: Callable[[FakeTelegram], bool],
        timeout: float = 10.0,  # noqa: ASYNC109 - a deadline for the predicate, not for I/O
        *,
        every: float | None = None,
    ) -> None:
        """Wait until ``predicate(self)`` holds, re-checked after every request or change, and
        every ``every`` seconds if given (a predicate on the bot's database, which changes
        after the fake's last request)."""
        try:
            async with asyncio.timeout(timeout):
                while not predicate(self):
                    if every is None:
                        await self._change.wait()
                    else:
                        await self._wait_change(every)
        except TimeoutError:
            seen = Counter(c.method + ("(429)" if c.throttled else "") for c in self.calls)
            summary = ", ".join(f"{m} x{n}" for m, n in seen.items()) or "none"
            raise AssertionError(
                f"FakeTelegram: condition not met within {timeout}s. Calls: {summary}; "
                f"{len(self._pending)} update(s) unconfirmed"
            ) from None

    async def wait_for_call(
        self,
        method: str,
        count: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109 - as in wait_for
    ) -> list[Call]:
        """Wait until ``count`` non-throttled calls of ``method`` arrived; return them all."""

        def arrived(tg: FakeTelegram) -> list[Call]:
            return [c for c in tg.calls_to(method) if not c.throttled]

        await self.wait_for(lambda tg: len(arrived(tg)) >= count, timeout)
        return arrived(self)

    def push_update(self, update: JSON) -> int:
        """Queue an update for getUpdates; assigns ``update_id`` (in place) when absent."""
        if "update_id" not in update:
            update["update_id"] = next(self._update_ids)
        else:  # keep later assigned ids above an explicit one
            self._update_ids = itertools.count(max(update["update_id"] + 1, next(self._update_ids)))
        self._pending.append(update)
        self._changed()
        return int(update["update_id"])

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by an offset."""
        return list(self._pending)

    def _changed(self) -> None:
        event, self._change = self._change, asyncio.Event()
        event.set()

    async def _wait_change(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._change.wait(), seconds)

    # HTTP --------------------------------------------------------------------------------------

    async def _no_route(self, request: web.Request) -> web.Response:
        body = {"ok": False, "error_code": 404, "description": "Not Found"}
        return web.json_response(body, status=404)

    async def _handle(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        self.tokens.add(token)
        try:
            params = await read_params(request)
        except Exception as exc:  # a malformed body is the client's fault: 400, never a crash
            error = ApiError(400, f"Bad Request: can't parse request body: {exc}")
            return web.json_response(error.body(), status=400)
        call = Call(self._canonical.get(method.lower(), method), params, time.monotonic(), token)
        throttle = self._throttles.get(call.method)
        if throttle and throttle[0] > 0:  # decided on arrival, so concurrent calls count right
            throttle[0] -= 1
            call.throttled = True
        self.calls.append(call)
        self._changed()
        if (held := self._holds.get(call.method)) is not None and not self._closing:
            await held.wait()
        try:
            call.result = await self._answer(call, throttle[1] if throttle else 0)
            body: JSON = {"ok": True, "result": call.result}
            call.status = 200
        except ApiError as error:
            body, call.status = error.body(), error.code
        except Exception as exc:  # bad parameter types etc.: answer like Telegram, keep serving
            body, call.status = ApiError(400, f"Bad Request: {exc!r}").body(), 400
        self._changed()
        return web.json_response(body, status=call.status)

    async def _answer(self, call: Call, retry_after: int) -> Any:
        if self._revoked:
            raise _unauthorized()
        if call.method in self._disabled or call.method not in self._handlers:
            raise ApiError(404, NOT_FOUND["description"])
        if call.throttled:
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )
        if call.method in self._failures:
            error, left = self._failures[call.method]
            left[0] -= 1
            if left[0] == 0:
                del self._failures[call.method]
            raise error
        if call.method in IN_CHAT:
            self._check_chat(call)
        result = self._handlers[call.method](call.params)
        result = await result if asyncio.iscoroutine(result) else result
        if call.method in POSTING:
            self._posted(result)
        return result

    def _check_chat(self, call: Call) -> None:
        """Refuse what Telegram would refuse in this chat: the bot is not there any more, the
        group moved, or a flood limit is reached (decided and counted before any await, so
        concurrent calls count right)."""
        chat_id = call.params.get("chat_id")
        if not isinstance(chat_id, int):
            return
        if chat_id in self._forbidden:
            raise ApiError(403, self._forbidden[chat_id])
        if chat_id in self._upgraded:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": self._upgraded[chat_id]},
            )
        limits = self.flood_limits
        if limits is None or call.method not in POSTING:
            return
        now = time.monotonic()
        count, seconds = (
            (limits.group, limits.group_seconds)
            if chat_id < 0
            else (limits.private, limits.private_seconds)
        )
        waits = [
            _wait(self._posted_at.get(chat_id), count, seconds, now),
            _wait(self._posted_overall, limits.overall, limits.overall_seconds, now),
        ]
        if (wait := max(waits)) > 0:
            call.throttled = True
            retry_after = max(1, math.ceil(wait))
            raise ApiError(
                429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
            )

    def _posted(self, result: JSON | list[JSON]) -> None:
        for message in result if isinstance(result, list) else [result]:
            self._posted_one(message)

    def _posted_one(self, message: JSON) -> None:
        chat_id, now = message["chat"]["id"], time.monotonic()
        text = (
            message.get("text")
            or message.get("caption")
            or message.get("poll", {}).get("question", "")
        )
        self.accepted.append(Accepted(chat_id, message["message_id"], text, now))
        self._posted_at.setdefault(chat_id, deque()).append(now)
        self._posted_overall.append(now)

    # Methods -----------------------------------------------------------------------------------

    async def _get_updates(self, p: JSON) -> list[JSON]:
        if self.webhook.get("url"):
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(p.get("offset") or 0)
        if "offset" in p:
            self.offsets.append(offset)
        if offset - 1 > self.confirmed_up_to:  # Telegram forgets confirmed updates for good
            self.confirmed_up_to = offset - 1
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
            self._changed()
            if self.on_offset is not None:
                await self.on_offset(offset)
        limit = min(max(int(p.get("limit") or 100), 1), 100)
        allowed = set(p.get("allowed_updates") or ())
        self._poll_generation += 1
        mine = self._poll_generation
        deadline = time.monotonic() + float(p.get("timeout") or 0)
        while True:  # hold the request open: answering [] at once makes PTB spin
            ready = [u for u in self._pending if not allowed or allowed & u.keys()]
            if ready or self._closing:
                return copy.deepcopy(ready[:limit])
            if mine != self._poll_generation:
                raise ApiError(409, "Conflict: terminated by other getUpdates request")
            if self._revoked:
                raise _unauthorized()
            if (left := deadline - time.monotonic()) <= 0:
                return []
            await self._wait_change(left)

    def _set_webhook(self, p: JSON) -> bool:
        self.webhook = dict(p)
        self._changed()
        return True

    def _delete_webhook(self, p: JSON) -> bool:
        self.webhook = {}
        if p.get("drop_pending_updates"):
            self._pending.clear()
        return True

    def _webhook_info(self, p: JSON) -> JSON:
        url = self.webhook.get("url", "")
        info = {"url": url, "has_custom_certificate": False, "pending_update_count": 0}
        return info | ({"pending_update_count": len(self._pending)} if url else {})

    def _set_commands(self, p: JSON) -> bool:
        commands = p.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: commands must be a list of at most 100 commands")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command"))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description") or "")) <= 256:
                raise ApiError(400, "Bad Request: command description must be 1-256 characters")
        self.commands[_scope_key(p)] = commands
        return True

    def _chat_member(self, p: JSON) -> JSON:
        chat_id, user_id = self._chat_id(p), int(p["user_id"])
        user = self.users.get(user_id) or {"id": user_id, "is_bot": False, "first_name": "User"}
        if user_id == BOT_ID:
            user = BOT_USER
        status = self._members.get((chat_id, user_id), "member")
        extra: JSON = {
            "creator": {"is_anonymous": False},
            "administrator": ADMIN_RIGHTS,
            "kicked": {"until_date": 0},
        }.get(status, {})
        return {"status": status, "user": user} | extra

    def _get_chat(self, p: JSON) -> JSON:
        full = {"accent_color_id": 0, "max_reaction_count": 11, "accepted_gift_types": GIFT_TYPES}
        return self._chat(self._chat_id(p)) | full

    def _send_message(self, p: JSON) -> JSON:
        chat_id = self._chat_id(p)
        plain = _visible(p.get("text"), p.get("parse_mode"))
        quote = p.get("reply_parameters") or {"message_id": p.get("reply_to_message_id")}
        target = self.messages.get((chat_id, int(quote.get("message_id") or 0)))
        if quote["message_id"] and not target and not quote.get("allow_sending_without_reply"):
            raise ApiError(400, "Bad Request: message to be replied not found")
        fields: JSON = {"text": plain} | _markup(p)
        if target is not None:  # Telegram nests the replied-to message one level deep only
            fields["reply_to_message"] = {
                k: v for k, v in target.items() if k != "reply_to_message"
            }
        message = self._bot_message(chat_id, **fields)
        self._raw_text[(chat_id, message["message_id"])] = str(p.get("text"))
        p["_plain"] = plain
        return message

    def _editable(self, p: JSON) -> tuple[tuple[int, int], JSON]:
        key = (self._chat_id(p), int(p.get("message_id") or 0))
        if (message := self.messages.get(key)) is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message["from"]["id"] != BOT_ID:
            raise ApiError(400, "Bad Request: message can't be edited")
        return key, message

    def _edit_text(self, p: JSON) -> JSON:
        key, message = self._editable(p)
        if "text" not in message and any(k in message for k in ("photo", "video", "document")):
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        plain = _visible(p.get("text"), p.get("parse_mode"))
        markup = p.get("reply_markup")
        if self._raw_text.get(key) == p.get("text") and message.get("reply_markup") == markup:
            raise ApiError(400, NOT_MODIFIED)
        message["text"], message["edit_date"] = plain, int(time.time())
        _set_markup(message, p)
        self._raw_text[key] = str(p.get("text"))
        p["_plain"] = plain
        return copy.deepcopy(message)

    def _edit_markup(self, p: JSON) -> JSON:
        _, message = self._editable(p)
        if message.get("reply_markup") == p.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified")
        _set_markup(message, p)
        message["edit_date"] = int(time.time())
        return copy.deepcopy(message)

    def _send_file(self, p: JSON, kind: str) -> JSON:
        """sendPhoto, sendVideo, sendDocument: an upload or a file_id given out before."""
        chat_id = self._chat_id(p)
        name, content, known = self._upload(p, p.get(kind), kind)
        caption = self._caption_param(p)
        fields = self._file_fields(kind, name, content, known) | _markup(p)
        fields |= {"caption": caption} if caption else {}
        message = self._bot_message(chat_id, **fields)
        self._keep_sent(message, kind, name, content, caption, known)
        if kind == "document":
            self.documents.append(
                SentDocument(chat_id, message["message_id"], name, content, caption)
            )
        return message

    def _send_media_group(self, p: JSON) -> list[JSON]:
        """An album: 2 to 10 photos and videos, or 2 to 10 documents (never mixed with them)."""
        chat_id = self._chat_id(p)
        items = p.get("media")
        if not isinstance(items, list) or not 2 <= len(items) <= 10:
            raise ApiError(400, "Bad Request: wrong number of media in the album")
        if not all(isinstance(item, dict) for item in items):
            raise ApiError(400, "Bad Request: can't parse InputMedia")
        kinds = {item.get("type") for item in items}
        if not kinds <= {"photo", "video", "document"}:
            raise ApiError(400, "Bad Request: unsupported media type")
        if "document" in kinds and kinds != {"document"}:
            raise ApiError(400, "Bad Request: document can't be mixed with other media types")
        group = f"album{next(self._ids)}"
        messages = []
        for item in items:
            kind = str(item["type"])
            name, content, known = self._upload(p, item.get("media"), kind)
            caption = self._caption_param(item)
            fields = self._file_fields(kind, name, content, known) | {"media_group_id": group}
            fields |= {"caption": caption} if caption else {}
            message = self._bot_message(chat_id, **fields)
            self._keep_sent(message, kind, name, content, caption, known, group)
            messages.append(message)
        return messages

    def _upload(self, p: JSON, given: Any, what: str) -> tuple[str, bytes, str | None]:
        """The file a send names: an upload (its name and bytes; "attach://x" names a part of
        the body) or a file_id the fake gave out (its name, bytes and that id)."""
        if isinstance(given, str) and given.startswith("attach://"):
            given = p.get(given.removeprefix("attach://"))
        if isinstance(given, dict) and "content" in given:
            return str(given["filename"]), bytes(given["content"]), None
        if isinstance(given, str) and given in self.files:
            name, content = self.files[given]
            return name, content, given
        if isinstance(given, str) and given:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        raise ApiError(400, f"Bad Request: there is no {what} in the request")

    @staticmethod
    def _caption_param(p: JSON) -> str:
        caption = ""
        if p.get("caption"):
            caption = html_to_plain(str(p["caption"])) if p.get("parse_mode") else p["caption"]
            caption = str(caption).strip()
            if utf16_len(caption) > CAPTION_LIMIT:
                raise ApiError(400, "Bad Request: message caption is too long")
        return caption

    def _file_fields(self, kind: str, name: str, content: bytes, known: str | None) -> JSON:
        """How a message shows its file: a new file_id for an upload (served by getFile from
        now on), the same one for a file_id given."""
        n = next(self._ids)
        file_id = known or f"sent{n}"
        self.files[file_id] = (name, content)
        about: JSON = {"file_id": file_id, "file_unique_id": f"us{n}", "file_size": len(content)}
        if kind == "photo":
            return {"photo": [about | {"width": 800, "height": 600}]}
        if kind == "video":
            video = {"width": 640, "height": 360, "duration": 1, "file_name": name}
            return {"video": about | video | {"mime_type": "video/mp4"}}
        return {"document": about | {"file_name": name}}

    def _keep_sent(
        self,
        message: JSON,
        kind: str,
        name: str,
        content: bytes,
        caption: str,
        known: str | None,
        group: str = "",
    ) -> None:
        shown = message[kind][-1] if kind == "photo" else message[kind]
        self.sent_media.append(
            SentMedia(
                message["chat"]["id"],
                message["message_id"],
                kind,
                name,
                content,
                caption,
                shown["file_id"],
                known is not None,
                group,
            )
        )

    def _edit_caption(self, p: JSON) -> JSON:
        _, message = self._editable(p)
        if "text" in message:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption = self._caption_param(p)
        markup = p.get("reply_markup")
        if message.get("caption", "") == caption and message.get("reply_markup") == markup:
            raise ApiError(400, NOT_MODIFIED)
        message["caption"], message["edit_date"] = caption, int(time.time())
        _set_markup(message, p)
        return copy.deepcopy(message)

    def _get_file(self, p: JSON) -> JSON:
        file_id = str(p.get("file_id") or "")
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        name, content = self.files[file_id]
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": len(content),
            "file_path": f"documents/{file_id}_{name}",
        }

    async def _download(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        file_id = path.removeprefix("documents/").partition("_")[0]
        if request.match_info["token"] not in self.tokens or file_id not in self.files:
            return web.Response(status=404, text="Not Found")
        self.downloads.append(file_id)
        self._changed()
        return web.Response(body=self.files[file_id][1])

    def _create_invite_link(self, p: JSON) -> JSON:
        chat_id = self._chat_id(p)
        if self._members.get((chat_id, BOT_ID)) not in ("administrator", "creator"):
            raise ApiError(400, "Bad Request: not enough rights to manage chat invite links")
        link = f"https://t.me/+fake{next(self._ids)}"
        invite: JSON = {
            "invite_link": link,
            "creator": BOT_USER,
            "creates_join_request": False,
            "is_primary": False,
            "is_revoked": False,
        }
        invite |= {"name": str(p["name"])} if p.get("name") else {}
        self.invite_links[link] = invite
        return invite

    def _send_poll(self, p: JSON) -> JSON:
        chat_id = self._chat_id(p)
        question, options = str(p.get("question") or ""), p.get("options")
        if not 1 <= utf16_len(question) <= 300:
            raise ApiError(400, "Bad Request: poll question length must be 1-300")
        if not isinstance(options, list) or not 1 <= len(options) <= 12:
            raise ApiError(400, "Bad Request: poll must have 1-12 options")
        texts = [str(o.get("text", "") if isinstance(o, dict) else o) for o in options]
        if any(not 1 <= utf16_len(text) <= 100 for text in texts):
            raise ApiError(400, "Bad Request: poll option length must be 1-100")
        kind = p.get("type") or "regular"
        quiz = _quiz_fields(p, len(texts)) if kind == "quiz" else {}
        poll_id = str(5_000_000_000_000_000_000 + next(self._ids))
        self.polls[poll_id] = poll = {
            "id": poll_id,
            "question": question,
            "options": [
                {"text": text, "voter_count": 0, "persistent_id": str(i)}
                for i, text in enumerate(texts)
            ],
            "total_voter_count": 0,
            "is_closed": bool(p.get("is_closed", False)),
            "is_anonymous": bool(p.get("is_anonymous", True)),
            "type": kind,
            "allows_multiple_answers": bool(p.get("allows_multiple_answers", False)),
            "allows_revoting": bool(p.get("allows_revoting", kind != "quiz")),
            "members_only": bool(p.get("members_only", False)),
            **quiz,
        }
        message = self._bot_message(chat_id, poll=poll, **_markup(p))
        self._poll_of[(chat_id, message["message_id"])] = poll_id
        return message

    def _stop_poll(self, p: JSON) -> JSON:
        key = (self._chat_id(p), int(p.get("message_id") or 0))
        if (poll_id := self._poll_of.get(key)) is None:
            raise ApiError(400, "Bad Request: message with poll to stop not found")
        poll = self.polls[poll_id]
        if poll["is_closed"]:
            raise ApiError(400, "Bad Request: poll has already been closed")
        poll["is_closed"] = True
        return copy.deepcopy(poll)

    # Helpers -----------------------------------------------------------------------------------

    def _chat_id(self, p: JSON) -> int:
        value = p.get("chat_id")
        if value is None or value == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        if isinstance(value, bool) or not isinstance(value, int):
            raise ApiError(400, "Bad Request: chat not found")
        return value

    def _chat(self, chat_id: int) -> JSON:
        if chat_id in self.chats:
            return dict(self.chats[chat_id])
        if chat_id > 0:
            first_name = self.users.get(chat_id, {}).get("first_name", "User")
            return {"id": chat_id, "type": "private", "first_name": first_name}
        return {"id": chat_id, "type": "supergroup", "title": f"Group {chat_id}"}

    def _store(self, chat: JSON, sender: JSON, **fields: Any) -> JSON:
        self._next_message_id[chat["id"]] += 1
        message_id = self._next_message_id[chat["id"]]
        message = {"message_id": message_id, "date": int(time.time()), "chat": chat}
        message |= {"from": sender} | fields
        self.messages[(chat["id"], message_id)] = message
        return copy.deepcopy(message)

    def _bot_message(self, chat_id: int, **fields: Any) -> JSON:
        return self._store(self._chat(chat_id), BOT_USER, **fields)

    # Update builders ---------------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str,
        username: str | None = None,
        language_code: str | None = None,
    ) -> JSON:
        """A User (remembered, so getChatMember can name it)."""
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        user |= {"username": username} if username else {}
        user |= {"language_code": language_code} if language_code else {}
        self.users[user_id] = user
        return user

    def group(self, chat_id: int, title: str) -> JSON:
        """A supergroup Chat; Telegram gives groups negative ids."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        self.chats[chat_id] = chat = {"id": chat_id, "type": "supergroup", "title": title}
        return chat

    def private_chat(self, user: JSON) -> JSON:
        """The private Chat with ``user`` (its id is the user's id)."""
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        chat |= {"username": user["username"]} if user.get("username") else {}
        self.chats[user["id"]] = chat
        return chat

    def message(
        self,
        chat: JSON,
        user: JSON,
        text: str,
        *,
        entities: list[JSON] | None = None,
        reply_to: int | None = None,
        sender_chat: JSON | None = None,
    ) -> JSON:
        """A ``message`` update; ``entities=None`` adds the bot_command entity Telegram would.
        ``reply_to`` answers that message of the chat (nested one level deep, as on Telegram);
        ``sender_chat`` sends it on behalf of a chat (``user`` is then Telegram's stand-in:
        ``anonymous_admin()`` for the group itself, ``channel_bot()`` for a channel)."""
        fields: JSON = {"text": text}
        if ents := (command_entities(text) if entities is None else entities):
            fields["entities"] = ents
        if reply_to is not None:
            replied = self.messages[(chat["id"], reply_to)]
            fields["reply_to_message"] = {
                k: v for k, v in replied.items() if k != "reply_to_message"
            }
        if sender_chat is not None:
            fields["sender_chat"] = sender_chat
        return {"message": self._store(chat, user, **fields)}

    def edited_message(self, chat: JSON, message_id: int, text: str) -> JSON:
        """An ``edited_message`` update: the sender of message ``message_id`` changed its text
        (its caption, for a photo or document) to ``text``. Telegram sends the whole message as
        it now is, with ``edit_date``, under a fresh update id."""
        message = self.messages[(chat["id"], message_id)]
        if message["from"]["id"] == BOT_ID:
            raise ValueError("the bot's own edits are not sent to it")
        media = "caption" in message or "text" not in message
        field, entities_key = ("caption", "caption_entities") if media else ("text", "entities")
        message[field] = text
        message.pop(entities_key, None)
        if entities := command_entities(text):
            message[entities_key] = entities
        message["edit_date"] = max(int(time.time()), message["date"] + 1)
        return {"edited_message": copy.deepcopy(message)}

    @staticmethod
    def anonymous_admin() -> JSON:
        """GroupAnonymousBot: the sender Telegram shows for an admin who posts as the group."""
        return {"id": 1087968824, "is_bot": True, "first_name": "Group",
                "username": "GroupAnonymousBot"}  # fmt: skip

    @staticmethod
    def channel_bot() -> JSON:
        """Channel_Bot: the sender Telegram shows for a message posted as a channel."""
        return {"id": 136817688, "is_bot": True, "first_name": "Channel",
                "username": "Channel_Bot"}  # fmt: skip

    def channel(self, chat_id: int, title: str, username: str | None = None) -> JSON:
        """A channel Chat (negative id), e.g. a group's linked channel posting into it."""
        if chat_id >= 0:
            raise ValueError("channel ids are negative")
        chat: JSON = {"id": chat_id, "type": "channel", "title": title}
        chat |= {"username": username} if username else {}
        self.chats[chat_id] = chat
        return chat

    def photo_message(
        self,
        chat: JSON,
        user: JSON,
        caption: str | None = None,
        *,
        content: bytes | None = None,
        reply_to: int | None = None,
    ) -> JSON:
        """A ``message`` update carrying a photo (two sizes) and a caption; with ``content``
        getFile serves its largest size (the small one: a few bytes of it)."""
        n = next(self._ids)
        sizes = [(90, 68, "s"), (800, 600, "m")]
        photo = [
            {"file_id": f"photo{n}{tag}", "file_unique_id": f"u{n}{tag}", "width": w, "height": h}
            for w, h, tag in sizes
        ]
        if content is not None:
            self.files[f"photo{n}s"] = (f"photo{n}s.jpg", content[:64])
            self.files[f"photo{n}m"] = (f"photo{n}m.jpg", content)
            photo[0]["file_size"], photo[1]["file_size"] = len(content[:64]), len(content)
        fields = {"photo": photo} | _caption(caption) | self._replying(chat, reply_to)
        return {"message": self._store(chat, user, **fields)}

    def video_message(
        self,
        chat: JSON,
        user: JSON,
        caption: str | None = None,
        *,
        content: bytes = b"",
        file_name: str = "clip.mp4",
        reply_to: int | None = None,
    ) -> JSON:
        """A ``message`` update carrying a video (served by getFile) and a caption."""
        n = next(self._ids)
        video: JSON = {"file_id": f"video{n}", "file_unique_id": f"uv{n}", "width": 640,
                       "height": 360, "duration": 3, "file_name": file_name,
                       "mime_type": "video/mp4", "file_size": len(content)}  # fmt: skip
        self.files[video["file_id"]] = (file_name, content)
        fields = {"video": video} | _caption(caption) | self._replying(chat, reply_to)
        return {"message": self._store(chat, user, **fields)}

    def document_message(
        self,
        chat: JSON,
        user: JSON,
        caption: str | None = None,
        file_name: str = "file.txt",
        content: bytes | None = None,
        *,
        mime_type: str = "text/plain",
        reply_to: int | None = None,
    ) -> JSON:
        """A ``message`` update carrying a document; with ``content`` getFile serves it."""
        n = next(self._ids)
        document: JSON = {"file_id": f"doc{n}", "file_unique_id": f"ud{n}", "file_name": file_name}
        if content is not None:
            self.files[document["file_id"]] = (file_name, content)
            document |= {"file_size": len(content), "mime_type": mime_type}
        fields = {"document": document} | _caption(caption) | self._replying(chat, reply_to)
        return {"message": self._store(chat, user, **fields)}

    def _replying(self, chat: JSON, reply_to: int | None) -> JSON:
        """The reply_to_message field of a message answering ``reply_to`` (one level deep)."""
        if reply_to is None:
            return {}
        replied = self.messages[(chat["id"], reply_to)]
        return {"reply_to_message": {k: v for k, v in replied.items() if k != "reply_to_message"}}

    def chat_member_joined(self, chat: JSON, user: JSON, invite_link: str | None) -> JSON:
        """A ``chat_member`` update: ``user`` joined ``chat`` (through ``invite_link``, one the
        bot made, when given). Telegram sends these only to a bot that is an admin there."""
        status = {"user": user, "status": "left"}
        change: JSON = {
            "chat": chat,
            "from": user,
            "date": int(time.time()),
            "old_chat_member": status,
            "new_chat_member": status | {"status": "member"},
        }
        if invite_link is not None:
            change["invite_link"] = self.invite_links[invite_link]
        return {"chat_member": change}

    def new_members(self, chat: JSON, actor: JSON, members: list[JSON]) -> JSON:
        """A service message: ``actor`` added ``members`` (actor == member when one joins)."""
        return {"message": self._store(chat, actor, new_chat_members=members)}

    def callback_query(self, chat: JSON, user: JSON, message_id: int, data: str) -> JSON:
        """A button press on the bot's message ``message_id`` (a minimal one if never sent)."""
        key = (chat["id"], message_id)
        if key not in self.messages:
            stub = {"message_id": message_id, "date": int(time.time()), "chat": chat}
            self.messages[key] = stub | {"from": BOT_USER, "text": "…"}
            self._next_message_id[chat["id"]] = max(self._next_message_id[chat["id"]], message_id)
        query = {
            "id": str(4_000_000_000_000_000_000 + next(self._ids)),
            "from": user,
            "chat_instance": str(7_000_000_000 + abs(chat["id"])),
            "message": copy.deepcopy(self.messages[key]),
            "data": data,
        }
        return {"callback_query": query}

    def poll_answer(self, poll_id: str, user: JSON, option_ids: list[int]) -> JSON:
        """A ``poll_answer`` update (non-anonymous polls only, as on Telegram)."""
        options = self.polls.get(poll_id, {}).get("options", [])
        persistent = [
            options[i]["persistent_id"] if i < len(options) else str(i) for i in option_ids
        ]
        answer = {"poll_id": poll_id, "user": user, "option_ids": list(option_ids)}
        return {"poll_answer": answer | {"option_persistent_ids": persistent}}

    def push_message(self, chat: JSON, user: JSON, text: str, **kw: Any) -> int:
        return self.push_update(self.message(chat, user, text, **kw))

    def push_edited_message(self, chat: JSON, message_id: int, text: str) -> int:
        return self.push_update(self.edited_message(chat, message_id, text))

    def push_photo_message(
        self, chat: JSON, user: JSON, caption: str | None = None, **kw: Any
    ) -> int:
        return self.push_update(self.photo_message(chat, user, caption, **kw))

    def push_video_message(
        self, chat: JSON, user: JSON, caption: str | None = None, **kw: Any
    ) -> int:
        return self.push_update(self.video_message(chat, user, caption, **kw))

    def push_document_message(
        self,
        chat: JSON,
        user: JSON,
        caption: str | None = None,
        file_name: str = "file.txt",
        content: bytes | None = None,
        **kw: Any,
    ) -> int:
        return self.push_update(
            self.document_message(chat, user, caption, file_name, content, **kw)
        )

    def push_chat_member_joined(self, chat: JSON, user: JSON, invite_link: str | None) -> int:
        return self.push_update(self.chat_member_joined(chat, user, invite_link))

    def push_new_members(self, chat: JSON, actor: JSON, members: list[JSON]) -> int:
        return self.push_update(self.new_members(chat, actor, members))

    def push_callback_query(self, chat: JSON, user: JSON, message_id: int, data: str) -> int:
        return self.push_update(self.callback_query(chat, user, message_id, data))

    def push_poll_answer(self, poll_id: str, user: JSON, option_ids: list[int]) -> int:
        return self.push_update(self.poll_answer(poll_id, user, option_ids))


def _wait(times: deque[float] | None, count: int, seconds: float, now: float) -> float:
    """Seconds until one more message fits in a sliding window of ``count`` per ``seconds``
    (forgetting times that left the window)."""
    if times is None or count <= 0:
        return 0.0
    while times and times[0] <= now - seconds:
        times.popleft()
    return times[-count] + seconds - now if len(times) >= count else 0.0


def _visible(text: Any, parse_mode: Any) -> str:
    """Validate a message text like Telegram and return what the user sees."""
    if not isinstance(text, str) or not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    plain = html_to_plain(text) if str(parse_mode).lower() == "html" else text
    plain = plain.strip()  # Telegram trims messages
    if not plain:
        raise ApiError(400, "Bad Request: message text is empty")
    if utf16_len(plain) > TEXT_LIMIT:
        raise ApiError(400, "Bad Request: message is too long")
    return plain


def _markup(p: JSON) -> JSON:
    """Messages carry only inline keyboards; reply keyboards are not echoed back."""
    markup = p.get("reply_markup")
    return (
        {"reply_markup": markup} if isinstance(markup, dict) and "inline_keyboard" in markup else {}
    )


def _set_markup(message: JSON, p: JSON) -> None:
    message.pop("reply_markup", None)  # an edit without reply_markup removes the keyboard
    message.update(_markup(p))


def _caption(caption: str | None) -> JSON:
    if not caption:
        return {}
    entities = command_entities(caption)
    return {"caption": caption} | ({"caption_entities": entities} if entities else {})


def _scope_key(p: JSON) -> tuple[str, str]:
    scope = p.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(p.get("language_code") or "")


def _quiz_fields(p: JSON, options: int) -> JSON:
    """What a quiz poll adds, checked as Telegram checks it: a right option among the options,
    an explanation of up to 200 characters, an open period of 5 to 600 seconds."""
    # Bot API 9.6 takes a list (correct_option_ids); the single id before it still works.
    given = p.get("correct_option_ids", [p.get("correct_option_id")])
    if (
        not isinstance(given, list)
        or not given
        or any(isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < options for i in given)
    ):
        raise ApiError(400, "Bad Request: wrong correct option ID specified")
    explanation = str(p.get("explanation") or "")
    if utf16_len(explanation) > 200:
        raise ApiError(400, "Bad Request: explanation is too long")
    fields: JSON = {"correct_option_ids": given, "explanation": explanation}
    if (period := p.get("open_period")) is not None:
        if isinstance(period, bool) or not isinstance(period, int) or not 5 <= period <= 600:
            raise ApiError(400, "Bad Request: wrong open period specified")
        fields["open_period"] = period
    return fields
