"""Copies of one call within one read of a Claude Code file are folded before the batch's merge
(``dedup.merge_within_read``): the merge then keeps exactly the copies it keeps without the
fold, whatever is stored, and the folded copies count as duplicates."""

from __future__ import annotations

import copy
import random
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from logfactory import cc_assistant, cc_usage, write_lines

from spendtray.core import Core
from spendtray.importers import Importer
from spendtray.importers.dedup import merge_claude, merge_within_read
from spendtray.ingest.event import UsageEvent
from spendtray.prices.calc import TokenCounts

TS = "2026-03-02T10:00:{:02d}.000Z"


@dataclass
class Copy:
    """A copy of a call as the merge sees it (``dedup.CallCopy``); ``n`` says which line."""

    n: int
    message_id: str | None
    has_request_id: bool
    sidechain: bool
    request_id: str | None
    total_tokens: int


def _copy(n: int, rng: random.Random) -> Copy:
    mid = rng.choice(["m1", "m2", "m3", "m4", None])
    rid = rng.choice(["r1", "r2", None])
    sidechain = rng.random() < 0.3
    tokens = rng.choice([5, 7, 7, 9])  # ties on purpose
    if mid is None:
        key = f"cc::{rid}" if rid else rng.choice([f"cc:line:u{n % 3}", None])
    else:
        key = f"cc:{mid}:{rid or ''}"
    return Copy(n, mid, rid is not None, sidechain, key, tokens)


def _kept(copies: list[Copy], conn: sqlite3.Connection) -> list[tuple[int, str | None]]:
    kept, _ = merge_claude(copy.deepcopy(copies), conn)
    return sorted((c.n, c.request_id) for c in kept)


def test_the_merge_keeps_the_same_copies_with_or_without_the_fold(core: Core) -> None:
    # Stored before: m1 without a request id (later copies join it), m2 with one.
    for key in ("cc:m1:", "cc:m2:r1"):
        event = UsageEvent(
            model="claude-sonnet-4-5",
            provider="anthropic",
            counts=TokenCounts(input_tokens=6, output_tokens=1),
            timestamp=core.clock(),
            request_id=key,
            source="claude-code",
        )
        assert core.ingest.ingest_events([event]).accepted == 1
    conn = sqlite3.connect(core.settings.db_path)
    rng = random.Random(15)
    folded_some = 0
    try:
        for _ in range(400):
            copies = [_copy(n, rng) for n in range(rng.randint(1, 14))]
            folded, count = merge_within_read(copy.deepcopy(copies))
            assert count == len(copies) - len(folded)
            folded_some += count > 0
            assert _kept(folded, conn) == _kept(copies, conn), copies
    finally:
        conn.close()
    assert folded_some > 100


def test_a_bigger_copy_stands_where_it_was_read() -> None:
    """Two kinds of copy of one call, both with the most tokens: the merge keeps the first
    read. The fold must not move the later one ahead of it to where its kind began."""
    copies = [
        Copy(0, "m", True, False, "cc:m:r", 5),  # main chain, request id
        Copy(1, "m", False, False, "cc:m:", 9),  # no request id: joins cc:m:r
        Copy(2, "m", True, False, "cc:m:r", 9),  # main chain again, as big
    ]
    folded, count = merge_within_read(copy.deepcopy(copies))
    assert count == 1 and [c.n for c in folded] == [1, 2]
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE events (request_id TEXT)")
    assert _kept(copies, conn) == _kept(folded, conn) == [(1, "cc:m:r")]


def test_folded_copies_are_duplicates_and_the_first_biggest_is_stored(
    core: Core, make_importer: Callable[..., Importer], tmp_path: Path
) -> None:
    log = tmp_path / "claude" / "projects" / "-w" / "s.jsonl"
    write_lines(
        log,
        [
            cc_assistant(TS.format(0), "s", "msg_a", "req_a", cc_usage(10, 1)),
            cc_assistant(TS.format(1), "s", "msg_b", "req_b", cc_usage(10, 2)),
            cc_assistant(TS.format(2), "s", "msg_a", None, cc_usage(10, 7)),  # joins req_a
            cc_assistant(TS.format(3), "s", "msg_a", "req_a", cc_usage(10, 7)),  # as big
            cc_assistant(TS.format(4), "s", "msg_b", "req_b", cc_usage(10, 3)),
            cc_assistant(TS.format(5), "s", "msg_b", "req_b", cc_usage(10, 3)),  # repeat
        ],
    )
    report = make_importer("claude-code", tmp_path / "claude", workers=0).run()
    assert report.stats.repeated_copies == 1  # the line right after its twin
    assert report.stats.folded_copies == 2  # msg_a/req_a 1 -> 7, msg_b 2 -> 3
    assert (report.stored, report.duplicates) == (2, 4)
    conn = sqlite3.connect(core.settings.db_path)
    try:
        rows = list(
            conn.execute("SELECT request_id, output_tokens, ts FROM events ORDER BY request_id")
        )
    finally:
        conn.close()
    # msg_a: the copy without a request id came first with 7 output tokens: its time is kept.
    ts_2 = 1772445602000
    assert [(r[0], r[1]) for r in rows] == [("cc:msg_a:req_a", 7), ("cc:msg_b:req_b", 3)]
    assert rows[0][2] == ts_2
