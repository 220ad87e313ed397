"""One copy of the estimator's explanations: the CLI and the window say the same words."""

from __future__ import annotations

from spendtray.cli.estimate import _notes
from spendtray.core import Core
from spendtray.estimator.estimate import estimate
from spendtray.estimator.whatif import HistoryTotals, TargetCost
from spendtray.views.estimate_text import (
    UnknownTarget,
    estimate_columns,
    estimate_notes,
    history_summary,
    tier_note,
    whatif_columns,
    whatif_notes,
)


def test_cli_and_window_explain_a_tier_crossing_alike(core: Core) -> None:
    text = "hello world " * 110_000  # over Claude Sonnet's 200k-token tier
    [result] = estimate(text, ["claude-sonnet-4-5"], 1_000, book=core.prices, batch=True)
    assert result.tier_crossed
    assert estimate_notes(result) == [tier_note(200_000)]
    cli = _notes(result, 2)
    assert cli.startswith(tier_note(200_000)) and "batch $" in cli and "saves" in cli
    notes = next(c for c in estimate_columns(lambda: 2, batch=True) if c.title == "Notes")
    assert notes.text(result) == tier_note(200_000)


def test_unknown_model_note_is_the_price_books_reason(core: Core) -> None:
    [result] = estimate("hi", ["my-private-finetune-x"], 10, book=core.prices)
    assert result.error and estimate_notes(result) == [result.error]
    assert "no price known" in result.error


def test_whatif_rows_and_summary() -> None:
    cost = TargetCost(
        target="gpt-4.1-mini",
        model_id="gpt-4.1-mini",
        provider="openai",
        price_source="genai-prices",
        context_window=1_047_576,
        whatif_cost_nanos=12_300_000,
        difference_nanos=2_000_000,
        unpriceable_calls=0,
        tier_crossed_calls=3,
        over_context_calls=1,
    )
    assert whatif_notes(cost) == [
        "3 calls over a long-context tier",
        "1 call would not fit its context window",
    ]
    columns = whatif_columns(lambda: 2)
    assert [c.text(cost) for c in columns[:4]] == ["gpt-4.1-mini", "openai", "$0.0123", "+$0.002"]
    assert columns[3].tone is not None and columns[3].tone(cost) == "error"
    unknown = UnknownTarget("nope-1", "no price known for nope-1")
    assert [c.text(unknown) for c in columns] == ["nope-1", "—", "—", "—", unknown.reason]
    totals = HistoryTotals(calls=8, input_tokens=36_000, output_tokens=1_600)
    totals_text = history_summary(totals, 2)
    assert totals_text.startswith("8 calls, 36,000 input and 1,600 output tokens")
    assert history_summary(HistoryTotals(), 2).startswith("no stored calls match")
