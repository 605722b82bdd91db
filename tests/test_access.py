"""Who is an admin where, as community.toml says: every field of the file takes effect, the
admin list governs every community of the deployment, and loose values are refused."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.app import App, StartupError, build_app
from bot.settings import Settings
from community.config import Access, CommunityConfig, ConfigError, Rules, parse_config
from tests.harness import Chat, Clock

# Every field of community.toml, each away from its default.
ENTRY_LISTS = ("calendar", "rewards", "faq_entries", "quiz_bank", "surveys")
EVERY_FIELD = """
admins = ["console:owner", "telegram:42"]
platform_admins = false

[community]
slug = "every-field"
name = "Every Field Club"
timezone = "Europe/Berlin"
locale = "zh_CN"

[checkin]
streak_bonus_every = 3

[points]
max_award = 77
history_entries = 9
export_max_rows = 500
export_default_days = 7

[polls]
longest_days = 10

[earning]
checkin = { points = 11, per_day = 100, per_week = 200, per_month = 300, cooldown_minutes = 4 }
streak_bonus = { points = 33, per_day = 1, per_week = 2, per_month = 3, cooldown_minutes = 4 }
vote = { points = 5, per_day = 100, per_week = 200, per_month = 300, cooldown_minutes = 4 }
accepted_answer = { points = 6, per_day = 1, per_week = 2, per_month = 3, cooldown_minutes = 4 }
question_thanks = { points = 3, per_day = 1, per_week = 2, per_month = 3, cooldown_minutes = 4 }
quiz_answer = { points = 7, per_day = 1, per_week = 2, per_month = 3, cooldown_minutes = 4 }
quiz_first = { points = 4, per_day = 1, per_week = 2, per_month = 3, cooldown_minutes = 4 }
survey = { points = 5, per_day = 1, per_week = 2, per_month = 3, cooldown_minutes = 4 }
submission = { points = 8, per_day = 1, per_week = 2, per_month = 3, cooldown_minutes = 4 }
invitation = { points = 9, per_day = 1, per_week = 2, per_month = 3, cooldown_minutes = 4 }
purchase = { points = 2, per_day = 1, per_week = 2, per_month = 3, cooldown_minutes = 4 }

[tiers]
window_days = 180
review_months = 3
review_at = "02:00"
grace_periods = 2
remind_days_before = 3
announce_upgrades = true

[[tiers.levels]]
names = { en = "Fan", zh_CN = "粉丝" }
threshold = 0
multiplier = 1.05
birthday_bonus = 1
makeup_cards = 1

[[tiers.levels]]
names = { en = "Friend", zh_CN = "好友" }
threshold = 10
multiplier = 1.5

[[tiers.levels]]
names = { en = "Family", zh_CN = "家人" }
threshold = 20
multiplier = 2.0

[expiry]
months = 6
remind_days_before = 10
run_at = "01:20"

[shop]
confirm_minutes = 2
max_codes_per_import = 50
max_rewards = 20
list_entries = 5

[campaigns]
max_days = 30
max_planned = 5

[makeup]
window_days = 3

[birthdays]
at = "10:30"

[announce]
max_length = 500

[member_day]
enabled = true
when = "fri 10:00"
hours = 12
announce_hours_before = 2
multiplier = 3
actions = ["checkin"]
perks = ["a free sample"]
poll = "Best day? | Fri | Sat"
top_members = 5
skipped = ["2026-12-04"]

[reminders]
streak_at = "21:30"
win_back_after_days = 14
win_back_at = "10:15"
win_back_message = "We miss you!"
win_back_max = 3

[schedule]
grace_minutes = 30
max_entries = 50
max_topic_length = 800
calendar_days = 14

[questions]
prefix_questions = true
prefixes = ["问题:"]
min_length = 2
max_length = 500
answer_max_length = 700
answers_per_question = 2
asks_per_day = 3
max_bounty = 200
bounty_days = 3
raise_after_hours = 6
list_entries = 7
answers_shown = 4

[faq]
auto_answer = false
threshold = 0.6
repeat_minutes = 5
max_entries = 40
search_results = 4
unhelpful_share = 0.4
min_votes = 3

[quiz]
seconds = 20
questions = 3
max_questions = 9
max_bank = 90
leaderboard = 6

[survey]
max_surveys = 8
max_questions = 12
text_max_length = 400
answer_hours = 12
results_texts = 3

[submissions]
per_day = 2
max_text = 500
max_links = 2
max_link_length = 200
max_files = 2
max_file_bytes = 1000000
file_types = ["image/png"]
digest_minutes = 60
reject_reasons = ["off_topic", "rules"]
max_reason_length = 100
list_entries = 5

[[submissions.categories]]
key = "story"
names = { en = "Story", zh_CN = "故事" }
aliases = ["tale"]
points = 15
needs = "photo"

[ambassadors]
demote_after_months = 3
promote_after_months = 2
exceed_percent = 200
max_ambassadors = 50
leaderboard = 5
evaluate_at = "01:05"
roster_page = 7

