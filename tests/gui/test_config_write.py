"""Saving settings to config.toml keeps the user's file and refuses bad values."""

from __future__ import annotations

import pytest

from spendtray.config import ConfigError, Settings, load_settings
from spendtray.config_write import save_settings


def test_changes_are_saved_and_comments_kept(settings: Settings) -> None:
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.config_path.write_text('# my settings\nport = 9000  # work laptop\ntimezone = "UTC"\n')
    saved = save_settings(settings, {"port": 9100, "notifications": False, "currency_precision": 4})
    text = settings.config_path.read_text()
    assert text.startswith('# my settings\nport = 9100\ntimezone = "UTC"\n')
    assert "notifications = false" in text
    assert (saved.port, saved.notifications, saved.currency_precision) == (9100, False, 4)
    assert load_settings(home=settings.home).timezone == "UTC"


def test_bad_values_change_nothing(settings: Settings) -> None:
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.config_path.write_text("port = 9000\n")
    with pytest.raises(ConfigError, match="port"):
        save_settings(settings, {"port": 70000})
    with pytest.raises(ConfigError, match="currency_precision"):
        save_settings(settings, {"currency_precision": 9})
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        save_settings(settings, {"colour": "blue"})
    with pytest.raises(ConfigError, match="require_token"):
        save_settings(settings, {"require_token": "yes"})
    assert settings.config_path.read_text() == "port = 9000\n"


def test_strings_and_lists_round_trip(settings: Settings) -> None:
    save_settings(
        settings,
        {"webhook_url": 'http://127.0.0.1:9/h?a="b"', "allowed_origins": ["http://localhost:3000"]},
    )
    loaded = load_settings(home=settings.home)
    assert loaded.webhook_url == 'http://127.0.0.1:9/h?a="b"'
    assert loaded.allowed_origins == ("http://localhost:3000",)
