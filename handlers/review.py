"""/review and /reviewer: reviewers decide on pending submissions privately (approve, feature,
reject with a reason); admins add reviewers and reverse a decision once."""

from __future__ import annotations

from handlers.routes import Router

router = Router()
