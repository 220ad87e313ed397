"""POST /v1/integrations/litellm against the real server, fed the body LiteLLM really sends.

``data/litellm_generic_api_body.json`` is a byte-for-byte recording of one POST by LiteLLM
1.106.2's ``generic_api`` logger (``litellm/integrations/generic_api/generic_api_callback.py``,
default ``log_format`` json_array), each item a ``StandardLoggingPayload``
(``litellm/types/utils.py``), made with ``mock_response`` by ``data/record_litellm_payload.py``:
an OpenAI call with request tags, a rate-limited failure, an Anthropic call with prompt caching and
reasoning, and the same request twice with LiteLLM's response cache (the second a cache hit).
litellm itself is not installed for the tests: it brings ~35 packages (boto3, tokenizers,
huggingface-hub, aiohttp, ...; ~270 MB, ~30 s to install, ~3 s to import) and its cache path
needs its proxy extras.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from spendtray.core import Core
from spendtray.ingest.event import EventError
from spendtray.receivers.litellm_payload import payload_event

BODY = (Path(__file__).parent / "data" / "litellm_generic_api_body.json").read_bytes()
ITEMS: list[dict[str, Any]] = json.loads(BODY)
OPENAI, FAILED, ANTHROPIC, CACHED_FIRST, CACHE_HIT = ITEMS
PATH = "/v1/integrations/litellm"
JSON = {"Content-Type": "application/json"}  # what the logger sends for every log_format
NOW = dt.datetime.now(dt.UTC)


def post(client: httpx.Client, body: bytes | str, headers: dict[str, str] = JSON) -> httpx.Response:
    return client.post(PATH, content=body, headers=headers)


def litellm_events(client: httpx.Client) -> dict[str, dict[str, Any]]:
    r = client.get("/v1/usage", params={"source": "litellm", "limit": 100})
    assert r.status_code == 200, r.text
    return {e["request_id"]: e for e in r.json()["events"]}


def calls(client: httpx.Client) -> int:
    return int(client.get("/v1/summary").json()["total"]["calls"])


def db_bytes(core: Core) -> bytes:
    base = Path(core.settings.db_path)
    parts = [p.read_bytes() for p in (base, Path(f"{base}-wal"), Path(f"{base}-shm")) if p.exists()]
    return b"".join(parts)


@pytest.mark.slow
def test_recorded_generic_api_batch(core: Core, client: httpx.Client) -> None:
    assert [i["status"] for i in ITEMS] == ["success", "failure", "success", "success", "success"]
    r = post(client, BODY)
    assert r.status_code == 202, r.text
    reply = r.json()
    assert (reply["accepted"], reply["duplicates"]) == (5, 0) and "budget" in reply

    events = litellm_events(client)
    assert len(events) == 5

    openai = events[OPENAI["id"]]
    assert (openai["model"], openai["provider"]) == ("gpt-4o-mini", "openai")
    assert (openai["input_tokens"], openai["output_tokens"]) == (10, 20)
    assert (openai["project"], openai["agent"], openai["user"]) == ("acme", "planner", "dev1")
    assert openai["status"] == "success" and openai["trace_id"] == OPENAI["trace_id"]
    assert openai["reported_cost_usd"] == pytest.approx(OPENAI["response_cost"])
    # Our price for the mapped tokens is LiteLLM's own: the token mapping is right.
    assert openai["cost_usd"] == pytest.approx(OPENAI["response_cost"], rel=1e-9)
    latency = (OPENAI["endTime"] - OPENAI["startTime"]) * 1000
    assert openai["latency_ms"] == pytest.approx(latency)
    started = dt.datetime.fromtimestamp(OPENAI["startTime"], dt.UTC)
    assert openai["timestamp"].startswith(started.strftime("%Y-%m-%dT%H:%M:%S"))

    anthropic = events[ANTHROPIC["id"]]
    assert anthropic["model"] == "claude-sonnet-4-5-20250929"  # the response's model
    assert anthropic["provider"] == "anthropic" and anthropic["project"] == "research"
    assert (anthropic["input_tokens"], anthropic["output_tokens"]) == (10000, 500)
    assert (anthropic["cache_read_tokens"], anthropic["cache_write_tokens"]) == (6000, 2000)
    assert anthropic["reasoning_tokens"] == 120
    assert anthropic["cost_usd"] == pytest.approx(ANTHROPIC["response_cost"], rel=1e-9)

    failed = events[FAILED["id"]]
    assert failed["status"] == "failure" and failed["model"] == "gpt-4o"
    assert failed["input_tokens"] == failed["output_tokens"] == 0
    assert failed["project"] == "acme"
    assert failed["tags"]["error_code"] == "429"
    assert failed["tags"]["error_class"] == "RateLimitError"

    first, hit = events[CACHED_FIRST["id"]], events[CACHE_HIT["id"]]
    assert first["project"] == hit["project"] == "cached"
    assert first["input_tokens"] == 10 and first["cost_usd"] > 0
    # LiteLLM reports the cached answer's tokens but no provider billed them.
    assert CACHE_HIT["cache_hit"] is True and CACHE_HIT["prompt_tokens"] == 10
    assert hit["status"] == "cache_hit" and hit["input_tokens"] == hit["output_tokens"] == 0
    assert hit["cost_usd"] == 0 and hit["reported_cost_usd"] == 0

    stored = db_bytes(core)
    assert b"research" in stored and b"chatcmpl-" in stored  # the check below reads real data
    for marker in (b"PROMPT-MARKER", b"COMPLETION-MARKER", b"mock rate limit", b"mock_completion"):
        assert marker not in stored, marker


def test_ndjson_and_single_objects(client: httpx.Client) -> None:
    # The logger's ndjson format: safe_dumps(log) per line, still sent as application/json.
    ndjson = "\n".join(json.dumps(item) for item in ITEMS)
    r = post(client, ndjson)
    assert r.status_code == 202, r.text
    assert (r.json()["accepted"], r.json()["duplicates"]) == (5, 0)
    # Retried or re-sent batches are stored once (request_id = the payload id).
    r = post(client, BODY)
    assert (r.json()["accepted"], r.json()["duplicates"]) == (0, 5)
    # log_format single: one object per POST.
    fresh = {**OPENAI, "id": "chatcmpl-fresh", "prompt_tokens": 11}
    r = post(client, json.dumps(fresh))
    assert (r.json()["accepted"], r.json()["duplicates"]) == (1, 0)
    r = post(client, json.dumps(fresh) + "\n", {"Content-Type": "application/x-ndjson"})
    assert (r.json()["accepted"], r.json()["duplicates"]) == (0, 1)
    assert calls(client) == 6


def _broken(index: int, change: Any) -> list[dict[str, Any]]:
    items = copy.deepcopy(ITEMS)
    change(items[index])
    return items


@pytest.mark.parametrize(
    ("index", "change", "field"),
    [
        (1, lambda i: i.update(prompt_tokens=-1), "prompt_tokens"),
        (
            2,
            lambda i: i["metadata"]["usage_object"]["prompt_tokens_details"].update(
                cached_tokens="lots"
            ),
            "metadata.usage_object.prompt_tokens_details.cached_tokens",
        ),
        (0, lambda i: i.update(model=None, response={}, hidden_params={}), "model"),
        (3, lambda i: i.update(startTime=4102444800.0), "startTime"),  # the year 2100
        (4, lambda i: i.update(response_cost="free"), "response_cost"),
        (2, lambda i: i["metadata"].update(usage_object=[1]), "metadata.usage_object"),
    ],
)
def test_bad_item_is_400_and_nothing_is_stored(
    client: httpx.Client, index: int, change: Any, field: str
) -> None:
    items = _broken(index, change)
    r = post(client, json.dumps(items))
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["details"] == [
        {"index": index, "field": field, "problem": error["details"][0]["problem"]}
    ]
    assert error["message"].startswith("nothing stored")
    assert calls(client) == 0


def test_non_object_item_and_bad_bodies(core: Core, client: httpx.Client) -> None:
    r = post(client, json.dumps([OPENAI, "not a payload"]))
    assert r.status_code == 400
    assert r.json()["error"]["details"][0]["index"] == 1
    assert r.json()["error"]["details"][0]["field"] == "(item)"
    assert post(client, "{broken").status_code == 400
    assert post(client, BODY, {"Content-Type": "text/plain"}).status_code == 415
    assert httpx.post(f"{core.url}{PATH}", content=BODY, headers=JSON).status_code == 401
    assert calls(client) == 0


def _project(item: dict[str, Any]) -> str:
    return payload_event(item, NOW).project


def test_project_order() -> None:
    base = copy.deepcopy(OPENAI)  # tagged project:acme
    assert _project(base) == "acme"
    explicit = copy.deepcopy(base)
    explicit["metadata"]["spend_logs_metadata"] = {"spendtray_project": "from-spend-logs"}
    assert _project(explicit) == "from-spend-logs"  # beats the tag
    sdk = copy.deepcopy(base)
    sdk["metadata"]["requester_metadata"] = {"spendtray_project": "from-sdk-metadata"}
    assert _project(sdk) == "from-sdk-metadata"

    untagged = copy.deepcopy(base)
    untagged["request_tags"] = ["User-Agent: litellm"]
    assert _project(untagged) == "default"
    untagged["metadata"].update(user_api_key_alias="key-a")
    assert _project(untagged) == "key-a"
    untagged["metadata"].update(user_api_key_team_alias="team-a")
    assert _project(untagged) == "team-a"
    untagged["metadata"].update(user_api_key_project_alias="proj-a")
    assert _project(untagged) == "proj-a"
    untagged["metadata"]["spend_logs_metadata"] = {"project": "generic-key"}
    assert _project(untagged) == "generic-key"
    untagged["request_tags"] = ["project:tagged"]
    assert _project(untagged) == "tagged"


def test_attribution_and_raw_usage() -> None:
    item = copy.deepcopy(ANTHROPIC)
    item.update(end_user="customer-7", session_id="sess-1")
    item["metadata"]["spend_logs_metadata"]["agent"] = "summariser"
    event = payload_event(item, NOW)
    assert (event.user, event.session, event.agent) == ("customer-7", "sess-1", "summariser")
    assert event.reported_cost_nanos == 22_800_000
    # Raw usage: LiteLLM's usage object, numbers only.
    assert event.raw_usage is not None
    assert event.raw_usage["prompt_tokens_details"] == {
        "cache_write_tokens": 2000,
        "cached_tokens": 6000,
        "cache_creation_tokens": 2000,
    }
    assert "PROMPT" not in json.dumps(event.raw_usage)


def test_exclusive_input_and_cache_ttls() -> None:
    item = copy.deepcopy(ANTHROPIC)
    item["prompt_tokens"] = 2000  # a sender forwarding Anthropic's uncached count
    details = item["metadata"]["usage_object"]["prompt_tokens_details"]
    details["cache_creation_token_details"] = {
        "ephemeral_5m_input_tokens": 1500,
        "ephemeral_1h_input_tokens": 500,
    }
    event = payload_event(item, NOW)
    assert event.counts.input_tokens == 10000  # 2000 + 6000 read + 2000 written
    assert (event.counts.cache_write_5m_tokens, event.counts.cache_write_1h_tokens) == (1500, 500)
    details["cache_creation_token_details"]["ephemeral_1h_input_tokens"] = 900
    with pytest.raises(EventError) as caught:
        payload_event(item, NOW)
    assert caught.value.field.endswith("prompt_tokens_details.cache_creation_tokens")


def test_large_batches_are_decoded_off_the_loop(client: httpx.Client) -> None:
    """Bodies over 128 KiB are decoded and priced on the thread pool; same results, same 400s."""
    many = [{**OPENAI, "id": f"chatcmpl-{n}"} for n in range(40)]
    body = json.dumps(many)
    assert len(body) > 128 * 1024
    bad = copy.deepcopy(many)
    bad[33]["completion_tokens"] = 1.5
    r = post(client, json.dumps(bad))
    assert r.status_code == 400
    assert r.json()["error"]["details"][0] == {
        "index": 33,
        "field": "completion_tokens",
        "problem": r.json()["error"]["details"][0]["problem"],
    }
    assert calls(client) == 0
    r = post(client, body)
    assert r.status_code == 202 and r.json()["accepted"] == 40
    assert calls(client) == 40
