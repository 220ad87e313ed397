"""The Claude Code hook (SPEC §13): run by Claude Code before each prompt (``UserPromptSubmit``)
and each tool call (``PreToolUse``) with the event's JSON on stdin; stops the session when the
project's hard budget is spent. Standard library only — it runs before every tool call, so it
must answer in a few tens of milliseconds. Main thread of ``spendtray hooks run claude-code``.

The project is the one the transcript importer stores the session's calls under
(``claude_code_projects.session_project`` of ``cwd`` and ``transcript_path``), unless the hook
was installed with ``--project``. It asks the running app's check endpoint (so calls in flight
through the proxy count) and answers Claude Code in its hook output contract, always with exit
status 0 and JSON on stdout:

- allowed: no output; the prompt or tool call goes on.
- a hard budget is spent (``allow: false``): ``UserPromptSubmit`` gets ``{"decision":
  "block", "reason"}`` (the prompt is not sent; the reason is shown); ``PreToolUse`` gets a
  ``deny`` permission decision whose reason Claude reads, plus ``"continue": false`` with a
  ``stopReason`` shown to the user, so the agent loop stops instead of trying other tools.
- the app is not running (or cannot be asked): the session goes on — a budget guard that
  blocked all work whenever the tray app was closed would be switched off by its users — and
  the first such call of each session says so once (``systemMessage``); later ones are silent.
  Which sessions were told is kept in ``<data>/claude-code-hook-warned`` (last 200).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

MAX_INPUT = 1024 * 1024
ASK_TIMEOUT = 2.0  # seconds; Claude Code's own hook timeout is far longer
WARNED_FILE = "claude-code-hook-warned"
KEEP_WARNED = 200


def decide(event: dict[str, Any], answer: dict[str, Any], project: str) -> dict[str, Any] | None:
    """Claude Code's hook output for a check ``answer``; None to let the call go on."""
    if answer.get("allow", True):
        return None
    from spendtray.cli.check import reason

    why = reason(project, answer, None).removeprefix("exceeded: ")
    text = (
        f"Spendtray stopped this session: {why}. Raise the budget "
        f"(`spendtray budget set {project} … --hard`) or wait for the next period."
    )
    name = event.get("hook_event_name")
    if name == "UserPromptSubmit":
        return {"decision": "block", "reason": text}
    out: dict[str, Any] = {"continue": False, "stopReason": text}
    if name == "PreToolUse":
        out["hookSpecificOutput"] = {
            "hookEventName": "PreToolUse",
            "permissionDecision": "deny",
            "permissionDecisionReason": text,
        }
    return out


def down_notice(home: Path, session: str, why: str) -> dict[str, Any] | None:
    """The once-per-session note that budgets are not checked; None when already said."""
    path = home / WARNED_FILE
    try:
        seen = path.read_text(encoding="utf-8").split()
    except (OSError, UnicodeDecodeError):
        seen = []
    if session in seen:
        return None
    try:
        home.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join([*seen[-(KEEP_WARNED - 1) :], session]) + "\n", "utf-8")
    except OSError:
        pass  # cannot remember: saying it again next time beats not saying it
    return {
        "systemMessage": (
            f"Spendtray budgets are not checked in this session: {why}. The session goes on; "
            "start Spendtray (`spendtray` or `spendtray serve`) to have hard budgets stop it."
        )
    }


def run(raw: bytes, home: Path | None, port: int | None, project: str | None) -> dict[str, Any]:
    """The hook's JSON output for one call (``{}`` = nothing to say)."""
    from spendtray.claude_code_projects import session_project
    from spendtray.datadir import data_home
    from spendtray.local_app import AppDown, AppError, LocalApp

    if len(raw) > MAX_INPUT:
        raise ValueError("hook input is over 1 MB")
    event = json.loads(raw) if raw.strip() else {}
    if not isinstance(event, dict):
        raise ValueError("hook input is not a JSON object")
    name = project or session_project(event.get("cwd") or os.getcwd(), event.get("transcript_path"))
    folder = home or data_home()
    app = LocalApp.find(folder, port, ASK_TIMEOUT)
    from urllib.parse import quote

    try:
        answer = app.get(f"/v1/budgets/{quote(name, safe='')}/check")
    except AppDown as exc:
        session = str(event.get("session_id") or "no-session")
        return down_notice(folder, session, str(exc)) or {}
    except AppError as exc:
        raise ValueError(f"Spendtray did not check project {name!r}: {exc}") from None
    return decide(event, answer if isinstance(answer, dict) else {}, name) or {}
