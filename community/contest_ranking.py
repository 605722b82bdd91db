"""Who wins a contest's vote: plain functions on its entries, no database."""

from __future__ import annotations

from collections.abc import Sequence

from community.contests import Entry


def standing(entries: Sequence[Entry]) -> list[Entry]:
    """The entries best first: the most votes; of entries with as many votes, the earlier
    entry (the lower number: submitted first) goes first."""
    return sorted(entries, key=lambda entry: (-entry.votes, entry.number))


def winners(entries: Sequence[Entry], places: int) -> list[Entry]:
    """The entries that win the `places` prizes, first place first. A tie goes to the earlier
    entry; an entry nobody voted for wins nothing (a vote nobody took part in has no winner)."""
    return [entry for entry in standing(entries) if entry.votes > 0][:places]
