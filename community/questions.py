"""Questions and answers (问答): asking (a bounty held in the ledger) and answering, read back
for /questions. Accepting and closing: community/question_accepting.py; the messages that
stand for a question (a reply to one answers it): community/question_messages.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from sqlalchemy import Column, Connection, Row, bindparam, func, insert, select, update
from sqlalchemy.sql.functions import count

from community import private_notices
from community.communities import Community
from community.messages import Reply, Visibility
from community.private_notices import Notice
from loyalty import ledger
from loyalty.errors import UserError
from storage.qa_tables import answers, questions
from storage.schema import members
from storage.sql import fit_text

# The columns of this activity's tables that point at a member: merge_members moves them when
# /link folds one member into another (tests/test_linking.py checks every such column is).
MEMBER_COLUMNS: tuple[Column[int], ...] = (questions.c.member_id, answers.c.member_id)

OPEN, ACCEPTED, CLOSED = "open", "accepted", "closed"
# Ledger reasons (templates/*/common/_reasons.j2 words them): the asker's points held for the
# accepted answer, paid to its author, or given back to the asker.
BOUNTY, BOUNTY_WON, BOUNTY_RETURNED = "bounty", "bounty_won", "bounty_returned"


def bounty_key(question_id: int) -> str:
    """The ledger key of a question's bounty hold (its id is what a return restores)."""
    return f"bounty:{question_id}"


@dataclass(frozen=True, slots=True)
class Question:
    """One question as asked, with where it stands."""

    id: int
    community_id: int
    member_id: int
    asker: str  # the asker's display name
    text: str
    platform: str
    chat_id: str
    bounty: int
    bounty_settled_at: datetime | None
    state: str
    accepted_answer_id: int | None
    created_at: datetime
    closed_at: datetime | None
    answers: int = 0  # how many answers it has (when read with them counted)

    @property
    def is_open(self) -> bool:
        return self.state == OPEN

    @property
    def bounty_held(self) -> int:
        """The points still held for the accepted answer (0: none, or given back)."""
        return self.bounty if self.bounty_settled_at is None else 0


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer to a question, from any platform of the community."""

    id: int
    question_id: int
    member_id: int
    author: str
    text: str
    platform: str
    created_at: datetime
    accepted_at: datetime | None


@dataclass(frozen=True, slots=True)
class Place:
    """Where something was said: the group (a Discord server), the channel on platforms whose
    groups are no channel, and the platform's id of the message itself ("" when none)."""

    platform: str
    chat_id: str
    channel_id: str = ""
    message_id: str = ""


_ANSWER_COUNT = (
    select(func.count())
    .where(answers.c.question_id == questions.c.id)
    .correlate(questions)
    .scalar_subquery()
)
_QUESTION = select(
    questions, members.c.display_name.label("asker"), _ANSWER_COUNT.label("answer_count")
).join(members, members.c.id == questions.c.member_id)
_ANSWER = select(answers, members.c.display_name.label("author")).join(
    members, members.c.id == answers.c.member_id
)


def _question(row: Row[tuple[object, ...]]) -> Question:
    m = row._mapping
    return Question(
        id=m["id"],
        community_id=m["community_id"],
        member_id=m["member_id"],
        asker=m["asker"],
        text=m["text"],
        platform=m["platform"],
        chat_id=m["chat_id"],
        bounty=int(m["bounty"]),
        bounty_settled_at=m["bounty_settled_at"],
        state=m["state"],
        accepted_answer_id=m["accepted_answer_id"],
        created_at=m["created_at"],
        closed_at=m["closed_at"],
        answers=int(m["answer_count"]),
    )


def _answer(row: Row[tuple[object, ...]]) -> Answer:
    m = row._mapping
    return Answer(
        id=m["id"],
        question_id=m["question_id"],
        member_id=m["member_id"],
        author=m["author"],
        text=m["text"],
        platform=m["platform"],
        created_at=m["created_at"],
        accepted_at=m["accepted_at"],
    )


