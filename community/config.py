"""The community's rules as written in community.toml, validated into plain values."""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from community.ambassador_rules import AmbassadorRules
from community.contest_rules import ContestRules
from community.draw_rules import DrawRules
from community.faq_rules import FaqEntryConfig, FaqRules
from community.question_rules import QuestionRules
from community.quiz_rules import QuizQuestionConfig, QuizRules
from community.submission_rules import SubmissionRules
from community.survey_rules import SurveyConfig, SurveyRules
from loyalty.reward_rules import RewardConfig
from loyalty.rules import (
    ACTIONS,
    GIVEN_ACTIONS,
    CampaignRules,
    EarningRules,
    ExpiryRules,
    ShopRules,
    TierRules,
    plain_number,
)

LOCALES = ("en", "zh_CN")
# Validation context of rules read back from the database: what was checked when it was saved
# is not parsed again (rules are read with every event).
STORED = "stored"
# What an account id looks like on each platform the bot serves: Telegram and Discord number
# their users; a console user is the :as name, lower-cased, without spaces.
_NUMBER = re.compile(r"[1-9][0-9]{0,19}")
ACCOUNT_IDS: dict[str, Callable[[str], bool]] = {
    "telegram": lambda user_id: _NUMBER.fullmatch(user_id) is not None,
    "discord": lambda user_id: _NUMBER.fullmatch(user_id) is not None,
    "console": lambda name: 0 < len(name.strip()) <= 64,
}


def console_account_id(name: str) -> str:
    """A console user's id, as `:as NAME` makes it and /me shows it: the name, case-folded."""
    return name.strip().casefold()


class ConfigError(ValueError):
    """The community file cannot be used; the message is one line that says why."""


class _Strict(BaseModel):
    # strict: "10" is no number and "yes" no boolean — a typo in the file is an error that
    # names the field, not a silent guess.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def known_actions(actions: tuple[str, ...]) -> tuple[str, ...]:
    """Earning actions as named in [earning] (ValueError names one that is not)."""
    for action in actions:
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}: one of {', '.join(ACTIONS)}")
    return tuple(dict.fromkeys(actions))


class CheckinRules(_Strict):
    """The daily check-in's streaks (what it earns is in [earning])."""

    # Every this-many-th day in a row earns earning.streak_bonus on top.
    streak_bonus_every: int = Field(default=7, ge=1, le=366)

    def bonus_day(self, streak: int) -> bool:
        """Whether a check-in that makes the streak `streak` earns the streak bonus."""
        return streak % self.streak_bonus_every == 0


class PointsRules(_Strict):
    """Limits on what admins may move by hand, and on what members' lists show."""

    max_award: int = Field(default=10_000, ge=1, le=1_000_000_000)
    history_entries: int = Field(default=20, ge=1, le=100)  # /history shows this many
    export_max_rows: int = Field(default=100_000, ge=1, le=10_000_000)  # one /export at most
    # An /export without dates covers this many days, ending today.
    export_default_days: int = Field(default=30, ge=1, le=3660)


class MakeupRules(_Strict):
    """Make-up cards (补签卡): which missed days one may fill."""

    window_days: int = Field(default=7, ge=1, le=60)  # a day at most this many days ago


