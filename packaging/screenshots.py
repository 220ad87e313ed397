"""Takes the README's screenshots of the real app on a virtual screen with a real tray panel.

Needs (Debian): xvfb tint2 imagemagick xdotool and the libxcb-* packages listed in
/work/shared/SEEING.md. Run from the repo root:

    .venv/bin/python packaging/screenshots.py [--out resources/screenshots]

It starts its own Xvfb + tint2, runs `spendtray` on a fresh data folder and photographs the
first-run page. Then `spendtray import` reads real agent logs (the REAL Claude Code sessions and
Codex rollout in ../shared/corpora, see its SOURCES.md) into the running app through its
server. Only their dates are moved, file by file, into the last four weeks so the time charts
have something to show; models, token counts and request ids are as the agents wrote them.
Two machines share spend through a sync folder: this app is "desk" and imports the Claude Code
sessions; a second data folder, "laptop", imports the Codex rollout and syncs it over with
`spendtray sync`, as a second computer would.
With a global daily and monthly budget set, it captures the tray, its tooltip and menu, every
dashboard tab and the Estimator. Everything it starts is stopped at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from replay_upstream import Recorded, ReplayUpstream, read_cassette

ROOT = Path(__file__).resolve().parents[1]
LIMITS_TAB_X = 380  # the "Limits" tab's label, in window coordinates (see dashboard.png)
TAB_Y = 155
# the Breakdown tab's "By" buttons, in window coordinates (see dashboard-breakdown.png)
PROJECT_BUTTON_X = 83
MACHINE_BUTTON_X = 512
MACHINE_BUTTON_Y = 187
DISPLAY = ":87"  # not SEEING.md's :77, which colleagues may be using
SCREEN = (1280, 800)
CONVERT = "/usr/bin/convert"
IMPORT = "/usr/bin/import"

CORPORA = ROOT.parent / "shared" / "corpora"
# Real sessions only (SOURCES.md marks which files are REAL; the HAND ones are left out).
CLAUDE_SOURCES = ("claude_code/sniffly", "claude_code/claude-code-log/real_projects")
CLAUDE_VIEWER = CORPORA / "claude_code" / "claude-code-viewer"
CODEX_SOURCES = ("codex/codex-session-view/sessions",)
TIMESTAMP = re.compile(r'("timestamp"\s*:\s*")(\d{4}-\d\d-\d\dT[0-9:.]+)(Z|[+-]\d\d:\d\d)?"')


def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(command, check=True, **kwargs)


def _stamp(text: str, suffix: str | None) -> dt.datetime:
    when = dt.datetime.fromisoformat(text + (suffix or "Z").replace("Z", "+00:00"))
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _moved(line: str, shift: dt.timedelta) -> str:
    def move(match: re.Match[str]) -> str:
        when = _stamp(match.group(2), match.group(3)) + shift
        text = when.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return f'{match.group(1)}{text}"'

    return TIMESTAMP.sub(move, line)


def stage_logs(sources: list[tuple[Path, Path]], now: dt.datetime) -> int:
    """Copy each (source file, destination) with its dates moved: the files' latest calls
    spread over the last 28 days, the first file's ending ten minutes ago (so "today" has
    some). Answers how many files were staged."""
    spans: list[tuple[dt.datetime, Path, Path]] = []
    for source, dest in sources:
        stamps = [_stamp(m.group(2), m.group(3)) for m in TIMESTAMP.finditer(source.read_text())]
        if stamps:
            spans.append((max(stamps), source, dest))
    spans.sort(key=lambda s: -s[1].stat().st_size)  # the biggest sessions nearest today
    for i, (latest, source, dest) in enumerate(spans):
        target = now - dt.timedelta(minutes=10) - dt.timedelta(days=(i * 28) // len(spans))
        shift = target - latest
        if i:  # whole days: the time of day stays as the developer worked it
            shift = dt.timedelta(days=shift.days)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with source.open() as lines, dest.open("w") as out:
            for line in lines:
                out.write(_moved(line, shift))
    return len(spans)


def agent_logs(root: Path) -> list[tuple[Path, Path]]:
    pairs: list[tuple[Path, Path]] = []
    projects = root / "claude" / "projects"
    for name in CLAUDE_SOURCES:
        base = CORPORA / name
        for path in sorted(base.rglob("*.jsonl")):
            relative = path.relative_to(base)
            if name.endswith("sniffly"):
                relative = Path("-Users-chip-dev-ai-music") / relative
            pairs.append((path, projects / relative))
    for path in sorted(CLAUDE_VIEWER.glob("*.jsonl")):
        if not path.name.startswith("agent-test"):  # the one HAND file there
            pairs.append((path, projects / "-path-to-Demo" / path.name))
    for name in CODEX_SOURCES:
        base = CORPORA / name
        for path in sorted(base.rglob("rollout-*.jsonl")):
            pairs.append((path, root / "codex" / "sessions" / path.relative_to(base)))
    return pairs


def limit_readings(epoch: int) -> list[dict[str, Any]]:
    """Subscription windows as Claude Code's statusline and Codex's logs report them: Claude's
    5-hour window ahead of its pace (below the 70 % alert, so no balloon over the budget's)."""

    def window(provider: str, name: str, minutes: int, used: float, left: int) -> dict[str, Any]:
        return {
            "provider": provider,
            "window": name,
            "window_minutes": minutes,
            "used_percent": used,
            "resets_at": epoch + left,
        }

    return [
        window("anthropic", "five_hour", 300, 62, 150 * 60),
        window("anthropic", "seven_day", 10080, 41, 3 * 86400 + 4 * 3600),
        window("openai", "primary", 300, 35, 2 * 3600),
        window("openai", "secondary", 10080, 12, 5 * 86400),
    ]


def wait_for_line(proc: subprocess.Popen[str], needle: str, timeout: float = 60) -> str:
    assert proc.stderr is not None
    deadline = time.monotonic() + timeout
    seen = ""
    while needle not in seen and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen += line
    if needle not in seen:
        raise SystemExit(f"spendtray did not print {needle!r}: {seen}")
    return seen


def wait_for_tray(timeout: float = 90) -> None:
    """tint2 can take ~15 s to come up on a bare X server; the app must find its tray."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = subprocess.run(
            ["xdotool", "search", "--classname", "tint2"], capture_output=True, text=True
        )
        if found.stdout.strip():
            time.sleep(1)
            return
        time.sleep(0.5)
    raise SystemExit("tint2 did not start: no system tray to photograph")


def shot(path: Path, crop: str | None = None, window: str = "root", scale: int = 100) -> None:
    raw = path.with_suffix(".raw.png")
    run([IMPORT, "-window", window, str(raw)], env=os.environ)
    args = [CONVERT, str(raw)]
    if crop:
        args += ["-crop", crop, "+repage"]
    if scale != 100:
        args += ["-filter", "point", "-resize", f"{scale}%"]
    args += ["-strip", "-define", "png:compression-level=9", str(path)]
    run(args)
    raw.unlink()
    print(f"{path}: {path.stat().st_size // 1024} KB")


def tray_icon_position() -> tuple[int, int]:
    """The tray icon's centre: the rightmost non-background pixels of tint2's bar."""
    width, height = SCREEN
    out = subprocess.run(
        [IMPORT, "-window", "root", "-crop", f"300x30+{width - 300}+{height - 30}", "txt:-"],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ,
    ).stdout
    background = None
    right = 0
    for line in out.splitlines()[1:]:
        coords, _, rest = line.partition(":")
        x, y = (int(v) for v in coords.split(","))
        colour = rest.split()[-1]
        if background is None:
            background = colour
        if colour != background and y == 15 and x > right and x < 260:
            right = x
    return width - 300 + right - 8, height - 15


def open_dashboard(env: dict[str, str]) -> str:
    """A second launch asks the running app to show its dashboard; answers the window id."""
    run([sys.executable, "-m", "spendtray", "--port", "0"], env=env, capture_output=True)
    time.sleep(3)
    window = subprocess.run(
        ["xdotool", "search", "--name", "Spendtray — LLM spend"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[-1]
    run(["xdotool", "windowmove", window, "40", "10"])
    time.sleep(1)
    return window


CASSETTES = CORPORA / "provider_responses" / "openai_chat" / "otel-contrib-openai-v2"
ASK = [{"role": "user", "content": "Say this is a test"}]  # what the recordings asked


def proxy_calls(url: str, project: str) -> None:
    """Four real recorded OpenAI answers through Spendtray's proxy, in the replay's order: a
    priced call, a 404, a stream without usage, and a stream its client hangs up on."""
    base = f"{url}/p/{project}/openai/v1/chat/completions"
    headers = {"Authorization": "Bearer sk-replayed-no-real-key"}
    with httpx.Client(headers=headers, timeout=30) as client:
        client.post(base, json={"model": "gpt-4o-mini", "messages": ASK})
        client.post(base, json={"model": "this-model-does-not-exist", "messages": ASK})
        client.post(base, json={"model": "gpt-4", "messages": ASK, "stream": True})
        body = {"model": "gpt-4", "messages": ASK, "stream": True}
        with client.stream("POST", base, json=body) as stream:
            next(stream.iter_raw())  # the first chunk, then hang up as an impatient client does
    time.sleep(4)  # the proxy records the closed stream once the upstream side ends


def replayed() -> list[Recorded]:
    return [
        read_cassette(CASSETTES / "test_chat_completion_with_content.yaml"),
        read_cassette(CASSETTES / "test_chat_completion_404.yaml"),
        read_cassette(CASSETTES / "test_chat_completion_streaming_not_complete.yaml"),
        read_cassette(CASSETTES / "test_chat_completion_streaming.yaml", 3.0),
    ]


def wait_for_machine(client: httpx.Client, name: str, timeout: float = 60) -> None:
    """Until the running app has taken ``name``'s events from the sync folder."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = client.get("/v1/machines").json()["machines"]
        if any(m["name"] == name and m["last_received"] for m in listed):
            return
        time.sleep(1)
    raise RuntimeError(f"the app did not receive {name}'s events from the sync folder")


def spendtray(env: dict[str, str], *args: str) -> str:
    done = run([sys.executable, "-m", "spendtray", *args], env=env, capture_output=True)
    return done.stdout.decode() + done.stderr.decode()


def click(window: str, x: int, y: int) -> None:
    run(["xdotool", "mousemove", "--window", window, str(x), str(y), "click", "1"])
    time.sleep(1.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "resources" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ["DISPLAY"] = DISPLAY
    os.environ.pop("QT_QPA_PLATFORM", None)
    helpers: list[subprocess.Popen[Any]] = []
    home = Path(tempfile.mkdtemp(prefix="spendtray-shots-"))
    logs = home / "agent-logs"
    env = {
        **os.environ,
        "SPENDTRAY_HOME": str(home),
        "CLAUDE_CONFIG_DIR": str(logs / "claude"),
        "CODEX_HOME": str(logs / "codex"),
    }
    # the second machine: its own data folder, the same sync folder, the Codex logs only
    sync_folder = Path(tempfile.mkdtemp(prefix="spendtray-shots-sync-"))
    laptop = Path(tempfile.mkdtemp(prefix="spendtray-shots-laptop-"))
    laptop_env = {
        **env,
        "SPENDTRAY_HOME": str(laptop),
        "CLAUDE_CONFIG_DIR": str(laptop / "no-claude-logs"),
    }
    machine = 'machine = "{}"\nsync_folder = "{}"\n'
    (laptop / "config.toml").write_text(machine.format("laptop", sync_folder))
    upstream = ReplayUpstream(replayed())
    env["SPENDTRAY_UPSTREAM_OPENAI"] = upstream.url
    # the logs are imported on purpose below, after the first-run page is photographed
    (home / "config.toml").write_text(
        "follow_agent_logs = false\n" + machine.format("desk", sync_folder)
    )
    try:
        helpers.append(
            subprocess.Popen(["Xvfb", DISPLAY, "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24"])
        )
        time.sleep(1.5)
        helpers.append(
            subprocess.Popen(["tint2"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )
        wait_for_tray()
        app = subprocess.Popen(
            [sys.executable, "-m", "spendtray", "--port", "0"],
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        helpers.append(app)
        url = wait_for_line(app, "ingest server on ").split("ingest server on ")[1].split()[0]
        token = (home / "token").read_text().strip()
        # before any usage: the dashboard explains how to send the first event
        window = open_dashboard(env)
        shot(args.out / "dashboard-empty.png", window=window)
        run(["xdotool", "windowmove", window, "1400", "0"])  # out of the tray shots' way
        now = dt.datetime.now().astimezone()
        staged = stage_logs(agent_logs(logs), now)
        print(f"staged {staged} real agent log files")
        print(spendtray(env, "import", "claude-code").strip())
        print(spendtray(laptop_env, "import", "codex").strip())
        print(spendtray(laptop_env, "sync").strip())
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as c:
            wait_for_machine(c, "laptop")
            midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
            today = c.get(
                "/v1/summary", params={"group_by": "project", "since": midnight.isoformat()}
            )
            month_start = midnight.replace(day=1)
            month = c.get(
                "/v1/summary", params={"group_by": "project", "since": month_start.isoformat()}
            )
            spent_today = today.json()["total"]["cost_usd"]
            spent_month = month.json()["total"]["cost_usd"]
            # global budgets: today past its 50 % warning, the month heading over its limit
            day_limit = max(1.0, round(spent_today / 0.65))
            month_limit = max(10.0, round(spent_month * 1.1 / 10) * 10)
            for period, limit in (("day", day_limit), ("month", month_limit)):
                c.put(
                    "/v1/budgets/*", json={"period": period, "limit_usd": limit}
                ).raise_for_status()
            c.post("/v1/limits", json=limit_readings(int(time.time()))).raise_for_status()
        proxy_calls(url, "release-notes")
        width, height = SCREEN
        # the month budget the figures are already past pops up as a desktop notification
        time.sleep(2)
        shot(args.out / "tray-notification.png", crop=f"560x170+{width - 560}+{height - 170}")
        time.sleep(11)  # until the balloon is gone
        shot(args.out / "tray.png", crop=f"260x32+{width - 260}+{height - 32}", scale=200)
        x, y = tray_icon_position()
        run(["xdotool", "mousemove", str(x), str(y)])
        time.sleep(2.5)
        shot(args.out / "tray-tooltip.png", crop=f"560x220+{width - 560}+{height - 220}")
        run(["xdotool", "click", "3"])
        time.sleep(1.5)
        shot(args.out / "tray-menu.png", crop=f"540x410+{width - 540}+{height - 410}")
        # the first enabled entry is "Open dashboard", the next "Estimator…"
        run(["xdotool", "key", "Down", "Down", "Return"])
        time.sleep(4)
        estimator = subprocess.run(
            ["xdotool", "search", "--name", "Spendtray — Estimator"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()[-1]
        run(["xdotool", "windowmove", estimator, "40", "10"])
        run(["xdotool", "windowsize", estimator, "1180", "740"])
        time.sleep(1)
        click(estimator, 300, 150)  # into the paste area
        run(["xdotool", "type", "--delay", "2", PROMPT])
        # the what-ifs on, and 40 calls a day (positions in window coordinates, see the PNG)
        click(estimator, 82, 324)  # Cached prefix
        click(estimator, 404, 324)  # Batch API
        click(estimator, 500, 295)  # Calls / day
        run(["xdotool", "key", "ctrl+a"])
        run(["xdotool", "type", "40"])
        time.sleep(4)
        shot(args.out / "estimator.png", window=estimator)
        run(["xdotool", "windowmove", estimator, "1400", "0"])
        window = open_dashboard(env)
        shot(args.out / "dashboard.png", window=window)
        # the tab bar's labels, in window coordinates (see dashboard.png: the tabs sit below
        # the banner listing the replayed calls that have no price)
        for name, x in (
            ("breakdown", 136),
            ("calls", 230),
            ("budgets", 316),
            ("limits", LIMITS_TAB_X),
        ):
            click(window, x, TAB_Y)
            shot(args.out / f"dashboard-{name}.png", window=window)
            if name == "breakdown":  # the same tab by machine, with each one's last sync
                click(window, MACHINE_BUTTON_X, MACHINE_BUTTON_Y)
                shot(args.out / "dashboard-machines.png", window=window)
                click(window, PROJECT_BUTTON_X, MACHINE_BUTTON_Y)
    finally:
        for proc in reversed(helpers):
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        upstream.close()
        for folder in (home, laptop, sync_folder):
            shutil.rmtree(folder, ignore_errors=True)


PROMPT = (
    "You are a release-notes writer. Rewrite the following changelog for end users in plain "
    "words, one bullet per change, no internal ticket numbers: fixed a crash when the disk is "
    "full; the dashboard now forecasts the month against its budget; imports are twice as fast."
)


if __name__ == "__main__":
    main()
