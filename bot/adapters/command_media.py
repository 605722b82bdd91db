"""The photos, videos and files a command brings (Event.media: a /submit's), as every adapter
hands them to the core: what kind each is, from its MIME type, and fetched or refused (too big,
not fetched at all)."""

from __future__ import annotations

import mimetypes

from bot.adapters.attached_files import TOO_BIG
from handlers.types import IncomingFile

PHOTO, VIDEO, FILE = "photo", "video", "file"
UNKNOWN_MIME = "application/octet-stream"


def kind_of(mime: str) -> str:
    """What the core calls a file of this MIME type: an image is a photo, a video a video,
    anything else a file."""
    major = mime.partition("/")[0].strip().lower()
    return {"image": PHOTO, "video": VIDEO}.get(major, FILE)


def mime_of(name: str, given: str | None = None) -> str:
    """The file's MIME type: what the platform said (its parameters dropped), else a guess
    from its name, else "application/octet-stream"."""
    said = (given or "").partition(";")[0].strip().lower()
    return said or mimetypes.guess_type(name)[0] or UNKNOWN_MIME


def fetched(
    kind: str,
    name: str,
    mime: str,
    data: bytes,
    *,
    limit: int,
    ref: str = "",
    from_reply: bool = False,
) -> IncomingFile:
    """A file the adapter downloaded: its bytes, or refused when they are over `limit` after
    all (the platform said less)."""
    if len(data) > limit:
        return too_big(kind, name, mime, len(data), ref=ref, from_reply=from_reply)
    return IncomingFile(kind, name, mime, len(data), data, ref=ref, from_reply=from_reply)


def too_big(
    kind: str, name: str, mime: str, size: int, *, ref: str = "", from_reply: bool = False
) -> IncomingFile:
    """A file over the limit, not downloaded: the handler says so politely."""
    return IncomingFile(kind, name, mime, size, ref=ref, refused=TOO_BIG, from_reply=from_reply)
