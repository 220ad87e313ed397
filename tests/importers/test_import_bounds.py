"""Log lines out of the ingest bounds (10^13 tokens; a cost no call can have) are skipped and
counted, whether the importer stores itself or posts to the running app; the good lines
around them are stored and the sums stay readable."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from importkit import events, total_row
from logfactory import cc_assistant, cc_usage, write_lines

from spendtray.core import Core
from spendtray.importers import ImportReport
from spendtray.importers.remote import ServerSink
from spendtray.importers.runner import Importer

TS = "2026-03-02T10:00:00.000Z"
OPUS = "claude-opus-4-1-20250805"


def _log(tmp_path: Path) -> Path:
    lines = [cc_assistant(TS, "s", f"msg_{n}", f"req_{n}", cc_usage(100, 10)) for n in range(4)]
    # The two corrupt lines: tokens past any bound, and a cost no call can have
    # (10^12 output tokens of Opus: $75 million) with counts inside the token bound.
    lines.insert(1, cc_assistant(TS, "s", "msg_bad1", "req_bad1", cc_usage(10**13, 10**13)))
    lines.insert(3, cc_assistant(TS, "s", "msg_bad2", "req_bad2", cc_usage(5, 10**12), OPUS))
    root = tmp_path / "claude"
    write_lines(root / "projects" / "-home-dev-shop" / "s.jsonl", lines)
    return root


def _check(report: ImportReport, core: Core) -> None:
    assert report.stored == 4
    assert report.stats.malformed == 2
    shown = " | ".join(report.stats.malformed_examples)
    assert "implausibly large" in shown
    assert "one call may cost" in shown
    assert "2 malformed lines skipped" in report.summary()
    core.writer.call(lambda db: None)
    total = total_row(core, "claude-code")
    assert total["calls"] == 4
    assert total["input_tokens"] == 400


def test_bad_lines_are_skipped_and_counted_in_process(core: Core, tmp_path: Path) -> None:
    importer = Importer.for_core(core, "claude-code", [_log(tmp_path)])
    try:
        _check(importer.run(), core)
    finally:
        importer.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="import workers need os.fork")
def test_bad_lines_are_skipped_and_counted_by_import_workers(core: Core, tmp_path: Path) -> None:
    """The workers price what they read: the calls out of bounds are refused there."""
    importer = Importer.for_core(core, "claude-code", [_log(tmp_path)])
    importer.workers, importer.worker_min_bytes = 2, 0
    try:
        _check(importer.run(), core)
    finally:
        importer.close()
    keys = {event["request_id"] for event in events(core, "claude-code")}
    assert keys == {f"cc:msg_{n}:req_{n}" for n in range(4)}


@pytest.mark.parametrize("batch_events", [5_000, 2])
def test_bad_lines_are_skipped_and_counted_through_the_running_app(
    core: Core, tmp_path: Path, batch_events: int
) -> None:
    sink = ServerSink(core.url, core.token)
    importer = Importer.for_core(core, "claude-code", [_log(tmp_path)], store=sink)
    importer.batch_events = batch_events
    try:
        _check(importer.run(), core)
    finally:
        importer.close()
        sink.close()


@pytest.mark.parametrize("cwd", ["/a" * 50_000, "/" + "b/" * 2000])
def test_a_huge_cwd_costs_no_time(core: Core, tmp_path: Path, cwd: str) -> None:
    """A 100 KB cwd took 101 s (every ancestor re-encoded); a deep but real-sized one must be
    as quick as any line."""
    lines = [
        cc_assistant(TS, "s", f"msg_{n}", f"req_{n}", cc_usage(100, 10), cwd=cwd)
        for n in range(200)
    ]
    root = tmp_path / "claude"
    write_lines(root / "projects" / "-home-dev-shop" / "s.jsonl", lines)
    importer = Importer.for_core(core, "claude-code", [root])
    try:
        started = time.perf_counter()
        report = importer.run()
        assert time.perf_counter() - started < 5
    finally:
        importer.close()
    assert report.stored == 200
