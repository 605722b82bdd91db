"""What ambassadors did in a month, counted from the activity tables in one query for the
whole roster: /ambassadors, /mytasks, /top ambassadors and the month-end evaluation all read
it, so they never disagree.

- approved submissions: the member's submissions in state "approved" (storage/ugc_tables.py)
  approved in the month: decided then, or a rejection an admin reversed then (an approval
  reversed is "rejected" again, and counts nowhere);
- featured: those of them that were featured;
- answers: the questions of other members they answered in the month (storage/qa_tables.py),
  each question once: three answers to one question are one question answered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    bindparam,
    distinct,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.sql.functions import count

from community.ambassador_months import Month, Output
from community.communities import Community
from storage.ambassador_tables import ambassadors
from storage.qa_tables import answers, questions
from storage.schema import members
from storage.ugc_tables import submissions

APPROVED = "approved"  # storage/ugc_tables.py's state of an approved submission
_NEVER = datetime(9999, 1, 1, tzinfo=UTC)  # "appointed before" that leaves nobody out


@dataclass(frozen=True, slots=True)
class Counted:
    """One ambassador on the roster, with their output of the month counted."""

    member_id: int
    name: str
    level: str
    appointed_at: datetime
    output: Output


_ON_ROSTER = and_(
    ambassadors.c.community_id == bindparam("community"),
    ambassadors.c.removed_at.is_(None),
    ambassadors.c.appointed_at < bindparam("appointed_before"),
)


def _counted(*roster: ColumnElement[bool]) -> Select[Any]:
    """The counting query over the ambassadors `roster` picks out: one statement, the
    activity tables grouped per member and joined to the roster."""
    members_counted = select(ambassadors.c.member_id).where(*roster)
    submitted = (
        select(
            submissions.c.member_id,
            count().label("approved"),
            count().filter(submissions.c.featured.is_(true())).label("featured"),
        )
        .where(
            submissions.c.community_id == bindparam("community"),
            submissions.c.state == APPROVED,
            or_(
                and_(
                    submissions.c.reversed_at.is_(None),
                    submissions.c.decided_at >= bindparam("start"),
                    submissions.c.decided_at < bindparam("end"),
                ),
                # A rejection an admin reversed: approved when it was reversed.
                and_(
                    submissions.c.reversed_at >= bindparam("start"),
                    submissions.c.reversed_at < bindparam("end"),
                ),
            ),
            submissions.c.member_id.in_(members_counted),
        )
        .group_by(submissions.c.member_id)
        .subquery("submitted")
    )
    answered = (
        select(answers.c.member_id, count(distinct(answers.c.question_id)).label("answered"))
        .join(questions, questions.c.id == answers.c.question_id)
        .where(
            answers.c.community_id == bindparam("community"),
            answers.c.created_at >= bindparam("start"),
            answers.c.created_at < bindparam("end"),
            questions.c.member_id != answers.c.member_id,
            answers.c.member_id.in_(members_counted),
        )
        .group_by(answers.c.member_id)
        .subquery("answered")
    )
    return (
        select(
            ambassadors.c.member_id,
            members.c.display_name,
            ambassadors.c.level,
            ambassadors.c.appointed_at,
            func.coalesce(submitted.c.approved, 0).label("approved"),
            func.coalesce(submitted.c.featured, 0).label("featured"),
            func.coalesce(answered.c.answered, 0).label("answered"),
        )
        .join(members, members.c.id == ambassadors.c.member_id)
        .outerjoin(submitted, submitted.c.member_id == ambassadors.c.member_id)
        .outerjoin(answered, answered.c.member_id == ambassadors.c.member_id)
        .where(*roster)
        .order_by(ambassadors.c.member_id)
    )


# Built once (building costs more than running): the whole roster, and one ambassador (/mytasks
# counts only theirs).
_COUNTED = _counted(_ON_ROSTER)
_COUNTED_ONE = _counted(_ON_ROSTER, ambassadors.c.member_id == bindparam("member"))


def month_output(
    conn: Connection,
    community: Community,
    month: Month,
    *,
    appointed_before: datetime | None = None,
    member_id: int | None = None,
) -> list[Counted]:
    """Everyone on the roster now (appointed before `appointed_before`, when given: the
    month-end run leaves out who was appointed after the month; only `member_id`, when
    given), with what they did in `month`, in one query."""
    zone = community.timezone
    end = month.ends(zone)
    rows = conn.execute(
        _COUNTED if member_id is None else _COUNTED_ONE,
        {
            "member": member_id,
            "community": community.id,
            "start": month.starts(zone),
            "end": end,
            "appointed_before": appointed_before or _NEVER,
        },
    )
    return [
        Counted(
            int(row.member_id),
            str(row.display_name),
            str(row.level),
            row.appointed_at,
            Output(int(row.approved), int(row.featured), int(row.answered)),
        )
        for row in rows
    ]
