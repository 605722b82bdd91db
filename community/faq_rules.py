"""The FAQ's rules as community.toml's [faq] writes them, and its [[faq_entries]]."""

from __future__ import annotations

from pydantic import Field

from loyalty.rules import Strict


class FaqRules(Strict):
    """The FAQ: when a plain message is answered by itself, and the entries' limits."""

    auto_answer: bool = True  # answer plain group messages that match an entry well enough
    # How well (0..1) a message must match an entry to be answered unasked; at 0.5 the
    # matching set (tests/data/faq_matching.toml) measured precision 1.0, recall 0.84.
    threshold: float = Field(default=0.5, ge=0.0, le=1.0, strict=False)
    repeat_minutes: int = Field(default=10, ge=0, le=10_080)  # one entry, one chat, this often
    max_entries: int = Field(default=1000, ge=1, le=10_000)
    search_results: int = Field(default=3, ge=1, le=10)  # /faq <words> shows this many
    # /faq list marks an entry whose 👎 are at least this share of at least `min_votes` votes.
    unhelpful_share: float = Field(default=0.5, ge=0.0, le=1.0, strict=False)
    min_votes: int = Field(default=5, ge=1, le=1000)


class FaqEntryConfig(Strict):
    """One [[faq_entries]] entry of community.toml."""

    question: str = Field(min_length=1, max_length=300)
    answer: str = Field(min_length=1, max_length=2000)
    keywords: tuple[str, ...] = Field(default=(), strict=False, max_length=20)
