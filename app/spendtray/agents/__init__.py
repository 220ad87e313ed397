"""Agents that ask before they spend (SPEC §13): ``spendtray mcp``'s server (``mcp_server``)
and what its tools answer (``answers``). Imports nothing at package level."""
