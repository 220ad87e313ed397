"""`spendtray statusline` as Claude Code runs it: the real command in a child process, the
recorded-shape statusline JSON on stdin, the real server on a loopback port (or none).

Checks the printed line, the exit code, that a dead or silent app costs at most the timeout,
and what `/v1/limits` shows afterwards."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from spendtray.core import Core

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).parent / "spendtray"
COMMAND = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "spendtray"]


def claude_json(now: int, rate_limits: bool = True, **changes: Any) -> dict[str, Any]:
    """The statusline input of Claude Code 2.1.x (fields as its docs list them)."""
    data: dict[str, Any] = {
        "hook_event_name": "Status",
        "session_id": "0b9c1f4e-7d0a-4a57-9d3c-6a1e2f3b4c5d",
        "transcript_path": "/home/dev/.claude/projects/-home-dev-acme/0b9c1f4e.jsonl",
        "cwd": "/home/dev/acme/src",
        "model": {"id": "claude-opus-4-6", "display_name": "Opus 4.6"},
        "workspace": {"current_dir": "/home/dev/acme/src", "project_dir": "/home/dev/acme"},
        "version": "2.1.90",
        "output_style": {"name": "default"},
        "cost": {
            "total_cost_usd": 1.2345,
            "total_duration_ms": 920000,
            "total_api_duration_ms": 410000,
            "total_lines_added": 156,
            "total_lines_removed": 23,
        },
        "context_window": {
            "total_input_tokens": 15234,
            "total_output_tokens": 4521,
            "context_window_size": 200000,
            "used_percentage": 42.5,
        },
        "exceeds_200k_tokens": False,
    }
    if rate_limits:
        data["rate_limits"] = {
            "five_hour": {"used_percentage": 23.5, "resets_at": now + 2 * 3600 + 600},
            "seven_day": {"used_percentage": 41.2, "resets_at": now + 3 * 86400 + 4 * 3600},
        }
    data.update(changes)
    return data


def statusline(
    home: Path, stdin: bytes, url: str | None = None, *args: str
) -> tuple[subprocess.CompletedProcess[bytes], float]:
    env = {**os.environ, "SPENDTRAY_HOME": str(home), "PYTHONPATH": str(ROOT / "app")}
    if url:
        env["SPENDTRAY_URL"] = url
    start = time.perf_counter()
    done = subprocess.run(
        [*COMMAND, "statusline", *args], input=stdin, env=env, capture_output=True, timeout=60
    )
    return done, time.perf_counter() - start


def line_of(done: subprocess.CompletedProcess[bytes]) -> str:
    assert b"Traceback" not in done.stderr + done.stdout
    lines = done.stdout.decode().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def limits(client: httpx.Client) -> dict[tuple[str, str], dict[str, Any]]:
    rows = client.get("/v1/limits").json()["limits"]
    return {(r["provider"], r["window"]): r for r in rows}


def test_records_windows_and_cost_and_prints_the_line(
    core: Core, client: httpx.Client, home: Path
) -> None:
    now = int(time.time())
    client.post(
        "/v1/usage",
        json={"model": "gpt-4o", "input_tokens": 1_000_000, "output_tokens": 0, "project": "acme"},
    )
    client.put("/v1/budgets/acme", json={"period": "day", "limit_usd": 20})
    done, _ = statusline(home, json.dumps(claude_json(now)).encode(), core.url)
    assert done.returncode == 0
    line = line_of(done)
    parts = line.split(" · ")
    assert parts[0] == "Opus 4.6"
    assert parts[1] == "$1.23 session"
    assert parts[2] == "$2.50 today"  # gpt-4o input at $2.50 per million
    assert parts[3] == "acme $2.50/$20.00 day"
    assert parts[4] in ("5h 24 % ↻2h10m", "5h 24 % ↻2h09m")
    assert parts[5] in ("7d 41 % ↻3d4h", "7d 41 % ↻3d3h")
    assert len(parts) == 6
    seen = limits(client)
    five = seen[("anthropic", "five_hour")]
    assert five["used_percent"] == 23.5 and five["source"] == "official"
    assert five["origin"] == "statusline" and five["stale"] is False
    assert five["window_minutes"] == 300
    assert seen[("anthropic", "seven_day")]["used_percent"] == 41.2
    sessions = core.reader.conn().execute("SELECT project, cost_nanos FROM agent_sessions")
    assert sessions.fetchall() == [("acme", 1_234_500_000)]


def test_without_rate_limits_uses_what_the_app_recorded(
    core: Core, client: httpx.Client, home: Path
) -> None:
    now = int(time.time())
    statusline(home, json.dumps(claude_json(now)).encode(), core.url)
    older_version = claude_json(now, rate_limits=False)
    done, _ = statusline(home, json.dumps(older_version).encode(), core.url)
    assert done.returncode == 0
    line = line_of(done)
    assert " · 5h 24 % ↻2h" in line and " · 7d 41 % ↻3d" in line
    # nothing recorded from a payload without windows: still one reading per window
    assert len(limits(client)) == 2


def test_bad_values_are_skipped_the_rest_is_used(
    core: Core, client: httpx.Client, home: Path
) -> None:
    now = int(time.time())
    bad = claude_json(now)
    bad["rate_limits"]["five_hour"]["used_percentage"] = "lots"
    bad["rate_limits"]["seven_day"]["resets_at"] = -5
    bad["cost"]["total_cost_usd"] = float("inf")
    bad["model"] = None
    done, _ = statusline(home, json.dumps(bad).encode(), core.url)
    assert done.returncode == 0
    assert line_of(done) == "$0.00 today"
    assert limits(client) == {}


def test_app_down_still_prints_the_line_from_the_json(home: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"  # closed when the block ends
    now = int(time.time())
    done, _ = statusline(home, json.dumps(claude_json(now)).encode(), dead)
    assert done.returncode == 0
    line = line_of(done)
    assert line.startswith("Opus 4.6 · $1.23 session · 5h 24 % ↻2h")
    assert line.endswith(" · spendtray not running")
    done, _ = statusline(home, json.dumps(claude_json(now, rate_limits=False)).encode(), dead)
    assert line_of(done) == "Opus 4.6 · $1.23 session · spendtray not running"
    done, _ = statusline(home, b"", dead)
    assert done.returncode == 0 and line_of(done) == "spendtray not running"


def test_a_silent_app_costs_at_most_the_timeout(home: Path) -> None:
    """A port that accepts and never answers (a hung app, or something else squatting)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        quick, _ = statusline(home, b"{}", "http://127.0.0.1:1")
        done, took = statusline(home, json.dumps(claude_json(int(time.time()))).encode(), url)
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()
    assert done.returncode == 0
    assert line_of(done).endswith("spendtray not running")
    assert took < 5.0  # the 0.5 s request timeout, plus interpreter start on a busy machine
    assert quick.returncode == 0


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        (b"not json", "spendtray: statusline input is not JSON (run by Claude Code?)"),
        (b"[1, 2]", "spendtray: statusline input is not a JSON object"),
    ],
)
def test_input_that_is_not_claude_codes_is_one_line_and_exit_2(
    home: Path, stdin: bytes, message: str
) -> None:
    done, _ = statusline(home, stdin, "http://127.0.0.1:1")
    assert done.returncode == 2
    assert line_of(done) == message


