"""Polls: admins ask, members vote (changing their mind is free); a first vote earns points.

A poll may be opened with an end (`--for 2h`, `--until 18:00`, read in poll_ends.py): votes
after it are refused, and the scheduler's sweep closes it and posts its results in its chat
(poll_closing.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, bindparam, exists, insert, select, update

from community import audit, earning
from community.communities import Community
from community.messages import Choice, PollSpec, Reply
from community.poll_ends import parse_end
from loyalty import ledger
from loyalty.errors import UserError
from storage.quiz_tables import quiz_rounds
from storage.schema import groups, polls, votes
from storage.sql import fit_text

MAX_OPTIONS = 10  # Telegram's limit for native polls; Discord buttons fit five per row
QUESTION_LIMIT = 300  # Telegram's limit for a poll question
OPTION_LIMIT = 100  # Telegram's limit for one option's text


@dataclass(frozen=True, slots=True)
class Poll:
    """A poll as stored."""

    id: int
    community_id: int
    platform: str
    chat_id: str
    question: str
    options: tuple[str, ...]
    points: int
    closed: bool
    # When it closes by itself (opened with --for / --until), UTC.
    closes_at: datetime | None = None

    def open_at(self, at: datetime) -> bool:
        """Whether a vote at `at` still counts: not closed, and not past its end."""
        return not self.closed and (self.closes_at is None or at < self.closes_at)


@dataclass(frozen=True, slots=True)
class VoteResult:
    """What a vote did: the options now chosen and the points it earned (0 for a change)."""

    poll: Poll
    options: tuple[int, ...]
    points: int
    balance: int


@dataclass(frozen=True, slots=True)
class Tally:
    """A closed (or open) poll's counts, option by option."""

    poll: Poll
    counts: tuple[int, ...]
    voters: int


_BY_ID = select(polls).where(polls.c.id == bindparam("poll"))
# A quiz question is asked through a poll of its own (community/quiz_runs.py): /closepoll and
# the lists of open polls leave those to the quiz.
_NOT_A_QUIZ = ~exists().where(quiz_rounds.c.poll_id == polls.c.id)
_BY_NATIVE = select(polls).where(
    polls.c.platform == bindparam("platform"), polls.c.native_id == bindparam("native")
)
_VOTE_OF = select(votes.c.id, votes.c.options).where(
    votes.c.poll_id == bindparam("poll"), votes.c.member_id == bindparam("member")
)
_CHANGE_VOTE = (
    update(votes)
    .where(votes.c.id == bindparam("b_vote"))
    .values(options=bindparam("b_options"), voted_at=bindparam("b_at"))
)


# What a /poll may hold in all: more than this could not have come in one chat message.
TEXT_LIMIT = 4000
# "|" and the full-width "｜" that Chinese keyboards type both separate the options.
_SEPARATOR = re.compile("[|｜]")


def parse_poll(text: str) -> tuple[str, tuple[str, ...]]:
    """Split "Question? | A | B" into its question and options; UserError says what is wrong."""
    too_long = UserError("polls/too_long", question=QUESTION_LIMIT, option=OPTION_LIMIT)
    if len(text) > TEXT_LIMIT:
        raise too_long
    parts = [part.strip() for part in _SEPARATOR.split(text)]
    question, options = parts[0], tuple(part for part in parts[1:] if part)
    if len(question) > QUESTION_LIMIT or any(len(option) > OPTION_LIMIT for option in options):
        raise too_long
    if not question or len(options) < 2:
        raise UserError("polls/usage")
    if len(options) > MAX_OPTIONS:
        raise UserError("polls/too_many_options", limit=MAX_OPTIONS)
    if len(set(options)) != len(options):
        raise UserError("polls/duplicate_options")
    return question, options


