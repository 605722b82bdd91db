"""Q&A's rules as community.toml's [questions] writes them (what an accepted answer earns is
in [earning])."""

from __future__ import annotations

from pydantic import Field

from loyalty.rules import Strict


class QuestionRules(Strict):
    """Questions and answers: how long, how many, bounties, when a human is called."""

    # A group message starting with one of `prefixes` opens a question as /ask would.
    prefix_questions: bool = False
    prefixes: tuple[str, ...] = Field(
        default=("问:", "问：", "Q:", "Q："), strict=False, max_length=10
    )
    min_length: int = Field(default=4, ge=1, le=100)  # characters of a question
    max_length: int = Field(default=1000, ge=10, le=3500)  # of a question
    answer_max_length: int = Field(default=2000, ge=10, le=3500)
    # Answers one member may give to one question: a flood would bury the others.
    answers_per_question: int = Field(default=3, ge=1, le=50)
    asks_per_day: int = Field(default=10, ge=1, le=1000)  # questions per member per local day
    max_bounty: int = Field(default=1000, ge=0, le=1_000_000)  # 0: no bounties
    bounty_days: int = Field(default=7, ge=1, le=365)  # unaccepted this long: it returns
    # Unanswered this long, a question is raised to the admins privately, once; 0: never.
    raise_after_hours: int = Field(default=12, ge=0, le=720)
    list_entries: int = Field(default=10, ge=1, le=50)  # /questions lists this many
    answers_shown: int = Field(default=5, ge=1, le=20)  # /questions N shows this many
