"""What-if on history: re-pricing stored usage agrees with posting the same usage under model X."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from spendtray.config import load_settings
from spendtray.core import Core
from spendtray.estimator.whatif import WhatIfError, reprice_history
from spendtray.prices.calc import TokenCounts
from spendtray.store.reader import Filters

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def _events() -> list[dict[str, Any]]:
    """Varied real-looking usage: caches, 1 h writes, reasoning, batch, one huge prompt."""
    base: list[dict[str, Any]] = [
        {"model": "gpt-4o", "input_tokens": 1_200, "output_tokens": 300},
        {"model": "gpt-4o", "input_tokens": 1_200, "output_tokens": 300},
        {"model": "gpt-4o", "input_tokens": 9_000, "output_tokens": 40, "cache_read_tokens": 8_000},
        {
            "model": "claude-sonnet-4-5",
            "input_tokens": 30_000,
            "output_tokens": 900,
            "cache_read_tokens": 20_000,
            "cache_write_5m_tokens": 4_000,
            "cache_write_1h_tokens": 2_000,
        },
        {"model": "gpt-5", "input_tokens": 500, "output_tokens": 4_000, "reasoning_tokens": 3_500},
        {"model": "gpt-4o-mini", "input_tokens": 250_000, "output_tokens": 2_000},
        {"model": "gpt-4o", "input_tokens": 70_000, "output_tokens": 1_000, "batch": True},
        {"model": "made-up-model-9", "input_tokens": 100, "output_tokens": 10},
    ]
    yesterday = (NOW - dt.timedelta(days=1)).replace(minute=0, second=0)
    # on both sides of DeepSeek's off-peak window (16:30–00:30 UTC), whatever the time now
    stamps = [yesterday.replace(hour=10), yesterday.replace(hour=20)]
    stamps += [NOW - dt.timedelta(days=index * 3, hours=index) for index in range(2, len(base))]
    events = []
    for index, (event, stamp) in enumerate(zip(base, stamps, strict=True)):
        events.append(
            {**event, "project": "acme", "timestamp": stamp.isoformat(), "agent": f"a{index % 2}"}
        )
    # noise outside the selection
    events.append({"model": "gpt-4o", "input_tokens": 5, "output_tokens": 5, "project": "other"})
    old = (NOW - dt.timedelta(days=60)).isoformat()
    events.append(
        {
            "model": "gpt-4o",
            "input_tokens": 7,
            "output_tokens": 7,
            "project": "acme",
            "timestamp": old,
        }
    )
    return events


@pytest.fixture
def second_core(tmp_path: Path) -> Iterator[Core]:
    other = Core(load_settings(home=tmp_path / "second-home", port=0))
    other.start_background()
    try:
        yield other
    finally:
        other.stop()


def _post(client: httpx.Client, events: list[dict[str, Any]]) -> None:
    response = client.post("/v1/usage", json={"events": events})
    assert response.status_code == 202, response.text


@pytest.mark.parametrize(
    "target",
    [
        "claude-sonnet-4-5",
        "gemini-2.5-pro",
        "gpt-4.1-mini",
        # prices that change with the time of day
        "deepseek-chat",
        # rates with more decimals than the SQL plan holds: the Python fallback
        "huggingface_together/meta-llama/Llama-3.3-70B-Instruct",
    ],
)
def test_whatif_matches_posting_the_same_usage_under_the_target(
    core: Core, client: httpx.Client, second_core: Core, target: str
) -> None:
    _post(client, _events())
    selection = Filters(project="acme", since=NOW - dt.timedelta(days=30))
    report = reprice_history(core.reader.conn(), selection, [target], book=core.prices)

    renamed = [{**e, "model": target} for e in _events()]
    with httpx.Client(
        base_url=second_core.url, headers={"Authorization": f"Bearer {second_core.token}"}
    ) as other:
        _post(other, renamed)
    expected = second_core.reader.summary("project", selection).total
    assert expected.calls == 8 and expected.unpriced_calls == 0

    [result] = report.results
    assert report.totals.calls == 8
    assert result.unpriceable_calls == 0
    assert result.whatif_cost_nanos == expected.cost_nanos
    actual = core.reader.summary("project", selection).total
    assert report.totals.actual_cost_nanos == actual.cost_nanos
    assert report.totals.actual_unpriced_calls == actual.unpriced_calls == 1
    assert result.difference_nanos == expected.cost_nanos - actual.cost_nanos
    assert report.totals.input_tokens == actual.input_tokens


def test_tier_crossings_and_context_overflow_are_counted(core: Core, client: httpx.Client) -> None:
    _post(client, _events())
    selection = Filters(project="acme", since=NOW - dt.timedelta(days=30))
    report = reprice_history(
        core.reader.conn(), selection, ["claude-sonnet-4-5", "gpt-4o-mini"], book=core.prices
    )
    by_target = {r.target: r for r in report.results}
    # the 250k-token prompt crosses Sonnet's 200k tier and overflows both 200k/128k windows
    assert by_target["claude-sonnet-4-5"].tier_crossed_calls == 1
    assert by_target["claude-sonnet-4-5"].over_context_calls == 1
    assert by_target["gpt-4o-mini"].tier_crossed_calls == 0
    assert by_target["gpt-4o-mini"].over_context_calls == 1
    assert [r.whatif_cost_nanos for r in report.results] == sorted(
        r.whatif_cost_nanos for r in report.results
    )


def test_filters_by_model_and_agent(core: Core, client: httpx.Client) -> None:
    _post(client, _events())
    conn = core.reader.conn()
    by_model = reprice_history(conn, Filters(model="gpt-4o"), ["gpt-4.1"], book=core.prices)
    assert by_model.totals.calls == 6  # 4 in the window, the old one and the other project's
    window = Filters(model="gpt-4o", project="acme", since=NOW - dt.timedelta(days=30))
    assert reprice_history(conn, window, ["gpt-4.1"], book=core.prices).totals.calls == 4
    agent = Filters(project="acme", agent="a1", since=NOW - dt.timedelta(days=30))
    assert reprice_history(conn, agent, ["gpt-4.1"], book=core.prices).totals.calls == 4


def test_unknown_targets_are_listed_and_empty_selection_costs_nothing(core: Core) -> None:
    core.start_store()
    report = reprice_history(
        core.reader.conn(),
        Filters(project="nobody"),
        ["gpt-4o", "no-such-model-x"],
        book=core.prices,
    )
    assert report.totals.calls == 0
    assert report.results[0].whatif_cost_nanos == 0
    assert [name for name, _ in report.unknown] == ["no-such-model-x"]
    assert "no price known" in report.unknown[0][1]
    data = report.to_dict()
    assert data["unknown_models"][0]["model"] == "no-such-model-x"
    assert data["selection"]["project"] == "nobody"
    with pytest.raises(WhatIfError, match="target model"):
        reprice_history(core.reader.conn(), Filters(), ["  "], book=core.prices)


def test_overflowing_token_counts_fall_back_to_python(
    core: Core, client: httpx.Client, second_core: Core
) -> None:
    # A stored call can only be this large unpriced (a priced one over $10,000 is refused at
    # ingest, ingest.bounds); priced at the target model its tokens overflow SQLite's integer
    # product, so the what-if must compute it in Python.
    huge = {
        "model": "my-local-model-x",
        "provider": "local",
        "project": "acme",
        "input_tokens": 999_999_999_999,
        "output_tokens": 9,
    }
    _post(client, [*_events(), huge])
    selection = Filters(project="acme", since=NOW - dt.timedelta(days=30))
    report = reprice_history(core.reader.conn(), selection, ["claude-opus-4-1"], book=core.prices)
    with httpx.Client(
        base_url=second_core.url, headers={"Authorization": f"Bearer {second_core.token}"}
    ) as other:
        _post(other, [{**e, "model": "claude-opus-4-1"} for e in _events()])
    expected = second_core.reader.summary("project", selection).total
    opus = core.prices.price_at("claude-opus-4-1", "anthropic", NOW, int(NOW.timestamp() * 1000))
    assert not isinstance(opus, str)
    huge_cost = opus.compiled.cost_nanos(TokenCounts(999_999_999_999, 9, 0, 0, 0, 0, 0))
    assert huge_cost > 2**63 // 10**6  # the product SQLite would overflow on
    assert report.totals.calls == 9
    assert report.results[0].whatif_cost_nanos == expected.cost_nanos + huge_cost


def test_time_of_day_prices_are_split_within_the_day(core: Core) -> None:
    from spendtray.estimator.whatif_eras import eras_for, time_of_day_points

    points = time_of_day_points(core.prices)
    start = int((NOW - dt.timedelta(days=2)).timestamp() * 1000)
    end = int(NOW.timestamp() * 1000)
    eras = eras_for(core.prices, "deepseek-chat", (0, None), start, end, points["deepseek-chat"])
    assert eras is not None and len(eras[0].segments) > 1
    eras = eras_for(core.prices, "gpt-4o", (0, None), start, end, (0,))
    assert eras is not None and len(eras) == 1 and len(eras[0].segments) == 1


def test_calls_before_a_target_price_starts_are_unpriceable(
    core: Core, client: httpx.Client, tmp_path: Path
) -> None:
    from spendtray.prices.book import PriceBook

    prices = tmp_path / "prices.toml"
    starts = (NOW - dt.timedelta(days=3)).date()
    prices.write_text(
        f"""
[[model]]
provider = "inhouse"
models = ["house-model"]
input_mtok = 2
output_mtok = 2
valid_from = {starts.isoformat()}
checked = 2026-11-22
source = "internal rate card"
"""
    )
    book = PriceBook.load(user_file=prices)

    def call(days_ago: int) -> dict[str, Any]:
        stamp = (NOW - dt.timedelta(days=days_ago)).isoformat()
        return {"model": "gpt-4o", "project": "dated", "input_tokens": 1_000, "timestamp": stamp}

    _post(client, [call(10), call(9), call(1), call(1), call(0)])
    selection = Filters(project="dated", since=NOW - dt.timedelta(days=30))
    [result] = reprice_history(core.reader.conn(), selection, ["house-model"], book=book).results
    assert result.unpriceable_calls == 2  # before the rate card starts: no price, not a guess
    assert result.whatif_cost_nanos == 3 * 2_000_000  # 1,000 tokens at $2 per million, 3 calls
