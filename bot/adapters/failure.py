"""How an adapter tells `serve` that it cannot go on by itself (a revoked token), so `run`
stops with one line instead of retrying forever."""

from __future__ import annotations

import asyncio


class TokenRefused(Exception):
    """The platform refused the bot's token: revoked, reset or mistyped. Retrying cannot help;
    the message tells the operator what to fix, and never contains the token."""


class Failure:
    """The first error that ends an adapter for good, for `serve` to wait on."""

    def __init__(self) -> None:
        self._error: BaseException | None = None
        self._happened = asyncio.Event()

    def set(self, error: BaseException) -> None:
        """Record why the adapter cannot go on (the first reason wins)."""
        if self._error is None:
            self._error = error
            self._happened.set()

    async def wait(self) -> BaseException:
        """Wait until the adapter cannot go on and return why; never returns while all is well."""
        await self._happened.wait()
        assert self._error is not None  # set before the event
        return self._error
