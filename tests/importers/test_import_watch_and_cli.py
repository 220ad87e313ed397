"""The watcher the tray app runs, the `spendtray import` command, and where logs are found."""

from __future__ import annotations

import json
import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from importkit import day_rows, events, total_row
from logfactory import cc_assistant, cc_usage, write_lines
from logscenarios import CLAUDE_DAYS, write_claude, write_codex

from spendtray.cli.main import main
from spendtray.core import Core
from spendtray.importers import ImportReport, ImportWatcher
from spendtray.importers.sources import claude_code_roots, codex_roots
from spendtray.store.writer import FOLD_SECONDS, Writer

TS = "2026-03-02T10:00:00.000Z"


def _line(n: int) -> str:
    return cc_assistant(TS, "s", f"msg_{n}", f"req_{n}", cc_usage(100, 10))


def test_watcher_follows_appends_on_its_thread(core: Core, tmp_path: Path) -> None:
    log = tmp_path / "claude" / "projects" / "-p" / "s.jsonl"
    write_lines(log, [_line(1)])
    watcher = ImportWatcher(
        core, ["claude-code"], interval=0.05, paths={"claude-code": [tmp_path / "claude"]}
    )
    seen: list[ImportReport] = []
    stored_two = threading.Event()
    threads: set[str] = set()

    def listener(reports: list[ImportReport]) -> None:
        threads.add(threading.current_thread().name)
        seen.extend(reports)
        if sum(r.stored for r in seen) >= 2:
            stored_two.set()

    watcher.add_listener(listener)
    watcher.start()
    try:
        assert watcher.running
        write_lines(log, [_line(2)], mode="a")
        assert stored_two.wait(20), "the watcher did not pick up the appended line"
    finally:
        watcher.stop()
    assert not watcher.running
    assert threads == {"spendtray-import-watch"}
    assert total_row(core, "claude-code")["calls"] == 2
    assert watcher.last_error is None


def test_watcher_poll_once_reports_each_kind(core: Core, tmp_path: Path) -> None:
    write_claude(tmp_path / "claude")
    write_codex(tmp_path / "codex")
    watcher = ImportWatcher(
        core,
        ["claude-code", "codex"],
        interval=2,
        paths={"claude-code": [tmp_path / "claude"], "codex": [tmp_path / "codex"]},
    )
    reports = watcher.poll_once()
    assert [r.kind for r in reports] == ["claude-code", "codex"]
    assert [r.stored for r in reports] == [7, 5]
    assert [r.files_read for r in watcher.poll_once()] == [0, 0]
    watcher.stop()


