"""What a submission holds, checked before anything is kept: its category (from the words a
member typed), its text and the links in it, its files, and its marks of sameness (the same
link, however dressed up, or the same file is the same content). Plain functions on values."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from community.submission_rules import SubmissionCategory, SubmissionRules
from loyalty.errors import UserError

# A link as members paste it: http(s):// or www., up to a space or a character no URL holds
# unescaped. Chinese text often runs straight on after a link ("看https://x.cn/a很好"), so only
# ASCII is taken into one.
_LINK = re.compile(r"(?:https?://|www\.)[!#-;=?-\[\]_a-z~]+", re.IGNORECASE)
# Punctuation that ends a sentence rather than the link before it.
_TRAILING = ".,;:!?'\")]}*"
# A link whose ASCII stops where a path segment or a query value begins ("…/item/北京",
# "…?q=手机") goes on in the words clients show undecoded: up to a space or Chinese
# punctuation. Cut there, every Baike or Wikipedia page would be one "same link".
_IRI_TAIL = re.compile(r"[^\s，。！？、；：“”‘’（）《》【】「」『』…]+")
# Query parameters that say who shared a link or where it was clicked, not what it shows: the
# same page reached from an ad and from a friend is one submission.
_TRACKING = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "igshid", "mc_cid", "mc_eid", "spm", "_ga", "yclid"}
)
_DEFAULT_PORTS = {"http": 80, "https": 443}

# What a category's needs are met by: the kinds of file that count.
_NEEDS_KINDS = {"photo": ("photo",), "video": ("video",), "file": ("photo", "video", "file")}


@dataclass(frozen=True, slots=True)
class File:
    """A file as the member sent it: what the checks look at."""

    kind: str  # "photo", "video", "file"
    name: str
    mime: str
    size: int
    data: bytes = b""
    refused: str = ""  # the adapter did not fetch it: "too_big"
    ref: str = ""  # the platform's own reference for it (Telegram's file_id)


def find_links(text: str) -> list[str]:
    """The links in `text`, in order, each once, without the punctuation after them. Words
    glued on after an ASCII link ("看https://x.cn/a很好") are not part of it."""
    found: list[str] = []
    for match in _LINK.finditer(text):
        link = match.group(0)
        tail = _IRI_TAIL.match(text, match.end())
        if tail is not None and link.endswith(("/", "=")) and not text[match.end()].isascii():
            link += tail.group(0)
        link = link.rstrip(_TRAILING)
        named = "." in link.partition("//")[2] or link.lower().startswith("www.")
        if named and link not in found:
            found.append(link)
    return found


def normalize_link(link: str) -> str:
    """The link reduced to what names its page: no scheme (http and https show the same page),
    host in lower case without "www." or a default port, no trailing slash, no fragment, no
    tracking parameters (utm_*, fbclid, spm...), the other parameters in order."""
    text = link.strip()
    if not re.match(r"^[a-z][a-z0-9+.-]*://", text, re.IGNORECASE):
        text = "http://" + text
    parts = urlsplit(text)
    host = (parts.hostname or "").lower().removeprefix("www.")
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port != _DEFAULT_PORTS.get(parts.scheme.lower()):
        host = f"{host}:{port}"
    path = unquote(parts.path).rstrip("/")  # "/item/北京" as clients show "/item/%E5%8C%97..."
    query = sorted(
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not key.lower().startswith("utm_") and key.lower() not in _TRACKING
    )
    return f"//{host}{path}" + (f"?{urlencode(query)}" if query else "")


def link_mark(link: str) -> str:
    """The mark of a link's page (64 hex characters, as a file's sha256 is)."""
    return hashlib.sha256(normalize_link(link).encode()).hexdigest()


def file_mark(data: bytes) -> str:
    """The mark of a file's content: its sha256."""
    return hashlib.sha256(data).hexdigest()


def type_allowed(mime: str, allowed: Sequence[str]) -> bool:
    """Whether the MIME type is one of `allowed` ("image/*" takes every image)."""
    wanted = mime.strip().lower().partition(";")[0]
    for pattern in allowed:
        pattern = pattern.strip().lower()
        if pattern == wanted or (pattern.endswith("/*") and wanted.startswith(pattern[:-1])):
            return True
    return False


