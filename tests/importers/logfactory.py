"""Writers of Claude Code and Codex CLI log lines in their documented shapes (see
../shared/research/usage_monitors.md §1.3), for tests and bench/importers.py. Main thread.

Lines are compact JSON (``separators=(",", ":")``) like the agents write them; ccusage only
reads lines containing the exact bytes ``"usage":{``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CC_VERSION = "2.0.14"


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"))


def cc_usage(
    input_tokens: int,
    output_tokens: int,
    cache_read: int = 0,
    cache_5m: int = 0,
    cache_1h: int = 0,
    split: bool = True,
) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": cache_5m + cache_1h,
        "cache_read_input_tokens": cache_read,
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }
    if split:
        usage["cache_creation"] = {
            "ephemeral_5m_input_tokens": cache_5m,
            "ephemeral_1h_input_tokens": cache_1h,
        }
    return usage


def cc_assistant(
    ts: str,
    session: str,
    message_id: str,
    request_id: str | None,
    usage: dict[str, Any],
    model: str = "claude-sonnet-4-5-20250929",
    cwd: str = "/home/dev/src/shop",
    sidechain: bool = False,
    uuid: str = "",
    text: str = "Done.",
    **extra: Any,
) -> str:
    line: dict[str, Any] = {
        "parentUuid": None,
        "isSidechain": sidechain,
        "userType": "external",
        "cwd": cwd,
        "sessionId": session,
        "version": CC_VERSION,
        "gitBranch": "main",
        "message": {
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [{"type": "text", "text": text}],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage,
        },
        "type": "assistant",
        "uuid": uuid or f"u-{message_id}-{usage['output_tokens']}",
        "timestamp": ts,
    }
    if request_id is not None:
        line["requestId"] = request_id
    line.update(extra)
    return dumps(line)


def cc_user(ts: str, session: str, text: str, cwd: str = "/home/dev/src/shop") -> str:
    return _cc_user_line(ts, session, cwd, text, f"user-{ts}")


def cc_tool_result(ts: str, session: str, body: str, cwd: str = "/home/dev/src/shop") -> str:
    """A tool's output sent back as a user turn (the bulk of real logs' bytes)."""
    content = [{"tool_use_id": "toolu_1", "type": "tool_result", "content": body}]
    return _cc_user_line(ts, session, cwd, content, f"tr-{ts}")


def _cc_user_line(ts: str, session: str, cwd: str, content: str | list[Any], uuid: str) -> str:
    return dumps(
        {
            "parentUuid": None,
            "isSidechain": False,
            "userType": "external",
            "cwd": cwd,
            "sessionId": session,
            "version": CC_VERSION,
            "type": "user",
            "message": {"role": "user", "content": content},
            "uuid": uuid,
            "timestamp": ts,
        }
    )


def codex_meta(ts: str, session: str, cwd: str, forked_from: str | None = None) -> str:
    payload: dict[str, Any] = {
        "id": session,
        "timestamp": ts,
        "cwd": cwd,
        "originator": "codex_cli_rs",
        "cli_version": "0.46.0",
        "instructions": None,
    }
    if forked_from is not None:
        payload["forked_from_id"] = forked_from
    return dumps({"timestamp": ts, "type": "session_meta", "payload": payload})


def codex_turn(ts: str, model: str, cwd: str) -> str:
    return dumps(
        {
            "timestamp": ts,
            "type": "turn_context",
            "payload": {
                "cwd": cwd,
                "approval_policy": "on-request",
                "model": model,
                "effort": "medium",
                "summary": "auto",
            },
        }
    )


def codex_tokens(ts: str, total: tuple[int, int, int, int], last: tuple[int, int, int, int]) -> str:
    """total / last: (input incl. cached, cached input, output incl. reasoning, reasoning)."""

    def usage(t: tuple[int, int, int, int]) -> dict[str, int]:
        return {
            "input_tokens": t[0],
            "cached_input_tokens": t[1],
            "output_tokens": t[2],
            "reasoning_output_tokens": t[3],
            "total_tokens": t[0] + t[2],
        }

    return dumps(
        {
            "timestamp": ts,
            "type": "event_msg",
            "payload": {
                "type": "token_count",
                "info": {
                    "total_token_usage": usage(total),
                    "last_token_usage": usage(last),
                    "model_context_window": 272000,
                },
                "rate_limits": {
                    "primary": {"used_percent": 10.0, "window_minutes": 300, "resets_at": 0},
                    "secondary": None,
                },
            },
        }
    )


def codex_message(ts: str, text: str) -> str:
    return dumps(
        {
            "timestamp": ts,
            "type": "response_item",
            "payload": {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": text}],
            },
        }
    )


def write_lines(path: Path, lines: list[str], mode: str = "w") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open(mode, encoding="utf-8") as handle:
        for line in lines:
            handle.write(line + "\n")