def test_cli_import_twice_then_report(
    no_server: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_claude(tmp_path / "claude")
    assert main(["import", "claude-code", "--path", str(tmp_path / "claude")]) == 0
    out = capsys.readouterr()
    assert "7 new calls stored" in out.out
    assert "2 malformed lines skipped" in out.out
    assert "malformed: " in out.err
    assert main(["import", "claude-code", "--path", str(tmp_path / "claude")]) == 0
    assert "0 read" in capsys.readouterr().out
    assert main(["report", "--by", "source", "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert any(line.startswith("claude-code,7,") for line in lines)


# A re-import in a fresh interpreter, reporting which heavy modules it loaded.
IDLE_PROBE = """
import json, sys
from spendtray.cli.main import main
code = main(sys.argv[1:])
heavy = [m for m in ("sqlite_utils", "genai_prices", "spendtray.core", "spendtray.prices.book",
                   "numpy") if m in sys.modules]
print(json.dumps({"code": code, "heavy": heavy}))
"""


def _probe_import(folder: Path) -> tuple[dict[str, object], str]:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", IDLE_PROBE, "import", "claude-code", "--path", str(folder)],
        env={**os.environ, "PYTHONPATH": str(root / "app")},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    *printed, last = done.stdout.strip().splitlines()
    return json.loads(last), "\n".join(printed)


def test_cli_reimport_of_unchanged_logs_loads_no_store_or_prices(
    no_server: None, home: Path, tmp_path: Path
) -> None:
    """Unchanged logs are answered from a ``stat`` per file: no store, no price catalogue."""
    folder = tmp_path / "claude"
    write_claude(folder)
    first, out = _probe_import(folder)
    assert first["code"] == 0 and "7 new calls stored" in out
    assert "spendtray.core" in first["heavy"]  # type: ignore[operator]  # the probe sees them
    assert "numpy" not in first["heavy"]  # type: ignore[operator]  # sqlite-utils went without
    wal = home / "spendtray.db-wal"
    before = (home / "spendtray.db").stat().st_mtime_ns, wal.exists() and wal.stat().st_size
    again, out = _probe_import(folder)
    assert again == {"code": 0, "heavy": []}
    assert "0 read" in out and "0 new calls stored" in out
    assert ((home / "spendtray.db").stat().st_mtime_ns, wal.exists() and wal.stat().st_size) == (
        before
    )
    # One grown file: the full pass runs and stores the new call.
    log = next(folder.rglob("*.jsonl"))
    with log.open("a") as handle:
        handle.write(_line(99) + "\n")
    grown, out = _probe_import(folder)
    assert grown["code"] == 0 and "1 new call stored" in out


def test_cli_bad_input_is_one_line(
    no_server: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", "codex", "--path", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not exist" in err
    assert main(["import", "claude-code", "--interval", "0", "--watch"]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["import", "cursor"])
    assert exc.value.code == 2


def test_cli_with_no_logs_says_so(
    no_server: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "nothing-here"))
    assert main(["import", "codex"]) == 0
    assert "no codex logs found" in capsys.readouterr().out


def test_cli_sends_to_the_running_app(
    core: Core,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The app owns the events table; the command posts to it and keeps only its offsets.
    monkeypatch.setenv("SPENDTRAY_PORT", core.url.rsplit(":", 1)[1])
    committed: list[int] = []
    core.writer.add_listener(lambda info: committed.append(info.stored))
    # The command's own writer (it keeps the offsets): what it commits, folds, checkpoints.
    cli_writers: list[Writer] = []
    cli_committed: list[int] = []
    folded_by: list[Writer] = []
    checkpointed_by: list[Writer] = []
    start, fold, checkpoints = Writer.start, Writer._fold, Writer._run_checkpoints

    def spy_start(self: Writer, **kwargs: Any) -> None:
        cli_writers.append(self)
        self.add_listener(lambda info: cli_committed.append(info.stored))
        start(self, **kwargs)

    def spy_fold(self: Writer, *args: Any) -> bool:
        folded_by.append(self)
        return fold(self, *args)

    def spy_checkpoints(self: Writer, conn: sqlite3.Connection) -> None:
        checkpointed_by.append(self)
        checkpoints(self, conn)

    monkeypatch.setattr(Writer, "start", spy_start)
    monkeypatch.setattr(Writer, "_fold", spy_fold)
    monkeypatch.setattr(Writer, "_run_checkpoints", spy_checkpoints)
    write_claude(tmp_path / "claude")
    assert main(["import", "claude-code", "--path", str(tmp_path / "claude")]) == 0
    captured = capsys.readouterr()
    assert f"sending to the running Spendtray at {core.url}" in captured.err
    assert "7 new calls stored" in captured.out
    assert sum(committed) == 7  # stored by the app's own writer, not a second one
    assert len(cli_writers) == 1 and cli_writers[0] is not core.writer
    assert sum(cli_committed) == 0  # the command's writer stored offsets only
    core.writer.call(lambda db: None)  # the app's writer folds what it stored
    time.sleep(2 * FOLD_SECONDS)
    core.writer.call(lambda db: None)
    assert core.writer in folded_by
    assert cli_writers[0] not in folded_by and cli_writers[0] not in checkpointed_by
    days = day_rows(core, "claude-code")
    for day, want in CLAUDE_DAYS.items():
        assert days[day]["input_tokens"] == want.input_tokens
        assert days[day]["output_tokens"] == want.output_tokens
        assert days[day]["cost_nanos"] == want.cost_nanos
    stored = {e["request_id"]: e for e in events(core, "claude-code")}
    assert stored["cc:msg_a2:req_a2"]["cache_write_1h_tokens"] == 900
    assert main(["import", "claude-code", "--path", str(tmp_path / "claude")]) == 0
    assert "0 read" in capsys.readouterr().out


def test_default_places(tmp_path: Path) -> None:
    user = tmp_path / "user"
    (user / ".claude" / "projects").mkdir(parents=True)
    (user / ".config" / "claude" / "projects").mkdir(parents=True)
    found = claude_code_roots({}, user)
    assert [r.path for r in found] == [
        (user / ".config" / "claude" / "projects").resolve(),
        (user / ".claude" / "projects").resolve(),
    ]
    xdg = tmp_path / "xdg"
    (xdg / "claude" / "projects").mkdir(parents=True)
    assert (
        next(r.path for r in claude_code_roots({"XDG_CONFIG_HOME": str(xdg)}, user))
        == (xdg / "claude" / "projects").resolve()
    )
    # CLAUDE_CONFIG_DIR replaces the defaults; entries may be config or projects folders.
    one, two = tmp_path / "one", tmp_path / "two" / "projects"
    (one / "projects").mkdir(parents=True)
    two.mkdir(parents=True)
    env = {"CLAUDE_CONFIG_DIR": f"{one}, {two},{tmp_path / 'absent'}"}
    assert [r.path for r in claude_code_roots(env, user)] == [
        (one / "projects").resolve(),
        two.resolve(),
    ]
    codex = user / ".codex"
    (codex / "sessions").mkdir(parents=True)
    (codex / "archived_sessions").mkdir()
    assert [r.path.name for r in codex_roots({}, user)] == ["archived_sessions", "sessions"]
    assert codex_roots({"CODEX_HOME": str(tmp_path / "absent")}, user) == []


@pytest.mark.slow
def test_cli_watch_follows_until_ctrl_c(no_server: None, home: Path, tmp_path: Path) -> None:
    log = tmp_path / "claude" / "projects" / "-p" / "s.jsonl"
    write_lines(log, [_line(1)])
    root = Path(__file__).resolve().parents[2]
    # Ctrl+C in a terminal: the child starts with SIGINT at its default. A suite started in
    # the background of a script (`bash .ci/run &`) has SIGINT ignored, which children
    # inherit, and Python then never raises KeyboardInterrupt. A handler here is reset to the
    # default in the child.
    ignored = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "spendtray", "import", "claude-code", "--path",
             str(tmp_path / "claude"), "--watch", "--interval", "0.1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(root / "app")},
        )  # fmt: skip
    finally:
        signal.signal(signal.SIGINT, ignored)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stdout or []], daemon=True).start()

    def next_line() -> str:
        try:
            return lines.get(timeout=30)
        except queue.Empty:
            proc.kill()
            raise AssertionError("no output from `spendtray import --watch`") from None

    try:
        assert "1 new call stored" in next_line()
        write_lines(log, [_line(2), _line(3)], mode="a")
        assert "2 new calls stored" in next_line()
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=30)
    assert code == 0
    assert "Traceback" not in (proc.stderr.read() if proc.stderr else "")


def test_quick_polls_skip_quiet_files_until_a_full_one(core: Core, tmp_path: Path) -> None:
    folder = tmp_path / "claude" / "projects" / "-p"
    old, live = folder / "old.jsonl", folder / "live.jsonl"
    write_lines(old, [_line(1)])
    write_lines(live, [_line(2)])
    long_ago = time.time() - 3600
    os.utime(old, (long_ago, long_ago))
    watcher = ImportWatcher(core, ["claude-code"], paths={"claude-code": [tmp_path / "claude"]})
    assert watcher.poll_once()[0].stored == 2  # the first poll is a full one
    write_lines(old, [_line(3)], mode="a")
    write_lines(live, [_line(4)], mode="a")
    quick = watcher.poll_once(full=False)[0]
    assert quick.stored == 1 and quick.files_read == 1  # only the live file was looked at
    assert watcher.poll_once(full=True)[0].stored == 1  # the quiet file's append, later
    assert total_row(core, "claude-code")["calls"] == 4
    watcher.stop()
