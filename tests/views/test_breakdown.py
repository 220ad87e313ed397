"""The Breakdown tab's bars and totals line, from a real Summary shape."""

from __future__ import annotations

from spendtray.store.reader import Summary, SummaryRow
from spendtray.views.breakdown import breakdown_columns, breakdown_rows, share_bars, totals_text


def _summary(costs: dict[str, int], unpriced: int = 0) -> Summary:
    rows = [
        SummaryRow(key=k, calls=2, input_tokens=1000, cache_read_tokens=500, cost_nanos=c)
        for k, c in costs.items()
    ]
    total = SummaryRow(key="total")
    for r in rows:
        total.add((r.calls, r.input_tokens, 0, r.cache_read_tokens, 0, 0, r.cost_nanos, 0))
    total.unpriced_calls = unpriced
    return Summary("project", rows, total)


def test_bars_show_the_costliest_and_sum_the_rest() -> None:
    costs = {f"p{i:02}": (20 - i) * 1_000_000_000 for i in range(14)}
    summary = _summary(costs)
    bars = share_bars(summary, shown=5)
    assert [b.label for b in bars] == ["p00", "p01", "p02", "p03", "10 others"]
    total = sum(costs.values())
    assert bars[0].share == 20_000_000_000 / total
    assert bars[-1].cost_nanos == sum(list(costs.values())[4:])
    assert abs(sum(b.share for b in bars) - 1.0) < 1e-9
    assert "p04" in bars[-1].tip


def test_no_bars_without_priced_spend() -> None:
    assert share_bars(_summary({"free": 0})) == []


def test_totals_line_has_the_cached_tokens_and_the_unpriced_calls() -> None:
    summary = _summary({"a": 1_500_000_000, "b": 4_200_000}, unpriced=3)
    text = totals_text(summary, 2)
    assert text.startswith("Total $1.50 · 4 calls · 2,000 in · 0 out · 1,000 cached")
    assert text.endswith("3 without a price (not in the cost)")
    rows = breakdown_rows(summary)
    assert [r.key for r in rows] == ["a", "b"]  # the total is not a row that scrolls away
    assert rows[0].cache_read_tokens == 500


def test_cost_column_marks_rows_with_unpriced_calls_without_widening() -> None:
    row = SummaryRow(key="proxy-demo", calls=4, cost_nanos=5_000, unpriced_calls=2)
    total = SummaryRow(key="total", calls=4, cost_nanos=5_000, unpriced_calls=2)
    [shown] = breakdown_rows(Summary("project", [row], total))
    cost = next(c for c in breakdown_columns("Project", lambda: 2) if c.title == "Cost")
    assert cost.text(shown) == "$0.000005"
    assert cost.tone is not None and cost.tone(shown) == "warning"
    assert cost.tip is not None and "2 of these calls have no known price" in str(cost.tip(shown))
