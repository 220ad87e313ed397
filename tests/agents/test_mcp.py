"""`spendtray mcp` driven by the mcp SDK's own stdio client: the tools are listed, each answers
text plus structured content from the running app, the read-only ones answer from the database
when the app is down, bad arguments are tool errors (the server goes on), and no answer carries
the token or a prompt's text."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.types import CallToolResult

from spendtray.config import load_settings
from spendtray.core import Core

# Each test starts `spendtray mcp` (the SDK and the server in a fresh interpreter): seconds.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
TOOLS = {
    "spend_summary",
    "budget_status",
    "budget_check",
    "estimate_cost",
    "subscription_limits",
    "recent_calls",
}
SECRET_PROMPT = "The launch code is swordfish-4411."


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def app(home: Path) -> Iterator[Core]:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(f"port = {free_port()}\n", encoding="utf-8")
    core = Core(load_settings(home=home), warm_tokenizers=False)
    core.start_background()
    with httpx.Client(base_url=core.url, headers={"Authorization": f"Bearer {core.token}"}) as c:
        c.post(
            "/v1/usage",
            json=[
                {"model": "gpt-4o-mini", "input_tokens": 1_000_000, "project": "acme"},
                {"model": "gpt-4o", "input_tokens": 1000, "output_tokens": 200, "project": "beta"},
                {"model": "claude-sonnet-4-5", "input_tokens": 5000, "project": "acme"},
            ],
        ).raise_for_status()
        c.put(
            "/v1/budgets/acme", json={"period": "day", "limit_usd": 0.2, "mode": "hard"}
        ).raise_for_status()
    yield core
    core.stop()


Session = Callable[[Callable[[ClientSession], Awaitable[Any]]], Any]


def session_for(home: Path) -> Session:
    """Runs ``body(session)`` against `spendtray mcp` started as Claude Code would start it."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "spendtray", "mcp"],
        env={"SPENDTRAY_HOME": str(home), "PYTHONPATH": str(ROOT / "app")},
    )

    def run(body: Callable[[ClientSession], Awaitable[Any]]) -> Any:
        async def go() -> Any:
            async with stdio_client(params) as (read, write), ClientSession(read, write) as s:
                await s.initialize()
                return await body(s)

        return asyncio.run(go())

    return run


def text(result: CallToolResult) -> str:
    return "\n".join(getattr(c, "text", "") for c in result.content)


def no_secrets(result: CallToolResult, token: str) -> None:
    dumped = text(result) + json.dumps(result.structured_content)
    assert token not in dumped and "swordfish" not in dumped


def test_every_tool_with_the_app_up(app: Core, home: Path) -> None:
    async def body(s: ClientSession) -> dict[str, CallToolResult]:
        listed = await s.list_tools()
        assert {t.name for t in listed.tools} == TOOLS
        calls = {
            "spend_summary": {"group_by": "project"},
            "budget_status": {},
            "budget_check": {"project": "acme", "estimate_usd": 0.01},
            "estimate_cost": {"text": SECRET_PROMPT, "models": ["gpt-4o", "claude-sonnet-4-5"]},
            "subscription_limits": {},
            "recent_calls": {"limit": 2},
        }
        results = {name: await s.call_tool(name, args) for name, args in calls.items()}
        results["by_machine"] = await s.call_tool("spend_summary", {"group_by": "machine"})
        return results

    results = session_for(home)(body)
    for result in results.values():
        assert not result.is_error, text(result)
        assert isinstance(result.structured_content, dict)
        assert "offline" not in result.structured_content
        no_secrets(result, app.token)

    summary = results["spend_summary"]
    assert text(summary).splitlines()[0].startswith("Spend by project (since month): $0.")
    assert [r["key"] for r in summary.structured_content["rows"]] == ["acme", "beta"]
    assert "- acme: $0.165" in text(summary)

    [machine] = results["by_machine"].structured_content["rows"]
    assert machine["calls"] == 3 and machine["key"]  # this machine's name

    status = results["budget_status"]
    assert "acme, day (hard): $0.165 of $0.20 spent (82%), state warning" in text(status)

    check = results["budget_check"]
    assert check.structured_content["allow"] is True
    assert check.structured_content["exit_code"] == 10
    assert text(check).startswith("acme may spend $0.01 more — warning: the hard day budget")

    estimate = results["estimate_cost"]
    models = [r["model"] for r in estimate.structured_content["results"]]
    assert sorted(models) == ["claude-sonnet-4-5", "gpt-4o"]
    assert "input tokens, exact" in text(estimate)  # gpt-4o counted with tiktoken

    assert text(results["subscription_limits"]).startswith("No subscription window seen yet")
    recent = results["recent_calls"]
    assert len(recent.structured_content["events"]) == 2
    assert text(recent).startswith("The 2 most recent calls, newest first:")