def question_by_id(conn: Connection, community_id: int, number: int) -> Question | None:
    """Question `number` of the community (None: no such question here)."""
    row = conn.execute(
        _QUESTION.where(questions.c.id == number, questions.c.community_id == community_id)
    ).first()
    return None if row is None else _question(row)


def answer_by_id(conn: Connection, community_id: int, number: int) -> Answer | None:
    """Answer `number` of the community (None: no such answer here)."""
    row = conn.execute(
        _ANSWER.where(answers.c.id == number, answers.c.community_id == community_id)
    ).first()
    return None if row is None else _answer(row)


def answers_of(conn: Connection, question: Question, limit: int) -> list[Answer]:
    """A question's answers: the accepted one first, then the oldest first, at most `limit`."""
    rows = conn.execute(
        _ANSWER.where(answers.c.question_id == question.id)
        .order_by(answers.c.accepted_at.is_(None), answers.c.id)
        .limit(limit)
    )
    return [_answer(row) for row in rows]


def open_questions(conn: Connection, community_id: int, limit: int) -> tuple[list[Question], int]:
    """The community's open questions, newest first (at most `limit`), and how many there are."""
    where = (questions.c.community_id == community_id, questions.c.state == OPEN)
    rows = conn.execute(_QUESTION.where(*where).order_by(questions.c.id.desc()).limit(limit))
    total = conn.execute(select(count()).select_from(questions).where(*where)).scalar_one()
    return [_question(row) for row in rows], int(total)


# Asking --------------------------------------------------------------------------------------

_ASKED_SINCE = select(count()).where(
    questions.c.member_id == bindparam("member"), questions.c.created_at >= bindparam("since")
)


def ask(
    conn: Connection,
    community: Community,
    *,
    member_id: int,
    text: str,
    bounty: int,
    place: Place,
    at: datetime,
) -> Question:
    """Open a question (number: its id); a bounty holds that many of the asker's points.
    Raises UserError for a question too short or long, one over the day's limit, a bounty
    bounties are not allowed, too big, or more than the asker has."""
    rules = community.rules.questions
    text = text.strip()
    if len(text) < rules.min_length:
        raise UserError("questions/too_short", minimum=rules.min_length)
    if len(text) > rules.max_length:
        raise UserError("questions/too_long", length=len(text), limit=rules.max_length)
    if bounty and rules.max_bounty == 0:
        raise UserError("questions/no_bounties")
    if bounty > rules.max_bounty:
        raise UserError("questions/bounty_too_big", bounty=bounty, limit=rules.max_bounty)
    midnight = datetime.combine(community.local_day(at), time.min, community.timezone)
    asked = conn.execute(_ASKED_SINCE, {"member": member_id, "since": midnight}).scalar_one()
    if asked >= rules.asks_per_day:
        raise UserError("questions/too_many_today", limit=rules.asks_per_day)
    if bounty and ledger.balance(conn, member_id) < bounty:
        # Said before anything is written (the hold would refuse it too, after writing).
        raise UserError(
            "questions/bounty_insufficient", bounty=bounty, balance=ledger.balance(conn, member_id)
        )
    number = conn.execute(
        insert(questions).returning(questions.c.id),
        {
            "community_id": community.id,
            "member_id": member_id,
            "text": text,
            "platform": place.platform,
            "chat_id": fit_text(place.chat_id, 64),
            "channel_id": fit_text(place.channel_id, 64) or None,
            "message_id": fit_text(place.message_id, 64) or None,
            "bounty": bounty,
            "state": OPEN,
            "created_at": at,
        },
    ).scalar_one()
    if bounty:
        _hold(conn, community, member_id, int(number), bounty, at)
    found = question_by_id(conn, community.id, int(number))
    assert found is not None
    return found


