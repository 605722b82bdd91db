"""Quizzes' rules as community.toml's [quiz] writes them, and its [[quiz_bank]] (what a right
answer earns is in [earning])."""

from __future__ import annotations

from pydantic import Field, model_validator

from loyalty.rules import Strict


class QuizRules(Strict):
    """How a quiz runs."""

    seconds: int = Field(default=30, ge=5, le=600)  # each question is open this long
    questions: int = Field(default=5, ge=1, le=50)  # a /quiz start without a number
    max_questions: int = Field(default=20, ge=1, le=50)
    max_bank: int = Field(default=2000, ge=1, le=50_000)  # questions in the bank
    leaderboard: int = Field(default=10, ge=1, le=50)  # names at the end


class QuizQuestionConfig(Strict):
    """One [[quiz_bank]] question of community.toml."""

    question: str = Field(min_length=1, max_length=300)
    options: tuple[str, ...] = Field(min_length=2, max_length=10, strict=False)
    correct: int = Field(ge=1, le=10)  # which option is right, counting from 1
    explanation: str = Field(default="", max_length=200)
    category: str = Field(default="", max_length=32)

    @model_validator(mode="after")
    def _correct_is_an_option(self) -> QuizQuestionConfig:
        if self.correct > len(self.options):
            raise ValueError(f"correct = {self.correct}, but there are {len(self.options)} options")
        return self
