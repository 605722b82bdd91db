"""Commands with several actions read them one way (handlers/actions.py): the Chinese words
admins type mean the same in /survey as in /faq, /quiz and /topic; a number is taken with or
without the "#" the bot writes; long lists page alike (handlers/paging.py)."""

from __future__ import annotations

from handlers.paging import page_of
from handlers.parsing import parse_numbered
from storage.store import Store
from tests.conftest import reconfigure
from tests.harness import Chat
from tests.test_survey_handlers import dm, load_surveys, template, text


def test_a_page_asked_for_is_kept_within_the_list() -> None:
    items = list(range(45))
    assert page_of(items, None, 20).items == list(range(20))
    last = page_of(items, 9, 20)
    assert (last.number, last.pages, last.more, list(last.items)) == (3, 3, 0, list(range(40, 45)))
    assert page_of(items, 0, 20).number == 1
    assert (page_of([], 2, 20).pages, page_of([], 2, 20).more) == (1, 0)


def test_a_number_is_read_with_or_without_the_hash_the_bot_writes() -> None:
    assert [parse_numbered(typed) for typed in ("7", "#7", "＃７", " #7 ", "#", "7a")] == [
        7,
        7,
        7,
        7,
        None,
        None,
    ]


async def test_survey_takes_the_chinese_action_words_the_other_commands_take(
    chat: Chat, store: Store
) -> None:
    reconfigure(store, locale="zh_CN")
    load_surveys(store)
    refused = await chat.say("alice", "/survey 开始 1")
    assert template(refused) == "common/admins_only"
    started = await chat.say("boss", "/survey 开始 #1")
    assert template(started) == "survey/started"
    await dm(chat).say("alice", "/survey 参与 1")
    paused = await dm(chat).say("alice", "/survey 暂停")
    assert template(paused) == "survey/paused"
    resumed = await dm(chat).say("alice", "/survey 继续")
    assert template(resumed) == "survey/question"
    results = await dm(chat).say("boss", "/survey 结果 1")
    assert template(results) == "survey/results"
    stopped = await chat.say("boss", "/survey 结束 1")
    assert template(stopped) == "survey/stopped"
    assert "问卷" in text(stopped)