def _hold(
    conn: Connection, community: Community, member_id: int, number: int, bounty: int, at: datetime
) -> None:
    try:
        ledger.post(
            conn,
            community_id=community.id,
            member_id=member_id,
            delta=-bounty,
            reason=BOUNTY,
            key=bounty_key(number),
            at=at,
            note=f"#{number}",
        )
    except UserError as refusal:
        if refusal.key != "points/insufficient":
            raise
        balance = int(refusal.context.get("balance", 0))
        raise UserError("questions/bounty_insufficient", bounty=bounty, balance=balance) from None


# Answering -----------------------------------------------------------------------------------

# A member's answers to a question: the same words twice, or more than answers_per_question.
_MY_ANSWERS = select(answers.c.id, answers.c.text).where(
    answers.c.question_id == bindparam("question"),
    answers.c.member_id == bindparam("member"),
)


@dataclass(frozen=True, slots=True)
class Answered:
    """An answer given, and the platforms its notice to the asker was queued for."""

    answer: Answer
    platforms: frozenset[str]


def answer(
    conn: Connection,
    community: Community,
    question: Question,
    *,
    member_id: int,
    author: str,
    text: str,
    place: Place,
    at: datetime,
) -> Answered:
    """Record an answer to an open question and tell the asker privately (not when they
    answer themselves; once per answerer). Raises UserError for a question no longer open,
    an empty or too long answer, the same answer given twice, or more answers from one member
    than answers_per_question."""
    rules = community.rules.questions
    if not question.is_open:
        raise UserError(
            "questions/not_open",
            number=question.id,
            state=question.state,
            accepted=question.accepted_answer_id,
        )
    text = text.strip()
    if not text:
        raise UserError("questions/answer_usage")
    if len(text) > rules.answer_max_length:
        raise UserError(
            "questions/answer_too_long", length=len(text), limit=rules.answer_max_length
        )
    mine = conn.execute(_MY_ANSWERS, {"question": question.id, "member": member_id}).all()
    repeated = next((row.id for row in mine if row.text == text), None)
    if repeated is not None:
        raise UserError("questions/answer_repeated", number=repeated, question=question.id)
    if len(mine) >= rules.answers_per_question:
        raise UserError(
            "questions/too_many_answers", limit=rules.answers_per_question, question=question.id
        )
    number = conn.execute(
        insert(answers).returning(answers.c.id),
        {
            "community_id": community.id,
            "question_id": question.id,
            "member_id": member_id,
            "text": text,
            "platform": place.platform,
            "chat_id": fit_text(place.chat_id, 64),
            "message_id": fit_text(place.message_id, 64) or None,
            "created_at": at,
        },
    ).scalar_one()
    given_answer = Answer(
        int(number), question.id, member_id, author, text, place.platform, at, None
    )
    platforms: set[str] = set()
    if member_id != question.member_id:
        notice = Reply(
            "questions/answered_notice",
            {
                "question": question.id,
                "text": question.text,
                "answer": given_answer.id,
                "author": author,
                "answer_text": text,
            },
            visibility=Visibility.PRIVATE,
        )
        # Once per answerer and question: one member replying fifty times must not send the
        # asker fifty private messages (/questions N shows every answer).
        once = f"answered:{question.id}:{member_id}"
        platforms = tell(conn, community, question.member_id, notice, once, at)
    return Answered(given_answer, frozenset(platforms))


def tell(
    conn: Connection, community: Community, member_id: int, reply: Reply, key: str, at: datetime
) -> set[str]:
    """Queue `reply` to the member's private chat once per `key`; the platforms queued for."""
    return private_notices.tell(conn, community, [Notice(member_id, reply, f"qa:{key}")], at)


def merge_members(conn: Connection, *, keep: int, absorb: int) -> None:
    """Fold `absorb`'s questions and answers into `keep`'s."""
    for column in MEMBER_COLUMNS:
        conn.execute(update(column.table).where(column == absorb).values({column.name: keep}))
