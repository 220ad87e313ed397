"""`spendtray prices update` as a subprocess, against a loopback server (no other network)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from genai_prices.data import providers as bundled_providers

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "tests" / "prices") not in sys.path:
    sys.path.insert(0, str(ROOT / "tests" / "prices"))

from genai_data_fixture import (  # noqa: E402
    FakeUpstream,
    Reply,
    bundled_with_price,
    fake_upstream,
)

PROXY_VARS = {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"}
MODELS = sum(len(p.models) for p in bundled_providers)


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS}
    env |= {"SPENDTRAY_HOME": str(home), "PYTHONPATH": str(ROOT / "app")}
    return subprocess.run(
        [sys.executable, "-m", "spendtray", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def files(home: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((home / "prices").iterdir())}


def input_price(home: Path) -> str:
    shown = run(home, "prices", "show", "gpt-4o", "--provider", "openai", "--format", "json")
    assert shown.returncode == 0, shown.stderr
    price: str = json.loads(shown.stdout)["prices"]["input_mtok"]
    return price


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    with fake_upstream() as server:
        server.replies["/data.json"] = Reply(
            200, bundled_with_price("openai", "gpt-4o", "input_mtok", 2.75)
        )
        server.replies["/broken.json"] = Reply(200, b'[{"id": "openai", "models": [')
        server.replies["/schema.json"] = Reply(200, b'[{"id": "openai", "models": []}]')
        server.replies["/error"] = Reply(500, b"upstream broke", "text/plain")
        yield server


@pytest.mark.slow
def test_update_then_show_uses_the_new_price(home: Path, upstream: FakeUpstream) -> None:
    assert input_price(home) == "2.5"
    before = run(home, "prices", "show", "gpt-4o", "--provider", "openai")
    assert "genai-prices data: bundled with genai-prices" in before.stdout

    r = run(home, "prices", "update", "--from", upstream.url("/data.json"))
    assert r.returncode == 0, r.stderr
    assert r.stdout == (
        f"updated: {MODELS:,} models from {len(bundled_providers)} providers "
        f"(was {MODELS:,}, bundled) · 1 price changed\n"
        "A running Spendtray uses it within a second (stored events keep their prices).\n"
    )
    assert input_price(home) == "2.75"

    table = run(home, "prices", "show", "gpt-4o", "--provider", "openai")
    assert "$2.75" in table.stdout
    assert "source: genai-prices data downloaded" in table.stdout
    assert "genai-prices data: downloaded" in table.stdout
    assert upstream.url("/data.json") in table.stdout
    detail = json.loads(
        run(home, "prices", "show", "gpt-4o", "--provider", "openai", "--format", "json").stdout
    )
    assert detail["engine_data"]["kind"] == "downloaded"
    assert detail["engine_data"]["models"] == MODELS
    listing = run(home, "prices", "list", "gpt-4o", "--provider", "openai")
    assert listing.returncode == 0
    assert listing.stdout.rstrip().splitlines()[-1].startswith("genai-prices data: downloaded")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("path", "needle"),
    [
        ("/broken.json", "is not valid JSON"),
        ("/schema.json", "does not match genai-prices"),
        ("/error", "answered HTTP 500 Internal Server Error"),
    ],
)
def test_failed_update_is_one_line_exit_2_and_changes_nothing(
    home: Path, upstream: FakeUpstream, path: str, needle: str
) -> None:
    assert run(home, "prices", "update", "--from", upstream.url("/data.json")).returncode == 0
    before = files(home)

    r = run(home, "prices", "update", "--from", upstream.url(path))
    assert r.returncode == 2
    assert needle in r.stderr and "current price data unchanged" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr
    assert r.stdout == ""
    assert files(home) == before
    assert input_price(home) == "2.75"


@pytest.mark.slow
def test_update_uses_the_prices_url_setting(home: Path, upstream: FakeUpstream) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(f'prices_url = "{upstream.url("/data.json")}"\n')
    r = run(home, "prices", "update")
    assert r.returncode == 0, r.stderr
    assert upstream.requests == ["/data.json"]
    assert input_price(home) == "2.75"


@pytest.mark.slow
def test_update_from_file(home: Path, tmp_path: Path) -> None:
    good = tmp_path / "data.json"
    good.write_bytes(bundled_with_price("openai", "gpt-4o", "input_mtok", 3.0))
    r = run(home, "prices", "update", "--from", str(good))
    assert r.returncode == 0, r.stderr
    assert "1 price changed" in r.stdout
    assert input_price(home) == "3"
    before = files(home)

    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    r = run(home, "prices", "update", "--from", str(bad))
    assert r.returncode == 2 and f"{bad} is not valid JSON" in r.stderr
    r = run(home, "prices", "update", "--from", str(tmp_path / "absent.json"))
    assert r.returncode == 2 and "no such file" in r.stderr
    assert files(home) == before
