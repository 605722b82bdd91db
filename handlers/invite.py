"""(being written: issue 10, loyalty engine)"""

from __future__ import annotations

from handlers.routes import Router

router = Router()
