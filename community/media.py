"""Photos, videos and files the bot keeps (a submission's), once per community and content, and
read back to show or repost them (see storage/ugc_tables.py for why the bytes are kept)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Connection, delete, select

from community.messages import Media
from storage.sql import insert_if_absent
from storage.ugc_tables import media, media_refs


def keep(
    conn: Connection,
    *,
    community_id: int,
    kind: str,
    name: str,
    mime: str,
    data: bytes,
    at: datetime,
    platform: str = "",
    ref: str = "",
) -> Media:
    """The file kept (the same bytes kept before: that row), with the platform's reference
    for it remembered when one is given."""
    sha = hashlib.sha256(data).hexdigest()
    insert_if_absent(
        conn,
        media,
        {
            "community_id": community_id,
            "sha256": sha,
            "kind": kind,
            "name": name[:200],
            "mime": mime[:100],
            "size": len(data),
            "data": data,
            "created_at": at,
        },
    )
    row = conn.execute(
        select(media.c.id, media.c.kind, media.c.name, media.c.mime).where(
            media.c.community_id == community_id, media.c.sha256 == sha
        )
    ).one()
    if platform and ref:
        remember_ref(conn, row.id, platform, ref)
    return Media(row.id, row.kind, row.name, row.mime)


def sha256_of(data: bytes) -> str:
    """What two equal files share (a submission's mark of sameness)."""
    return hashlib.sha256(data).hexdigest()


def remember_ref(conn: Connection, media_id: int, platform: str, ref: str) -> None:
    """The platform's own reference for a kept file (the first one given stays)."""
    insert_if_absent(
        conn,
        media_refs,
        {"media_id": media_id, "platform": platform, "ref": ref[:300]},
    )


def described(conn: Connection, media_ids: Iterable[int]) -> dict[int, Media]:
    """The kept files by id, without their bytes (what a reply names)."""
    ids = sorted(set(media_ids))
    if not ids:
        return {}
    rows = conn.execute(
        select(media.c.id, media.c.kind, media.c.name, media.c.mime).where(media.c.id.in_(ids))
    )
    return {row.id: Media(row.id, row.kind, row.name, row.mime) for row in rows}


def with_content(conn: Connection, shown: Iterable[Media], platform: str) -> tuple[Media, ...]:
    """The files with what `platform` needs to send them: its own reference where it has one,
    else the bytes. A file no longer kept (erased) is left out."""
    wanted = list(shown)
    ids = [item.media_id for item in wanted]
    if not ids:
        return ()
    refs: Mapping[int, str] = {
        row.media_id: row.ref
        for row in conn.execute(
            select(media_refs.c.media_id, media_refs.c.ref).where(
                media_refs.c.media_id.in_(ids), media_refs.c.platform == platform
            )
        )
    }
    need_bytes = [i for i in ids if i not in refs]
    contents: Mapping[int, bytes] = {}
    if need_bytes:
        contents = {
            row.id: row.data
            for row in conn.execute(
                select(media.c.id, media.c.data).where(media.c.id.in_(need_bytes))
            )
        }
    found = []
    for item in wanted:
        if item.media_id in refs:
            found.append(replace(item, ref=refs[item.media_id], content=b""))
        elif item.media_id in contents:
            found.append(replace(item, content=bytes(contents[item.media_id]), ref=""))
    return tuple(found)


def reloaded(conn: Connection, named: Iterable[Media], platform: str) -> tuple[Media, ...]:
    """The files with their bytes, for a platform that no longer knows the references it gave
    them (the community moved to another Telegram bot: file_ids are each bot's own). Those
    references (`ref`) are forgotten, so that the next upload's is remembered instead."""
    wanted = list(named)
    for item in wanted:
        if item.ref:
            conn.execute(
                delete(media_refs).where(
                    media_refs.c.media_id == item.media_id,
                    media_refs.c.platform == platform,
                    media_refs.c.ref == item.ref,
                )
            )
    ids = [item.media_id for item in wanted]
    if not ids:
        return ()
    contents = {
        row.id: row.data
        for row in conn.execute(select(media.c.id, media.c.data).where(media.c.id.in_(ids)))
    }
    return tuple(
        replace(item, ref="", content=bytes(contents[item.media_id]))
        for item in wanted
        if item.media_id in contents
    )
