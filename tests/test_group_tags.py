"""Group tags: admins label groups (/settings tags vip cn) so a calendar entry can post to a
tag's groups only."""

from __future__ import annotations

from sqlalchemy import select

from community.communities import MAX_TAGS, read_tags
from storage.schema import audit_log, groups
from storage.store import Store
from tests.harness import Chat


def tags_in_db(store: Store, chat_id: str) -> list[str] | None:
    query = select(groups.c.tags).where(groups.c.chat_id == chat_id)
    return store.read_now(lambda c: c.execute(query).scalar_one())


def test_tags_are_read_in_any_separator_lower_cased_and_unique() -> None:
    assert read_tags("VIP cn,华东、vip #new") == ("vip", "cn", "华东", "new")
    assert read_tags("") == ()


def test_what_is_no_tag_is_refused() -> None:
    assert read_tags("vip!") is None
    assert read_tags("x" * 33) is None
    assert read_tags(" ".join(f"t{n}" for n in range(MAX_TAGS + 1))) is None
    assert read_tags("_hidden") is None


async def test_an_admin_tags_a_group_and_sees_the_tags(chat: Chat, store: Store) -> None:
    said = await chat.say("boss", "/settings tags VIP 华东")
    assert said.text is not None and "vip, 华东" in said.text
    assert tags_in_db(store, chat.chat_id) == ["vip", "华东"]
    shown = await chat.say("boss", "/settings")
    assert shown.text is not None and "This group's tags: vip, 华东" in shown.text
    actions = store.read_now(
        lambda c: list(c.execute(select(audit_log.c.action, audit_log.c.details)))
    )
    expected = {"by": "console:boss", "chat": f"console:{chat.chat_id}", "tags": ["vip", "华东"]}
    assert ("group_tagged", expected) in [(row.action, row.details) for row in actions]


async def test_a_dash_clears_the_tags(chat: Chat, store: Store) -> None:
    await chat.say("boss", "/settings tags vip")
    said = await chat.say("boss", "/settings tags -")
    assert said.outcome.reply is not None and said.outcome.reply.context["tags"] == []
    assert tags_in_db(store, chat.chat_id) is None


async def test_bad_tags_are_refused_and_change_nothing(chat: Chat, store: Store) -> None:
    await chat.say("boss", "/settings tags vip")
    said = await chat.say("boss", "/settings tags vip! <b>")
    assert said.outcome.reply is not None
    assert said.outcome.reply.template == "settings/bad_tags"
    assert tags_in_db(store, chat.chat_id) == ["vip"]


async def test_members_cannot_tag_groups(chat: Chat, store: Store) -> None:
    said = await chat.say("alice", "/settings tags vip")
    assert said.outcome.reply is not None
    assert said.outcome.reply.template == "common/admins_only"
    assert tags_in_db(store, chat.chat_id) is None
