"""The month-end evaluation of the ambassador programme, its database side: count the month for
the roster (one query), judge each ambassador (community/ambassador_months.py), record the
months in one statement, then pay the rewards, move down who missed too long, propose moving
up who exceeded long enough, and tell each ambassador and the admins privately (what they are
told: community/ambassador_report.py).

The roster is read as it stands when the evaluation runs: whoever is on it now and was
appointed before the month ended. A month is evaluated once per ambassador (ambassador_months
is unique per member and month, and its row is written before anything is paid), so a retried
or repeated firing evaluates only whom an earlier one did not.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from functools import cache

from sqlalchemy import Connection, Insert, exists, select, update
from sqlalchemy.dialects import postgresql, sqlite

from community import audit
from community.ambassador_counts import Counted, month_output
from community.ambassador_months import (
    Judged,
    Month,
    Outcome,
    Step,
    judge,
    level_step,
    next_step,
)
from community.ambassador_report import Evaluated, Verdict, month_notice, report_to_admins
from community.communities import Community
from community.private_notices import Notice, tell
from loyalty.earning import earn
from storage.ambassador_tables import ambassador_months, ambassadors

_SLICE = 500  # ids per IN (...)


def reward_key(community_id: int, member_id: int, month: Month) -> str:
    """The ledger key of an ambassador's reward for a month: paid once, whatever runs twice."""
    return f"ambassador_reward:{community_id}:{member_id}:{month.key}"


def evaluate_month(
    conn: Connection,
    community: Community,
    month: Month,
    *,
    at: datetime,
    admins: tuple[str, ...] = (),
) -> Evaluated:
    """Evaluate `month` for every ambassador on the roster not evaluated for it yet."""
    done = Evaluated(month)
    zone = community.timezone
    if not _anyone_left(conn, community.id, month, month.ends(zone)):
        return done  # the daily catch-up firing, once the month is done: one cheap query
    counted = month_output(conn, community, month, appointed_before=month.ends(zone))
    evaluated = _evaluated(conn, community.id, month)
    counted = [c for c in counted if c.member_id not in evaluated]
    if not counted:
        return done
    histories = _histories(conn, community, [c.member_id for c in counted], month)
    verdicts = [_verdict(community, month, c, histories.get(c.member_id, ())) for c in counted]
    ids = _record(conn, community, month, verdicts, at)
    verdicts = [v for v in verdicts if v.counted.member_id in ids]
    notices: list[Notice] = []
    for verdict in verdicts:
        member = verdict.counted.member_id
        done.evaluated += 1
        if verdict.judged.outcome is not Outcome.MISSED:
            done.met += 1
            if verdict.reward:
                paid = earn(
                    conn,
                    community.program,
                    member_id=member,
                    action="ambassador_reward",
                    base=verdict.reward,
                    key=reward_key(community.id, member, month),
                    at=at,
                    note=month.key,
                )
                done.paid += paid.paid
        if verdict.moved_to is not None and _demote(conn, community, verdict, at):
            done.demoted.append(member)
        if verdict.proposed is not None:
            done.proposals.append(ids[member])
        if community.rules.ambassadors.level(verdict.counted.level) is not None:
            notices.append(month_notice(community, month, verdict, demoted=member in done.demoted))
        # else: a level taken out of the settings asked nothing of them; telling them they
        # missed it would be false. The admins' report asks for a level instead.
    done.platforms |= tell(conn, community, notices, at)
    done.platforms |= report_to_admins(conn, community, done, verdicts, ids, at, admins)
    return done


def _anyone_left(conn: Connection, community_id: int, month: Month, end: datetime) -> bool:
    """Whether anyone on the roster, appointed before the month ended, is not evaluated for
    it yet."""
    evaluated = exists().where(
        ambassador_months.c.community_id == community_id,
        ambassador_months.c.member_id == ambassadors.c.member_id,
        ambassador_months.c.month == month.key,
    )
    left = exists().where(
        ambassadors.c.community_id == community_id,
        ambassadors.c.removed_at.is_(None),
        ambassadors.c.appointed_at < end,
        ~evaluated,
    )
    return bool(conn.execute(select(left)).scalar())


def _evaluated(conn: Connection, community_id: int, month: Month) -> set[int]:
    rows = conn.execute(
        select(ambassador_months.c.member_id).where(
            ambassador_months.c.community_id == community_id,
            ambassador_months.c.month == month.key,
        )
    )
    return {int(member) for member in rows.scalars()}


