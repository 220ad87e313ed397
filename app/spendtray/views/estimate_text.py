"""How an estimate and a what-if read, for the CLI and the Estimator window alike. Pure.

One copy of every explanation (approximate counts, long-context tiers, context overflow,
cached-prefix and batch what-ifs, re-pricing notes), so the two surfaces say the same thing.
The GUI shows these through ``spendtray.gui.tables``; ``spendtray estimate`` prints them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from spendtray.estimator.estimate import EstimateResult, WhatIf
from spendtray.estimator.whatif import HistoryTotals, TargetCost
from spendtray.money import format_tokens, format_usd
from spendtray.views.columns import Column, Tone

APPROXIMATE_LEGEND = (
    "≈ marks an approximate count: the vendor's tokenizer is not shipped, so the count comes "
    "from a calibrated ratio; OpenAI models are counted exactly."
)


def tokens_text(r: EstimateResult) -> str:
    return f"{r.input_tokens:,}" if r.exact else f"≈{r.input_tokens:,}"


def method_text(r: EstimateResult) -> str:
    return f"exact · {r.method.removesuffix(' (exact)')}" if r.exact else r.method


def context_text(r: EstimateResult) -> str:
    if r.context_window is None:
        return "unknown"
    window = format_tokens(r.context_window)
    return window if r.fits else f"OVER {window}"


def context_tip(r: EstimateResult) -> str | None:
    if r.context_window is None:
        return "the price data has no context window for this model"
    if r.fits:
        return None
    return (
        f"{r.input_tokens:,} input + {r.output_tokens:,} output tokens do not fit the "
        f"{r.context_window:,}-token context window"
    )


def tier_note(threshold: int) -> str:
    return (
        f"prompt over the {threshold:,}-token tier: the whole call is billed at the "
        "long-context rate"
    )


def estimate_notes(r: EstimateResult) -> list[str]:
    notes: list[str] = []
    if r.error:
        notes.append(r.error)
    if r.tier_crossed and r.tier_threshold is not None:
        notes.append(tier_note(r.tier_threshold))
    if r.output_assumed:
        notes.append("output size assumed")
    return notes


def what_if_text(value: WhatIf | None, precision: int) -> str:
    """ "$0.012 (saves $0.0041)" for a cached-prefix or batch what-if; "—" when off."""
    if value is None:
        return "—"
    saves = value.savings_nanos
    if saves > 0:
        change = f"saves {format_usd(saves, precision)}"
    elif saves < 0:
        change = f"costs {format_usd(-saves, precision)} more"
    else:
        change = "no change"
    return f"{format_usd(value.total_cost_nanos, precision)} ({change})"


def estimate_columns(
    precision: Callable[[], int], monthly: bool = False, cached: bool = False, batch: bool = False
) -> list[Column]:
    """The results table; the per-month and what-if columns only when they were asked for."""

    def usd(nanos: int | None) -> str:
        return format_usd(nanos, precision())

    def warn_tokens(r: EstimateResult) -> Tone | None:
        return "warning" if r.tier_crossed else None

    def tokens_tip(r: EstimateResult) -> str:
        tip = method_text(r)
        if r.tier_crossed and r.tier_threshold is not None:
            tip += "\n" + tier_note(r.tier_threshold)
        return tip

    columns = [
        Column(
            "Model",
            lambda r: r.model,
            tip=lambda r: f"priced as {r.model_id}" if r.model_id else r.error,
            max_chars=28,
        ),
        Column("Provider", lambda r: r.provider or "—", max_chars=14),
        Column(
            "Input tokens",
            tokens_text,
            right=True,
            tip=tokens_tip,
            tone=warn_tokens,
            max_chars=13,
        ),
        Column("Input", lambda r: usd(r.input_cost_nanos), right=True, max_chars=11),
        Column("Output", lambda r: usd(r.output_cost_nanos), right=True, max_chars=11),
        Column(
            "Total",
            lambda r: usd(r.total_cost_nanos),
            right=True,
            bold=lambda r: True,
            max_chars=11,
        ),
    ]
    if monthly:
        columns.append(
            Column("Per month", lambda r: usd(r.monthly_cost_nanos), right=True, max_chars=11)
        )
    columns.append(
        Column(
            "Context",
            context_text,
            right=True,
            tip=context_tip,
            tone=lambda r: "error" if r.fits is False else None,
            max_chars=12,
        )
    )
    if cached:
        columns.append(
            Column(
                "Cached prefix",
                lambda r: what_if_text(r.cached, precision()),
                right=True,
                tip=lambda r: r.cached.label if r.cached else None,
                max_chars=26,
            )
        )
    if batch:
        columns.append(
            Column(
                "Batch API",
                lambda r: what_if_text(r.batch, precision()),
                right=True,
                tip=lambda r: r.batch.label if r.batch else None,
                max_chars=26,
            )
        )
    columns.append(
        Column(
            "Notes",
            lambda r: "; ".join(estimate_notes(r)),
            tip=lambda r: "\n".join(estimate_notes(r)) or None,
            tone=lambda r: "error" if r.error or r.tier_crossed else None,
            max_chars=60,
        )
    )
    return columns


# -- re-pricing stored history on other models ------------------------------------------


@dataclass(frozen=True)
class UnknownTarget:
    """A target model the price data cannot price at all, shown as its own row."""

    target: str
    reason: str


def _calls(n: int) -> str:
    return f"{n:,} call{'' if n == 1 else 's'}"


def whatif_notes(r: TargetCost) -> list[str]:
    notes: list[str] = []
    if r.tier_crossed_calls:
        notes.append(f"{_calls(r.tier_crossed_calls)} over a long-context tier")
    if r.over_context_calls:
        notes.append(f"{_calls(r.over_context_calls)} would not fit its context window")
    if r.unpriceable_calls:
        notes.append(f"{_calls(r.unpriceable_calls)} not priceable")
    return notes


def difference_text(nanos: int, precision: int) -> str:
    return ("+" if nanos > 0 else "") + format_usd(nanos, precision)


def history_summary(totals: HistoryTotals, precision: int) -> str:
    """ "8 calls, 36,000 input and 1,600 output tokens, actually cost $0.106" """
    if totals.calls == 0:
        return "no stored calls match; nothing to re-price."
    unpriced = (
        f" (+{totals.actual_unpriced_calls:,} calls without a price)"
        if totals.actual_unpriced_calls
        else ""
    )
    return (
        f"{_calls(totals.calls)}, {format_tokens(totals.input_tokens)} input and "
        f"{format_tokens(totals.output_tokens)} output tokens, actually cost "
        f"{format_usd(totals.actual_cost_nanos, precision)}{unpriced}."
    )


def whatif_columns(precision: Callable[[], int]) -> list[Column]:
    def cost(row: TargetCost | UnknownTarget) -> str:
        return (
            "—"
            if isinstance(row, UnknownTarget)
            else format_usd(row.whatif_cost_nanos, precision())
        )

    def difference(row: TargetCost | UnknownTarget) -> str:
        if isinstance(row, UnknownTarget):
            return "—"
        return difference_text(row.difference_nanos, precision())

    def dearer(row: TargetCost | UnknownTarget) -> Tone | None:
        return "error" if isinstance(row, TargetCost) and row.difference_nanos > 0 else None

    def notes(row: TargetCost | UnknownTarget) -> str:
        return row.reason if isinstance(row, UnknownTarget) else "; ".join(whatif_notes(row))

    return [
        Column(
            "On model",
            lambda r: r.target,
            tip=lambda r: (
                None
                if isinstance(r, UnknownTarget)
                else f"priced as {r.model_id} ({r.price_source})"
            ),
            max_chars=28,
        ),
        Column(
            "Provider",
            lambda r: "—" if isinstance(r, UnknownTarget) else r.provider,
            max_chars=14,
        ),
        Column("Would have cost", cost, right=True, max_chars=16),
        Column("vs actual", difference, right=True, tone=dearer, max_chars=14),
        Column("Notes", notes, tip=notes, max_chars=70),
    ]
