"""The Estimator window offscreen: type a prompt, read the table; chat pastes; history what-if."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt

from spendtray.core import Core
from spendtray.estimator.defaults import DEFAULT_MODELS
from spendtray.estimator.estimate import estimate
from spendtray.estimator.whatif import reprice_history
from spendtray.money import format_usd
from spendtray.store.reader import Filters

PROMPT = "Rewrite this changelog entry for end users: fixed a crash when the disk is full."
# the results table's column titles -> the short names the tests use
COLUMN = {
    "Model": "model",
    "Provider": "provider",
    "Input tokens": "tokens",
    "Input": "input",
    "Output": "output",
    "Total": "total",
    "Per month": "monthly",
    "Context": "context",
    "Notes": "notes",
    "Cached prefix": "cached",
    "Batch API": "batch",
}


@pytest.fixture
def window(core: Core, qtbot: Any) -> Iterator[Any]:
    from spendtray.gui.estimator_window import EstimatorWindow

    win = EstimatorWindow(core, debounce_ms=30)
    qtbot.addWidget(win)
    win.show()
    try:
        yield win
    finally:
        win.shutdown()


def table(win: Any) -> dict[str, dict[str, str]]:
    """Each row as the user reads it, by model; "method" is the token count's tooltip."""
    model = win.results
    rows: dict[str, dict[str, str]] = {}
    for row in range(model.rowCount()):
        cells = {
            COLUMN[column.title]: model.text(row, col) for col, column in enumerate(model.columns)
        }
        tokens = [c.title for c in model.columns].index("Input tokens")
        cells["method"] = model.data(model.index(row, tokens), Qt.ItemDataRole.ToolTipRole)
        rows[cells["model"]] = cells
    return rows


def model_order(win: Any) -> list[str]:
    return [win.results.text(row, 0) for row in range(win.results.rowCount())]


def settle(win: Any, qtbot: Any, expected_chars: int) -> None:
    """Wait until the table shows the estimate of the whole current input."""
    qtbot.waitUntil(
        lambda: (
            win.results.rowCount() > 0 and f"{expected_chars:,} characters" in win.status.text()
        ),
        timeout=15_000,
    )


def test_typing_fills_the_table_cheapest_first_with_labelled_approximations(
    window: Any, core: Core, qtbot: Any
) -> None:
    qtbot.keyClicks(window.editor, PROMPT)
    settle(window, qtbot, len(PROMPT))
    rows = table(window)
    assert set(rows) == set(DEFAULT_MODELS)
    expected = estimate(PROMPT, list(DEFAULT_MODELS), 1_000, book=core.prices)
    assert model_order(window) == [r.model for r in expected]
    for result in expected:
        row = rows[result.model]
        assert row["total"] == format_usd(result.total_cost_nanos)
        assert row["input"] == format_usd(result.input_cost_nanos)
        assert row["output"] == format_usd(result.output_cost_nanos)
        assert row["provider"] == result.provider
        if result.exact:
            assert row["tokens"] == f"{result.input_tokens:,}"
            assert row["method"].startswith("exact · tiktoken")
        else:
            assert row["tokens"] == f"≈{result.input_tokens:,}"
            assert row["method"] == result.method and row["method"].startswith("≈")
    assert "approximate (≈)" in window.status.text()


def test_settings_change_the_what_ifs_and_projection(window: Any, core: Core, qtbot: Any) -> None:
    window.set_models(["gpt-4o", "claude-sonnet-4-5"])
    window.output_tokens.setValue(250)
    window.calls.setValue(10)
    window.calls_per_day.setValue(40)
    window.cache.setChecked(True)
    window.cache_tokens.setValue(20)
    window.batch.setChecked(True)
    window.editor.setPlainText(PROMPT * 3)
    settle(window, qtbot, len(PROMPT) * 3)
    expected = estimate(
        PROMPT * 3,
        ["gpt-4o", "claude-sonnet-4-5"],
        250,
        book=core.prices,
        calls=10,
        calls_per_day=40,
        cached_prefix_tokens=20,
        batch=True,
    )
    rows = table(window)
    assert list(rows) == [r.model for r in expected]
    for result in expected:
        row = rows[result.model]
        assert row["total"] == format_usd(result.total_cost_nanos)
        assert row["monthly"] == format_usd(result.monthly_cost_nanos)
        assert result.cached is not None and result.batch is not None
        assert row["cached"].startswith(format_usd(result.cached.total_cost_nanos))
        assert row["batch"].startswith(format_usd(result.batch.total_cost_nanos))
    assert "× 10 calls" in window.status.text()


def test_chat_paste_and_bad_chat_paste(window: Any, qtbot: Any) -> None:
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    text = json.dumps(messages)
    window.set_models(["gpt-4o"])
    window.editor.setPlainText(text)
    settle(window, qtbot, len(text))
    assert "chat, 2 messages" in window.status.text()
    assert "chat framing" in table(window)["gpt-4o"]["method"]

    bad = json.dumps([{"role": "user", "content": 42}])
    with qtbot.waitSignal(window.estimated, timeout=15_000):
        window.editor.setPlainText(bad)
    qtbot.waitUntil(lambda: "message list" in window.status.text(), timeout=15_000)
    assert window.results.rowCount() == 0
    assert "content must be a string" in window.status.text()


