"""Hooks that let coding agents ask Spendtray before they spend (SPEC §13): the Claude Code
hook (``claude_code``) and its installer (``install``). Importing the package imports nothing
else: the hook runs before every tool call."""
