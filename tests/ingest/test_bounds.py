"""The ingest bounds against the real server: no accepted event, and no number of them, can make
a sum overflow; a request whose events were committed is never answered 5xx."""

from __future__ import annotations

import sqlite3

import httpx
import pytest
from sqlite_utils import Database

from spendtray.config import Settings
from spendtray.core import Core
from spendtray.ingest.bounds import MAX_EVENT_COST_NANOS
from spendtray.store.migrations import migrations

TS = "2026-11-20T10:00:00Z"


def o1_pro(n: int) -> dict[str, object]:
    """The issue's attack: an o1-pro call of 10^12 input and 10^12 output tokens."""
    return {
        "model": "o1-pro",
        "provider": "openai",
        "input_tokens": 10**12,
        "output_tokens": 10**12,
        "timestamp": TS,
        "request_id": f"attack-{n}",
    }


def good(n: int) -> dict[str, object]:
    return {
        "model": "gpt-4o-mini",
        "input_tokens": 1000,
        "output_tokens": 100,
        "timestamp": TS,
        "request_id": f"good-{n}",
    }


def _healthy_reads(client: httpx.Client) -> None:
    for path in ("/v1/summary", "/v1/summary?group_by=model", "/v1/budgets", "/v1/usage"):
        r = client.get(path)
        assert r.status_code == 200, (path, r.text)


def test_thirteen_o1_pro_events_are_refused_and_nothing_breaks(
    core: Core, client: httpx.Client
) -> None:
    for n in range(13):
        r = client.post("/v1/usage", json=o1_pro(n))
        assert r.status_code == 400, r.text
        detail = r.json()["error"]["details"][0]
        assert detail["index"] == 0
        assert detail["field"] == "cost"
        assert "o1-pro" in detail["problem"] and "$10,000.00" in detail["problem"]
    # In a batch: the index of the bad one, nothing of the batch stored.
    r = client.post("/v1/usage", json=[good(1), o1_pro(99), good(2)])
    assert r.status_code == 400
    assert r.json()["error"]["details"][0]["index"] == 1
    assert client.get("/v1/summary").json()["total"]["calls"] == 0
    # A global budget, then good events: 202 with the budget, every read answers.
    r = client.put("/v1/budgets/*", json={"period": "month", "limit_usd": 100})
    assert r.status_code == 200, r.text
    r = client.post("/v1/usage", json=[good(1), good(2)])
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] == 2
    core.writer.call(lambda db: None)  # one writer turn: the fold after the commit has run
    _healthy_reads(client)
    assert client.get("/v1/summary").json()["total"]["calls"] == 2


def test_a_costly_call_just_under_the_bound_is_stored(client: httpx.Client) -> None:
    # o1-pro: $150 per million input tokens; 66 M tokens = $9,900 < $10,000.
    event = {"model": "o1-pro", "provider": "openai", "input_tokens": 66_000_000}
    r = client.post("/v1/usage", json=event)
    assert r.status_code == 202, r.text
    assert r.json()["events"][0]["cost_usd"] * 1e9 <= MAX_EVENT_COST_NANOS