[[ambassadors.levels]]
key = "koc"
names = { en = "KOC", zh_CN = "达人" }
tasks = { submissions = 3, featured = 2, answers = 1 }
reward = 80
multiplier = 1.3

[contests]
vote_hours = 24
prizes = [50, 20]
max_days = 10
max_open = 2
max_title = 50
max_entries_shown = 10
max_prize_points = 5000
list_contests = 5

[draws]
max_winners = 10
max_days = 7
max_open = 2
max_cost = 100
max_prize_points = 500
max_prize_length = 50
list_entries = 4
winners_shown = 5

[[calendar]]
when = "mon,wed 20:00"
text = "New arrivals"
poll = "Which one? | A | B"
quiz = 3
quiz_category = "brand"
tag = "vip"
paused = true

[[rewards]]
name = "Mug"
description = "a blue mug"
cost = 300
stock = 5
kind = "digital"
value = "Mug fan"
per_member = 1
per_period = "week"
min_tier = 1
window = "member_day"
hidden = true

[[faq_entries]]
question = "Sale?"
answer = "On the 18th"
keywords = ["sale"]

[[quiz_bank]]
question = "Member day?"
options = ["8", "18"]
correct = 2
explanation = "The 18th"
category = "brand"

[[surveys]]
title = "NPS"

