"""/quiz: admins start and stop a quiz, members answer (native quiz polls or buttons)."""

from __future__ import annotations

from handlers.routes import Router

router = Router()
