"""Who is who on Discord: usernames for <@id> mentions and voters, looked up once and remembered;
and one voter's votes handled in order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator, Collection
from typing import Any

import discord
from cachetools import TTLCache

from bot.adapters.discord_events import (
    PLATFORM,
    account_ref,
    mentioned_ids,
    payload_account,
    with_handles,
)
from bot.adapters.discord_interactions import (
    resolved_handles,
)
from handlers.types import AccountRef

log = logging.getLogger(__name__)

HANDLE_CACHE_SECONDS = 3600  # how long a username seen (or looked up) is trusted for <@id>
LOOKUP_TIMEOUT = 1.0  # seconds a REST lookup of a mentioned member (or a voter) may take


class People:
    """The users the bot has seen or looked up, through one client."""

    def __init__(self, client: discord.Client) -> None:
        self._client = client
        self._usernames: TTLCache[int, str] = TTLCache(maxsize=50_000, ttl=HANDLE_CACHE_SECONDS)
        # Voters looked up over REST, by (server id or None, user id).
        self._voters: TTLCache[tuple[int | None, int], AccountRef] = TTLCache(
            maxsize=50_000, ttl=HANDLE_CACHE_SECONDS
        )
        self._voting: dict[int, asyncio.Lock] = {}  # one lock per voter: their votes in order
        self._queued_votes: Counter[int] = Counter()  # votes holding or waiting for each lock

    def saw(self, *users: discord.abc.User) -> None:
        """Remember usernames: whoever the core knows by @handle has been seen here."""
        for user in users:
            self._usernames[user.id] = user.name

    async def with_handles(
        self, interaction: discord.Interaction[Any], text: str, keep: Collection[int] = ()
    ) -> str:
        """The slash text with <@id> mentions written as @username, which the core understands;
        those of `keep` (users picked who are not in the server) stay as they are."""
        wanted = [user_id for user_id in mentioned_ids(text) if user_id not in keep]
        if not wanted:
            return text
        handles = {u: n for u, n in resolved_handles(interaction).items() if u not in keep}
        missing = [user_id for user_id in wanted if user_id not in handles]
        # Together, not one after another: this runs inside the interaction's 3 seconds.
        names = await asyncio.gather(
            *(self.username(interaction.guild_id, user_id) for user_id in missing)
        )
        handles.update({u: name for u, name in zip(missing, names, strict=True) if name})
        return with_handles(text, handles)

    async def username(self, guild_id: int | None, user_id: int) -> str | None:
        """A user's username, or None when nobody knows it (quickly)."""
        known = self._usernames.get(user_id)
        if known is not None:
            return known
        client = self._client
        guild = client.get_guild(guild_id) if guild_id is not None else None
        user = (guild.get_member(user_id) if guild is not None else None) or client.get_user(
            user_id
        )
        if user is not None:
            return user.name
        if guild_id is None:
            return None
        try:
            # Nobody the bot has seen since it started, and without the members intent the
            # client caches almost no one: ask Discord once, and remember. Briefly: this runs
            # inside the interaction's 3 seconds.
            fetched = await asyncio.wait_for(
                client.http.get_member(guild_id, user_id), LOOKUP_TIMEOUT
            )
        except (discord.HTTPException, TimeoutError):
            return None
        name = str(fetched["user"]["username"])
        self._usernames[user_id] = name
        return name

    async def member(self, guild_id: int, user_id: int) -> AccountRef | None:
        """A member of a server as the core sees them, asked of Discord unless cached (briefly:
        this runs inside an interaction's 3 seconds); None when they are not (or no longer) in
        it, or Discord does not say."""
        guild = self._client.get_guild(guild_id)
        cached = guild.get_member(user_id) if guild is not None else None
        if cached is not None:
            return account_ref(cached)
        try:
            data: Any = await asyncio.wait_for(
                self._client.http.get_member(guild_id, user_id), LOOKUP_TIMEOUT
            )
        except (discord.HTTPException, TimeoutError):
            return None
        self._usernames[user_id] = str(data["user"]["username"])
        return payload_account(data)

    async def voter(self, guild_id: int | None, user_id: int) -> AccountRef:
        """Who voted: from discord.py's cache, else asked of Discord once (and remembered),
        else known only by their id."""
        guild = self._client.get_guild(guild_id) if guild_id is not None else None
        cached: discord.abc.User | None = guild.get_member(user_id) if guild else None
        if cached is None and guild_id is None:
            cached = self._client.get_user(user_id)
        if cached is not None:
            return account_ref(cached)
        known = self._voters.get((guild_id, user_id))
        if known is not None:
            return known
        http = self._client.http
        try:
            if guild_id is not None:
                data: Any = await asyncio.wait_for(
                    http.get_member(guild_id, user_id), LOOKUP_TIMEOUT
                )
            else:
                data = await asyncio.wait_for(http.get_user(user_id), LOOKUP_TIMEOUT)
        except (discord.HTTPException, TimeoutError) as error:
            log.warning(
                "discord voter lookup failed; counting the vote all the same",
                extra={"user_id": user_id, "error": repr(error)},
            )
            name = self._usernames.get(user_id)  # seen using the bot, perhaps
            # No name is better than a wrong one: the core keeps the name and handle it has.
            return AccountRef(PLATFORM, str(user_id), name or "", username=name)
        actor = self._voters[(guild_id, user_id)] = payload_account(data)
        return actor

    @contextlib.asynccontextmanager
    async def in_order(self, user_id: int) -> AsyncIterator[None]:
        """One voter's votes are handled one after another, in the order Discord sent them:
        changing a vote is a remove then an add, which swapped would withdraw it instead. (Each
        event's task reaches the lock in arrival order, and asyncio's locks are first come, first
        served.)"""
        self._queued_votes[user_id] += 1
        lock = self._voting.setdefault(user_id, asyncio.Lock())
        try:
            async with lock:
                yield
        finally:
            self._queued_votes[user_id] -= 1
            if not self._queued_votes[user_id]:  # the last one out forgets the voter
                del self._queued_votes[user_id], self._voting[user_id]
