"""`spendtray check`: the real command in a fresh interpreter against the real app on a loopback
port — each exit code (0 ok, 10 warning, 11 exceeded, 20 unknown, 2 bad input) with its
one-line reason, JSON output, and calls in flight through the proxy counted."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from spendtray.core import Core

ROOT = Path(__file__).resolve().parents[2]


def check(home: Path, port: int, *args: str) -> tuple[int, str, str]:
    env = {**os.environ, "SPENDTRAY_HOME": str(home), "PYTHONPATH": str(ROOT / "app")}
    done = subprocess.run(
        [sys.executable, "-m", "spendtray", "--port", str(port), "check", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, done.stdout.strip(), done.stderr.strip()


def spend(client: httpx.Client, project: str, input_tokens: int) -> float:
    """Store one gpt-4o-mini call ($0.15 per million input tokens); answers its cost."""
    r = client.post(
        "/v1/usage",
        json={"model": "gpt-4o-mini", "input_tokens": input_tokens, "project": project},
    )
    assert r.status_code == 202, r.text
    return float(r.json()["events"][0]["cost_usd"])


def budget(client: httpx.Client, project: str, limit: float, mode: str = "soft") -> None:
    body: dict[str, Any] = {"period": "day", "limit_usd": limit, "mode": mode}
    assert client.put(f"/v1/budgets/{project}", json=body).status_code == 200


def port_of(core: Core) -> int:
    return int(core.url.rsplit(":", 1)[1])


def test_every_state(core: Core, client: httpx.Client, home: Path) -> None:
    port = port_of(core)
    assert spend(client, "acme", 1_000_000) == pytest.approx(0.15)
    spend(client, "burnt", 1_000_000)
    spend(client, "capped", 1_000_000)
    budget(client, "acme", 0.25)  # 60 %: past the 50 % threshold
    budget(client, "burnt", 0.10)
    budget(client, "capped", 1.0, "hard")

    assert check(home, port, "--project", "free") == (
        0,
        "ok: no budget applies to project 'free'",
        "",
    )
    code, out, _ = check(home, port, "--project", "acme")
    assert code == 10
    assert out.startswith("warning: the soft day budget of project 'acme' ($0.25 today)")
    assert "$0.15 spent" in out
    code, out, _ = check(home, port, "--project", "burnt")
    assert code == 11
    assert out.startswith("exceeded: the soft day budget of project 'burnt' ($0.10 today)")
    assert "is used up — $0.15 spent" in out
    assert check(home, port, "--project", "capped", "--estimate-usd", "0.5")[0] == 0
    code, out, _ = check(home, port, "--project", "capped", "--estimate-usd", "0.9")
    assert code == 11
    assert out == (
        "exceeded: the hard day budget of project 'capped' ($1.00 today) has no room for "
        "$0.90 more — $0.15 spent"
    )

    code, out, _ = check(home, port, "--project", "acme", "--format", "json")
    answer = json.loads(out)
    assert code == answer["exit"] == 10
    assert (answer["state"], answer["budget_project"], answer["spent_usd"]) == (
        "warning",
        "acme",
        0.15,
    )
    assert answer["reason"].startswith("warning: ")


def test_a_global_budget_decides_when_tighter(core: Core, client: httpx.Client, home: Path) -> None:
    spend(client, "one", 1_000_000)
    spend(client, "two", 1_000_000)
    budget(client, "*", 0.2, "hard")
    code, out, _ = check(home, port_of(core), "--project", "one")
    assert code == 11
    assert out.startswith("exceeded: the hard day budget of all projects ($0.20 today)")


def test_app_down_is_unknown(home: Path) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    code, out, err = check(home, free, "--project", "acme")
    assert code == 20
    assert out.startswith("unknown: ") and "not running" in out
    assert err == ""
    code, out, _ = check(home, free, "--format", "json")
    assert code == 20 and json.loads(out)["state"] == "unknown"
    home.mkdir(parents=True, exist_ok=True)
    (home / "token").write_text("a-token-of-an-app-not-running\n", encoding="utf-8")
    code, out, _ = check(home, free)
    assert code == 20
    assert out == f"unknown: Spendtray is not running (nothing answers on 127.0.0.1:{free})"


def test_bad_input_is_one_line_exit_2(core: Core, home: Path) -> None:
    port = port_of(core)
    code, out, err = check(home, port, "--estimate-usd", "lots")
    assert (code, out) == (2, "")
    assert err == "spendtray: --estimate-usd: 'lots' is not an amount in US dollars ≥ 0"
    code, out, err = check(home, port, "--project", "x" * 300)
    assert code == 2 and err.startswith("spendtray: ") and len(err.splitlines()) == 1


def test_a_squatter_on_the_port_never_gets_the_token(home: Path) -> None:
    import http.server
    import threading

    seen: list[dict[str, str]] = []

    class Squatter(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(dict(self.headers))
            body = b'{"allow": true, "state": "ok", "period": null}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Squatter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        home.mkdir(parents=True, exist_ok=True)
        (home / "token").write_text("secret-token-of-this-folder\n", encoding="utf-8")
        code, out, _ = check(home, server.server_address[1], "--project", "acme")
    finally:
        server.shutdown()
    assert code == 20
    assert out.startswith("unknown: the server on 127.0.0.1:") and "is not Spendtray" in out
    assert seen and all("secret-token" not in json.dumps(h) for h in seen)


def test_no_room_left_because_calls_in_flight_hold_it() -> None:
    from spendtray.cli.check import exit_code, reason

    answer = {
        "allow": False,
        "state": "warning",
        "period": "day",
        "spent_usd": 4.0,
        "reserved_usd": 1.5,
        "limit_usd": 5.0,
        "budget_project": "acme",
        "mode": "hard",
    }
    assert reason("acme", answer, None) == (
        "exceeded: the hard day budget of project 'acme' ($5.00 today) has no room left — "
        "$4.00 spent, $1.50 held by calls in flight"
    )
    assert exit_code(answer) == 11
