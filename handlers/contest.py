"""/contest: admins start contests; members vote on the entries after the close."""

from __future__ import annotations

from handlers.routes import Router

router = Router()
