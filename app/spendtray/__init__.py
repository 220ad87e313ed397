"""Spendtray: what your LLM API calls cost, live in the system tray."""

__version__ = "0.1.0"
