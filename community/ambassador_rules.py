"""The brand ambassador programme (品牌大使 / KOC) as community.toml's [ambassadors] writes it:
the levels, each with its monthly tasks, reward and multiplier on approved content, and when
an ambassador moves down or up."""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from loyalty.rules import LocalNames, Strict, plain_number


class AmbassadorTasks(Strict):
    """What an ambassador of a level does in a month to meet the quota."""

    submissions: int = Field(default=4, ge=0, le=1000)  # approved submissions
    featured: int = Field(default=1, ge=0, le=1000)  # of which featured
    answers: int = Field(default=5, ge=0, le=1000)  # answers given to members' questions


class AmbassadorLevel(Strict):
    """One level of [[ambassadors.levels]], lowest first."""

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,23}$")
    names: LocalNames
    tasks: AmbassadorTasks = Field(default_factory=AmbassadorTasks)
    reward: int = Field(default=100, ge=0, le=1_000_000)  # points for a month that met the quota
    # Points an approved submission pays are multiplied by this (on top of tier and campaign).
    multiplier: float = Field(default=1.0, ge=1.0, le=10.0, strict=False)

    _number = field_validator("multiplier", mode="before")(plain_number)


def _default_levels() -> tuple[AmbassadorLevel, ...]:
    return (
        AmbassadorLevel(
            key="trainee",
            names=LocalNames(en="Trainee", zh_CN="见习大使"),
            tasks=AmbassadorTasks(submissions=2, featured=0, answers=2),
            reward=50,
            multiplier=1.2,
        ),
        AmbassadorLevel(
            key="ambassador",
            names=LocalNames(en="Ambassador", zh_CN="正式大使"),
            tasks=AmbassadorTasks(submissions=4, featured=1, answers=5),
            reward=150,
            multiplier=1.5,
        ),
        AmbassadorLevel(
            key="senior",
            names=LocalNames(en="Senior ambassador", zh_CN="资深大使"),
            tasks=AmbassadorTasks(submissions=6, featured=2, answers=8),
            reward=300,
            multiplier=2.0,
        ),
    )


class AmbassadorRules(Strict):
    """How the ambassador programme runs."""

    levels: tuple[AmbassadorLevel, ...] = Field(
        default_factory=_default_levels, min_length=1, max_length=10, strict=False
    )
    # Missing the quota this many months in a row moves an ambassador down a level (at the
    # lowest level: off the roster is an admin's call, they are told).
    demote_after_months: int = Field(default=2, ge=1, le=24)
    # Exceeding it (every task at exceed_percent of the quota) this many months in a row
    # proposes a move up, which an admin confirms.
    promote_after_months: int = Field(default=3, ge=1, le=24)
    exceed_percent: int = Field(default=150, ge=100, le=1000)
    max_ambassadors: int = Field(default=2000, ge=1, le=100_000)
    leaderboard: int = Field(default=10, ge=1, le=50)  # names on /top ambassadors
    # When the month-end evaluation runs, local time, on the 1st (and at that time every day
    # after, for whoever a firing missed while the bot was down).
    evaluate_at: str = Field(default="00:20", pattern=r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$")
    roster_page: int = Field(default=20, ge=5, le=100)  # ambassadors a page of /ambassadors shows

    @model_validator(mode="after")
    def _distinct(self) -> AmbassadorRules:
        keys = [level.key for level in self.levels]
        if len(set(keys)) != len(keys):
            raise ValueError("two ambassador levels share one key")
        return self

    def level(self, key: str) -> AmbassadorLevel | None:
        """The level stored as `key`, if it is still configured."""
        return next((level for level in self.levels if level.key == key), None)
