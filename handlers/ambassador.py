"""/ambassador, /ambassadors and /mytasks: the roster, levels and monthly tasks of the brand
ambassador programme."""

from __future__ import annotations

from handlers.routes import Router

router = Router()
