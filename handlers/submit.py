"""/submit and /mysubmissions: members submit content to the review queue."""

from __future__ import annotations

from handlers.routes import Router

router = Router()
