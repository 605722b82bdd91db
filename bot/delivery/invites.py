"""Personal invitations made as a reply is sent (/invite): the platform makes the invite, the
core hears its link, and the reply's words show it where {{ invite_link }} stands."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace

from cachetools import LRUCache

from community.messages import InviteSpec, Reply
from handlers.invite import Invitations

log = logging.getLogger(__name__)

# Makes the platform's invite for a spec: its link, or "" when the platform refused (the bot
# may not invite there). A network error is raised: the send is tried again later.
MakeInvite = Callable[[InviteSpec], Awaitable[str]]


class InviteLinks:
    """Makes each invitation once per process (a resend after a 429 reuses its link) and
    reports the link to the core."""

    def __init__(self, make: MakeInvite, invitations: Invitations | None = None) -> None:
        self._make = make
        self._invitations = invitations
        self._made: LRUCache[str, str] = LRUCache(maxsize=4096)

    async def fill(self, reply: Reply) -> Reply:
        """The reply with its invitation's link in its context ("" when none could be made)."""
        spec = reply.invite
        if spec is None:
            return reply
        link = self._made.get(spec.code)
        if link is None:
            link = await self._make(spec)
            if link:
                self._made[spec.code] = link
                if self._invitations is not None:
                    await self._invitations.made(spec.code, link)
            else:
                log.warning(
                    "invitation not made: the platform refused",
                    extra={"code": spec.code, "chat_id": spec.chat_id},
                )
        return replace(reply, context={**reply.context, "invite_link": link})
