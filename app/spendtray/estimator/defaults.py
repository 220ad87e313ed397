"""The models an estimate covers when the user names none. Pure data, any thread.

Popular current models from five vendors, a flagship and a cheaper sibling where both are in
common use, so a first estimate already shows the spread; a test checks each resolves in the
shipped price data.
"""

from __future__ import annotations

DEFAULT_MODELS: tuple[str, ...] = (
    "gpt-5",
    "gpt-5-mini",
    "claude-sonnet-4-5",
    "claude-haiku-4-5",
    "gemini-2.5-pro",
    "gemini-2.5-flash",
    "deepseek-chat",
    "mistral-large-latest",
)
