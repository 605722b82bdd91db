"""How a lucky draw picks its winners, fairly and verifiably: plain functions on values.

When a draw opens, the bot makes a secret seed (32 random bytes from `secrets`, written as 64
lowercase hex characters) and publishes its commitment, sha256(seed) of those 64 characters as
ASCII. Entries are numbered 1, 2, 3... in the order they are made. At the close the seed is
revealed, and each entry's score is sha256 of the text "<seed>:<entry number>" (hex); the
entries with the lowest scores win, lowest first. Anyone with the seed and the list of entry
numbers recomputes the result in a few lines (README, "Lucky draws"):

    ranked = sorted(numbers, key=lambda n: sha256(f"{seed}:{n}".encode()).hexdigest())
    winners = ranked[:how_many]

The entries are fixed before anybody but the bot knows the seed: entering stops at the close,
and the seed is shown only after it.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

SEED_BYTES = 32


def new_seed() -> str:
    """A fresh secret seed: 64 lowercase hex characters."""
    return secrets.token_hex(SEED_BYTES)


def commitment(seed: str) -> str:
    """What is published while the seed is secret: sha256 of the seed's hex text."""
    return hashlib.sha256(seed.encode("ascii")).hexdigest()


def score(seed: str, number: int) -> str:
    """Entry `number`'s score under `seed`: the lower, the better its chance."""
    return hashlib.sha256(f"{seed}:{number}".encode("ascii")).hexdigest()


def pick(seed: str, numbers: Iterable[int], how_many: int) -> list[int]:
    """The winning entry numbers, best first: the `how_many` lowest scores (everyone, when
    fewer entered). Equal scores (never seen: sha256) go to the lower number."""
    ranked = sorted(set(numbers), key=lambda number: (score(seed, number), number))
    return ranked[: max(how_many, 0)]
