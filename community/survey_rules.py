"""Surveys' rules as community.toml's [survey] writes them, and its [[surveys]] (what answering
one earns is in [earning])."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from loyalty.rules import Strict


class SurveyRules(Strict):
    """Surveys' limits."""

    max_surveys: int = Field(default=50, ge=1, le=1000)
    max_questions: int = Field(default=30, ge=1, le=100)  # in one survey
    text_max_length: int = Field(default=1000, ge=1, le=3500)  # a free-text answer
    # Typed words in a private chat answer the question last shown for this long.
    answer_hours: int = Field(default=24, ge=1, le=720)
    results_texts: int = Field(
        default=5, ge=0, le=50
    )  # latest free-text answers /survey results shows


class SurveyQuestionConfig(Strict):
    """One question of a survey: single or multiple choice, a 0-10 scale (NPS) or free text."""

    text: str = Field(min_length=1, max_length=300)
    kind: Literal["single", "multiple", "scale", "text"] = "single"
    options: tuple[str, ...] = Field(default=(), strict=False, max_length=10)

    @model_validator(mode="after")
    def _options_fit_the_kind(self) -> SurveyQuestionConfig:
        choice = self.kind in ("single", "multiple")
        if choice and len(self.options) < 2:
            raise ValueError(f"a {self.kind} choice question needs at least 2 options")
        if not choice and self.options:
            raise ValueError(f"a {self.kind} question has no options")
        return self


class SurveyConfig(Strict):
    """One [[surveys]] survey of community.toml."""

    title: str = Field(min_length=1, max_length=100)
    questions: tuple[SurveyQuestionConfig, ...] = Field(min_length=1, max_length=100, strict=False)