def open_poll(
    conn: Connection,
    community: Community,
    *,
    platform: str,
    chat_id: str,
    text: str,
    actor: audit.Actor,
    at: datetime,
    channel_id: str | None = None,
) -> Poll:
    """Open a poll in a chat from "[--for 2h | --until 18:00] Question | A | B ..." (audited:
    it is an admin action). `channel_id`: the channel of a server it is opened in, where its
    results go when it closes by itself."""
    text = text.replace("\x00", "")
    if len(text) > TEXT_LIMIT:
        raise UserError("polls/too_long", question=QUESTION_LIMIT, option=OPTION_LIMIT)
    longest = timedelta(days=community.rules.polls.longest_days)
    closes_at, text = parse_end(text, community.timezone, at, longest)
    question, options = parse_poll(text)
    points = community.rules.earning.vote.points
    poll_id = conn.execute(
        insert(polls).returning(polls.c.id),
        {
            "community_id": community.id,
            "platform": platform,
            "chat_id": fit_text(chat_id, 64),
            "question": question,
            "options": list(options),
            "points": points,
            "created_by": actor.member_id,
            "created_at": at,
            "closes_at": closes_at,
            "channel_id": None if channel_id is None else fit_text(channel_id, 64),
        },
    ).scalar_one()
    ends: dict[str, Any] = {} if closes_at is None else {"closes_at": closes_at.isoformat()}
    audit.record(
        conn,
        community_id=community.id,
        actor=actor,
        action="poll_open",
        at=at,
        poll_id=poll_id,
        question=question,
        **ends,
    )
    return Poll(
        poll_id, community.id, platform, chat_id, question, options, points, False, closes_at
    )


def posted(opened: Poll, timezone: ZoneInfo) -> Reply:
    """How an opened poll is posted: natively where the platform has polls, else with a button
    per option; with its end, if it has one, in the community's timezone."""
    closes_at = None if opened.closes_at is None else opened.closes_at.astimezone(timezone)
    return Reply(
        "polls/posted",
        {
            "question": opened.question,
            "options": list(opened.options),
            "points": opened.points,
            "closes_at": closes_at,
            "timezone": timezone.key,
        },
        choices=tuple(
            Choice("polls/option", f"/vote {opened.id} {index}", {"text": text})
            for index, text in enumerate(opened.options)
        ),
        poll=PollSpec(opened.id, opened.question, opened.options, closes_at=opened.closes_at),
    )


def attach_native(conn: Connection, poll_id: int, *, native_id: str, message_id: str) -> None:
    """Remember the platform's own ids of a poll posted natively, so its votes find it."""
    conn.execute(
        update(polls)
        .where(polls.c.id == poll_id)
        .values(native_id=fit_text(native_id, 64), native_message_id=fit_text(message_id, 64))
    )


def poll_by_id(conn: Connection, community_id: int, poll_id: int) -> Poll | None:
    """The poll with this id in this community."""
    row = conn.execute(_BY_ID, {"poll": poll_id}).first()
    return None if row is None or row.community_id != community_id else poll_from_row(row)


def poll_by_native(conn: Connection, platform: str, native_id: str) -> Poll | None:
    """The poll a platform's native poll id belongs to."""
    row = conn.execute(
        _BY_NATIVE, {"platform": platform, "native": fit_text(native_id, 64)}
    ).first()
    return None if row is None else poll_from_row(row)


def latest_open_poll(
    conn: Connection, community_id: int, *, platform: str, chat_id: str
) -> Poll | None:
    """The newest poll of this community still open in a chat (a group moved to another
    community leaves its earlier polls with the one they were opened in)."""
    row = conn.execute(
        select(polls)
        .where(
            polls.c.community_id == community_id,
            polls.c.platform == platform,
            polls.c.chat_id == fit_text(chat_id, 64),
            polls.c.closed_at.is_(None),
            _NOT_A_QUIZ,
        )
        .order_by(polls.c.id.desc())
        .limit(1)
    ).first()
    return None if row is None else poll_from_row(row)


def open_polls_of_chat(
    conn: Connection, platform: str, chat_id: str, limit: int
) -> list[tuple[int, str]]:
    """The open polls of a chat that belong to its community now (as /closepoll finds them),
    newest first, as (number, question)."""
    rows = conn.execute(
        select(polls.c.id, polls.c.question)
        .join(
            groups,
            (groups.c.platform == polls.c.platform)
            & (groups.c.chat_id == polls.c.chat_id)
            & (groups.c.community_id == polls.c.community_id),
        )
        .where(
            polls.c.platform == platform,
            polls.c.chat_id == fit_text(chat_id, 64),
            polls.c.closed_at.is_(None),
            _NOT_A_QUIZ,
        )
        .order_by(polls.c.id.desc())
        .limit(limit)
    )
    return [(row.id, row.question) for row in rows]


def native_message_of(conn: Connection, poll_id: int) -> str | None:
    """The platform message that shows the poll natively, if it was posted that way."""
    return conn.execute(
        select(polls.c.native_message_id).where(polls.c.id == poll_id)
    ).scalar_one_or_none()


