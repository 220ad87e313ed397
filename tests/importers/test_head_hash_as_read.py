"""A file read from its start keeps the hash of its first bytes as read (no second open when its
offset is saved); after every read it equals ``head_hash`` of the file at that offset, whatever
the size, the last newline, or a line longer than a read."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from spendtray.core import Core
from spendtray.importers import Importer, runner
from spendtray.importers.parsing import ParseStats
from spendtray.importers.runner import ImportReport
from spendtray.importers.tail import head_hash, read_blocks


@pytest.mark.parametrize(
    "data",
    [
        b'{"a":1}\n',  # shorter than the head, ends with a newline
        b'{"a":1}\n{"b":2}',  # a last line without its newline, still whole JSON
        b'{"a":1}\n' * 400,  # longer than the head
        b'{"a":1}\n{"long":"' + b"x" * 5000 + b'"}\n{"c":3}\n',  # a line longer than a read
    ],
)
def test_the_head_hash_as_read_is_the_files(
    core: Core,
    make_importer: Callable[..., Importer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    data: bytes,
) -> None:
    path = tmp_path / "claude" / "projects" / "-w" / "s.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(data)
    monkeypatch.setattr(runner, "read_blocks", functools.partial(read_blocks, chunk=64))
    importer = make_importer("claude-code", tmp_path / "claude", workers=0)
    (changed,) = importer.scan(ImportReport("claude-code")).changed
    steps = list(importer.steps(changed, core.clock(), ParseStats()))
    assert len(steps) > 1 or len(data) <= 64
    for step in steps:
        state = step.state
        assert state.head_hash == head_hash(str(path), state.offset)
    assert steps[-1].state.offset == len(data)
    # Saved and read back: a second pass sees the file unchanged.
    importer.run()
    assert importer.run().files_read == 0
    assert os.stat(path).st_size == len(data)


def test_a_head_read_whole_is_not_read_again(
    make_importer: Callable[..., Importer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "claude" / "projects" / "-w" / "s.jsonl"
    path.parent.mkdir(parents=True)
    path.write_bytes(b'{"a":1}\n' * 400)
    opened: list[str] = []
    monkeypatch.setattr(runner, "head_hash", lambda p, upto: opened.append(p) or "")
    importer = make_importer("claude-code", tmp_path / "claude", workers=0)
    importer.run()
    assert opened == []
    assert importer.run().files_read == 0
