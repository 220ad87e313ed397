"""The client is light: it imports none of the app's heavy parts, finds the app the way the app
itself is configured, and names only event fields the server accepts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest

from spendtray import config, datadir
from spendtray.client.events import EVENT_FIELDS, clean_usage, make_event
from spendtray.client.settings import ClientSettings
from spendtray.ingest.event import KNOWN_FIELDS

APP = Path(__file__).resolve().parents[2] / "app"
HEAVY = (
    "starlette",
    "uvicorn",
    "sqlite_utils",
    "sqlite3",
    "genai_prices",
    "pydantic",
    "tiktoken",
    "PySide6",
    "pyqtgraph",
    "opentelemetry",
    "spendtray.server",
    "spendtray.store",
    "spendtray.prices",
    "spendtray.ingest",
    "spendtray.config",
    "spendtray.core",
    "spendtray.gui",
)

PROGRAM = """
import sys
import spendtray.client as st
after_import = set(sys.modules)
import httpx2
client = st.track(httpx2.Client())
async_client = st.track(httpx2.AsyncClient())
import httpx
st.track(httpx.Client())
st.configure(url="http://127.0.0.1:9", exit_timeout=0.5)
st.record(model="gpt-4o", input_tokens=1, output_tokens=1)
st.flush(2)
heavy = sorted(
    m for m in sys.modules if m.split(".")[0] in {h.split(".")[0] for h in HEAVY}
    and any(m == h or m.startswith(h + ".") for h in HEAVY)
)
assert not heavy, heavy
assert "httpx" not in after_import and "httpx2" not in after_import, "import is stdlib-only"
print("ok")
"""


def test_client_imports_no_heavy_module(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{PROGRAM}"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(APP), "PATH": "/usr/bin:/bin", "SPENDTRAY_HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_data_folder_without_platformdirs_matches_platformdirs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SPENDTRAY_HOME", raising=False)
    expected = Path(platformdirs.user_data_dir("spendtray", appauthor=False))
    assert datadir.platform_data_dir() == expected
    monkeypatch.setitem(sys.modules, "platformdirs", None)  # import now fails
    assert datadir.platform_data_dir() == expected
    monkeypatch.setenv("XDG_DATA_HOME", "/tmp/xdg-elsewhere")  # still without platformdirs
    assert datadir.platform_data_dir() == Path(
        platformdirs.user_data_dir("spendtray", appauthor=False)
    )


def test_client_finds_the_app_like_the_app(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SPENDTRAY_URL", raising=False)
    monkeypatch.delenv("SPENDTRAY_TOKEN", raising=False)
    settings = config.load_settings()
    token = config.ensure_token(settings)
    client = ClientSettings()
    assert client.data_folder() == settings.home == home
    assert client.endpoint() == (f"http://127.0.0.1:{settings.port}", token)
    assert settings.port == config.DEFAULT_PORT == 8719

    (home / "config.toml").write_text('port = 9123\nhost = "::1"\n')
    assert config.load_settings().port == 9123
    assert client.endpoint()[0] == "http://[::1]:9123"
    monkeypatch.setenv("SPENDTRAY_PORT", "9200")
    assert config.load_settings().port == 9200
    assert client.endpoint()[0] == "http://[::1]:9200"
    monkeypatch.setenv("SPENDTRAY_URL", "http://localhost:7000/")
    assert client.endpoint()[0] == "http://localhost:7000"
    # An unreadable config stops the app with a reason; the client just uses the defaults.
    monkeypatch.delenv("SPENDTRAY_URL")
    monkeypatch.delenv("SPENDTRAY_PORT")
    (home / "config.toml").write_text("port = [")
    with pytest.raises(config.ConfigError):
        config.load_settings()
    assert client.endpoint()[0] == "http://127.0.0.1:8719"


def test_event_fields_are_the_servers() -> None:
    assert KNOWN_FIELDS - {"response"} == EVENT_FIELDS


def test_usage_objects_keep_counts_not_text() -> None:
    usage = {
        "input_tokens": 5,
        "service_tier": "standard",
        "note": "x" * 500,
        "cache_creation": {"ephemeral_5m_input_tokens": 1, "deep": {"a": {"b": {"c": 1}}}},
    }
    assert clean_usage(usage) == {
        "input_tokens": 5,
        "service_tier": "standard",
        "cache_creation": {"ephemeral_5m_input_tokens": 1, "deep": {"a": {}}},
    }
    event = make_event("gpt-4o", usage, project="p")
    assert event["usage"]["input_tokens"] == 5 and "note" not in event["usage"]
    assert event["request_id"].startswith("stc-") and event["source"] == "python-client"


def test_event_values_become_json_or_fail_at_once() -> None:
    import datetime as dt
    from decimal import Decimal

    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    event = make_event("gpt-4o", extra={"timestamp": when, "cost_usd": Decimal("0.10")})
    assert event["timestamp"] == "2026-01-02T03:04:05+00:00" and event["cost_usd"] == "0.10"
    with pytest.raises(TypeError, match="not JSON"):
        make_event("gpt-4o", extra={"tags": {"obj": object()}})