def test_search_filters_and_enter_adds_an_unlisted_model(window: Any, qtbot: Any) -> None:
    window.search.setText("sonnet-4-5")
    visible = [
        window.models.item(i).text()
        for i in range(window.models.count())
        if not window.models.item(i).isHidden()
    ]
    assert visible and all("sonnet-4-5" in v for v in visible)
    window.search.setText("my-private-finetune-x")
    qtbot.keyClick(window.search, "\r")
    assert "my-private-finetune-x" in window.checked_models()
    window.editor.setPlainText(PROMPT)
    settle(window, qtbot, len(PROMPT))
    row = table(window)["my-private-finetune-x"]
    assert row["total"] == "—" and "no price known" in row["notes"]
    assert model_order(window)[-1] == "my-private-finetune-x"


def test_clearing_the_paste_empties_the_table(window: Any, qtbot: Any) -> None:
    window.editor.setPlainText(PROMPT)
    settle(window, qtbot, len(PROMPT))
    with qtbot.waitSignal(window.estimated, timeout=15_000):
        window.editor.clear()
    assert window.results.rowCount() == 0
    assert "Paste a prompt" in window.status.text()


def test_whatif_tab_reprices_history(
    window: Any, core: Core, client: httpx.Client, qtbot: Any
) -> None:
    now = dt.datetime.now(dt.UTC)
    events = [
        {
            "model": "gpt-4o",
            "project": "acme" if i % 3 else "beta",
            "input_tokens": 1_000 * (i + 1),
            "output_tokens": 200,
            "timestamp": (now - dt.timedelta(days=i)).isoformat(),
        }
        for i in range(12)
    ]
    assert client.post("/v1/usage", json=events).status_code == 202
    window.set_models(["claude-haiku-4-5", "gpt-4.1-mini"])
    window.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: window.history_project.findData("acme") >= 0, timeout=15_000)
    window.history_project.setCurrentIndex(window.history_project.findData("acme"))
    with qtbot.waitSignal(window.history_ready, timeout=15_000):
        window.history_button.click()
    since = window._since()
    expected = reprice_history(
        core.reader.conn(),
        Filters(project="acme", since=since),
        ["claude-haiku-4-5", "gpt-4.1-mini"],
        book=core.prices,
    )
    assert expected.totals.calls == 8
    assert f"{expected.totals.calls:,} calls" in window.history_status.text()
    for row, result in enumerate(expected.results):
        assert window.history_results.text(row, 0) == result.target
        assert window.history_results.text(row, 2) == format_usd(result.whatif_cost_nanos)


def test_accepts_a_bare_price_book(core: Core, qtbot: Any) -> None:
    from spendtray.gui.estimator_window import EstimatorWindow

    win = EstimatorWindow(core.prices, debounce_ms=30)
    qtbot.addWidget(win)
    try:
        win.set_models(["gpt-4o-mini"])
        win.editor.setPlainText(PROMPT)
        settle(win, qtbot, len(PROMPT))
        assert table(win)["gpt-4o-mini"]["method"].startswith("exact")
        win.run_history()
        assert "No usage database" in win.history_status.text()
    finally:
        win.shutdown()


def test_overflow_and_tier_crossing_are_marked(window: Any, qtbot: Any) -> None:
    text = "hello world " * 130_000  # ~260k tokens on o200k_base
    window.set_models(["claude-sonnet-4-5", "gpt-4o"])
    window.editor.setPlainText(text)
    settle(window, qtbot, len(text))
    rows = table(window)
    assert "200,000-token tier" in rows["claude-sonnet-4-5"]["notes"]
    assert rows["claude-sonnet-4-5"]["context"].startswith("OVER")
    assert rows["gpt-4o"]["context"] == "OVER 128,000"
    assert "tier" not in rows["gpt-4o"]["notes"]


def test_every_listed_model_has_a_provider(window: Any) -> None:
    window.search.setText("my-own-model-q")
    window.search.returnPressed.emit()
    texts = [window.models.item(i).text() for i in range(window.models.count())]
    assert len(texts) > 100
    providers = [text.partition("  ·  ")[2] for text in texts]
    assert all(providers), [t for t, p in zip(texts, providers, strict=True) if not p][:5]
    by_name = dict(text.split("  ·  ") for text in texts)
    assert by_name["gpt-5"] == "openai" and by_name["claude-sonnet-4-5"] == "anthropic"
    assert by_name["my-own-model-q"] == "unknown provider"


def test_results_fit_without_horizontal_scrolling(window: Any, qtbot: Any) -> None:
    window.resize(1000, 700)
    window.calls_per_day.setValue(40)
    window.cache.setChecked(True)
    window.batch.setChecked(True)
    window.search.setText("my-private-finetune-x")
    window.search.returnPressed.emit()  # a long "no price known" note
    window.editor.setPlainText(PROMPT)
    settle(window, qtbot, len(PROMPT))
    view = window.table
    titles = [c.title for c in window.results.columns]
    assert {"Per month", "Cached prefix", "Batch API"} <= set(titles)
    widths = sum(view.columnWidth(i) for i in range(len(titles)))
    assert widths <= view.viewport().width()
    assert view.horizontalScrollBar().maximum() == 0


def test_search_placeholder_is_not_clipped(window: Any, qtbot: Any) -> None:
    window.resize(800, 600)  # a small screen: the picker gets two fifths of it
    search = window.search
    qtbot.waitUntil(lambda: search.width() < 330, timeout=5000)
    text = search.placeholderText()
    assert search.fontMetrics().horizontalAdvance(text) + 24 <= search.width()


def test_whatif_titles_fit_before_any_row(window: Any, qtbot: Any) -> None:
    window.tabs.setCurrentIndex(1)
    view = window.history_table
    qtbot.waitUntil(view.isVisible, timeout=5000)
    header = view.horizontalHeader()
    for i, column in enumerate(window.history_results.columns):
        # the width the header itself asks for: the title and the section's margins
        assert view.columnWidth(i) >= header.sectionSizeHint(i), column.title
