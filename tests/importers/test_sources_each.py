"""The same checks for every source beyond Claude Code and Codex (which have their own files):
its fixture home against ccusage per day, and the incremental rules — a re-import reads
nothing, a line written in two goes counts once it is whole, a truncated or replaced file adds
nothing twice, a bad line is counted and named, and the watcher follows appends live."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from importkit import day_rows, events, total_row
from sourcekit import AGENT_ENV, CASES, SourceCase, build_databases

from spendtray.core import Core
from spendtray.importers import Importer, ImportWatcher

KINDS = sorted(CASES)
# Sources whose fixture home is their own; the others share one (e.g. kilo's and opencode's)
# and are compared with ccusage under the source that owns it.
OWN_HOMES = [kind for kind in KINDS if CASES[kind].key == CASES[kind].kind]


@pytest.fixture(params=KINDS)
def case(request: pytest.FixtureRequest) -> SourceCase:
    return CASES[request.param]


@pytest.fixture
def user_home(case: SourceCase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A writable copy of the source's fixture home, with HOME pointing at it."""
    home = tmp_path / "user"
    shutil.copytree(case.home, home)
    build_databases(home)
    monkeypatch.setenv("HOME", str(home))
    for name in AGENT_ENV:
        monkeypatch.delenv(name, raising=False)
    yield home


def _append(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(text)


@pytest.mark.parametrize("case", OWN_HOMES, indirect=True)
def test_fixture_home_matches_ccusage_per_day(
    case: SourceCase,
    core: Core,
    make_importer: Callable[..., Importer],
    user_home: Path,
    ccusage: Any,
) -> None:
    report = make_importer(case.kind).run()  # the default places under HOME
    assert report.roots and report.stored > 0
    assert report.stats.malformed == 0
    ours = day_rows(core, case.kind)
    if case.ccusage is None:  # counted by hand instead
        assert {
            d: (r["calls"], r["input_tokens"], r["output_tokens"]) for d, r in ours.items()
        } == (case.expected)
        return
    days = ccusage(case.ccusage, "daily", env={"HOME": str(user_home)})["daily"]
    theirs = {d.get("date") or d.get("period"): d for d in days}
    # ccusage's view of a call's cost: the one the agent logged, else the one computed
    shown: dict[str, float] = {}
    for event in events(core, case.kind):
        day, logged = event["timestamp"][:10], event["reported_cost_usd"]
        shown[day] = shown.get(day, 0.0) + (event["cost_usd"] or 0.0 if logged is None else logged)
    assert set(theirs) ^ set(ours) <= set(case.differences), (set(theirs), set(ours))
    for day in set(theirs) & set(ours):
        if day in case.differences:
            continue
        assert case.theirs(theirs[day]) == case.as_ccusage(day, ours[day]), day
        cost = theirs[day].get("totalCost", theirs[day].get("costUSD"))
        if case.ccusage_cost_is_reported:
            # ccusage shows the cost the agent logged; Spendtray keeps it as reported cost
            assert abs(cost - shown[day]) < 1e-9, day
        elif day not in case.cost_differences and "*" not in case.cost_differences:
            assert abs(cost - ours[day]["cost_nanos"] / 1e9) < 1e-9, day


def test_reimport_reads_nothing(
    case: SourceCase, core: Core, make_importer: Callable[..., Importer], user_home: Path
) -> None:
    importer = make_importer(case.kind)
    first = importer.run()
    assert first.bytes_read > 0
    again = make_importer(case.kind).run()  # a new importer: what it knows comes from the db
    assert (again.files_read, again.bytes_read, again.stored) == (0, 0, 0)
    assert again.files_seen == first.files_seen


def _write_in_place(path: Path, data: bytes) -> None:
    """Rewrite a file keeping its inode, as an agent saving a document does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "r+b" if path.exists() else "wb") as handle:
        handle.write(data)
        handle.truncate()


def test_a_call_written_in_two_goes_counts_once_whole(
    case: SourceCase, core: Core, make_importer: Callable[..., Importer], user_home: Path
) -> None:
    importer = make_importer(case.kind)
    importer.run()
    before = total_row(core, case.kind)
    log = user_home / case.log
    full = case.grown(user_home, 1)
    if case.document:
        _write_in_place(log, full[: len(full) // 2])  # the agent is half-way through saving
    else:
        line = full[log.stat().st_size :]
        _append(log, line[: len(line) // 2].decode())
    assert importer.run().stored == 0
    _write_in_place(log, full)
    report = importer.run()
    assert report.stored + report.duplicates >= 1
    after = total_row(core, case.kind)
    assert after["calls"] == before["calls"] + case.calls_per_new_call
    assert after["input_tokens"] == before["input_tokens"] + case.new_call_input


def test_truncated_then_replaced_file_counts_nothing_twice(
    case: SourceCase, core: Core, make_importer: Callable[..., Importer], user_home: Path
) -> None:
    log = user_home / case.log
    _write_in_place(log, case.grown(user_home, 1))
    original = log.read_bytes()
    importer = make_importer(case.kind)
    importer.run()
    before = total_row(core, case.kind)
    log.write_bytes(original[: len(original) // 3].rsplit(b"\n", 1)[0] + b"\n")  # truncated
    assert importer.run().stored == 0
    assert total_row(core, case.kind) == before  # what was stored stays
    _write_in_place(log, original)
    replacement = log.with_name(log.name + ".new")
    replacement.write_bytes(case.grown(user_home, 2))
    os.replace(replacement, log)  # a new inode: read from the start
    importer.run()
    after = total_row(core, case.kind)
    assert after["calls"] == before["calls"] + case.calls_per_new_call
    assert after["input_tokens"] == before["input_tokens"] + case.new_call_input


def test_bad_line_is_counted_and_named(
    case: SourceCase, core: Core, make_importer: Callable[..., Importer], user_home: Path
) -> None:
    importer = make_importer(case.kind)
    importer.run()
    before = total_row(core, case.kind)
    log = user_home / case.log
    name = case.log.rsplit("/", 1)[-1]
    if case.document:
        good = case.grown(user_home, 3)
        _write_in_place(log, b'{"half a document": ')
        report = importer.run()
        assert (report.stats.malformed, report.stored) == (1, 0)
        assert name in report.stats.malformed_examples[0]
        _write_in_place(log, good)
        importer.run()
    else:
        _append(log, '{"type": "half a line\n' + case.new_call(3) + "\n")
        report = importer.run()
        assert (report.stats.malformed, report.stored) == (1, 1)
        assert name in report.stats.malformed_examples[0]
    after = total_row(core, case.kind)
    assert after["calls"] == before["calls"] + case.calls_per_new_call
    assert after["input_tokens"] == before["input_tokens"] + case.new_call_input


def test_watcher_follows_the_source_live(case: SourceCase, core: Core, user_home: Path) -> None:
    watcher = ImportWatcher(core, [case.kind], interval=0.05)
    passes = threading.Semaphore(0)
    watcher.add_listener(lambda reports: passes.release())
    first = watcher.poll_once()
    assert first[0].stored > 0
    before = total_row(core, case.kind)["input_tokens"]
    watcher.start()
    try:
        _write_in_place(user_home / case.log, case.grown(user_home, 4))
        deadline = time.monotonic() + 20
        while total_row(core, case.kind)["input_tokens"] != before + case.new_call_input:
            assert time.monotonic() < deadline, f"the watcher missed the new {case.kind} call"
            passes.acquire(timeout=1)
    finally:
        watcher.stop()
    assert watcher.last_error is None
