"""A quiz in a chat: started by an admin (/quiz start) or by the topic calendar, one question
at a time, each asked through a timed poll, so the polls' own machinery posts it (natively on
Telegram), takes its native answers and ends it on time (the scheduler's alarm, the sweep).

Whatever races (two processes, a /quiz stop as a question ends), the quiz moves on once: the
UPDATE that closes a question's poll, and the one that moves the run on, are its claims.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from community import audit, polls
from community.communities import Community
from community.messages import Reply
from community.outbox import Kind, enqueue
from community.quiz_results import Round, finished_reply, question_reply, reveal, round_from_row
from community.quizzes import pick
from loyalty.errors import UserError
from storage.quiz_tables import quiz_rounds, quiz_runs
from storage.schema import polls as polls_table
from storage.sql import fit_text, insert_id_if_absent

# How often /quiz stop looks again when the question it would stop ended as it looked.
_STOP_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class Run:
    """A quiz as stored."""

    id: int
    community_id: int
    platform: str
    chat_id: str
    channel_id: str | None
    rounds: int
    seconds: int
    position: int
    finished: bool


@dataclass(frozen=True, slots=True)
class Started:
    """A quiz just started, and how its first question is posted."""

    run: Run
    reply: Reply


def live_chat(platform: str, chat_id: str) -> str:
    """What names a chat while a quiz runs in it (one at a time)."""
    return fit_text(f"{platform}:{chat_id}", 100)


def live_run(conn: Connection, platform: str, chat_id: str) -> Run | None:
    """The quiz running in a chat, if one is."""
    row = conn.execute(
        select(quiz_runs).where(quiz_runs.c.live_chat == live_chat(platform, chat_id))
    ).first()
    return None if row is None else _run(row)


def round_of_poll(conn: Connection, poll_id: int) -> Round | None:
    """The quiz question asked through this poll, if it is one."""
    row = conn.execute(select(quiz_rounds).where(quiz_rounds.c.poll_id == poll_id)).first()
    return None if row is None else round_from_row(row)


def start(
    conn: Connection,
    community: Community,
    *,
    platform: str,
    chat_id: str,
    channel_id: str | None,
    count: int | None,
    category: str,
    actor: audit.Actor,
    at: datetime,
    key: str | None = None,
    rng: random.Random | None = None,
) -> Started:
    """Start a quiz of `count` questions (the [quiz] default if None) from the bank (of one
    category, if given) in a group; audited. UserError: one runs there already, too many
    asked for, no question in the bank. Fewer questions than asked for: as many as there are."""
    rules = community.rules.quiz
    count = rules.questions if count is None else count
    if not 1 <= count <= rules.max_questions:
        raise UserError("quiz/too_many", limit=rules.max_questions)
    category = category.strip().lstrip("#＃").casefold()
    running = live_run(conn, platform, chat_id)
    if running is not None:
        raise _running(running)
    chosen = pick(conn, community.id, count, category, rng)
    if not chosen:
        raise UserError("quiz/empty_bank", category=category)
    run_id = insert_id_if_absent(
        conn,
        quiz_runs,
        {
            "community_id": community.id,
            "platform": platform,
            "chat_id": fit_text(chat_id, 64),
            "channel_id": None if channel_id is None else fit_text(channel_id, 64),
            "live_chat": live_chat(platform, chat_id),
            "key": key,
            "category": category,
            "rounds": len(chosen),
            "seconds": rules.seconds,
            "position": 1,
            "started_by": actor.member_id,
            "started_at": at,
            "stopped": False,
        },
    )
    if run_id is None:
        # Another start won the race for this chat (or this firing started it already).
        found = live_run(conn, platform, chat_id)
        raise _running(found) if found is not None else UserError("quiz/already_started")
    conn.execute(
        insert(quiz_rounds),
        [
            {
                "run_id": run_id,
                "position": position,
                "question_id": question.id,
                "question": question.question,
                "options": list(question.options),
                "correct": question.correct,
                "explanation": question.explanation,
            }
            for position, question in enumerate(chosen, start=1)
        ],
    )
    audit.record(
        conn,
        community_id=community.id,
        actor=actor,
        action="quiz_start",
        at=at,
        quiz_id=run_id,
        questions=len(chosen),
        category=category,
    )
    run = _run_by_id(conn, run_id)
    first = _open_round(conn, run, 1, at, actor.member_id)
    closes_at = at + timedelta(seconds=run.seconds)
    reply = question_reply(
        community, first, rounds=run.rounds, seconds=run.seconds, closes_at=closes_at, intro=True
    )
    return Started(run, reply)


def _running(run: Run) -> UserError:
    return UserError("quiz/already_running", number=run.position, rounds=run.rounds)


def stop(
    conn: Connection,
    community: Community,
    *,
    platform: str,
    chat_id: str,
    actor: audit.Actor,
    at: datetime,
) -> Reply:
    """End the chat's quiz now (audited): the question being asked closes, what was answered
    stays paid, and the leaderboard and answers are said. UserError if none runs."""
    claimed = _claim_stop(conn, platform, chat_id, at)
    if claimed is None:
        raise UserError("quiz/none_running")
    running, current = claimed
    native = None
    if current.poll_id is not None:
        conn.execute(
            update(polls_table)
            .where(polls_table.c.id == current.poll_id, polls_table.c.closed_at.is_(None))
            .values(closed_at=at)
        )
        native = polls.native_message_of(conn, current.poll_id)
    audit.record(
        conn,
        community_id=community.id,
        actor=actor,
        action="quiz_stop",
        at=at,
        quiz_id=running.id,
        asked=current.position,
    )
    return finished_reply(
        conn,
        running.id,
        rounds=running.rounds,
        limit=community.rules.quiz.leaderboard,
        stopped=True,
        last=current if current.poll_id is not None else None,
        ends_poll=native,
    )


def _claim_stop(
    conn: Connection, platform: str, chat_id: str, at: datetime
) -> tuple[Run, Round] | None:
    """End the chat's quiz as stopped at the question it is asking; that quiz and question, or
    None if none runs. The UPDATE is the claim: of a stop and a question's end at one moment,
    one moves the quiz. Rows are locked in the order a question's end locks them (its poll,
    then the quiz): in the other order, two processes could each wait for the other."""
    for _attempt in range(_STOP_ATTEMPTS):
        running = live_run(conn, platform, chat_id)
        if running is None:
            return None
        current = round_at(conn, running.id, running.position)
        if current.poll_id is not None:
            lock = select(polls_table.c.id).where(polls_table.c.id == current.poll_id)
            conn.execute(lock.with_for_update())
        stopped = conn.execute(
            update(quiz_runs)
            .where(
                quiz_runs.c.id == running.id,
                quiz_runs.c.finished_at.is_(None),
                quiz_runs.c.position == running.position,
            )
            .values(finished_at=at, live_chat=None, stopped=True)
        ).rowcount
        if stopped:
            return running, current
        # Its question ended meanwhile, and the quiz moved on (or ended): look again.
    return None


def round_ended(
    conn: Connection,
    community: Community,
    poll: polls.Poll,
    *,
    native_message_id: str | None,
    channel_id: str | None,
    now: datetime,
    platforms: set[str],
) -> None:
    """A question's poll closed at its end (the caller's UPDATE claimed it): say its answer and
    ask the next question, or end the quiz with its leaderboard."""
    ended = round_of_poll(conn, poll.id)
    if ended is None:
        return
    run = _run_by_id(conn, ended.run_id)
    # Ended longer ago than the scheduler's grace (the bot was down): the quiz ends with what
    # it asked, rather than asking on hours later in a chat that has moved on.
    late = now - (poll.closes_at or now)
    cut_short = ended.position < run.rounds and late > timedelta(
        minutes=community.rules.schedule.grace_minutes
    )
    last = ended.position >= run.rounds or cut_short
    moved = conn.execute(
        update(quiz_runs)
        .where(
            quiz_runs.c.id == run.id,
            quiz_runs.c.finished_at.is_(None),
            quiz_runs.c.position == ended.position,
        )
        .values(
            {"finished_at": now, "live_chat": None, "stopped": cut_short}
            if last
            else {"position": quiz_runs.c.position + 1}
        )
    ).rowcount
    if not moved:
        return  # stopped meanwhile (its end was said then)
    ended = round_at(conn, run.id, ended.position)  # with its first right answer, if any
    if last:
        if cut_short:
            audit.record(
                conn,
                community_id=community.id,
                actor=audit.SCHEDULER,  # it ends a quiz the bot was down through
                action="quiz_stop",
                at=now,
                quiz_id=run.id,
                asked=ended.position,
                late_minutes=int(late.total_seconds() // 60),
            )
        reply = finished_reply(
            conn,
            run.id,
            rounds=run.rounds,
            limit=community.rules.quiz.leaderboard,
            stopped=cut_short,
            last=ended,
            ends_poll=native_message_id,
        )
    else:
        following = _open_round(conn, run, ended.position + 1, now, None)
        asked = question_reply(
            community,
            following,
            rounds=run.rounds,
            seconds=run.seconds,
            closes_at=now + timedelta(seconds=run.seconds),
            previous=reveal(conn, ended),
        )
        reply = replace(asked, ends_poll=native_message_id)  # Telegram's last poll stops
    target = polls.posting_target(conn, poll.platform, poll.chat_id, channel_id)
    if target is None:
        return  # a server with no channel to post in any more
    chat_id, group_chat_id = target
    enqueue(
        conn,
        community_id=community.id,
        platform=poll.platform,
        chat_id=chat_id,
        kind=Kind.POST,
        reply=reply,
        at=now,
        group_chat_id=group_chat_id,
    )
    platforms.add(poll.platform)


def _open_round(
    conn: Connection, run: Run, position: int, at: datetime, created_by: int | None
) -> Round:
    """Ask a round: its poll opened, open for the quiz's seconds from `at`."""
    asked = round_at(conn, run.id, position)
    poll_id = conn.execute(
        insert(polls_table).returning(polls_table.c.id),
        {
            "community_id": run.community_id,
            "platform": run.platform,
            "chat_id": run.chat_id,
            "question": asked.question,
            "options": list(asked.options),
            "points": 0,  # a quiz pays right answers (quiz_answers.py), not taking part
            "created_by": created_by,
            "created_at": at,
            "closes_at": at + timedelta(seconds=run.seconds),
            "channel_id": run.channel_id,
        },
    ).scalar_one()
    conn.execute(update(quiz_rounds).where(quiz_rounds.c.id == asked.id).values(poll_id=poll_id))
    return round_at(conn, run.id, position)


def round_at(conn: Connection, run_id: int, position: int) -> Round:
    """The quiz's round at `position` (from 1)."""
    row = conn.execute(
        select(quiz_rounds).where(
            quiz_rounds.c.run_id == run_id, quiz_rounds.c.position == position
        )
    ).one()
    return round_from_row(row)


def _run_by_id(conn: Connection, run_id: int) -> Run:
    return _run(conn.execute(select(quiz_runs).where(quiz_runs.c.id == run_id)).one())


def _run(row: Any) -> Run:
    return Run(
        id=row.id,
        community_id=row.community_id,
        platform=row.platform,
        chat_id=row.chat_id,
        channel_id=row.channel_id,
        rounds=row.rounds,
        seconds=row.seconds,
        position=row.position,
        finished=row.finished_at is not None,
    )
