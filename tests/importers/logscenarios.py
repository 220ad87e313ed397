"""The fixture logs the importer tests share, with their exact expected totals worked out by
hand in the comments. Main thread.

Claude Code (config folder ``<dir>``, logs under ``<dir>/projects``), two UTC days:

day 2026-01-09 (sonnet-4-5 $3 in / $15 out / $3.75 5m write / $6 1h write / $0.30 read per M;
haiku-4-5 $1 / $5):
  msg_a1  3 lines (a streaming snapshot, the final line, a content-block copy) + a replay
          in another project's file:  input 100+1000+200 = 1,300, output 250  -> $0.005100
  msg_a2  5m/1h split + a side-chain replay in a sub-agent file:
          input 50+3000+1000 = 4,050, output 400                                -> $0.012825
  msg_a3  no request id, 2 snapshots: input 10, output 80                       -> $0.001230
  msg_b1  side-chain only (sub-agent), the bigger snapshot first: 300 / 90 (haiku) -> $0.000750
day 2026-01-10 (opus-4-1 $15 / $75 / read $1.50):
  msg_a4  opus: input 20+5000 = 5,020, output 600                               -> $0.052800
  msg_c1  cache writes without the 5m/1h split: input 7+700+70 = 777, output 70 -> $0.0015435
  msg_p1  nested "agent progress" line (data.message): input 40, output 60      -> $0.001020
plus a ``<synthetic>`` line, an API-error line, a blank line, a summary line, and two malformed
lines (not JSON; a truncated usage line).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from logfactory import (
    cc_assistant,
    cc_usage,
    cc_user,
    codex_message,
    codex_meta,
    codex_tokens,
    codex_turn,
    dumps,
    write_lines,
)

SHOP = "/home/dev/src/shop"
API = "/home/dev/src/api"
HAIKU = "claude-haiku-4-5-20251001"
OPUS = "claude-opus-4-1-20250805"


@dataclass(frozen=True)
class DayTotals:
    calls: int
    input_tokens: int  # canonical: cache reads and writes included
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_nanos: int


CLAUDE_DAYS = {
    "2026-01-09": DayTotals(4, 5_660, 820, 4_000, 1_200, 19_905_000),
    "2026-01-10": DayTotals(3, 5_837, 730, 5_700, 70, 55_363_500),
}
CLAUDE_MALFORMED = 2


def write_claude(config_dir: Path) -> dict[str, Path]:
    """Write the Claude Code fixture under ``config_dir/projects``; returns the files."""
    projects = config_dir / "projects"
    shop = projects / "-home-dev-src-shop"
    api = projects / "-home-dev-src-api"
    a1 = cc_usage(100, 5, cache_read=1000, cache_5m=200)
    a1_final = cc_usage(100, 250, cache_read=1000, cache_5m=200)
    a2 = cc_usage(50, 400, cache_read=3000, cache_5m=100, cache_1h=900)
    main = shop / "sess-a.jsonl"
    write_lines(
        main,
        [
            cc_user("2026-01-09T09:59:58.000Z", "sess-a", "fix the failing test"),
            cc_assistant("2026-01-09T10:00:00.000Z", "sess-a", "msg_a1", "req_a1", a1),
            cc_assistant("2026-01-09T10:00:01.000Z", "sess-a", "msg_a1", "req_a1", a1_final),
            cc_assistant(
                "2026-01-09T10:00:01.000Z", "sess-a", "msg_a1", "req_a1", a1_final, uuid="copy"
            ),
            cc_assistant("2026-01-09T10:05:00.000Z", "sess-a", "msg_a2", "req_a2", a2),
            cc_assistant(
                "2026-01-09T10:06:00.000Z",
                "sess-a",
                "msg_syn",
                None,
                cc_usage(0, 0),
                model="<synthetic>",
            ),
            cc_assistant(
                "2026-01-09T10:06:30.000Z",
                "sess-a",
                "msg_err",
                "req_err",
                cc_usage(0, 0),
                isApiErrorMessage=True,
                text="API Error: 529 overloaded",
            ),
            "this line is not JSON at all",
            '{"timestamp":"2026-01-09T10:07:00.000Z","message":{"usage":{"input_tokens":5',
            cc_assistant("2026-01-09T23:59:59.000Z", "sess-a", "msg_a3", None, cc_usage(10, 30)),
            cc_assistant("2026-01-09T23:59:59.500Z", "sess-a", "msg_a3", None, cc_usage(10, 80)),
            cc_assistant(
                "2026-01-10T00:00:10.000Z",
                "sess-a",
                "msg_a4",
                "req_a4",
                cc_usage(20, 600, cache_read=5000),
                model=OPUS,
            ),
        ],
    )
    agent = shop / "sess-a" / "subagents" / "agent-x1.jsonl"
    write_lines(
        agent,
        [
            cc_assistant(
                "2026-01-09T10:05:00.000Z", "sess-a", "msg_a2", "req_a2", a2, sidechain=True
            ),
            cc_assistant(
                "2026-01-09T10:10:00.000Z",
                "sess-a",
                "msg_b1",
                "req_b1",
                cc_usage(300, 90),
                model=HAIKU,
                sidechain=True,
            ),
            cc_assistant(
                "2026-01-09T10:10:00.000Z",
                "sess-a",
                "msg_b1",
                "req_b1",
                cc_usage(300, 20),
                model=HAIKU,
                sidechain=True,
            ),
        ],
    )
    other = api / "sess-c.jsonl"
    progress_inner = {
        "timestamp": "2026-01-10T09:00:00.000Z",
        "requestId": "req_p1",
        "isSidechain": False,
        "message": {
            "id": "msg_p1",
            "type": "message",
            "role": "assistant",
            "model": "claude-sonnet-4-5-20250929",
            "content": [],
            "usage": cc_usage(40, 60),
        },
    }
    write_lines(
        other,
        [
            cc_assistant(
                "2026-01-09T10:00:01.000Z",
                "sess-c",
                "msg_a1",
                "req_a1",
                a1_final,
                cwd=API + "/pkg",
            ),
            cc_assistant(
                "2026-01-10T08:00:00.000Z",
                "sess-c",
                "msg_c1",
                "req_c1",
                cc_usage(7, 70, cache_read=700, cache_5m=70, split=False),
                cwd=API + "/pkg",
            ),
            "",
            dumps({"type": "summary", "summary": "Fixing tests", "leafUuid": "u-x"}),
            dumps(
                {
                    "type": "progress",
                    "cwd": API,
                    "sessionId": "sess-c",
                    "version": "2.0.14",
                    "timestamp": "2026-01-10T09:00:00.000Z",
                    "data": {"message": progress_inner},
                }
            ),
        ],
    )
    return {"main": main, "agent": agent, "other": other}


# Codex: (input incl. cached, cached, output incl. reasoning, reasoning) running totals.
S1 = "0199a000-0000-7000-8000-000000000001"
S0 = "0199a000-0000-7000-8000-000000000000"
F1 = "0199a000-0000-7000-8000-0000000000f1"
CODEX_TOTALS = {
    # S1: 3 calls 1000/200/300/100, +2000/1000/200/50, +500/0/150/0 (the last on day 2)
    # S0 (archived): 1 call 400/0/50/0; F1 (fork of S1): its own call +1000/400/50/10
    "calls": 5,
    "input_tokens": 4_900,
    "cache_read_tokens": 1_600,
    "output_tokens": 750,
    "reasoning_tokens": 160,
}
CODEX_MALFORMED = 1


def s1_lines() -> list[str]:
    return [
        codex_meta("2026-01-09T10:00:00.000Z", S1, SHOP),
        codex_turn("2026-01-09T10:00:00.100Z", "gpt-5-codex", SHOP),
        codex_tokens("2026-01-09T10:00:05.000Z", (1000, 200, 300, 100), (1000, 200, 300, 100)),
        codex_tokens("2026-01-09T10:00:05.500Z", (1000, 200, 300, 100), (1000, 200, 300, 100)),
        codex_message("2026-01-09T10:00:06.000Z", "I changed the test."),
        codex_tokens("2026-01-09T10:01:00.000Z", (3000, 1200, 500, 150), (2000, 1000, 200, 50)),
        codex_turn("2026-01-10T08:00:00.000Z", "gpt-5-codex", SHOP),
        codex_tokens("2026-01-10T08:00:09.000Z", (3500, 1200, 650, 150), (500, 0, 150, 0)),
        dumps(
            {
                "timestamp": "2026-01-10T08:00:10.000Z",
                "type": "event_msg",
                "payload": {"type": "token_count", "info": None, "rate_limits": None},
            }
        ),
        '{"timestamp":"2026-01-10T08:00:11.000Z","type":"event_msg","payload":{"type":"token_co',
    ]


def write_codex(codex_home: Path, with_parent: bool = True) -> dict[str, Path]:
    sessions = codex_home / "sessions"
    files: dict[str, Path] = {}
    if with_parent:
        files["s1"] = sessions / "2026/01/09" / f"rollout-2026-01-09T10-00-00-{S1}.jsonl"
        write_lines(files["s1"], s1_lines())
        files["s0"] = codex_home / "archived_sessions" / f"rollout-2026-01-08T09-00-00-{S0}.jsonl"
        write_lines(
            files["s0"],
            [
                codex_meta("2026-01-08T09:00:00.000Z", S0, API),
                codex_turn("2026-01-08T09:00:00.100Z", "gpt-5", API),
                codex_tokens("2026-01-08T09:00:03.000Z", (400, 0, 50, 0), (400, 0, 50, 0)),
            ],
        )
    fork_time = "2026-01-10T12:00:00.000Z"
    # The fork copies the parent's metadata and usage history, stamped with its creation time.
    replay = [
        _retime(line, fork_time)
        for line in s1_lines()
        if '"token_count"' in line or '"turn_context"' in line or '"session_meta"' in line
    ]
    files["f1"] = sessions / "2026/01/10" / f"rollout-2026-01-10T12-00-00-{F1}.jsonl"
    write_lines(
        files["f1"],
        [
            codex_meta(fork_time, F1, SHOP, forked_from=S1),
            *replay,
            codex_turn("2026-01-10T12:00:30.000Z", "gpt-5-codex", SHOP),
            codex_tokens("2026-01-10T12:01:00.000Z", (4500, 1600, 700, 160), (1000, 400, 50, 10)),
        ],
    )
    return files


def _retime(line: str, stamp: str) -> str:
    import json

    obj = json.loads(line)
    obj["timestamp"] = stamp
    return dumps(obj)
