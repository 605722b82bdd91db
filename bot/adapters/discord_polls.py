"""Discord's native polls: posting one (and telling the core where it went, so its votes count)
and ending one that /closepoll counted."""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import discord

from bot.rendering import plain_text
from handlers.ports import Polls
from handlers.types import PollSpec

log = logging.getLogger(__name__)


# Discord's limits for a native poll; one that does not fit goes out as text with buttons.
POLL_QUESTION_LIMIT, POLL_ANSWER_LIMIT, POLL_ANSWERS_LIMIT = 300, 55, 10
# Discord wants every poll to end by itself, after 1 to 768 hours; ours stay open until /closepoll.
# A day is Discord's own default and what members expect of a chat poll; one an admin forgets
# then stops by itself instead of lingering for a month, and /closepoll still counts it later.
# A poll opened with an end (--for 2d) lasts until then, in whole hours.
POLL_HOURS = 24
MAX_POLL_HOURS = 768
BAD_REQUEST = 400  # Discord refused the poll's form: it goes out with buttons instead
POLL_EXPIRED, UNKNOWN_MESSAGE = 520001, 10008  # nothing left to end


def native_poll(spec: PollSpec) -> discord.Poll | None:
    """A poll as Discord's own (single choice, POLL_HOURS long); None when it does not fit
    Discord's limits (an option longer than 55 characters), so it goes out with buttons. A quiz
    question is None too: Discord's polls have no right answer, and every vote would show in
    the poll's counts at once; its buttons answer each member privately (ephemerally)."""
    if spec.quiz:
        return None
    question, answers = plain_text(spec.question), [plain_text(o) for o in spec.options]
    fits = 0 < len(question) <= POLL_QUESTION_LIMIT and 0 < len(answers) <= POLL_ANSWERS_LIMIT
    if not fits or not all(0 < len(answer) <= POLL_ANSWER_LIMIT for answer in answers):
        return None
    poll = discord.Poll(question, timedelta(hours=poll_hours(spec)), multiple=False)
    for answer in answers:
        poll.add_answer(text=answer)
    return poll


def poll_hours(spec: PollSpec, now: datetime | None = None) -> int:
    """How many hours Discord keeps the poll open: until its end, if it has one (our sweep
    closes it then and posts the results), else POLL_HOURS."""
    if spec.closes_at is None:
        return POLL_HOURS
    left = spec.closes_at - (now or datetime.now(UTC))
    return max(1, min(MAX_POLL_HOURS, math.ceil(left / timedelta(hours=1))))


def poll_message_ref(channel_id: int, message_id: int) -> str:
    """What the core keeps as a native poll's message: its channel too, to end it from anywhere."""
    return f"{channel_id}/{message_id}"


def poll_message(ref: str) -> tuple[int, int] | None:
    """The (channel id, message id) of a poll_message_ref; None for anything else."""
    channel, _, message = ref.partition("/")
    return (int(channel), int(message)) if channel.isdecimal() and message.isdecimal() else None


class NativePolls:
    """Posts and ends native polls through one client, telling the core where they went."""

    def __init__(self, client: discord.Client, polls: Polls) -> None:
        self._client = client
        self._polls = polls
        self._end_warned = False

    async def answer(
        self, interaction: discord.Interaction[Any], spec: PollSpec, *, deferred: bool
    ) -> bool:
        """Answer an interaction with a native poll; False (nothing sent) when it has to go out
        as text.

        The interaction's own answer carries the poll, so it shows as the reply to /poll, and
        Discord's answer names the new message. A deferred one cannot: Discord drops the poll
        from the follow-up that replaces the "thinking…" message (discord-api-docs#7022), so the
        poll is posted in the channel (and the caller removes the placeholder).
        """
        poll = native_poll(spec)
        if poll is None:
            return False  # an option too long for Discord's polls
        try:
            if not deferred:
                answered = await interaction.response.send_message(poll=poll)
                channel_id, message_id = interaction.channel_id, answered.message_id
            else:
                channel = self._client.get_partial_messageable(interaction.channel_id or 0)
                message = await channel.send(poll=poll)
                channel_id, message_id = message.channel.id, message.id
        except discord.HTTPException as error:
            _refused(spec, error)
            return False
        if channel_id is None or message_id is None:
            log.error(
                "discord did not say where a poll went; its votes will not count",
                extra={"poll_id": spec.poll_id},
            )
            return True  # it is posted all the same: a second copy would only confuse
        await self._record(spec, channel_id, message_id)
        return True

    async def post(
        self,
        channel: discord.abc.Messageable,
        spec: PollSpec,
        *,
        nonce: str,
        reference: discord.MessageReference | None = None,
    ) -> discord.Message | None:
        """Post a native poll in a channel and tell the core; None (nothing sent) when it has
        to go out as text: it does not fit, or Discord refused its form (400). Any other
        error is raised, for the messenger to say whether to try again."""
        poll = native_poll(spec)
        if poll is None:
            return None
        quote: dict[str, Any] = {"reference": reference} if reference is not None else {}
        try:
            message = await channel.send(poll=poll, nonce=nonce, **quote)
        except discord.HTTPException as error:
            if error.status != BAD_REQUEST:
                raise
            _refused(spec, error)
            return None
        await self._record(spec, message.channel.id, message.id)
        return message

    async def end(self, ref: str) -> None:
        """End the native poll /closepoll counted. One that ended by itself, or whose message
        is gone, needs nothing; any other refusal is raised."""
        where = poll_message(ref)
        if where is None:
            return
        message = self._client.get_partial_messageable(where[0]).get_partial_message(where[1])
        try:
            await message.end_poll()
        except discord.HTTPException as error:
            if error.code not in (POLL_EXPIRED, UNKNOWN_MESSAGE):
                raise

    async def end_quietly(self, ref: str) -> None:
        """End a poll whose results are posted already (best effort: the results stand)."""
        try:
            await self.end(ref)
        except discord.HTTPException as error:
            extra = {"ref": ref, "status": error.status, "code": error.code}
            if self._end_warned:
                log.debug("discord refused to end a poll again", extra=extra)
                return
            self._end_warned = True
            log.warning("discord refused to end a poll; the results are posted anyway", extra=extra)

    async def _record(self, spec: PollSpec, channel_id: int, message_id: int) -> None:
        """Tie the poll to Discord's, so its votes count (a poll sent again after a crash finds
        the same message, by its nonce, and ties it again to the same)."""
        await self._polls.posted(
            spec.poll_id,
            native_id=str(message_id),
            message_id=poll_message_ref(channel_id, message_id),
        )


def _refused(spec: PollSpec, error: discord.HTTPException) -> None:
    log.warning(
        "discord refused a native poll; posting it with buttons",
        extra={"poll_id": spec.poll_id, "status": error.status, "code": error.code},
    )
