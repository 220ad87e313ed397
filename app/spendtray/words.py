"""Small English for command output: "1 call" / "2 calls", "an openai" / "a google". Pure."""

from __future__ import annotations


def plural(count: int, noun: str, many: str | None = None) -> str:
    """``count`` and the noun, singular for exactly one: "1 call", "0 calls", "1,200 calls"."""
    return f"{count:,} {noun if count == 1 else (many or noun + 's')}"


def article(word: str) -> str:
    """ "a" or "an" before ``word`` by its first letter ("an openai", "a gpt-4o", "an 8k")."""
    first = word[:1].lower()
    return "an" if first in "aeiou8" and first else "a"
