"""A table column described without Qt: its title, how a row reads in it, and how it looks.

Pure; any thread. ``spendtray.gui.tables.RowsModel`` shows rows through these; the CLI and the
tests can read the very same texts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

# How a cell stands out: a failure, something to look at, or quieter than the rest.
Tone = Literal["error", "warning", "muted"]


@dataclass(frozen=True)
class Column:
    title: str
    text: Callable[[Any], str]
    right: bool = False  # numbers line up on the right
    tip: Callable[[Any], str | None] | None = None
    tone: Callable[[Any], Tone | None] | None = None
    max_chars: int = 40  # widest the column grows when fitted to its contents
    bold: Callable[[Any], bool] | None = None


def row_texts(columns: list[Column], row: Any) -> list[str]:
    """What one row reads as, column by column (tests and plain-text output)."""
    return [column.text(row) for column in columns]