[[surveys.questions]]
text = "Which?"
kind = "multiple"
options = ["a", "b"]
"""


def _leaves(model: object, prefix: str = "") -> dict[str, object]:
    """Every field of a pydantic model, nested ones flattened to dotted names."""
    found: dict[str, object] = {}
    for name in type(model).model_fields:  # type: ignore[attr-defined]
        value = getattr(model, name)
        if hasattr(type(value), "model_fields"):
            found |= _leaves(value, f"{prefix}{name}.")
        else:
            found[f"{prefix}{name}"] = value
    return found


def test_the_example_sets_every_field_away_from_its_default() -> None:
    # Guards the test below: a field added to the file's model without a value here fails.
    config, _ = parse_config(EVERY_FIELD)
    defaults = _leaves(CommunityConfig())
    for name, value in _leaves(config).items():
        assert value != defaults[name], f"{name} is at its default in EVERY_FIELD"


def test_the_file_splits_into_access_and_rules_without_losing_a_field() -> None:
    config, _ = parse_config(EVERY_FIELD)
    split = _leaves(config.access) | _leaves(config.rules)
    # [community] says who the community is; [[calendar]], [[rewards]], [[faq_entries]],
    # [[quiz_bank]] and [[surveys]] entries become rows of their own.
    whole = {
        k: v
        for k, v in _leaves(config).items()
        if not k.startswith("community.") and k not in ENTRY_LISTS
    }
    assert split == whole
    assert set(Access.model_fields).isdisjoint(Rules.model_fields)


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[tuple[Path, Settings]]:
    file = tmp_path / "community.toml"
    file.write_text(EVERY_FIELD, encoding="utf-8")
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite:///{tmp_path / 'bot.sqlite3'}",
        community_file=file,
    )
    yield file, settings


@contextmanager
def running(settings: Settings) -> Iterator[App]:
    """The core as `run` builds it from the settings, closed afterwards."""
    app = build_app(settings)
    try:
        yield app
    finally:
        app.close()


async def test_every_field_of_the_file_takes_effect(deployment: tuple[Path, Settings]) -> None:
    _, settings = deployment
    with running(settings) as app:
        community = app.community
        assert (community.slug, community.name) == ("every-field", "Every Field Club")
        assert (community.timezone.key, community.locale) == ("Europe/Berlin", "zh_CN")
        assert community.rules == parse_config(EVERY_FIELD)[0].rules
        clock = Clock()
        chat = Chat(app.dispatcher, clock, platform="console", admins={"mallory"}, trusted=True)
        checked = await chat.say("amy", "/checkin")
        assert checked.outcome.reply is not None
        assert checked.outcome.reply.context["points"] == 11
        assert checked.outcome.reply.locale == "zh_CN"
        # admins: console:owner is one; platform_admins = false: mallory, an admin of this
        # very (trusted) chat, is not.
        awarded = await chat.say("owner", "/award @amy 77")
        assert awarded.outcome.reply is not None
        assert awarded.outcome.reply.template == "points/awarded"
        over = await chat.say("owner", "/award @amy 78")
        assert over.outcome.reply is not None
        assert over.outcome.reply.template == "points/amount_out_of_range"
        refused = await chat.say("mallory", "/award @mallory 10000")
        assert refused.outcome.reply is not None
        assert refused.outcome.reply.template == "common/admins_only"
        poll = await chat.say("owner", "/poll Tea? | Yes | No")
        assert poll.outcome.reply is not None
        assert poll.outcome.reply.context["points"] == 5


async def test_platform_admins_false_keeps_group_owners_out_even_in_adopted_groups(
    deployment: tuple[Path, Settings],
) -> None:
    _, settings = deployment
    with running(settings) as app:
        group = Chat(app.dispatcher, Clock(), platform="telegram", admins={"mallory"})
        await group.say("42", "/settings")  # telegram:42 is listed: the group is adopted
        refused = await group.say("mallory", "/award @mallory 50")
        assert refused.outcome.reply is not None
        assert refused.outcome.reply.template == "common/admins_only"


async def test_an_admin_removed_from_the_file_loses_rights_in_every_community_at_restart(
    deployment: tuple[Path, Settings],
) -> None:
    file, settings = deployment
    with running(settings) as app:
        group = Chat(app.dispatcher, Clock(), platform="telegram", chat_id="vip-group")
        moved = await group.say("42", "/settings community vip")
        assert moved.outcome.reply is not None
        assert moved.outcome.reply.template == "settings/community_moved"
        assert (await group.say("42", "/award @42 5")).outcome.reply.template == "points/awarded"  # type: ignore[union-attr]
    file.write_text(EVERY_FIELD.replace('"telegram:42"', '"telegram:43"'), encoding="utf-8")
    with running(settings) as app:
        group = Chat(app.dispatcher, Clock(), platform="telegram", chat_id="vip-group")
        revoked = await group.say("42", "/award @42 5")
        assert revoked.outcome.reply is not None
        assert revoked.outcome.reply.template == "common/admins_only"
        # The newly listed admin has rights in the community made before they were listed.
        granted = await group.say("43", "/award @42 5")
        assert granted.outcome.reply is not None
        assert granted.outcome.reply.template == "points/awarded"


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ('admins = ["nocolon"]', "admins: admin 'nocolon' is no account id: use 'telegram:12345'"),
        ('admins = ["telegram:1", " discord:2"]', "admins: admin ' discord:2' is no account id"),
        ('admins = ["telegram:@alice"]', "admins: admin 'telegram:@alice' is no account id"),
        ('admins = ["Telegram:1000"]', "admins: admin 'Telegram:1000' is no account id"),
        ('admins = ["telegram: 1000"]', "admins: admin 'telegram: 1000' is no account id"),
        ('admins = ["tg:1000"]', "admins: admin 'tg:1000' is no account id"),
        ('admins = ["console: "]', "admins: admin 'console: ' is no account id"),
        ('admins = "telegram:1"', "admins: Input should be a list, not 'telegram:1'"),
        ('platform_admins = "yes"', "platform_admins: Input should be a valid boolean, not 'yes'"),
        (
            "[earning]\ncheckin = { points = true }",
            "earning.checkin.points: Input should be a valid integer, not True",
        ),
        (
            '[earning.checkin]\npoints = "10"',
            "earning.checkin.points: Input should be a valid integer, not '10'",
        ),
        ("[points]\nmax_award = 1.5", "points.max_award: Input should be a valid integer"),
        ("[polls]\nvote_point = 2", "polls.vote_point: Extra inputs are not permitted"),
    ],
)
def test_a_bad_entry_is_reported_naming_the_file_and_the_entry(
    deployment: tuple[Path, Settings], line: str, says: str
) -> None:
    file, settings = deployment
    file.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        parse_config(line)
    with pytest.raises(StartupError) as raised:
        build_app(settings)
    assert str(raised.value).startswith(f"{file}: {says}")
    assert "validation error" not in str(raised.value)


async def test_delisting_the_adopter_ends_the_adoption_so_group_owners_lose_their_rights(
    deployment: tuple[Path, Settings],
) -> None:
    file, settings = deployment
    file.write_text(EVERY_FIELD.replace("platform_admins = false", ""), encoding="utf-8")
    with running(settings) as app:
        group = Chat(app.dispatcher, Clock(), platform="telegram", admins={"42", "77"})
        await group.say("42", "/settings")  # listed, and the group's own admin: adopts it
        owner = await group.say("77", "/award @77 5")
        assert owner.outcome.reply is not None
        assert owner.outcome.reply.template == "points/awarded"
    file.write_text(
        EVERY_FIELD.replace("platform_admins = false", "").replace(
            '"telegram:42"', '"telegram:43"'
        ),
        encoding="utf-8",
    )
    with running(settings) as app:
        group = Chat(app.dispatcher, Clock(), platform="telegram", admins={"42", "77"})
        for who in ("42", "77"):
            refused = await group.say(who, "/award @77 5")
            assert refused.outcome.reply is not None
            assert refused.outcome.reply.template == "common/group_not_adopted", who
        await group.say("43", "/settings")  # a listed admin adopts it again
        again = await group.say("77", "/award @77 5")
        assert again.outcome.reply is not None
        assert again.outcome.reply.template == "points/awarded"


async def test_a_community_file_saved_with_a_byte_order_mark_is_read(
    deployment: tuple[Path, Settings],
) -> None:
    file, settings = deployment
    file.write_bytes(b"\xef\xbb\xbf" + EVERY_FIELD.encode())  # what Windows Notepad writes
    with running(settings) as app:
        assert app.community.slug == "every-field"


@pytest.mark.parametrize("entry", ["console:Big Boss", "console:big boss", "console: BIG BOSS "])
def test_a_console_admin_is_listed_as_the_console_names_them(entry: str) -> None:
    config, _ = parse_config(f'admins = ["{entry}"]')
    assert config.access.lists("console", "big boss")
