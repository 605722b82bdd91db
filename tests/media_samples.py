"""Sample contexts of the templates for files shown with a reply (issue 12, media), for
tests/test_templates_on_platforms.py: each renders on every platform in every locale."""

from __future__ import annotations

from typing import Any


def samples(hostile: str) -> dict[str, list[dict[str, Any]]]:
    """Every media template's samples; `hostile` is text with every platform's markup."""
    return {
        "console/media": [
            {"kind": "photo", "name": hostile, "path": f"data/media/{hostile}"},
            {"kind": "video", "name": "clip.mp4", "path": "data/media/clip.mp4"},
            {"kind": "file", "name": "review.pdf", "path": ""},
        ],
    }