def vote(
    conn: Connection,
    poll: Poll,
    *,
    community: Community,
    member_id: int,
    options: tuple[int, ...],
    at: datetime,
    tier: int | None = None,
) -> VoteResult:
    """Record a member's choice; the first vote in a poll earns its points (multiplied on a
    member day, by the vote's own time), a change earns none. `tier`: Member.tier if read.

    An empty choice (a retracted native vote) removes the choice but keeps the points earned.
    A vote at or after the poll's end is refused, even before the scheduler has closed it.
    """
    if not poll.open_at(at):
        raise UserError("polls/closed", question=poll.question)
    chosen = tuple(sorted(set(options)))
    if any(not 0 <= index < len(poll.options) for index in chosen):
        raise UserError("polls/unknown_option")
    existing = conn.execute(_VOTE_OF, {"poll": poll.id, "member": member_id}).first()
    if existing is None and not chosen:
        # Withdrawing a vote we never saw (it came before the poll's native id was known):
        # nothing to record, and no points for choosing nothing.
        return VoteResult(poll, chosen, 0, ledger.balance(conn, member_id))
    if existing is None:
        conn.execute(
            insert(votes),
            {"poll_id": poll.id, "member_id": member_id, "options": list(chosen), "voted_at": at},
        )
    else:
        conn.execute(_CHANGE_VOTE, {"b_vote": existing.id, "b_options": list(chosen), "b_at": at})
    if existing is not None or poll.points == 0:
        return VoteResult(poll, chosen, 0, ledger.balance(conn, member_id))
    # The points the poll opened with are the vote's base (a rule change rewrites no poll).
    earned = earning.credit(
        conn,
        community,
        member_id=member_id,
        action="vote",
        key=f"vote:{poll.id}:{member_id}",
        at=at,
        base=poll.points,
        tier=tier,
    )
    return VoteResult(poll, chosen, earned.paid, earned.balance)


def close_poll(conn: Connection, poll: Poll, *, actor: audit.Actor, at: datetime) -> Tally:
    """Close a poll to further votes and count it (audited)."""
    if poll.closed:
        raise UserError("polls/closed", question=poll.question)
    conn.execute(update(polls).where(polls.c.id == poll.id).values(closed_at=at))
    audit.record(
        conn,
        community_id=poll.community_id,
        actor=actor,
        action="poll_close",
        at=at,
        poll_id=poll.id,
    )
    return tally(conn, replace(poll, closed=True))


def results(found: Tally) -> dict[str, Any]:
    """The context of polls/results: each option's count and share, and the voters."""
    total = max(found.voters, 1)
    rows = [
        {"text": text, "count": count, "percent": round(100 * count / total)}
        for text, count in zip(found.poll.options, found.counts, strict=True)
    ]
    return {"question": found.poll.question, "rows": rows, "voters": found.voters}


def tally(conn: Connection, poll: Poll) -> Tally:
    """Count the votes of a poll."""
    counts = [0] * len(poll.options)
    voters = 0
    for (chosen,) in conn.execute(select(votes.c.options).where(votes.c.poll_id == poll.id)):
        if chosen:
            voters += 1
        for index in chosen:
            if 0 <= index < len(counts):
                counts[index] += 1
    return Tally(poll, tuple(counts), voters)


def posting_target(
    conn: Connection, platform: str, chat_id: str, channel_id: str | None
) -> tuple[str, str | None] | None:
    """Where the bot's own posts about a poll go (its results, a quiz's next question): its
    chat (in a Discord server, the channel it was opened in, else the server's posting
    channel), and the group that is, if the chat is one; None for a server with no channel to
    post in."""
    group = conn.execute(
        select(groups.c.private, groups.c.needs_channel, groups.c.posting_channel).where(
            groups.c.platform == platform, groups.c.chat_id == chat_id
        )
    ).first()
    if group is None or group.private:
        return chat_id, None
    if group.needs_channel:
        channel = channel_id or group.posting_channel
        return (channel, chat_id) if channel else None
    return chat_id, chat_id


def poll_from_row(row: Any) -> Poll:
    """A poll as a row of the polls table holds it."""
    return Poll(
        id=row.id,
        community_id=row.community_id,
        platform=row.platform,
        chat_id=row.chat_id,
        question=row.question,
        options=tuple(row.options),
        points=row.points,
        closed=row.closed_at is not None,
        closes_at=row.closes_at,
    )
