"""``spendtray mcp``: an MCP server over stdio for agents (SPEC §13), built with the official
``mcp`` SDK (``MCPServer``). Runs the SDK's event loop on the main thread of its process.

Tools (read-only; each answers a few lines of text plus the same facts as structured content):
``spend_summary``, ``budget_status``, ``budget_check``, ``estimate_cost``,
``subscription_limits``, ``recent_calls``. They ask the running app; the ones that read
recorded data fall back to the database when it is not running (``agents.answers``). Bad
arguments — a wrong type or value, an unknown group or period — come back as a tool error
(``isError``) naming the problem, never as a crash of the server.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from spendtray import __version__
from spendtray.agents.answers import MAX_ROWS, Answer, Answers, ToolProblem

Group = Literal[
    "project", "model", "provider", "agent", "source", "machine", "day", "hour", "week", "month"
]
When = Annotated[
    str | None,
    Field(description="ISO date/time, epoch seconds, today, week, month, 7d, 24h…"),
]
Name = Annotated[str | None, Field(max_length=256)]
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)

INSTRUCTIONS = (
    "Spendtray records what this developer's LLM calls cost (per project, model, agent) and "
    "holds budgets. Before an expensive step, call budget_check with the project and an "
    "estimate (estimate_cost gives one); when it says 'must not spend', stop and tell the user."
)


def _result(answer: Answer) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=answer.text)], structured_content=answer.data
    )


def _answer(make: Any) -> CallToolResult:
    try:
        return _result(make())
    except ToolProblem as exc:
        raise ToolError(str(exc)) from None


def build_server(home: Path | None = None, port: int | None = None) -> MCPServer[Any]:
    answers = Answers(home, port)
    server: MCPServer[Any] = MCPServer(
        "spendtray", version=__version__, instructions=INSTRUCTIONS, log_level="WARNING"
    )

    @server.tool(annotations=READ_ONLY)
    def spend_summary(
        group_by: Group = "project",
        since: When = "month",
        until: When = None,
        project: Name = None,
        model: Name = None,
        agent: Name = None,
        source: Name = None,
        machine: Name = None,
        limit: Annotated[int, Field(ge=1, le=MAX_ROWS)] = 10,
    ) -> CallToolResult:
        """Spend and tokens grouped by project, model, provider, agent, source, machine or
        time (day, hour, week, month) over a time range (default: this month), biggest first."""
        filters = {
            "since": since,
            "until": until,
            "project": project,
            "model": model,
            "agent": agent,
            "source": source,
            "machine": machine,
        }
        return _answer(lambda: answers.spend_summary(group_by, limit, **filters))

    @server.tool(annotations=READ_ONLY)
    def budget_status(project: Name = None) -> CallToolResult:
        """Every budget (or one project's, with the global ones): limit, spent, state,
        forecast and what calls in flight hold."""
        return _answer(lambda: answers.budget_status(project))

    @server.tool(annotations=READ_ONLY)
    def budget_check(
        project: Annotated[str, Field(min_length=1, max_length=256)],
        estimate_usd: Annotated[float, Field(ge=0, le=1_000_000)] = 0.0,
    ) -> CallToolResult:
        """May PROJECT spend ESTIMATE_USD more? The tightest of its and the global budgets
        decides; a hard budget says 'must not spend' when the estimate would pass its limit."""
        return _answer(lambda: answers.budget_check(project, estimate_usd))

    @server.tool(annotations=READ_ONLY)
    def estimate_cost(
        text: Annotated[str | None, Field(description="the prompt as plain text")] = None,
        messages: Annotated[
            list[dict[str, Any]] | None,
            Field(description='OpenAI-style chat messages [{"role", "content"}]'),
        ] = None,
        models: Annotated[list[str] | None, Field(max_length=20)] = None,
        output_tokens: Annotated[int | None, Field(ge=0, le=10_000_000)] = None,
    ) -> CallToolResult:
        """What sending a prompt (text or chat messages) costs on each model, cheapest first:
        input tokens (exact for OpenAI models), output tokens assumed, cost per call."""
        return _answer(lambda: answers.estimate_cost(text, messages, models, output_tokens))

    @server.tool(annotations=READ_ONLY)
    def subscription_limits() -> CallToolResult:
        """Subscription windows (Claude 5-hour / 7-day, Codex primary / secondary): how much is
        used and when each resets; estimated where no official figure exists."""
        return _answer(answers.subscription_limits)

    @server.tool(annotations=READ_ONLY)
    def recent_calls(
        limit: Annotated[int, Field(ge=1, le=MAX_ROWS)] = 10,
        project: Name = None,
        model: Name = None,
        agent: Name = None,
        source: Name = None,
        machine: Name = None,
    ) -> CallToolResult:
        """The most recent recorded calls, newest first: when, project, model, tokens, cost,
        source, machine and status."""
        filters = {
            "project": project,
            "model": model,
            "agent": agent,
            "source": source,
            "machine": machine,
        }
        return _answer(lambda: answers.recent_calls(limit, **filters))

    return server


def serve(home: Path | None = None, port: int | None = None) -> None:
    """Serve MCP on stdin/stdout until the client closes them."""
    build_server(home, port).run("stdio")
