"""(being written)"""

from __future__ import annotations

from handlers.routes import Router

router = Router()
