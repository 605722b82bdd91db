"""Long lists shown a page at a time (/faq list 2, /quiz bank 3, /topic list 2): one way to
count the pages and keep a page number asked for within them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list: its items, its number (from 1), how many pages there are, and how
    many items come after it."""

    items: Sequence[T]
    number: int
    pages: int
    more: int


def page_of(items: Sequence[T], asked: int | None, size: int) -> Page[T]:
    """Page `asked` of `items`, `size` a page; a page before the first is the first, one after
    the last the last (an empty list has one, empty page)."""
    pages = max(1, -(-len(items) // size))
    number = min(max(asked or 1, 1), pages)
    shown = items[(number - 1) * size : number * size]
    return Page(shown, number, pages, max(0, len(items) - number * size))
