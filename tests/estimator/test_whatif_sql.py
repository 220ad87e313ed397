"""The SQL cost plan agrees with CompiledPrice.cost_nanos to the nano-dollar, catalogue-wide."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3

import pytest

from spendtray.estimator.whatif_sql import SqlCostPlan, plan_for
from spendtray.fields import TOKEN_FIELDS
from spendtray.prices.book import PriceBook, ResolvedPrice, TokenCounts, UnknownModel
from spendtray.prices.calc import PricingError

WHEN = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)


def _usage(rng: random.Random) -> TokenCounts:
    total = rng.choice([0, 1, 7, 999, 128_000, 200_000, 200_001, 272_001, 1_000_000]) or int(
        rng.lognormvariate(8, 2)
    )
    read = rng.choice([0, 0, total // 2, total])
    five = rng.choice([0, (total - read) // 3])
    hour = rng.choice([0, (total - read - five) // 2])
    write = five + hour + rng.choice([0, 0, (total - read - five - hour) // 4])
    output = int(rng.lognormvariate(6, 2))
    return TokenCounts(total, output, read, write, five, hour, rng.choice([0, output // 2]))


def _broken(rng: random.Random) -> TokenCounts:
    # parts larger than the whole: CompiledPrice refuses some of these, so must the plan
    return TokenCounts(100, 5, rng.choice([150, 0]), rng.choice([0, 300]), 0, 0, 0)


@pytest.fixture(scope="module")
def conn() -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.execute(f"CREATE TABLE events (id INTEGER PRIMARY KEY, {', '.join(TOKEN_FIELDS)})")
    rng = random.Random(5)
    rows = [_usage(rng) for _ in range(300)] + [_broken(rng) for _ in range(20)]
    db.executemany(
        f"INSERT INTO events ({', '.join(TOKEN_FIELDS)}) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            (
                c.input_tokens,
                c.output_tokens,
                c.cache_read_tokens,
                c.cache_write_tokens,
                c.cache_write_5m_tokens,
                c.cache_write_1h_tokens,
                c.reasoning_tokens,
            )
            for c in rows
        ],
    )
    return db


def _prices(book: PriceBook) -> list[ResolvedPrice]:
    seen: dict[str, ResolvedPrice] = {}
    for provider, model_id, _ in book.engine_models():
        for batch in (False, True):
            try:
                price = book.resolve(model_id, provider, WHEN, batch=batch)
            except UnknownModel:
                continue
            seen.setdefault(f"{provider}/{model_id}/{batch}", price)
    return list(seen.values())


@pytest.mark.slow
def test_plan_matches_the_python_price_for_every_model(
    book: PriceBook, conn: sqlite3.Connection
) -> None:
    rows = conn.execute(f"SELECT id, {', '.join(TOKEN_FIELDS)} FROM events").fetchall()
    planned = skipped = 0
    for price in _prices(book):
        plan = plan_for(price)
        if plan is None or not plan.fits(1_000_000):
            skipped += 1
            continue
        planned += 1
        cost = SqlCostPlan.nanos(plan.femto)
        sql = f"SELECT id, CASE WHEN {plan.ok} THEN {cost} END FROM events"
        got = dict(conn.execute(sql).fetchall())
        for row in rows:
            try:
                expected: int | None = price.cost_nanos(TokenCounts(*row[1:]))
            except PricingError:
                expected = None
            assert got[row[0]] == expected, (price.model_id, row)
    # the fallback is for oddities, not the rule
    assert planned > 2_000 and skipped < planned // 50, (planned, skipped)


def test_overflow_bound_refuses_absurd_counts(book: PriceBook) -> None:
    plan = plan_for(book.resolve("claude-opus-4-1", when=WHEN))
    assert plan is not None
    assert plan.fits(10_000_000)
    assert not plan.fits(10**15)
