"""Incremental reading: unchanged files are not read, appends are, rewrites and rotations are
re-read without double counting, half-written lines wait, and state follows deleted files."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from pathlib import Path

from importkit import total_row
from logfactory import cc_assistant, cc_usage, write_lines
from logscenarios import write_claude

from spendtray.core import Core
from spendtray.importers import Importer

TS = "2026-03-02T10:00:00.000Z"


def _line(n: int, output: int = 10) -> str:
    return cc_assistant(TS, "s", f"msg_{n}", f"req_{n}", cc_usage(100, output))


def _state(core: Core) -> dict[str, tuple[int, int]]:
    with sqlite3.connect(core.settings.db_path) as conn:
        rows = conn.execute("SELECT path, offset, size FROM import_state").fetchall()
    return {path: (offset, size) for path, offset, size in rows}


def test_unchanged_logs_are_not_read(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path
) -> None:
    files = write_claude(tmp_path / "claude")
    first = make_importer("claude-code", tmp_path / "claude").run()
    assert first.bytes_read == sum(p.stat().st_size for p in files.values())
    state = _state(core)
    assert {Path(p) for p in state} == set(files.values())
    assert all(offset == size for offset, size in state.values())
    # A touch changes mtime only: the file is looked at, from its offset, and nothing is read.
    os.utime(files["main"], ns=(1, 1))
    second = make_importer("claude-code", tmp_path / "claude").run()
    assert second.bytes_read == 0 and second.stored == 0


def test_appended_lines_are_picked_up(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path
) -> None:
    log = tmp_path / "claude" / "projects" / "-p" / "s.jsonl"
    write_lines(log, [_line(1), _line(2)])
    importer = make_importer("claude-code", tmp_path / "claude")
    importer.run()
    size = log.stat().st_size
    write_lines(log, [_line(3), _line(2, output=99)], mode="a")  # new call + bigger snapshot
    report = importer.run()
    assert report.bytes_read == log.stat().st_size - size
    assert report.stored == 1 and report.duplicates == 1
    total = total_row(core, "claude-code")
    assert total["calls"] == 3
    assert total["output_tokens"] == 10 + 99 + 10


def test_half_written_line_waits_for_its_end(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path
) -> None:
    log = tmp_path / "claude" / "projects" / "-p" / "s.jsonl"
    write_lines(log, [_line(1)])
    whole = _line(2)
    with log.open("a", encoding="utf-8") as handle:
        handle.write(whole[:50])
    importer = make_importer("claude-code", tmp_path / "claude")
    report = importer.run()
    assert report.stored == 1 and report.stats.malformed == 0
    with log.open("a", encoding="utf-8") as handle:
        handle.write(whole[50:] + "\n")
    report = importer.run()
    assert report.stored == 1 and report.stats.malformed == 0
    assert total_row(core, "claude-code")["calls"] == 2
    # A complete last line without its newline is taken as it is (and not again later).
    with log.open("a", encoding="utf-8") as handle:
        handle.write(_line(3))
    assert importer.run().stored == 1
    with log.open("a", encoding="utf-8") as handle:
        handle.write("\n" + _line(4) + "\n")
    report = importer.run()
    assert report.stored == 1 and report.duplicates == 0 and report.stats.malformed == 0
    assert total_row(core, "claude-code")["calls"] == 4


def test_truncated_or_rewritten_file_is_read_again_without_double_counting(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path
) -> None:
    log = tmp_path / "claude" / "projects" / "-p" / "s.jsonl"
    write_lines(log, [_line(n) for n in range(1, 6)])
    importer = make_importer("claude-code", tmp_path / "claude")
    importer.run()
    # Truncated and rewritten shorter, in place (same inode): read again from the start.
    inode = log.stat().st_ino
    with log.open("r+", encoding="utf-8") as handle:
        handle.truncate(0)
        handle.write(_line(1) + "\n" + _line(6) + "\n")
    assert log.stat().st_ino == inode
    report = importer.run()
    assert report.stored == 1 and report.duplicates == 1
    # Rewritten in place to a LONGER file whose head differs: the head hash catches it.
    with log.open("w", encoding="utf-8") as handle:
        handle.write("\n".join(_line(n, output=10) for n in (7, 8, 1, 2, 3, 6)) + "\n")
    report = importer.run()
    assert report.stored == 2 and report.duplicates == 4
    assert total_row(core, "claude-code")["calls"] == 8


def test_rotated_file_and_deleted_file(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path
) -> None:
    folder = tmp_path / "claude" / "projects" / "-p"
    log = folder / "s.jsonl"
    write_lines(log, [_line(1), _line(2)])
    importer = make_importer("claude-code", tmp_path / "claude")
    importer.run()
    # Rotation: the old file moves aside, a new file (new inode) takes the name.
    log.rename(folder / "s-old.jsonl")
    write_lines(log, [_line(3)])
    report = importer.run()
    assert report.stored == 1  # s-old.jsonl is re-read under its new name: all duplicates
    assert report.duplicates == 2
    assert total_row(core, "claude-code")["calls"] == 3
    # Claude Code deleting its logs: the usage stays, the file's state row goes.
    (folder / "s-old.jsonl").unlink()
    importer.run()
    assert str(folder / "s-old.jsonl") not in _state(core)
    assert total_row(core, "claude-code")["calls"] == 3


def test_lines_longer_than_a_read_chunk(tmp_path: Path) -> None:
    from spendtray.importers.tail import read_lines

    path = tmp_path / "big.jsonl"
    long_line = '{"pad":"' + "x" * 10_000 + '"}'
    path.write_text(f"{long_line}\n{{}}\n{long_line}\n{long_line}", encoding="utf-8")
    got: list[bytes] = []
    ends: list[int] = []
    for lines, end in read_lines(str(path), 0, chunk=1000):
        got.extend(lines)
        ends.append(end)
    assert [len(x) for x in got] == [len(long_line), 2, len(long_line), len(long_line)]
    assert ends[-1] == path.stat().st_size
    assert ends == sorted(ends)


def test_undecodable_and_non_object_lines_are_named_and_skipped(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path
) -> None:
    log = tmp_path / "claude" / "projects" / "-p" / "s.jsonl"
    write_lines(log, [_line(1)])
    with open(log, "ab") as handle:
        handle.write(b'{"message":{"usage":{"input_tokens":1}},"x":"\xff\xfe"}\n')  # not UTF-8
        handle.write(b'["usage"]\n')  # JSON, but not an object
        handle.write(b"plain text\n")
    write_lines(log, [_line(2)], mode="a")
    report = make_importer("claude-code", tmp_path / "claude").run()
    assert report.stored == 2
    assert report.stats.malformed == 3
    problems = " | ".join(report.stats.malformed_examples)
    assert "not valid JSON" in problems and "not a JSON object" in problems


def test_json_block_parses_and_counts_the_lines_json_lines_does() -> None:
    """The block reader (Claude Code's) and the line reader agree line for line: which lines
    are parsed, at which offsets, which are bad and why, and how many lines there were."""
    from spendtray.importers.parsing import ParseStats, json_block, json_lines

    mark = b'"usage"'
    lines = [
        b'{"a":1}',
        b'{"message":{"usage":{"input_tokens":1}}}',
        b"",  # blank
        b'  {"b":2}\r',  # spaces and a carriage return: still an object's shape
        b"plain text",  # bad: not an object
        b'["usage"]',  # parsed, not an object: the caller's to refuse
        b'{"usage": 1, "x": "usage"}',  # the mark twice in one line
        b'"usage"',  # the mark from a line's first byte to its last
        b'{"usage":{"input_tokens":1}',  # cut short: not valid JSON
        b'{"message":{"usage":{}},"x":"\xff"}',  # not UTF-8
        b"{",
        b"}",
        b'{"c":3}',
    ]
    for first in range(len(lines)):
        for last in range(first, len(lines) + 1):
            chosen = lines[first:last]
            block = b"\n".join(chosen)
            want_stats, got_stats = ParseStats(), ParseStats()
            want = list(json_lines(block.split(b"\n"), 100, (mark,), "f", want_stats))
            got = list(json_block(block, 100, mark, "f", got_stats))
            assert got == want, chosen
            assert got_stats == want_stats, chosen


def test_a_file_growing_while_read_is_read_to_its_new_end(tmp_path: Path) -> None:
    """A read shorter than asked ends the file only at the size it had when opened: lines
    appended while it is read are still read, up to the last whole one."""
    from spendtray.importers.tail import read_blocks

    path = tmp_path / "growing.jsonl"
    first = b"".join(b'{"n":%d}\n' % n for n in range(20))
    path.write_bytes(first)
    more = b"".join(b'{"more":%d}\n' % n for n in range(30))
    got: list[bytes] = []
    ends: list[int] = []
    for block, end in read_blocks(str(path), 0, chunk=64):
        if not got:
            with open(path, "ab") as handle:  # grows after the first read
                handle.write(more + b'{"cut":')
        got.extend(block.split(b"\n"))
        ends.append(end)
    assert b"".join(line + b"\n" for line in got) == first + more
    assert ends[-1] == len(first + more)
    assert ends == sorted(ends)
