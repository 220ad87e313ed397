"""Takes the README's screenshots of the real app on a virtual screen with a real tray panel.

Needs (Debian): xvfb tint2 imagemagick xdotool and the libxcb-* packages listed in
/work/shared/SEEING.md. Run from the repo root:

    .venv/bin/python packaging/screenshots.py [--out resources/screenshots]

It starts its own Xvfb + tint2, runs `spendtray` on a fresh data folder, sends 30 days of
usage through the real ingest API (several projects, models and agents, one model with no
known price, a daily budget), then captures the tray, its tooltip and menu, and the dashboard's
tabs. Everything it starts is stopped at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
LIMITS_TAB_X = 380  # the "Limits" tab's label, in window coordinates (see dashboard.png)
DISPLAY = ":87"  # not SEEING.md's :77, which colleagues may be using
SCREEN = (1280, 800)
CONVERT = "/usr/bin/convert"
IMPORT = "/usr/bin/import"

# (project, share of calls, models with weights, agents)
PROJECTS: list[tuple[str, float, list[tuple[str, str, float]], list[str]]] = [
    (
        "acme-web",
        0.35,
        [("gpt-4o-mini", "openai", 6), ("gpt-4.1", "openai", 2), ("o3", "openai", 0.4)],
        ["", "planner"],
    ),
    (
        "support-bot",
        0.25,
        [("claude-haiku-4-5", "anthropic", 5), ("claude-sonnet-4-5", "anthropic", 1.5)],
        ["triage", "answerer"],
    ),
    (
        "research",
        0.2,
        [("gemini-2.5-pro", "google", 2), ("gemini-2.5-flash", "google", 4)],
        ["summarizer"],
    ),
    (
        "evals",
        0.12,
        [("deepseek-chat", "deepseek", 3), ("gpt-4o", "openai", 1)],
        ["grader"],
    ),
    ("hackday", 0.08, [("acme-finetune-v2", "acme-ai", 1)], ["coder"]),
]


def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(command, check=True, **kwargs)


def events(now: dt.datetime, rng: random.Random) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    start_today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for days_back in range(29, -1, -1):
        day = start_today - dt.timedelta(days=days_back)
        weekend = day.weekday() >= 5
        calls = rng.randint(25, 45) if weekend else rng.randint(70, 140)
        if days_back in (9, 10):
            calls *= 3  # an eval sweep
        for _ in range(calls):
            hour = min(23, max(0, int(rng.gauss(14, 3.5))))
            stamp = day + dt.timedelta(hours=hour, minutes=rng.randint(0, 59))
            if stamp > now:
                stamp = now - dt.timedelta(minutes=rng.randint(1, 300))
            project, _, models, agents = rng.choices(PROJECTS, [p[1] for p in PROJECTS])[0]
            model, provider, _ = rng.choices(models, [m[2] for m in models])[0]
            input_tokens = int(rng.lognormvariate(8.3, 0.9))
            event: dict[str, Any] = {
                "timestamp": stamp.isoformat(),
                "model": model,
                "provider": provider,
                "project": project,
                "input_tokens": input_tokens,
                "output_tokens": int(rng.lognormvariate(6.2, 0.8)),
            }
            agent = rng.choice(agents)
            if agent:
                event["agent"] = agent
            if provider == "anthropic" and rng.random() < 0.6:
                event["cache_read_tokens"] = int(input_tokens * 0.7)
            out.append(event)
    return out


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "resources" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ["DISPLAY"] = DISPLAY
    os.environ.pop("QT_QPA_PLATFORM", None)
    helpers: list[subprocess.Popen[Any]] = []
    home = Path(tempfile.mkdtemp(prefix="spendtray-shots-"))
    env = {**os.environ, "SPENDTRAY_HOME": str(home)}
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
        rng = random.Random(42)
        now = dt.datetime.now().astimezone()
        batch = events(now, rng)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as c:
            today_cost = 0.0
            for i in range(0, len(batch), 500):
                body = c.post("/v1/usage", json=batch[i : i + 500]).json()
                for sent, got in zip(batch[i : i + 500], body["events"], strict=True):
                    if sent["timestamp"][:10] == now.date().isoformat() and got["cost_usd"]:
                        today_cost += got["cost_usd"]
            # a daily budget the day is past the warning threshold of: the amber icon
            limit = max(0.01, round(today_cost / 0.7, 2))
            c.put("/v1/budgets/*", json={"period": "day", "limit_usd": limit}).raise_for_status()
            c.put("/v1/budgets/acme-web", json={"period": "month", "limit_usd": 150})
            c.post("/v1/limits", json=limit_readings(int(time.time()))).raise_for_status()
            # one more call so the tray re-reads with the budgets in place
            c.post(
                "/v1/usage",
                json={"model": "gpt-4o-mini", "input_tokens": 900, "project": "acme-web"},
            )
        width, height = SCREEN
        # the budget crossed by that call pops up as a desktop notification
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
        run(["xdotool", "key", "Escape"])
        window = open_dashboard(env)
        shot(args.out / "dashboard.png", window=window)
        # the tab bar's labels, in window coordinates (see dashboard.png)
        for name, x in (("breakdown", 136), ("calls", 230), ("limits", LIMITS_TAB_X)):
            run(["xdotool", "mousemove", "--window", window, str(x), "141", "click", "1"])
            time.sleep(1.5)
            shot(args.out / f"dashboard-{name}.png", window=window)
    finally:
        for proc in reversed(helpers):
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
