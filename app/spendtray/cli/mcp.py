"""`spendtray mcp`: serve Spendtray's tools to an agent over MCP on stdin/stdout (SPEC §13).
Main thread (the MCP SDK's event loop); see ``spendtray.agents.mcp_server``."""

from __future__ import annotations

import argparse


def register(p: argparse.ArgumentParser) -> None:
    p.description = (
        "MCP server on stdin/stdout: spend summaries, budget status and check, prompt cost "
        "estimates, subscription limits, recent calls. Set up with "
        "`claude mcp add spendtray -- spendtray mcp`."
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from spendtray.agents.mcp_server import serve

    serve(args.home, args.port)
    return 0
