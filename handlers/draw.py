"""/draw: admins start lucky draws; members enter with a button."""

from __future__ import annotations

from handlers.routes import Router

router = Router()