def test_bad_arguments_are_tool_errors_and_the_server_goes_on(app: Core, home: Path) -> None:
    async def body(s: ClientSession) -> list[CallToolResult]:
        return [
            await s.call_tool("spend_summary", {"group_by": "planet"}),
            await s.call_tool("budget_check", {"project": "acme", "estimate_usd": -1}),
            await s.call_tool("budget_check", {}),
            await s.call_tool("spend_summary", {"since": "the day after tomorrow-ish"}),
            await s.call_tool("estimate_cost", {"text": "hi", "messages": []}),
            await s.call_tool("recent_calls", {"limit": "many"}),
            await s.call_tool("budget_status", {}),  # still serving
        ]

    *bad, fine = session_for(home)(body)
    for result in bad:
        assert result.is_error, text(result)
    assert "group_by" in text(bad[0])
    assert "estimate_usd" in text(bad[1])
    assert "project" in text(bad[2])
    assert "since" in text(bad[3])
    assert "either text or messages" in text(bad[4])
    assert "limit" in text(bad[5])
    assert not fine.is_error and "acme" in text(fine)


def test_read_only_tools_read_the_database_when_the_app_is_down(home: Path) -> None:
    # the app recorded calls and a budget, then stopped
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(f"port = {free_port()}\n", encoding="utf-8")
    core = Core(load_settings(home=home), warm_tokenizers=False)
    core.start_background()
    with httpx.Client(base_url=core.url, headers={"Authorization": f"Bearer {core.token}"}) as c:
        c.post(
            "/v1/usage", json={"model": "gpt-4o-mini", "input_tokens": 2_000_000, "project": "x"}
        ).raise_for_status()
        c.put("/v1/budgets/x", json={"period": "day", "limit_usd": 0.1, "mode": "hard"})
    core.stop()

    async def body(s: ClientSession) -> dict[str, CallToolResult]:
        return {
            "summary": await s.call_tool("spend_summary", {"group_by": "model"}),
            "check": await s.call_tool("budget_check", {"project": "x"}),
            "status": await s.call_tool("budget_status", {"project": "x"}),
            "recent": await s.call_tool("recent_calls", {}),
            "limits": await s.call_tool("subscription_limits", {}),
            "estimate": await s.call_tool("estimate_cost", {"text": "hello", "models": ["gpt-4o"]}),
        }

    results = session_for(home)(body)
    for name, result in results.items():
        assert not result.is_error, (name, text(result))
        assert "Spendtray is not running" in result.structured_content["offline"], name
    assert "- gpt-4o-mini: $0.30" in text(results["summary"])
    assert "(Read from the database" in text(results["summary"])
    assert results["check"].structured_content["allow"] is False
    assert text(results["check"]).startswith("x must not spend $0.00 more — exceeded:")
    assert "x, day (hard): $0.30 of $0.10" in text(results["status"])
    assert results["recent"].structured_content["events"][0]["project"] == "x"
    assert results["estimate"].structured_content["results"][0]["input_tokens"] == 1


def test_no_database_yet_is_a_clear_tool_error(tmp_path: Path) -> None:
    home = tmp_path / "empty-home"
    home.mkdir()
    (home / "config.toml").write_text(f"port = {free_port()}\n", encoding="utf-8")

    async def body(s: ClientSession) -> CallToolResult:
        return await s.call_tool("recent_calls", {})

    result = session_for(home)(body)
    assert result.is_error and "no database yet" in text(result)
    assert os.listdir(home) == ["config.toml"]  # read-only: nothing created
