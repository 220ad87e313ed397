"""The Breakdown tab as data: rows per project/model/provider/agent/source, their shares of
the cost as bars, and the totals line. Pure; the refresh worker or the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from spendtray.money import format_tokens, format_usd
from spendtray.store.reader import Summary, SummaryRow
from spendtray.views.columns import Column, Tone

BARS_SHOWN = 10  # more bars than this and the names stop being readable; the rest is one bar


@dataclass(frozen=True)
class BreakdownRow:
    key: str
    calls: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cost_nanos: int
    unpriced_calls: int
    share: float  # of the range's priced cost, 0–1

    @staticmethod
    def of(row: SummaryRow, total_nanos: int) -> BreakdownRow:
        return BreakdownRow(
            row.key,
            row.calls,
            row.input_tokens,
            row.output_tokens,
            row.cache_read_tokens,
            row.cost_nanos,
            row.unpriced_calls,
            row.cost_nanos / total_nanos if total_nanos > 0 else 0.0,
        )


@dataclass(frozen=True)
class Bar:
    label: str
    cost_nanos: int
    share: float
    tip: str


def breakdown_rows(summary: Summary) -> list[BreakdownRow]:
    """Costliest first (the Reader's order), without the total: that one has its own line."""
    total = summary.total.cost_nanos
    return [BreakdownRow.of(r, total) for r in summary.rows]


def share_bars(summary: Summary, precision: int = 2, shown: int = BARS_SHOWN) -> list[Bar]:
    """The costliest keys as bars of their share; the rest summed into one "N others" bar."""
    total = summary.total.cost_nanos
    priced = [r for r in summary.rows if r.cost_nanos > 0]
    if total <= 0 or not priced:
        return []
    head = priced[:shown] if len(priced) <= shown else priced[: shown - 1]
    bars = [
        Bar(
            name_of(r.key),
            r.cost_nanos,
            r.cost_nanos / total,
            f"{name_of(r.key)}: {format_usd(r.cost_nanos, precision)} over {_calls(r.calls)}",
        )
        for r in head
    ]
    rest = priced[len(head) :]
    if rest:
        nanos = sum(r.cost_nanos for r in rest)
        bars.append(
            Bar(
                f"{len(rest)} others",
                nanos,
                nanos / total,
                ", ".join(name_of(r.key) for r in rest[:12]) + ("…" if len(rest) > 12 else ""),
            )
        )
    return bars


def name_of(key: str) -> str:
    return key or "(none)"


def _calls(n: int) -> str:
    return f"{n:,} call{'' if n == 1 else 's'}"


def totals_text(summary: Summary, precision: int) -> str:
    """The line under the table: the whole range at a glance, whatever is scrolled."""
    t = summary.total
    text = (
        f"Total {format_usd(t.cost_nanos, precision)} · {_calls(t.calls)} · "
        f"{format_tokens(t.input_tokens)} in · {format_tokens(t.output_tokens)} out · "
        f"{format_tokens(t.cache_read_tokens)} cached"
    )
    if t.unpriced_calls:
        text += f" · {t.unpriced_calls:,} without a price (not in the cost)"
    return text


def breakdown_columns(title: str, precision: Callable[[], int]) -> list[Column]:
    def unpriced_tone(r: BreakdownRow) -> Tone | None:
        return "warning" if r.unpriced_calls else None

    def cost_tip(r: BreakdownRow) -> str | None:
        if not r.unpriced_calls:
            return None
        return f"{r.unpriced_calls:,} of these calls have no known price and are not counted"

    return [
        Column(title, lambda r: name_of(r.key), max_chars=34),
        Column("Calls", lambda r: f"{r.calls:,}", right=True, max_chars=10),
        Column("In", lambda r: format_tokens(r.input_tokens), right=True, max_chars=10),
        Column("Out", lambda r: format_tokens(r.output_tokens), right=True, max_chars=10),
        Column("Cached", lambda r: format_tokens(r.cache_read_tokens), right=True, max_chars=10),
        Column(
            "Cost",
            # orange with a tooltip when some calls have no price (the totals line counts them)
            lambda r: format_usd(r.cost_nanos, precision()),
            right=True,
            tip=cost_tip,
            tone=unpriced_tone,
            max_chars=14,
        ),
        Column("Share", lambda r: f"{r.share:.0%}", right=True, max_chars=6),
    ]
