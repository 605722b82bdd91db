"""Submissions end to end on the console, in English and in Chinese: a photo attached by path
and submitted, a reviewer made by the admin features it, the featured post reaches the group,
the author's /mysubmissions says so."""

from __future__ import annotations

from pathlib import Path

from handlers.router import Dispatcher
from storage.store import Store
from tests.conftest import reconfigure
from tests.test_console import run_console


def script(photo: Path, category: str) -> str:
    return (
        ":as rita\nhi\n:as boss\n/reviewer add @rita\n"
        f":as alice\n:attach {photo}\n/submit {category} My new bag! https://shop.example/bag\n"
        ":as rita\n/review\n/review feature 1\n:as alice\n/mysubmissions\n/submit\n"
    )


async def test_a_photo_is_submitted_reviewed_and_featured_on_the_console(
    dispatcher: Dispatcher, tmp_path: Path
) -> None:
    photo = tmp_path / "bag.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 a bag")
    output = await run_console(dispatcher, script(photo, "purchase"))
    print(output)
    assert "🧐 rita is now a reviewer" in output
    assert (
        "📮 Submission #1 (Purchase photo) is in the review queue with 1 file and 1 link." in output
    )
    assert "📮 Submission #1 · Purchase photo · by alice" in output
    assert "/review feature 1" in output
    assert "🌟 #1 approved and featured in 1 group: alice earns 30 points." in output
    assert (
        "🌟 Featured Purchase photo by alice (#1)\nMy new bag! https://shop.example/bag" in output
    )
    assert "#1 Purchase photo, 11-23 09:00: 🌟 featured, 30 points" in output


async def test_the_same_story_in_chinese(
    dispatcher: Dispatcher, store: Store, tmp_path: Path
) -> None:
    reconfigure(store, locale="zh_CN")
    photo = tmp_path / "bag.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 a bag")
    output = await run_console(dispatcher, script(photo, "晒单"))
    print(output)
    assert "🧐 rita 现在是审核员了" in output
    assert "📮 投稿 #1（晒单）已进入审核队列，含 1 个文件和 1 个链接。" in output
    assert "🌟 #1 已通过并精选到 1 个群：alice 获得 30 积分。" in output
    assert "🌟 精选晒单：来自 alice（#1）" in output
    assert "#1 晒单，11-23 09:00：🌟 已精选，30 积分" in output