def _histories(
    conn: Connection, community: Community, member_ids: Sequence[int], month: Month
) -> dict[int, tuple[Judged, ...]]:
    """Each member's evaluated months before `month`, as far back as a streak rule looks."""
    rules = community.rules.ambassadors
    first = month
    for _ in range(max(rules.demote_after_months, rules.promote_after_months)):
        first = first.previous()
    found: dict[int, list[Judged]] = defaultdict(list)
    for start in range(0, len(member_ids), _SLICE):
        rows = conn.execute(
            select(
                ambassador_months.c.member_id,
                ambassador_months.c.month,
                ambassador_months.c.level,
                ambassador_months.c.outcome,
                ambassador_months.c.partial,
                ambassador_months.c.proposed_level,
            )
            .where(
                ambassador_months.c.community_id == community.id,
                ambassador_months.c.member_id.in_(member_ids[start : start + _SLICE]),
                ambassador_months.c.month >= first.key,
                ambassador_months.c.month < month.key,
            )
            .order_by(ambassador_months.c.member_id, ambassador_months.c.month)
        )
        for row in rows:
            found[int(row.member_id)].append(
                Judged(
                    Month.parse(row.month),
                    str(row.level),
                    Outcome(row.outcome),
                    bool(row.partial),
                    row.proposed_level is not None,
                )
            )
    return {member: tuple(judged) for member, judged in found.items()}


def _verdict(
    community: Community, month: Month, counted: Counted, before: Sequence[Judged]
) -> Verdict:
    rules = community.rules.ambassadors
    level = rules.level(counted.level)
    if level is None:
        # A level taken out of the settings: nothing to measure against until an admin sets
        # one; the month is recorded as missed and moves nothing (next_step knows no level).
        outcome = Outcome.MISSED
    else:
        outcome = judge(counted.output, level.tasks, rules.exceed_percent)
    partial = counted.appointed_at > month.starts(community.timezone)
    judged = Judged(month, counted.level, outcome, partial)
    step = next_step((*before, judged), rules)
    proposed = level_step(rules, counted.level, 1) if step is Step.PROPOSE else None
    if proposed is not None:
        judged = Judged(month, counted.level, outcome, partial, proposed=True)
    return Verdict(
        counted,
        judged,
        step,
        level.reward if level is not None and outcome is not Outcome.MISSED else 0,
        level_step(rules, counted.level, -1) if step is Step.DEMOTE else None,
        proposed,
        (*before, judged),
    )


@cache
def _insert_months(dialect_name: str) -> Insert:
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement: Insert = (
        dialect.insert(ambassador_months)
        .on_conflict_do_nothing()
        .returning(ambassador_months.c.member_id, ambassador_months.c.id)
    )
    return statement


def _record(
    conn: Connection,
    community: Community,
    month: Month,
    verdicts: Sequence[Verdict],
    at: datetime,
) -> dict[int, int]:
    """Write the months judged, in one statement; {member: the month's id} of those written
    now (a member another run wrote already is left out: it did the rest too)."""
    rows = [
        {
            "community_id": community.id,
            "member_id": v.counted.member_id,
            "month": month.key,
            "level": v.counted.level,
            "outcome": v.judged.outcome.value,
            "partial": v.judged.partial,
            "submissions": v.counted.output.submissions,
            "featured": v.counted.output.featured,
            "answers": v.counted.output.answers,
            "reward": v.reward,
            "demoted_to": v.moved_to,
            "proposed_level": v.proposed,
            "evaluated_at": at,
        }
        for v in verdicts
    ]
    written: dict[int, int] = {}
    statement = _insert_months(conn.dialect.name)
    for start in range(0, len(rows), _SLICE):
        result = conn.execute(statement, rows[start : start + _SLICE])
        written.update((int(member), int(number)) for member, number in result.all())
    return written


def _demote(conn: Connection, community: Community, verdict: Verdict, at: datetime) -> bool:
    """Move the ambassador down, unless the roster changed under the evaluation."""
    member, old = verdict.counted.member_id, verdict.counted.level
    moved = conn.execute(
        update(ambassadors)
        .where(
            ambassadors.c.community_id == community.id,
            ambassadors.c.member_id == member,
            ambassadors.c.removed_at.is_(None),
            ambassadors.c.level == old,
        )
        .values(level=verdict.moved_to)
    ).rowcount
    if moved != 1:
        return False
    audit.record(
        conn,
        community_id=community.id,
        actor=audit.SCHEDULER,
        action="ambassador_demote",
        at=at,
        target_member_id=member,
        old=old,
        level=verdict.moved_to,
        month=verdict.judged.month.key,
    )
    return True
