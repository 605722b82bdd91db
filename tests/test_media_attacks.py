"""Media attacked: what a hostile member sends, or what an ordinary one's emoji do, to the
plumbing of photos, videos and files (issue 12 part M). Each test failed before its fix."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot

from community import media
from storage.store import Store
from storage.ugc_tables import media_refs
from tests.fakes.telegram_api import FakeTelegram
from tests.harness import Clock, rows
from tests.test_media_out import (
    BUTTON,
    GROUPS,
    JPEG,
    PNG,
    TOKEN,
    featured,
    keep,
    post,
    telegram_sender,
)


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        for chat in GROUPS:
            fake.group(chat, f"Group {chat}")
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    bot = Bot(TOKEN, base_url=tg.base_url)
    await bot.initialize()
    yield bot
    await bot.shutdown()


async def test_a_caption_full_of_emoji_is_measured_as_telegram_counts_it(
    tg: FakeTelegram, bot: Bot, store: Store, clock: Clock
) -> None:
    """Telegram counts a caption in UTF-16 units: 600 emoji are 600 characters but 1,200
    units, over the 1,024 a caption holds. The photo still goes, the words after it."""
    photo = keep(store, "shoes.jpg", JPEG)
    post(store, "telegram", str(GROUPS[0]), featured(photo, command="🌟" * 600, choices=(BUTTON,)))
    await telegram_sender(bot, store, clock).drain_once()
    (sent,) = tg.media_in(GROUPS[0])
    assert sent.content == JPEG and sent.caption == ""
    (words,) = tg.texts(GROUPS[0])
    assert "🌟" * 600 in words


@pytest.mark.parametrize("album", [False, True])
async def test_a_file_id_telegram_no_longer_knows_is_uploaded_again(
    tg: FakeTelegram, bot: Bot, store: Store, clock: Clock, album: bool
) -> None:
    """The operator moved the community to another bot: the file_ids the old one was given (a
    member's photo, an earlier upload) mean nothing to it. The bytes are kept: they go up
    again, and the new file_id replaces the dead one, rather than the post failing for good."""
    photo = keep(store, "shoes.jpg", JPEG)
    store.write_now(media.remember_ref, photo.media_id, "telegram", "AgAD-of-another-bot")
    shown = (photo, keep(store, "box.png", PNG, mime="image/png")) if album else (photo,)
    post(store, "telegram", str(GROUPS[0]), featured(*shown, choices=(BUTTON,)))
    await telegram_sender(bot, store, clock).drain_once()
    sent = tg.media_in(GROUPS[0])
    assert [m.content for m in sent] == [JPEG, PNG] if album else [JPEG]
    assert not sent[0].by_file_id
    refs = {ref.media_id: ref.ref for ref in rows(store, media_refs)}
    assert refs[photo.media_id] == sent[0].file_id