def category_words(category: SubmissionCategory) -> set[str]:
    """Everything a member may type for the category, folded: its key, names and aliases."""
    names = (category.key, category.names.en, category.names.zh_CN, *category.aliases)
    return {name.strip().casefold() for name in names if name.strip()}


def category_named(
    categories: Sequence[SubmissionCategory], word: str
) -> SubmissionCategory | None:
    """The category a whole word names (an admin's --category): its key, its name in either
    language or an alias, in any case ("purchase", "晒单", "Purchase photo")."""
    wanted = word.strip().casefold()
    return next((c for c in categories if wanted in category_words(c)), None)


def read_category(
    text: str, categories: Sequence[SubmissionCategory]
) -> tuple[SubmissionCategory | None, str]:
    """The category the text starts with (its first word, or a name of several words such as
    "purchase photo") and the rest; (None, text) when it starts with none."""
    stripped = text.strip()
    folded = stripped.casefold()
    best: tuple[int, SubmissionCategory] | None = None
    for category in categories:
        for word in category_words(category):
            after = folded[len(word) : len(word) + 1]
            whole = folded.startswith(word) and (not after or after.isspace())
            if whole and (best is None or len(word) > best[0]):
                best = (len(word), category)
    if best is None:
        return None, stripped
    return best[1], stripped[best[0] :].strip()


def shown_kind(kind: str, mime: str) -> str:
    """What a file shows, for a category's needs: a photo sent "as a file" (Telegram's way of
    keeping its quality, or a document holding a JPEG) is still a photo, a video one a video."""
    if kind != "file":
        return kind
    major = mime.strip().lower().partition("/")[0]
    return {"image": "photo", "video": "video"}.get(major, kind)


def fits(category: SubmissionCategory, kinds: Sequence[str]) -> bool:
    """Whether files of `kinds` meet what the category needs (a photo for a purchase photo)."""
    if category.needs == "any":
        return True
    return any(kind in _NEEDS_KINDS[category.needs] for kind in kinds)


def fitting(categories: Sequence[SubmissionCategory], kinds: Sequence[str]) -> list[str]:
    """The keys of the categories files of `kinds` may be submitted to."""
    return [category.key for category in categories if fits(category, kinds)]


@dataclass(frozen=True, slots=True)
class Content:
    """A submission's content, checked: its text, links, files and marks of sameness."""

    text: str
    links: tuple[str, ...]
    files: tuple[File, ...]
    marks: tuple[str, ...]

    @property
    def kinds(self) -> tuple[str, ...]:
        """What the files show (shown_kind), for the categories' needs."""
        return tuple(shown_kind(file.kind, file.mime) for file in self.files)


def checked(text: str, files: Sequence[File], rules: SubmissionRules) -> Content:
    """The content if every limit allows it. Raises UserError ("ugc/...") saying the first
    thing wrong: nothing in it, text too long, too many or too long links, too many files, a
    file too big, of a type not taken, or unreadable."""
    text = text.strip()
    if not text and not files:
        raise UserError("ugc/empty")
    if len(text) > rules.max_text:
        raise UserError("ugc/text_too_long", length=len(text), limit=rules.max_text)
    links = find_links(text)
    if len(links) > rules.max_links:
        raise UserError("ugc/too_many_links", count=len(links), limit=rules.max_links)
    for link in links:
        if len(link) > rules.max_link_length:
            raise UserError("ugc/link_too_long", length=len(link), limit=rules.max_link_length)
    if len(files) > rules.max_files:
        raise UserError("ugc/too_many_files", count=len(files), limit=rules.max_files)
    for file in files:
        if (
            file.refused
            or file.size > rules.max_file_bytes
            or len(file.data) > rules.max_file_bytes
        ):
            raise UserError(
                "ugc/file_too_big", name=file.name, size=file.size, limit=rules.max_file_bytes
            )
        if not type_allowed(file.mime, rules.file_types):
            raise UserError("ugc/file_type", name=file.name, mime=file.mime[:60])
        if not file.data:
            raise UserError("ugc/file_unreadable", name=file.name)
    marks = [link_mark(link) for link in links] + [file_mark(file.data) for file in files]
    return Content(text, tuple(links), tuple(files), tuple(dict.fromkeys(marks)))
