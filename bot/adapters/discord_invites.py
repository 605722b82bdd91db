"""Invitations on Discord: making a member's invite (/invite) and telling which invite a
newcomer came through.

Discord does not say which invite a member joined by. The adapter keeps every server's invites
with their use counts (fetched when it is ready, and again at each join) and takes the one whose
count went up by one. That needs Manage Server; without it, or when two invites went up at
once, the join is told without an invite (nobody is credited), never with a guess.
"""

from __future__ import annotations

import asyncio
import logging

import discord

from community.messages import InviteSpec

log = logging.getLogger(__name__)

INVITE_REASON = "a member's personal invitation (/invite)"


async def make_invite(client: discord.Client, spec: InviteSpec) -> str:
    """A permanent invite of its own (max_age 0, unique) into the server `spec.chat_id`, in its
    system channel or else the first text channel the bot may invite to; its URL, or "" when
    the bot may not (no such channel, Create Invite missing)."""
    guild = client.get_guild(int(spec.chat_id)) if spec.chat_id.isdecimal() else None
    if guild is None:
        return ""
    me = guild.me
    candidates = [guild.system_channel, *guild.text_channels]
    channel = next(
        (c for c in candidates if c is not None and c.permissions_for(me).create_instant_invite),
        None,
    )
    if channel is None:
        return ""
    try:
        invite = await channel.create_invite(max_age=0, unique=True, reason=INVITE_REASON)
    except (discord.Forbidden, discord.NotFound) as error:
        log.warning("discord invite refused", extra={"guild_id": guild.id, "code": error.code})
        return ""
    return invite.url


class InviteUses:
    """Each server's invites and their uses, to tell which one a newcomer used."""

    def __init__(self) -> None:
        self._uses: dict[int, dict[str, int]] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._warned: set[int] = set()

    async def learn(self, guild: discord.Guild) -> None:
        """Remember the server's invites as they are now (on ready, on joining a server)."""
        async with self._lock(guild.id):
            found = await self._fetch(guild)
            if found is not None:
                self._uses[guild.id] = found

    async def used_by_join(self, guild: discord.Guild) -> str:
        """The URL of the invite a member just joined through; "" when it cannot be told."""
        async with self._lock(guild.id):
            before = self._uses.get(guild.id)
            now = await self._fetch(guild)
            if now is None:
                return ""
            self._uses[guild.id] = now
            if before is None:
                return ""
            grown = [url for url, uses in now.items() if uses > before.get(url, 0)]
            return grown[0] if len(grown) == 1 else ""

    def _lock(self, guild_id: int) -> asyncio.Lock:
        return self._locks.setdefault(guild_id, asyncio.Lock())

    async def _fetch(self, guild: discord.Guild) -> dict[str, int] | None:
        try:
            invites = await guild.invites()
        except discord.HTTPException as error:
            if guild.id not in self._warned:
                self._warned.add(guild.id)
                log.warning(
                    "discord invites unreadable (Manage Server missing?): joins are not "
                    "credited to invitations",
                    extra={"guild_id": guild.id, "status": error.status},
                )
            return None
        return {invite.url: invite.uses or 0 for invite in invites}
