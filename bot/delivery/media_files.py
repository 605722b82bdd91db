"""The messengers' door to the kept files (community/media.py): the bytes of the photos a reply
shows, read where no outbox read brought them (a Discord interaction answered inline), and the
platform's own reference for a file it was just sent, so the next post there names it instead
of uploading it again (Telegram's file_id)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from community import media
from community.messages import Media, Reply
from storage.store import Store


class MediaFiles:
    """Reads kept files for a platform and remembers the platform's references for them."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def contents(self, shown: Sequence[Media], platform: str) -> tuple[Media, ...]:
        """The files with what `platform` needs to send them (its reference, else the bytes);
        a file no longer kept is left out. Read on the reader pool."""
        if not shown:
            return ()
        return await self._store.read(media.with_content, shown, platform)

    async def filled(self, reply: Reply, platform: str) -> Reply:
        """The reply with its files' contents, unless it has them already (from the outbox)."""
        if all(item.content or item.ref for item in reply.media):
            return reply
        return replace(reply, media=await self.contents(reply.media, platform))

    async def reloaded(self, named: Sequence[Media], platform: str) -> tuple[Media, ...]:
        """The files' bytes, their references (`ref`) refused by the platform: forgotten."""
        if not named:
            return ()
        return await self._store.write(media.reloaded, named, platform)

    async def remember(self, media_id: int, platform: str, ref: str) -> None:
        """The platform gave this file its own reference: later sends there name it."""
        await self._store.write(media.remember_ref, media_id, platform, ref)
