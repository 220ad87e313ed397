"""Generates realistic Claude Code transcript folders of a chosen size, for the ccusage
comparison test and bench/importers.py. Main thread.

Each session file holds user prompts, tool results (the bulk of the bytes, as in real logs)
and assistant turns written the way Claude Code writes them: 1–3 streaming snapshots with the
same message and request id whose output grows, a content-block copy, now and then a line
without a request id (one copy only), and sub-agent files that replay some of the session's
messages as side-chain copies. Prompt sizes stay under the 200k long-context threshold, where
ccusage and genai-prices price tiers differently.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from logfactory import cc_assistant, cc_tool_result, cc_usage, cc_user

MODELS = (
    ("claude-sonnet-4-5-20250929", 6),
    ("claude-haiku-4-5-20251001", 3),
    ("claude-opus-4-1-20250805", 1),
)
PROJECTS = ("shop", "api", "infra", "web-app", "ml.pipeline")
_WORDS = [
    "the",
    "function",
    "returns",
    "a",
    "list",
    "of",
    "tokens",
    "parsed",
    "from",
    "the",
    "request",
    "body",
    "and",
    "checks",
    "each",
    "field",
    "against",
    "the",
    "schema",
    "before",
    "the",
    "writer",
    "commits",
    "the",
    "batch",
    "to",
    "the",
    "database",
    "file",
    "on",
    "disk",
]


@dataclass
class Generated:
    files: int = 0
    bytes: int = 0
    lines: int = 0
    usage_lines: int = 0
    messages: int = 0


def _text(rng: random.Random, size: int) -> str:
    words: list[str] = []
    length = 0
    while length < size:
        word = _WORDS[rng.randrange(len(_WORDS))]
        words.append(word)
        length += len(word) + 1
    return " ".join(words)


def generate_claude(
    config_dir: Path, target_bytes: int, seed: int = 7, days: int = 20
) -> Generated:
    """Write about ``target_bytes`` of logs under ``config_dir/projects``."""
    rng = random.Random(seed)
    out = Generated()
    projects = config_dir / "projects"
    filler = _text(rng, 64_000)
    session_no = 0
    base_day = 1
    while out.bytes < target_bytes:
        session_no += 1
        project = PROJECTS[session_no % len(PROJECTS)]
        cwd = f"/home/dev/src/{project}"
        folder = projects / cwd.replace("/", "-").replace(".", "-")
        session = f"s{seed}-{session_no:06d}"
        day = base_day + session_no % days
        minute = rng.randrange(0, 22 * 60)
        lines: list[str] = []
        replays: list[str] = []
        turns = rng.randrange(20, 120)
        context = rng.randrange(8_000, 20_000)
        for turn in range(turns):
            minute += rng.randrange(0, 3)
            hh, mm = divmod(minute % (24 * 60), 60)
            ts = f"2026-01-{day:02d}T{hh:02d}:{mm:02d}:{turn % 60:02d}.000Z"
            lines.append(cc_user(ts, session, _text(rng, rng.randrange(40, 400)), cwd))
            start = rng.randrange(0, len(filler) - 12_000)
            body = filler[start : start + rng.randrange(500, 12_000)]
            lines.append(cc_tool_result(ts, session, body, cwd))
            model = rng.choices([m for m, _ in MODELS], [w for _, w in MODELS])[0]
            mid = f"msg_{seed}_{session_no}_{turn}"
            rid: str | None = f"req_{seed}_{session_no}_{turn}"
            if rng.random() < 0.03:
                rid = None  # proxies strip it; written once, as ccusage cannot merge such copies
            fresh = rng.randrange(5, 3_000)
            write_1h = rng.randrange(0, 2_000) if rng.random() < 0.2 else 0
            write_5m = rng.randrange(0, 4_000) if rng.random() < 0.5 else 0
            read = min(context, 180_000)
            context = min(context + fresh + write_5m + write_1h, 150_000)
            output = rng.randrange(20, 4_000)
            snapshots = 1 if rid is None else rng.randrange(1, 4)
            text = _text(rng, rng.randrange(80, 1_500))
            for snap in range(snapshots):
                out_now = output if snap == snapshots - 1 else rng.randrange(1, output)
                usage = cc_usage(fresh, out_now, read, write_5m, write_1h)
                line = cc_assistant(ts, session, mid, rid, usage, model, cwd, text=text)
                lines.append(line)
                out.usage_lines += 1
            if rid is not None and rng.random() < 0.1:
                lines.append(line)  # a content-block copy of the final snapshot
                out.usage_lines += 1
            out.messages += 1
            if rid is not None and rng.random() < 0.08:
                replays.append(
                    cc_assistant(ts, session, mid, rid, usage, model, cwd, sidechain=True)
                )
        if replays:
            agent_no = rng.randrange(1000)
            ts = f"2026-01-{day:02d}T23:30:00.000Z"
            own = f"msg_{seed}_{session_no}_agent"
            replays.append(
                cc_assistant(
                    ts,
                    session,
                    own,
                    f"req_{seed}_{session_no}_agent",
                    cc_usage(rng.randrange(100, 2_000), rng.randrange(10, 900)),
                    "claude-haiku-4-5-20251001",
                    cwd,
                    sidechain=True,
                )
            )
            out.messages += 1
            out.usage_lines += len(replays)
            _write(folder / session / "subagents" / f"agent-{agent_no}.jsonl", replays, out)
        _write(folder / f"{session}.jsonl", lines, out)
    return out


def _write(path: Path, lines: list[str], out: Generated) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = ("\n".join(lines) + "\n").encode("utf-8")
    path.write_bytes(data)
    out.files += 1
    out.bytes += len(data)
    out.lines += len(lines)