def test_then_runs_the_previous_statusline_with_the_same_input(home: Path) -> None:
    now = int(time.time())
    script = "import sys, json; print('theirs', json.load(sys.stdin)['version'])"
    other = f'{sys.executable} -c "{script}"'
    done, _ = statusline(
        home, json.dumps(claude_json(now)).encode(), "http://127.0.0.1:1", "--then", other
    )
    assert done.returncode == 0
    lines = done.stdout.decode().splitlines()
    assert lines[0].startswith("Opus 4.6 · $1.23 session")
    assert lines[1:] == ["theirs 2.1.90"]


def test_a_port_squatter_gets_neither_token_nor_json(tmp_path: Path, home: Path) -> None:
    """Something else on the port answers the identity check wrongly (#21): the statusline
    sends it nothing but that check, and says so on the line."""
    import http.server

    seen: list[tuple[str, str, str | None]] = []

    class Squatter(http.server.BaseHTTPRequestHandler):
        def answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            seen.append((self.command, self.path, self.headers.get("Authorization")))
            seen.append(("body", body, None))
            data = json.dumps({"app": "spendtray", "proof": "0" * 64}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = answer

        def log_message(self, *args: Any) -> None:
            pass

    home.mkdir(parents=True, exist_ok=True)
    (home / "token").write_text("a-real-token-of-this-folder\n", encoding="utf-8")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Squatter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        done, _ = statusline(home, json.dumps(claude_json(int(time.time()))).encode(), url)
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 0
    assert line_of(done).endswith(" · spendtray: port taken by another program")
    assert [(method, path.split("?")[0], auth) for method, path, auth in seen[::2]] == [
        ("GET", "/v1/identity", None)
    ]
    assert "a-real-token" not in json.dumps(seen) and "session_id" not in json.dumps(seen)


def test_bad_timeout_is_one_line(home: Path) -> None:
    done, _ = statusline(home, b"{}", "http://127.0.0.1:1", "--timeout", "-1")
    assert done.returncode == 2
    assert done.stderr.decode().strip() == "spendtray: --timeout: must be between 0 and 30 seconds"