class BirthdayRules(_Strict):
    """The birthday bonus (the amount is the member's tier's birthday_bonus)."""

    at: str = Field(default="09:00", pattern=r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$")


class PollRules(_Strict):
    """How long a poll may run (what a vote earns is in [earning])."""

    # The longest a poll opened with an end (--for / --until) may run; Discord's native polls
    # last 32 days at most.
    longest_days: int = Field(default=30, ge=1, le=32)


class AnnounceRules(_Strict):
    """What an admin's /announce may post."""

    max_length: int = Field(default=2000, ge=1, le=3500)


def _readable_when(text: str, *, time_required: bool) -> str:
    # Imported here: schedules imports the error type this module's callers also use.
    from community.schedules import parse_when
    from loyalty.errors import UserError

    try:
        when, rest = parse_when(text, time_required=time_required)
    except UserError as error:
        raise ValueError(f"cannot read the schedule {text!r} (e.g. 'mon,wed 20:00')") from error
    if rest:
        raise ValueError(f"unexpected {rest!r} after the schedule {when.canonical()!r}")
    return text


class MemberDayRules(_Strict):
    """The member day (会员日): when it is, how it is announced, what it multiplies."""

    enabled: bool = False
    # When it starts, in the community's timezone: "monthly 18 00:00", "fri 00:00", "每月18日 0点".
    when: str = Field(default="monthly 18 00:00", max_length=100)
    hours: int = Field(default=24, ge=1, le=168)  # how long it lasts from its start
    announce_hours_before: int = Field(default=24, ge=0, le=336)  # 0: no announcement
    # Points earned in its window by `actions` are multiplied by this, rounded down.
    multiplier: float = Field(default=2.0, ge=1.0, le=10.0, strict=False)
    actions: tuple[str, ...] = Field(
        default=("checkin", "streak_bonus", "vote", "accepted_answer", "quiz_answer", "submission"),
        strict=False,
        max_length=len(ACTIONS),
    )
    # Lines of member-only perks listed in the opening post (until #7's rewards catalogue).
    perks: tuple[str, ...] = Field(default=(), strict=False, max_length=10)
    # A poll opened in every group at the opening: "Question? | option | option".
    poll: str = Field(default="", max_length=1000)
    top_members: int = Field(default=3, ge=0, le=20)  # how many the recap names
    # Local start dates skipped by `/memberday skip next` (ISO "2026-12-18").
    skipped: tuple[str, ...] = Field(default=(), strict=False, max_length=50)

    @field_validator("when")
    @classmethod
    def _when(cls, value: str, info: ValidationInfo) -> str:
        if info.context and info.context.get(STORED):
            return value  # checked when it was saved; read with every event, so kept cheap
        return _readable_when(value, time_required=False)

    _number = field_validator("multiplier", mode="before")(plain_number)

    @field_validator("actions")
    @classmethod
    def _known_actions(cls, actions: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        given = sorted(GIVEN_ACTIONS.intersection(actions))
        if given and not (info.context and info.context.get(STORED)):
            # Paid as given (loyalty/earning.py multiplies neither): listing one promises a
            # doubling that never comes.
            raise ValueError(f"{given[0]!r} is paid as given: the member day never multiplies it")
        return known_actions(actions)

    @model_validator(mode="after")
    def _no_overlap(self, info: ValidationInfo) -> MemberDayRules:
        if info.context and info.context.get(STORED):
            return self
        from community.schedules import parse_when, shortest_gap

        gap = shortest_gap(parse_when(self.when, time_required=False)[0])
        if gap is not None and timedelta(hours=self.hours) > gap:
            raise ValueError(
                f"hours = {self.hours} is longer than the {gap / timedelta(hours=1):g} hours"
                f" between two member days of when = {self.when!r}: they would overlap"
            )
        return self


class ReminderRules(_Strict):
    """Private nudges: the streak reminder (opt-in by /remind on) and the win-back."""

    # Members who opted in and have not checked in by this local time get one nudge that day.
    streak_at: str = Field(default="20:00", pattern=r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$")
    # Members not seen for this many days get one private message per period; 0: off.
    win_back_after_days: int = Field(default=0, ge=0, le=365)
    win_back_at: str = Field(default="11:00", pattern=r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$")
    # The win-back's words; empty: the bot's own (templates/*/reminders/win_back.j2).
    win_back_message: str = Field(default="", max_length=1000)
    # How many win-back messages one stretch of absence gets at most.
    win_back_max: int = Field(default=2, ge=1, le=12)


class ScheduleRules(_Strict):
    """How the scheduler treats downtime and the calendar's limits."""

    # A firing missed while the bot was down runs late if it is at most this old; older ones
    # are skipped and logged.
    # At least a minute: an alarm wakes the sweep a little after its firing's moment.
    grace_minutes: int = Field(default=60, ge=1, le=10_080)
    max_entries: int = Field(default=200, ge=1, le=5000)  # calendar entries per community
    max_topic_length: int = Field(default=2000, ge=1, le=3500)  # a topic's words
    calendar_days: int = Field(default=7, ge=1, le=31)  # how far /calendar looks ahead


class Rules(_Strict):
    """What each community keeps for itself in the database: a community made later by
    `/settings community NEW` starts from a copy."""

    checkin: CheckinRules = Field(default_factory=CheckinRules)
    earning: EarningRules = Field(default_factory=EarningRules)
    tiers: TierRules = Field(default_factory=TierRules)
    expiry: ExpiryRules = Field(default_factory=ExpiryRules)
    shop: ShopRules = Field(default_factory=ShopRules)
    campaigns: CampaignRules = Field(default_factory=CampaignRules)
    makeup: MakeupRules = Field(default_factory=MakeupRules)
    birthdays: BirthdayRules = Field(default_factory=BirthdayRules)
    points: PointsRules = Field(default_factory=PointsRules)
    polls: PollRules = Field(default_factory=PollRules)
    announce: AnnounceRules = Field(default_factory=AnnounceRules)
    member_day: MemberDayRules = Field(default_factory=MemberDayRules)
    reminders: ReminderRules = Field(default_factory=ReminderRules)
    schedule: ScheduleRules = Field(default_factory=ScheduleRules)
    questions: QuestionRules = Field(default_factory=QuestionRules)
    faq: FaqRules = Field(default_factory=FaqRules)
    quiz: QuizRules = Field(default_factory=QuizRules)
    survey: SurveyRules = Field(default_factory=SurveyRules)
    submissions: SubmissionRules = Field(default_factory=SubmissionRules)
    ambassadors: AmbassadorRules = Field(default_factory=AmbassadorRules)
    contests: ContestRules = Field(default_factory=ContestRules)
    draws: DrawRules = Field(default_factory=DrawRules)


class CalendarEntryConfig(_Strict):
    """One [[calendar]] entry of community.toml: a topic posted on a schedule."""

    when: str = Field(min_length=1, max_length=100)  # "mon,wed 20:00", "每周一 20:00"
    text: str = Field(min_length=1, max_length=3500)
    poll: str = Field(default="", max_length=1000)  # "Question? | option | option"
    # A quiz of this many questions from the bank starts with the topic (0: none), drawn from
    # quiz_category only when one is given.
    quiz: int = Field(default=0, ge=0, le=50)
    quiz_category: str = Field(default="", max_length=32)
    # Only groups with this tag (as /settings tags gives them); empty: every group.
    tag: str = Field(default="", max_length=32, pattern=r"^([^\W_][\w-]*)?$")
    paused: bool = False

    @field_validator("when")
    @classmethod
    def _when(cls, value: str) -> str:
        return _readable_when(value, time_required=True)


class Access(_Strict):
    """Who may run admin commands, in every community of this deployment. Never copied into a
    community: the file is read at every start, so removing an admin there revokes them
    everywhere at the next start."""

    # Accounts that are admins whatever their platform says: "telegram:12345".
    admins: tuple[str, ...] = Field(default=(), strict=False)  # TOML gives a list
    # Whether a group's own admins (Telegram chat admins, Discord Manage Server) are admins of
    # the group's community once a listed admin adopted the group. Anyone can add the bot to a
    # group they own, so a brand that wants only its listed admins turns this off.
    platform_admins: bool = True

    @field_validator("admins")
    @classmethod
    def _platform_ids(cls, admins: tuple[str, ...]) -> tuple[str, ...]:
        # An entry that can never match would leave the operator without rights and no word
        # of why: each must be an account id as /me shows it.
        listed = []
        for admin in admins:
            platform, _, user_id = admin.partition(":")
            fits = ACCOUNT_IDS.get(platform)
            if fits is None or not fits(user_id):
                raise ValueError(
                    f"admin {admin!r} is no account id: use 'telegram:12345', 'discord:67890'"
                    " or 'console:name', as /me shows it"
                )
            # "console:Big Boss" is who `:as Big Boss` is, whatever the case.
            console = platform == "console"
            listed.append(f"console:{console_account_id(user_id)}" if console else admin)
        return tuple(listed)

    def lists(self, platform: str, user_id: str) -> bool:
        """Whether this account is named in the admins list."""
        return f"{platform}:{user_id}" in self.admins


class CommunitySection(_Strict):
    """The [community] table: who the community is."""

    slug: str = Field(default="demo", min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str = Field(default="Demo community", min_length=1, max_length=200)
    timezone: str | None = None
    locale: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as error:
                raise ValueError(f"unknown timezone {value!r}") from error
        return value

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str | None) -> str | None:
        if value is not None and value not in LOCALES:
            raise ValueError(f"locale must be one of {', '.join(LOCALES)}")
        return value


class CommunityConfig(Access, Rules):
    """A whole community.toml: the access rules, the community's rules and who it is. Built
    from the two models it splits into, so neither can lose a field on the way."""

    community: CommunitySection = Field(default_factory=CommunitySection)
    calendar: tuple[CalendarEntryConfig, ...] = Field(default=(), strict=False)
    rewards: tuple[RewardConfig, ...] = Field(default=(), strict=False)
    faq_entries: tuple[FaqEntryConfig, ...] = Field(default=(), strict=False)
    quiz_bank: tuple[QuizQuestionConfig, ...] = Field(default=(), strict=False)
    surveys: tuple[SurveyConfig, ...] = Field(default=(), strict=False)

    @field_validator("rewards")
    @classmethod
    def _digital_gives_a_value(cls, entries: tuple[RewardConfig, ...]) -> tuple[RewardConfig, ...]:
        # Written in the file, a digital reward names its title: its name ("Title: Super Fan")
        # is no title to wear. (/reward keeps the name as the fallback an admin sees.)
        for entry in entries:
            if entry.kind == "digital" and not entry.value.strip():
                raise ValueError(f"reward {entry.name!r}: a digital reward needs value (its title)")
        return entries

    @property
    def rules(self) -> Rules:
        """The community's own part, as stored in the database."""
        return Rules.model_validate({name: getattr(self, name) for name in Rules.model_fields})

    @property
    def access(self) -> Access:
        """The deployment's admin rules."""
        return Access.model_validate({name: getattr(self, name) for name in Access.model_fields})


def parse_config(text: str) -> tuple[CommunityConfig, str]:
    """Parse community.toml text; returns the config and a hash of the text.

    Raises ConfigError with a single line naming the first problem.
    """
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"not valid TOML: {error}") from error
    try:
        config = CommunityConfig.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        # TOML has lists, not tuples: say what the file should hold.
        message = first["msg"].removeprefix("Value error, ").replace("valid tuple", "list")
        given = first.get("input")
        if isinstance(given, str | int | float | bool) and first["type"].endswith("_type"):
            message = f"{message}, not {given!r}"  # "should be a valid integer, not '10'"
        raise ConfigError(f"{where}: {message}") from error
    return config, hashlib.sha256(text.encode()).hexdigest()
