"""The community's locale picks the language; every template exists in every locale."""

from __future__ import annotations

from pathlib import Path

from bot.rendering import TEMPLATES
from community.communities import apply_config
from community.config import parse_config
from handlers.router import Dispatcher
from storage.store import Store
from tests.conftest import T0, TEST_COMMUNITY
from tests.harness import Chat, Clock


async def test_chinese_community_answers_in_chinese(store: Store, dispatcher: Dispatcher) -> None:
    config, digest = parse_config(TEST_COMMUNITY.replace('locale = "en"', 'locale = "zh_CN"'))
    store.write_now(
        apply_config, config, digest, default_timezone="UTC", default_locale="en", at=T0
    )
    chat = Chat(dispatcher, Clock(T0))
    said = await chat.say("小明", "签到")
    assert said.text is not None and "签到成功，小明！+10 积分" in said.text
    again = await chat.say("小明", "打卡")
    assert again.text is not None and "你今天已经签到过啦" in again.text
    # In a group only a command addressed to this bot gets "unknown"; a private chat always does.
    private = Chat(dispatcher, Clock(T0), chat_id="dm-xiaoming", private=True)
    unknown = await private.say("小明", "/nope")
    assert unknown.text == "我不认识 /nope 这个命令 —— 发送 /help 看看我能做什么。"


def test_every_template_exists_in_every_locale() -> None:
    def names(locale: str) -> set[str]:
        root = TEMPLATES / locale
        return {str(p.relative_to(root)) for p in root.rglob("*.j2")}

    english = names("en")
    assert english, "no templates found"
    for locale in (p.name for p in TEMPLATES.iterdir() if p.is_dir()):
        assert names(locale) == english, locale


def test_every_template_a_handler_names_exists() -> None:
    root = Path(__file__).resolve().parent.parent
    import re

    named: set[str] = set()
    for source in [
        *root.glob("handlers/*.py"),
        *root.glob("community/*.py"),
        *root.glob("loyalty/*.py"),
        *root.glob("bot/**/*.py"),
    ]:
        named |= set(
            re.findall(r'(?:Reply|UserError|_say)\(\s*f?"([a-z_]+/[a-z_{}]+)"', source.read_text())
        )
    assert len(named) > 15
    for name in named:
        assert (TEMPLATES / "en" / f"{name}.j2").exists(), name
