"""The tray's rules: which state wins and what the tooltip says."""

from __future__ import annotations

from spendtray.views.snapshot import TrayFigures
from spendtray.views.tray_text import BudgetView, budget_line, tooltip, tray_state


def _figures(unpriced: int = 0, calls: int = 3) -> TrayFigures:
    return TrayFigures(
        today_nanos=4_200_000,
        today_calls=calls,
        month_nanos=1_234_567_890_000,
        month_calls=calls,
        top_project=("acme", 1_234_567_890_000),
        unpriced_calls_month=unpriced,
        any_events=calls > 0,
    )


def test_worst_state_wins() -> None:
    assert tray_state(_figures(), None) == "ok"
    assert tray_state(_figures(unpriced=2), None) == "unpriced"
    assert tray_state(_figures(unpriced=2), "ok") == "unpriced"
    assert tray_state(_figures(unpriced=2), "warning") == "warning"
    assert tray_state(_figures(), "exceeded") == "exceeded"
    assert tray_state(None, None) == "ok"


def test_tooltip_reads_like_a_person_wrote_it() -> None:
    view = BudgetView("warning", budget_line("*", "month", 0.823, 50_000_000_000))
    text = tooltip(_figures(unpriced=1, calls=1), "warning", 2, view)
    assert text.splitlines() == [
        "Spendtray",
        "Today: $0.0042 (1 call)",
        "This month: $1,234.57 (1 call)",
        "1 call this month with no known price",
        "All projects at 82 % of $50 this month",
    ]
    assert "No usage recorded yet" in tooltip(_figures(calls=0), "ok", 2)
    assert tooltip(None, "ok", 2) == "Spendtray — starting…"
