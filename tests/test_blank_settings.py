"""Blank values in the environment or .env count as unset, as the usual template lines
("TELEGRAM_TOKEN=") mean: the console starts, and no secret is "redacted" out of thin air."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings
from tests.test_console import cli, workdir  # noqa: F401  (workdir is a fixture)


def test_blank_template_lines_start_the_console_not_a_platform(workdir: Path) -> None:  # noqa: F811
    (workdir / ".env").write_text(
        "TELEGRAM_TOKEN=\nDISCORD_TOKEN=   \nTELEGRAM_BASE_URL=\nLOG_FILE=\nDEFAULT_LOCALE=\n",
        encoding="utf-8",
    )
    result = cli(workdir, ":as alice\n/checkin\n")
    assert result.returncode == 0, result.stderr
    assert "+10 points" in result.stdout
    assert result.stderr == ""
    assert "[secret]" not in result.stdout


@pytest.mark.parametrize("blank", ["", " ", "\t"])
def test_blank_values_from_the_environment_are_unset(
    blank: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("TELEGRAM_TOKEN", "DISCORD_TOKEN", "LOG_FILE", "TELEGRAM_WEBHOOK_SECRET"):
        monkeypatch.setenv(name, blank)
    monkeypatch.setenv("DEFAULT_TIMEZONE", blank)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.telegram_token is None and settings.discord_token is None
    assert settings.log_file is None and settings.telegram_webhook_secret is None
    assert settings.default_timezone == "UTC"
