"""A dispatcher with every feature's router and two probe commands, for adapter tests of what
reaches the core and what goes out: /probe records the Event it got (an attached file's text),
/exportprobe answers with a file, and a join is credited to its invitation before the welcome
(as the lead's JOINED handler is to do: handlers/invite.record_invite)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.app import ROUTERS, build_dispatcher
from community.config import parse_config
from community.messages import Document
from handlers import help as welcome_feature
from handlers.invite import record_invite
from handlers.router import Dispatcher
from handlers.routes import Context, Router
from handlers.types import Event, EventKind, Reply
from storage.store import Store
from tests.conftest import TEST_COMMUNITY

EXPORTED = "member,points\r\nAlice,10\r\n张三,20\r\n".encode()


def probing_dispatcher(
    store: Store, clock: Callable[[], datetime], seen: list[Event]
) -> Dispatcher:
    """The test community's dispatcher, plus /probe (its events land in `seen`) and
    /exportprobe (answers with "ledger-2026-12.csv")."""
    probe = Router()

    @probe.command("probe", hidden=True, takes_files=True)
    def _probe(ctx: Context) -> Reply:
        seen.append(ctx.event)
        return Reply("common/unknown_command", {"command": ctx.event.file_name or "none"})

    @probe.command("exportprobe", hidden=True)
    def _export(ctx: Context) -> Reply:
        document = Document("ledger-2026-12.csv", EXPORTED)
        return Reply("common/unknown_command", {"command": "/export"}, document=document)

    @probe.on(EventKind.JOINED)
    def _joined(ctx: Context) -> Reply:
        seen.append(ctx.event)
        record_invite(ctx)
        return welcome_feature.welcome(ctx)

    return build_dispatcher(
        store,
        access=parse_config(TEST_COMMUNITY)[0].access,
        default_community="acme",
        default_locale="en",
        clock=clock,
        routers=(*ROUTERS, probe),
    )