def test_sums_stop_at_the_limit_with_a_clear_refusal(
    core: Core, client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    import spendtray.store.writer as writer

    # The limit scaled down so that ten real calls reach it: $1.50 (each costs $0.15).
    monkeypatch.setattr(writer, "SUM_LIMIT", 1_500_000_000)
    event = {"model": "gpt-4o-mini", "input_tokens": 1_000_000, "output_tokens": 0}
    for _ in range(10):
        assert client.post("/v1/usage", json=event).status_code == 202
    r = client.post("/v1/usage", json=[event, event])
    assert r.status_code == 400, r.text
    assert "nothing stored" in r.json()["error"]["message"]
    assert "the most its sums can hold" in r.json()["error"]["message"]
    core.writer.call(lambda db: None)
    _healthy_reads(client)
    assert client.get("/v1/summary").json()["total"]["calls"] == 10


def test_a_database_bricked_by_an_older_version_is_repaired_at_start(
    settings: Settings,
) -> None:
    # What the old code stored: a file with the migrations before 0010, one good event, and
    # thirteen events whose costs sum past 2^63.
    settings.db_path.parent.mkdir(parents=True, exist_ok=True)
    old = Database(settings.db_path)
    migrations.apply(old, stop_before="0010_hardening_bounds")
    old.close()
    conn = sqlite3.connect(settings.db_path)
    with conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(events)") if row[1] != "id"]
        good_row = {
            "ts": 1_763_632_800_000,
            "received_at": 1_763_632_800_000,
            "project": "default",
            "model": "gpt-4o-mini",
            "provider": "openai",
            "source": "api",
            "input_tokens": 1000,
            "output_tokens": 100,
            "cache_read_tokens": 0,
            "cache_write_tokens": 0,
            "cache_write_5m_tokens": 0,
            "cache_write_1h_tokens": 0,
            "reasoning_tokens": 0,
            "cost_nanos": 210_000,
            "priced": 1,
            "request_id": "good-1",
        }
        bricked = {
            **good_row,
            "model": "o1-pro",
            "input_tokens": 10**12,
            "output_tokens": 10**12,
            "cost_nanos": 750 * 10**15,
        }
        for n, values in enumerate([good_row] + [bricked] * 13):
            values = {**values, "request_id": values["request_id"] + str(n)}
            names = [c for c in columns if c in values]
            conn.execute(
                f"INSERT INTO events ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
                [values[c] for c in names],
            )
    with pytest.raises(sqlite3.OperationalError, match="integer overflow"):
        conn.execute("SELECT sum(cost_nanos) FROM events").fetchone()
    conn.close()
    core = Core(settings)
    core.start_background()
    try:
        with httpx.Client(
            base_url=core.url, headers={"Authorization": f"Bearer {core.token}"}
        ) as c:
            assert c.put("/v1/budgets/*", json={"period": "month", "limit_usd": 5}).is_success
            r = c.post("/v1/usage", json=good(2))
            assert r.status_code == 202, r.text
            core.writer.call(lambda db: None)
            _healthy_reads(c)
            total = c.get("/v1/summary").json()["total"]
            assert total["calls"] == 15
            assert total["unpriced_calls"] == 13
            assert 0 < total["cost_usd"] < 1
    finally:
        core.stop()


def test_a_budget_failure_after_the_commit_still_answers_202(
    settings: Settings, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(projects: frozenset[str], through: int | None = None) -> dict[str, object]:
        raise sqlite3.OperationalError("integer overflow")

    core = Core(settings)
    monkeypatch.setattr(core.budgets, "ingest_status", broken)
    core.start_background()
    try:
        with httpx.Client(
            base_url=core.url, headers={"Authorization": f"Bearer {core.token}"}
        ) as c:
            r = c.post("/v1/usage", json=good(1))
            assert r.status_code == 202, r.text
            assert r.json()["accepted"] == 1
            assert "unavailable" in r.json()["budget"]["error"]
    finally:
        core.stop()
    assert "budget status after a commit failed" in caplog.text


@pytest.mark.parametrize(
    ("field", "value"),
    [("model", 123), ("project", 7), ("agent", 1), ("provider", 2), ("model", 1.5)],
)
def test_a_number_where_text_belongs_is_refused(
    client: httpx.Client, field: str, value: object
) -> None:
    r = client.post("/v1/usage", json={**good(1), field: value})
    assert r.status_code == 400, r.text
    detail = r.json()["error"]["details"][0]
    assert detail["field"] == field
    assert "must be a string" in detail["problem"]


def test_a_numeric_id_is_still_taken(client: httpx.Client) -> None:
    r = client.post("/v1/usage", json={**good(1), "user": 42, "session": 7})
    assert r.status_code == 202, r.text


def test_project_star_is_refused_like_the_proxy_does(client: httpx.Client) -> None:
    r = client.post("/v1/usage", json={**good(1), "project": "*"})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["details"][0]["field"] == "project"
    proxied = client.post("/p/*/openai/v1/chat/completions", json={"model": "gpt-4o"})
    assert proxied.status_code == 400
    assert "'*' means all projects" in proxied.text
