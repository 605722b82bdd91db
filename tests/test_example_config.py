"""The example community.toml a newcomer runs: it loads, and it shows every setting."""

from __future__ import annotations

import re
from pathlib import Path

from community.config import CommunityConfig, Rules, parse_config

ROOT = Path(__file__).resolve().parent.parent


def leaves(model: type) -> list[tuple[str, str]]:
    """(section, field) of every setting below a model's tables."""
    found: list[tuple[str, str]] = []
    for section, field in model.model_fields.items():  # type: ignore[attr-defined]
        inner = field.annotation
        if isinstance(inner, type) and hasattr(inner, "model_fields"):
            found.extend((section, name) for name in inner.model_fields)
    return found


def test_the_example_file_loads_with_its_calendar_and_member_day() -> None:
    config, _ = parse_config((ROOT / "community.toml").read_text(encoding="utf-8"))
    assert config.member_day.enabled and len(config.calendar) >= 3


def test_every_setting_of_a_community_is_shown_in_the_example_file_with_a_comment() -> None:
    text = (ROOT / "community.toml").read_text(encoding="utf-8")
    for section, name in leaves(Rules):
        table = re.search(rf"^\[{section}\][^\n]*\n(.*?)(?=^\[|\Z)", text, re.MULTILINE | re.DOTALL)
        assert table is not None, f"[{section}] is missing from community.toml"
        if re.search(rf"^\[\[{section}\.{name}\]\]", text, re.MULTILINE):
            continue  # a list of tables ([[tiers.levels]]), each field commented in the first
        line = re.search(rf"^{name} = .*#", table.group(1), re.MULTILINE)
        assert line is not None, f"{section}.{name} is not shown (with a comment) in community.toml"
    assert set(CommunityConfig.model_fields) - set(Rules.model_fields) == {
        "admins",
        "platform_admins",
        "community",
        "calendar",
        "rewards",
        "faq_entries",
        "quiz_bank",
        "surveys",
    }
