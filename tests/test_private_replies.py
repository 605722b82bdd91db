"""A reply meant for the asker alone is never posted where everyone would read it."""

from __future__ import annotations

from bot.app import ROUTERS, build_dispatcher
from community.config import Access
from handlers.routes import Context, Router
from handlers.types import Reply, Visibility
from storage.store import Store
from tests.harness import Chat, Clock

secrets = Router()


@secrets.command("mysecret")
def my_secret(ctx: Context) -> Reply:
    """A command whose answer is for the asker only, though any chat may ask."""
    return Reply(
        "points/points", {"name": "x", "balance": 1, "entries": []}, visibility=Visibility.PRIVATE
    )


async def test_a_private_answer_asked_for_in_a_group_says_where_to_ask_instead(
    store: Store, clock: Clock
) -> None:
    dispatcher = build_dispatcher(
        store,
        access=Access(),
        default_community="acme",
        default_locale="en",
        clock=clock,
        routers=(*ROUTERS, secrets),
    )
    in_group = await Chat(dispatcher, clock).say("alice", "/mysecret")
    assert in_group.outcome.reply is not None
    assert in_group.outcome.reply.template == "common/private_only"
    in_private = await Chat(dispatcher, clock, chat_id="dm", private=True).say("alice", "/mysecret")
    assert in_private.outcome.reply is not None
    assert in_private.outcome.reply.template == "points/points"
