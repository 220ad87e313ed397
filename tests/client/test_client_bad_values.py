"""One bad value never costs the good events around it, against the real app: NaN/infinity are
refused at ``record()``, lone surrogates are cleaned, a spool an older client wrote with such
values is delivered minus the bad event, and ``flush()`` is True only when everything was
stored."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from client_sinks import free_port
from clientkit import running_app, spool_files, stored

import spendtray.client as st
from spendtray.core import Core


def _good(n: int, project: str) -> None:
    st.record(model="gpt-4o-mini", input_tokens=n + 1, output_tokens=1, project=project)


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_nan_is_refused_at_record_and_the_batch_is_stored(tracked_app: Core, bad: float) -> None:
    project = f"nan-{bad}"
    for n in range(300):
        _good(n, project)
    with pytest.raises(ValueError, match="latency_ms"):
        st.record(model="gpt-4o-mini", input_tokens=1, latency_ms=bad, project=project)
    with pytest.raises(ValueError, match=r"tags\.score"):
        st.record(model="gpt-4o-mini", input_tokens=1, tags={"score": bad}, project=project)
    for n in range(300, 600):
        _good(n, project)
    assert st.flush(10) is True
    assert len(stored(tracked_app, project=project)) == 600


def test_lone_surrogates_are_cleaned(tracked_app: Core) -> None:
    broken = "caf\udce9"  # what os.fsdecode makes of a Latin-1 byte
    for n in range(50):
        _good(n, "surrogates")
    st.record(model="gpt-4o-mini", input_tokens=1, project="surrogates", tags={"path": broken})
    st.record(model="gpt-4o-mini", input_tokens=1, project="surrogates", user=broken)
    assert st.flush(10) is True
    events = stored(tracked_app, project="surrogates")
    assert len(events) == 52
    assert {e["user"] for e in events if e["user"]} == {"caf\ufffd"}


def test_flush_is_false_when_the_app_refused_an_event(tracked_app: Core) -> None:
    for n in range(10):
        _good(n, "refused")
    st.record(model="gpt-4o-mini", input_tokens=5, output_tokens=10, reasoning_tokens=11,
              project="refused")  # fmt: skip
    assert st.flush(10) is False
    assert len(stored(tracked_app, project="refused")) == 10
    _good(99, "refused")
    assert st.flush(10) is True  # that refusal is reported once


def test_a_spool_with_bad_values_is_delivered_but_the_bad_event(
    home: Path, reset_client: Callable[..., None], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What an older client left: 600 events and one with NaN, one with a lone surrogate."""
    port = free_port()
    monkeypatch.setenv("SPENDTRAY_PORT", str(port))
    events = [
        {"model": "gpt-4o-mini", "input_tokens": n + 1, "project": "old-spool",
         "request_id": f"old-{n}", "source": "python-client"}
        for n in range(600)
    ]  # fmt: skip
    events.insert(100, {**events[0], "request_id": "old-nan", "latency_ms": float("nan")})
    events.insert(400, {**events[0], "request_id": "old-sur", "user": "\ud800"})
    folder = home / "spool"
    folder.mkdir(parents=True)
    lines = [json.dumps(e, ensure_ascii=False).encode("utf-8", "surrogatepass") for e in events]
    (folder / "00000000000000000001-1-old.ndjson").write_bytes(b"\n".join(lines) + b"\n")
    with running_app(home, port) as app:
        reset_client()
        assert st.flush(10) is False  # two events could not be stored
        kept = stored(app, project="old-spool")
        assert len(kept) == 600
        assert spool_files(home) == []


def test_the_apps_invalid_json_error_names_the_event(client: httpx.Client) -> None:
    good = b'{"model":"gpt-4o-mini","input_tokens":1}'
    for bad in (b'{"model":"gpt-4o-mini","latency_ms":NaN}', b'{"model":"\\ud800"}'):
        body = b'{"events":[' + b",".join([good, good, bad, good]) + b"]}"
        r = client.post("/v1/usage", content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == 400
        error = r.json()["error"]
        assert error["message"].startswith("event 2 is not valid JSON")
        assert error["details"][0]["index"] == 2
        assert "position" in error["details"][0]["problem"]
