"""Q&A's scheduled work, hourly: bounties nobody's answer won in time go back to their askers,
questions nobody answered are raised to the admins (once), and the posts' platform ids are read
from the outbox before it forgets them.

Hourly because its settings count in hours (raise_after_hours) and days (bounty_days): a
question is raised at most an hour late, a bounty returned at most an hour late. A schedule
holds six times a day at most, so the hour is four jobs of six times each, an hour apart, and
they are listed only while something is pending (see `jobs`). A firing missed while the bot
was down is caught up by the next one: each sweep does whatever is due by its time.

Who the admins are: the scheduler has no event, so no platform to ask: community/admins.py's
rule.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, exists, func, select, update

from community.admins import admin_members
from community.communities import Community
from community.jobs import FiringContext, Job, hourly_sweep
from community.messages import Reply, Visibility
from community.outbox import Direct, enqueue_directs
from community.question_accepting import return_bounty
from community.question_messages import resolve_posts
from community.questions import OPEN, Question, question_by_id, tell
from community.reminders import recipients
from storage.qa_tables import answers, question_messages, questions
from storage.schema import members


def jobs(conn: Connection, community: Community) -> list[Job]:
    """The hourly Q&A sweep, as four jobs "questions:<community>:<n>" an hour apart; listed
    only while something will come due (an unanswered question, a held bounty, a post whose
    platform id is unread), from the first moment it does: a community without questions
    costs the scheduler nothing, and a clock moved years ahead walks no empty hours."""
    since = first_due(conn, community)
    if since is None:
        return []
    return hourly_sweep("questions", community, sweep, max(since, community.created_at))


def first_due(conn: Connection, community: Community) -> datetime | None:
    """The first moment a sweep has something to do (None: nothing will come due)."""
    rules = community.rules.questions
    open_here = (questions.c.community_id == community.id, questions.c.state == OPEN)
    moments: list[datetime] = []
    held = conn.execute(
        select(func.min(questions.c.created_at)).where(
            *open_here, questions.c.bounty > 0, questions.c.bounty_settled_at.is_(None)
        )
    ).scalar()
    if held is not None:
        moments.append(held + timedelta(days=rules.bounty_days))
    if rules.raise_after_hours:
        unraised = conn.execute(
            select(func.min(questions.c.created_at)).where(
                *open_here,
                questions.c.raised_at.is_(None),
                ~exists().where(answers.c.question_id == questions.c.id),
            )
        ).scalar()
        if unraised is not None:
            moments.append(unraised + timedelta(hours=rules.raise_after_hours))
    unread = conn.execute(
        select(func.min(questions.c.created_at))
        .join(question_messages, question_messages.c.question_id == questions.c.id)
        .where(questions.c.community_id == community.id, question_messages.c.message_id.is_(None))
    ).scalar()
    if unread is not None:
        moments.append(unread)
    return min(moments) if moments else None


def sweep(ctx: FiringContext) -> tuple[int, int]:
    """A firing's work: (bounties returned, questions raised)."""
    resolve_posts(ctx.conn)
    return return_expired_bounties(ctx), raise_unanswered(ctx)


def return_expired_bounties(ctx: FiringContext) -> int:
    """Bounties held longer than bounty_days with no answer accepted go back to the askers,
    each told privately. Returns how many went back."""
    conn, community = ctx.conn, ctx.community
    cutoff = ctx.now - timedelta(days=community.rules.questions.bounty_days)
    due = conn.execute(
        select(questions.c.id).where(
            questions.c.community_id == community.id,
            questions.c.state == OPEN,
            questions.c.bounty > 0,
            questions.c.bounty_settled_at.is_(None),
            questions.c.created_at <= cutoff,
        )
    ).scalars()
    returned = 0
    for number in list(due):
        question = question_by_id(conn, community.id, number)
        assert question is not None
        points = return_bounty(conn, community, question, ctx.now)
        if not points:
            continue
        returned += 1
        notice = Reply(
            "questions/bounty_returned",
            {"question": question.id, "text": question.text, "bounty": points},
            visibility=Visibility.PRIVATE,
        )
        ctx.platforms.update(
            tell(conn, community, question.member_id, notice, f"returned:{question.id}", ctx.now)
        )
    return returned


def raise_unanswered(ctx: FiringContext) -> int:
    """Open questions nobody answered for raise_after_hours are raised once: each admin gets
    one private message naming them. Returns how many questions were raised. While no admin
    is known (none adopted a group or acted as one yet), nothing is raised: the questions wait
    for the first admin rather than being marked told with nobody told."""
    conn, community = ctx.conn, ctx.community
    hours = community.rules.questions.raise_after_hours
    if hours == 0:
        return 0
    admins = admin_members(conn, community.id, listed=ctx.admins)
    targets = recipients(conn, community.id, sorted(admins)) if admins else {}
    if not targets:
        return 0
    unanswered = ~exists().where(answers.c.question_id == questions.c.id)
    raised = (
        conn.execute(
            update(questions)
            .where(
                questions.c.community_id == community.id,
                questions.c.state == OPEN,
                questions.c.raised_at.is_(None),
                questions.c.created_at <= ctx.now - timedelta(hours=hours),
                unanswered,
            )
            .values(raised_at=ctx.now)
            .returning(questions.c.id)
        )
        .scalars()
        .all()
    )
    if not raised:
        return 0
    found = [question_by_id(conn, community.id, number) for number in sorted(raised)]
    listed = [_listed(q) for q in found if q is not None][: community.rules.questions.list_entries]
    reply = Reply(
        "questions/raised",
        {"questions": listed, "more": len(raised) - len(listed), "hours": hours},
        visibility=Visibility.PRIVATE,
    )
    names = dict(
        conn.execute(
            select(members.c.id, members.c.display_name).where(members.c.id.in_(admins))
        ).all()
    )
    stamp = ctx.scheduled_at.isoformat()
    messages = [
        Direct(t.platform, t.user_id, reply, names.get(m, ""), key=f"qa:raised:{m}:{stamp}")
        for m, t in targets.items()
    ]
    ctx.platforms.update(
        enqueue_directs(conn, community_id=community.id, at=ctx.now, messages=messages)
    )
    return len(raised)


def _listed(question: Question) -> dict[str, object]:
    return {
        "number": question.id,
        "text": " ".join(question.text.split()),  # one line each, whatever the asker typed
        "asker": question.asker,
        "bounty": question.bounty_held,
        "asked_at": question.created_at,
    }
