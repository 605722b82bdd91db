"""User-caused errors: a message key and its context, for a template to render; not bugs."""

from __future__ import annotations

from typing import Any


class UserError(Exception):
    """A request that cannot be done; `key` names the template saying why ("feature/name")."""

    def __init__(self, key: str, *, line: str | None = None, **context: Any) -> None:
        super().__init__(key)
        self.key = key
        self.context = context
        # The one-line form of the answer, when a busy group's answers are merged (Reply.line).
        self.line = line
