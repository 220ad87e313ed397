"""The bundle's entry script gives a windowed program somewhere to print.

A Windows build without a console starts with ``sys.stdout is None``; ``--version`` and
``serve`` print, so the entry script attaches the missing streams (the parent terminal's console
on Windows, else a log file in the data folder) before the command line runs.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from packkit import load_script


def test_missing_streams_go_to_the_log_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = load_script("spendtray_main")
    monkeypatch.setattr(sys, "stdout", None)
    monkeypatch.setattr(sys, "stderr", None)
    entry.ensure_streams(home=tmp_path)
    assert sys.stdout is not None and sys.stderr is not None
    print("spendtray 9.9.9")
    print("headless: ingest server on …", file=sys.stderr)
    sys.stdout.flush()
    log = tmp_path / "logs" / "bundle-stdout.log"
    assert log.read_text(encoding="utf-8").splitlines() == [
        "spendtray 9.9.9",
        "headless: ingest server on …",
    ]
    sys.stdout.close()


def test_present_streams_are_left_alone(tmp_path: Path) -> None:
    entry = load_script("spendtray_main")
    before = (sys.stdout, sys.stderr)
    entry.ensure_streams(home=tmp_path)
    assert (sys.stdout, sys.stderr) == before
    assert not (tmp_path / "logs").exists()
