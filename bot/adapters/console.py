"""The console chat: talk to the bot from a terminal, or pipe a script of lines into it.

Lines starting with ':' steer the console itself (who you are, which group, what time it is,
`:reply N text` to reply to the bot's message N); everything else is a message to the bot,
exactly as a member would type it in a group.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from bot.adapters.attached_files import ATTACHED_FILE_MAX_BYTES, wants_file, with_file
from bot.adapters.command_media import fetched, kind_of, mime_of
from bot.delivery.documents import EXPORTS_FOLDER, MEDIA_FOLDER, save_document
from bot.delivery.invites import InviteLinks
from bot.delivery.messenger import Limits, Rate
from bot.delivery.sender import Sender
from bot.rendering import Renderer
from community.config import console_account_id
from community.messages import Document, InviteSpec
from community.outbox import Kind, Outgoing
from handlers.firings import Firings
from handlers.invite import Invitations
from handlers.parsing import event_from_text
from handlers.ports import Deliveries
from handlers.router import Dispatcher
from handlers.types import AccountRef, ChatRef, Event, EventKind, Reply

PLATFORM = "console"
NAME_LIMIT = 64  # longest member or group name the console takes
MIN_YEAR, MAX_YEAR = 1971, 9998


NO_LIMIT = Rate(0, 1)
DRAIN_ROUNDS = 10_000  # sends per chat printed after one line, at most


class ConsoleMessenger:
    """Prints what the bot sends elsewhere (a broadcast, a direct message) with where it goes,
    so a person can watch posts and DMs in `make run`."""

    platform = PLATFORM
    limits = Limits(overall=NO_LIMIT, group=NO_LIMIT, private=NO_LIMIT)

    def __init__(
        self,
        renderer: Renderer,
        stdout: TextIO,
        *,
        exports: Path = EXPORTS_FOLDER,
        invitations: Invitations | None = None,
        media: Path = MEDIA_FOLDER,
    ) -> None:
        self._renderer = renderer
        self._stdout = stdout
        self._exports = exports
        self._media = media
        self.invites = InviteLinks(_invitation_code, invitations)

    async def send(self, message: Outgoing) -> tuple[str, ...]:
        where = "dm" if message.kind is Kind.DIRECT else "group"
        label = self._renderer.render(
            Reply(
                "console/outgoing", {"where": where, "chat": message.chat_id}, message.reply.locale
            )
        )
        reply = await self.invites.fill(message.reply)
        # Its number, which `:reply N text` names to reply to it (a question's post).
        self._stdout.write(f"({message.id}) {label} {self._renderer.render(reply)}\n")
        self.save(reply)
        self._stdout.flush()
        return (str(message.id),)

    def save(self, reply: Reply) -> None:
        """Write the reply's file (an export) under the exports folder, and its photos, videos
        and files under the media folder; show where, one line each."""
        if reply.document is not None:
            path = save_document(reply.document, self._exports)
            self._stdout.write(f"📎 {path}\n")
        for item in reply.media:
            where = ""
            if item.content:
                where = str(save_document(Document(item.name, item.content), self._media))
            context = {"kind": item.kind, "name": item.name, "path": where}
            self._stdout.write(self._renderer.render(Reply("console/media", context, reply.locale)))
            self._stdout.write("\n")


async def _invitation_code(spec: InviteSpec) -> str:
    """The console has no invite links: a newcomer types `:join CODE`."""
    return spec.code


class ConsoleAdapter:
    """One console session: a current member, a current group and a movable clock."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        renderer: Renderer,
        *,
        locale: str,
        timezone: ZoneInfo,
        stdin: TextIO,
        stdout: TextIO,
        interactive: bool,
        deliveries: Deliveries,
        firings: Firings | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        exports: Path = EXPORTS_FOLDER,
        invitations: Invitations | None = None,
        file_limit: int = ATTACHED_FILE_MAX_BYTES,
        media: Path = MEDIA_FOLDER,
    ) -> None:
        self._dispatcher = dispatcher
        # Answers are written at the console's moved time and scheduled posts at the real
        # one: what is due is due by whichever is later, so both print at once.
        self._deliveries = deliveries.with_clock(lambda: max(self.now(), clock()))
        # No alarm clock either: the console's own clock, moved by :time, runs the schedule
        # after each line, so moving past a firing prints its posts, in order.
        self._firings = firings
        # No background sender: the console drains its outbox after each line, so what the bot
        # posts elsewhere prints right after the answer, before the next prompt.
        self._messenger = ConsoleMessenger(
            renderer, stdout, exports=exports, invitations=invitations, media=media
        )
        self._sender = Sender(self._messenger, self._deliveries)
        self._file_limit = file_limit
        # A file `:attach` read, sent with the next line: (name, bytes, its size on disk).
        self._attached: tuple[str, bytes, int] | None = None
        self._renderer = renderer
        self._locale = locale
        self._timezone = timezone
        self._stdin = stdin
        self._stdout = stdout
        self._interactive = interactive
        self._clock = clock
        self._offset = timedelta()
        self._session = uuid.uuid4().hex[:12]
        self._sequence = 0
        self._member = "guest"
        self._chat = "lobby"
        self._admins: set[str] = set()

    async def run(self) -> None:
        """Serve lines until `:quit` or the end of input."""
        self._say("console/banner", self._whoami())
        await self._catch_up()
        while True:
            line = await self._next_line()
            if line is None:
                break
            line = line.lstrip("\ufeff").strip()  # a BOM from an editor's script file
            if not line:
                continue
            if line.startswith(":"):
                if not await self._meta(line):
                    break
                await self._catch_up()  # :time may have moved past firings
                continue
            await self._send(line)
        self._say("console/bye", {})

    def now(self) -> datetime:
        """The console's clock: real time moved by `:time`."""
        return self._clock() + self._offset

    def _next_line(self) -> asyncio.Future[str | None]:
        """Read one line in a daemon thread, so Ctrl-C never waits for a blocked read."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str | None] = loop.create_future()
        prompt = f"{self._member}@{self._chat}> " if self._interactive else None

        def read() -> None:
            line: str | None
            try:
                # input() gives line editing and history on a terminal; a pipe is read plainly.
                line = input(prompt) if prompt is not None else self._stdin.readline() or None
            except EOFError:
                line = None
            loop.call_soon_threadsafe(_settle, future, line)

        threading.Thread(target=read, name="console-read", daemon=True).start()
        return future

    async def _send(self, text: str) -> None:
        event = self._event(text)
        attached, self._attached = self._attached, None
        if attached is not None and wants_file(event):
            name, data, size = attached
            event = with_file(event, name, data, self._file_limit)
            # The same file as a photo, video or file the command brings (a /submit's).
            mime = mime_of(name)
            media = fetched(kind_of(mime), name, mime, data, limit=self._file_limit)
            event = replace(event, media=(replace(media, size=size),))
        await self._handle(event)

    async def _join(self, code: str) -> None:
        """`:join CODE`: the current member joins the current group through an invitation."""
        said = self._event("")
        await self._handle(replace(said, kind=EventKind.JOINED, invite=code))

    def _event(self, text: str) -> Event:
        self._sequence += 1
        event = event_from_text(
            event_id=f"{PLATFORM}:{self._session}:{self._sequence}",
            chat=ChatRef(PLATFORM, self._chat, title=self._chat, trusted=True),
            actor=AccountRef(
                PLATFORM,
                self._user_id(),
                self._member,
                username=self._member,
                is_platform_admin=self._user_id() in self._admins,
            ),
            text=text,
            occurred_at=self.now(),
        )
        # One person at a terminal, the operator's own chat with the bot: whatever it says is
        # seen by them alone, and every line is meant for it.
        return replace(event, private_reply=True, addressed=True, answered_inline=True)

    async def _handle(self, event: Event) -> None:
        outcome = await self._dispatcher.handle(event)
        if outcome.reply is not None and outcome.reply.media:
            # Its files' bytes are read with the outbox: the sender prints it, numbered, and
            # the choices follow.
            await self._deliveries.unhold(outcome.queued)
            await self._catch_up()
            self._choices(outcome.reply)
            return
        if outcome.reply is not None:
            reply = await self._messenger.invites.fill(outcome.reply)
            self._write(self._renderer.render(reply))
            self._messenger.save(reply)
            self._choices(outcome.reply)
        await self._deliveries.answered(outcome.queued)
        await self._catch_up()

    def _choices(self, reply: Reply) -> None:
        """Buttons become lines you can type: the console has nothing to press."""
        for choice in reply.choices:
            label = self._renderer.render(Reply(choice.label, choice.context, self._locale))
            self._say("console/choice", {"label": label, "command": choice.command})

    async def _catch_up(self) -> None:
        """Run what the schedule says is due by the console's clock, then print what the bot
        sends elsewhere."""
        if self._firings is not None:
            await self._firings.sweep(self.now())
        # A sender sends one message per chat at a time: drain until nothing is due, so a
        # moved clock's posts all print now, in order.
        for _ in range(DRAIN_ROUNDS):
            await self._sender.drain_once()
            if not await self._deliveries.due(PLATFORM, 1):
                break

    async def _meta(self, line: str) -> bool:
        """Handle a console line; False when the console should stop."""
        command, _, argument = line[1:].partition(" ")
        argument = argument.strip()
        match command.lower():
            case "quit" | "exit" | "q":
                return False
            case "as" if argument:
                self._member = argument[:NAME_LIMIT]
                self._say("console/whoami", self._whoami())
            case "chat" if argument:
                self._chat = argument[:NAME_LIMIT]
                self._say("console/whoami", self._whoami())
            case "admin" if argument.lower() in ("on", "off"):
                key = self._user_id()
                if argument.lower() == "on":
                    self._admins.add(key)
                else:
                    self._admins.discard(key)
                self._say("console/whoami", self._whoami())
            case "time" if argument:
                self._set_time(argument)
            case "attach" if argument:
                self._attach(argument)
            case "join" if argument:
                await self._join(argument)
            case "reply" if _reply_line(argument) is not None:
                number, text = _reply_line(argument) or ("", "")
                await self._handle(replace(self._event(text), replied_id=number))
            case "whoami":
                self._say("console/whoami", self._whoami())
            case _:
                self._say("console/meta_help", {"line": line})
        return True

    def _attach(self, argument: str) -> None:
        """`:attach PATH`: the file goes with the next line (a command that reads one)."""
        path = Path(argument).expanduser()
        try:
            size = path.stat().st_size
            # A file far too big is not read whole: the handler hears "too big" all the same.
            with path.open("rb") as file:
                data = file.read(self._file_limit + 1)
        except OSError as error:
            self._say("console/attach_failed", {"path": argument, "error": error.strerror or ""})
            return
        self._attached = (path.name, data, size)
        self._say("console/attached", {"name": path.name, "size": size})

    def _user_id(self) -> str:
        # The console's "platform user id" is the name, case-insensitive, within the id limit.
        return console_account_id(self._member)[:NAME_LIMIT]

    def _set_time(self, argument: str) -> None:
        try:
            target = datetime.fromisoformat(argument)
        except ValueError:
            target = None
        # Far-off years overflow once the clock is moved to the community's timezone.
        if target is None or not MIN_YEAR <= target.year <= MAX_YEAR:
            self._say("console/bad_time", {"value": argument})
            return
        if target.tzinfo is None:
            target = target.replace(tzinfo=self._timezone)
        self._offset = target - self._clock()
        self._say("console/time_set", {"time": self._local_now(), "timezone": str(self._timezone)})

    def _whoami(self) -> dict[str, object]:
        return {
            "member": self._member,
            "chat": self._chat,
            "admin": self._user_id() in self._admins,
            "time": self._local_now(),
            "timezone": str(self._timezone),
        }

    def _local_now(self) -> str:
        return self.now().astimezone(self._timezone).strftime("%Y-%m-%d %H:%M")

    def _say(self, template: str, context: dict[str, object]) -> None:
        self._write(self._renderer.render(Reply(template, context, locale=self._locale)))

    def _write(self, text: str) -> None:
        self._stdout.write(text + "\n")
        self._stdout.flush()


def _reply_line(argument: str) -> tuple[str, str] | None:
    """`:reply N text`: the number of the message replied to (as the console shows it, in
    brackets before what the bot sent) and the words; None when it is not that."""
    number, _, text = argument.partition(" ")
    number = number.strip("()#")
    if not number.isascii() or not number.isdigit() or not text.strip():
        return None
    return number, text.strip()


def _settle(future: asyncio.Future[str | None], line: str | None) -> None:
    if not future.done():
        future.set_result(line)


def run_console(
    dispatcher: Dispatcher,
    renderer: Renderer,
    *,
    locale: str,
    timezone: ZoneInfo,
    deliveries: Deliveries,
    firings: Firings | None = None,
    invitations: Invitations | None = None,
    file_limit: int = ATTACHED_FILE_MAX_BYTES,
) -> ConsoleAdapter:
    """A console on this process's own terminal (or pipe)."""
    interactive = sys.stdin.isatty()
    if interactive:
        import readline  # noqa: F401  (gives input() history and line editing)
    for stream in (sys.stdin, sys.stdout):
        # Bad bytes on a pipe or an ASCII terminal must not crash the chat.
        stream.reconfigure(errors="replace")  # type: ignore[union-attr]
    return ConsoleAdapter(
        dispatcher,
        renderer,
        locale=locale,
        timezone=timezone,
        stdin=sys.stdin,
        stdout=sys.stdout,
        interactive=interactive,
        deliveries=deliveries,
        firings=firings,
        invitations=invitations,
        file_limit=file_limit,
    )
