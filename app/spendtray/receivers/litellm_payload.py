"""LiteLLM ``StandardLoggingPayload`` objects -> canonical usage events. Pure; runs on the server's
event loop for small bodies and on a Starlette thread-pool thread for large ones.

The payload is what LiteLLM's ``generic_api`` logger POSTs (``litellm/types/utils.py``
``StandardLoggingPayload``; sender ``litellm/integrations/generic_api/generic_api_callback.py``)
and what its custom callbacks get as ``kwargs["standard_logging_object"]``. Fields read:

- tokens: ``prompt_tokens`` (LiteLLM makes it the inclusive total for every provider) and
  ``completion_tokens``; cache and reasoning detail from the normalised usage object
  (``metadata.usage_object``, else ``hidden_params.usage_object``, else ``response.usage``):
  ``prompt_tokens_details.cached_tokens`` / ``cache_read_input_tokens``,
  ``prompt_tokens_details.cache_creation_tokens`` / ``cache_write_tokens`` /
  ``cache_creation_input_tokens``, ``prompt_tokens_details.cache_creation_token_details``
  (5 m / 1 h writes), ``completion_tokens_details.reasoning_tokens``;
- ``response.model`` (the snapshot that answered), else ``model``; ``custom_llm_provider``;
- ``response_cost`` as the reported cost; ``id`` (else ``litellm_call_id``) as ``request_id``;
  ``trace_id``, ``session_id``, ``startTime``/``endTime`` (epoch seconds), ``status``.

Project, first found wins: ``spendtray_project`` in ``metadata.spend_logs_metadata``,
``metadata.requester_metadata`` or ``metadata``; a request tag ``project:<name>``; ``project``
in those three metadata objects; ``metadata.user_api_key_project_alias``;
``metadata.user_api_key_team_alias`` / ``metadata.team_alias``; ``metadata.user_api_key_alias``.
Agent: ``spendtray_agent`` / ``agent`` in those metadata objects, else a tag ``agent:<name>``.
User: ``end_user``, ``metadata.user_api_key_end_user_id``, ``model_parameters.user``,
``metadata.user_api_key_user_id``.

``messages``, ``response`` (except its ``model``), ``error_str`` and tracebacks are never read
into the event; the raw usage kept is the usage object's numbers only.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from spendtray.ingest.event import MAX_TEXT, EventError, UsageEvent, normalize_event
from spendtray.ingest.provider_usage import nested_object
from spendtray.receivers.common import inclusive, numbers_only, token_value

SOURCE = "litellm"


def _str(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def _first_token(candidates: list[tuple[dict[str, Any], str, str]]) -> int:
    """The first present count among (object, key, path-for-errors); 0 when none is."""
    for obj, key, path in candidates:
        value = token_value(obj.get(key), path)
        if value is not None:
            return value
    return 0


def _usage_object(item: dict[str, Any], metadata: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """LiteLLM's normalised usage dict and the path it was found at."""
    hidden = nested_object(item, "hidden_params", "")
    response = item.get("response")
    for obj, key, path in (
        (metadata, "usage_object", "metadata.usage_object"),
        (hidden, "usage_object", "hidden_params.usage_object"),
        (response if isinstance(response, dict) else {}, "usage", "response.usage"),
    ):
        usage = obj.get(key)
        if usage is not None and not isinstance(usage, dict):
            raise EventError(path, "must be an object (LiteLLM's usage)")
        if usage:
            return usage, path
    return {}, "metadata.usage_object"


def _tag(tags: list[Any], prefix: str) -> str | None:
    for tag in tags:
        if isinstance(tag, str) and tag.lower().startswith(prefix):
            value = tag[len(prefix) :].strip()
            if value:
                return value
    return None


def _pick(sources: list[tuple[dict[str, Any], str]], key: str) -> tuple[str, str] | None:
    for obj, path in sources:
        value = _str(obj.get(key))
        if value is not None:
            return value, f"{path}{key}"
    return None


def _attribution(
    item: dict[str, Any], metadata: dict[str, Any]
) -> tuple[dict[str, str], dict[str, str]]:
    """project/agent/user/session values, and for each the payload path it came from."""
    sources = [
        (
            nested_object(metadata, "spend_logs_metadata", "metadata."),
            "metadata.spend_logs_metadata.",
        ),
        (
            nested_object(metadata, "requester_metadata", "metadata."),
            "metadata.requester_metadata.",
        ),
        (metadata, "metadata."),
    ]
    raw_tags = item.get("request_tags")
    tags = raw_tags if isinstance(raw_tags, list) else []
    params = item.get("model_parameters")
    params = params if isinstance(params, dict) else {}
    top = [(item, "")]

    def tagged(prefix: str) -> tuple[str, str] | None:
        value = _tag(tags, prefix)
        return (value, "request_tags") if value else None

    chosen = {
        "project": _pick(sources, "spendtray_project")
        or tagged("project:")
        or _pick(sources, "project")
        or _pick([(metadata, "metadata.")], "user_api_key_project_alias")
        or _pick([(metadata, "metadata.")], "user_api_key_team_alias")
        or _pick([(metadata, "metadata.")], "team_alias")
        or _pick([(metadata, "metadata.")], "user_api_key_alias"),
        "agent": _pick(sources, "spendtray_agent") or _pick(sources, "agent") or tagged("agent:"),
        "user": _pick(top, "end_user")
        or _pick([(metadata, "metadata.")], "user_api_key_end_user_id")
        or _pick([(params, "model_parameters.")], "user")
        or _pick([(metadata, "metadata.")], "user_api_key_user_id"),
        "session": _pick(top, "session_id"),
        "trace_id": _pick(top, "trace_id"),
        "request_id": _pick(top, "id") or _pick(top, "litellm_call_id"),
    }
    values = {name: found[0] for name, found in chosen.items() if found}
    origins = {name: found[1] for name, found in chosen.items() if found}
    return values, origins


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def payload_event(item: Any, now: dt.datetime) -> UsageEvent:
    """One StandardLoggingPayload -> event; ``EventError`` names the payload field at fault."""
    if not isinstance(item, dict):
        raise EventError(
            "(item)", f"must be a StandardLoggingPayload object, got {type(item).__name__}"
        )
    metadata = nested_object(item, "metadata", "")
    usage, usage_path = _usage_object(item, metadata)
    prompt_details = nested_object(usage, "prompt_tokens_details", f"{usage_path}.")
    completion_details = nested_object(usage, "completion_tokens_details", f"{usage_path}.")
    creation_details = nested_object(
        prompt_details, "cache_creation_token_details", f"{usage_path}.prompt_tokens_details."
    )
    pd = f"{usage_path}.prompt_tokens_details"
    input_tokens = _first_token(
        [
            (item, "prompt_tokens", "prompt_tokens"),
            (usage, "prompt_tokens", f"{usage_path}.prompt_tokens"),
        ]
    )
    output_tokens = _first_token(
        [
            (item, "completion_tokens", "completion_tokens"),
            (usage, "completion_tokens", f"{usage_path}.completion_tokens"),
        ]
    )
    cache_read = _first_token(
        [
            (prompt_details, "cached_tokens", f"{pd}.cached_tokens"),
            (usage, "cache_read_input_tokens", f"{usage_path}.cache_read_input_tokens"),
        ]
    )
    cache_write = _first_token(
        [
            (prompt_details, "cache_creation_tokens", f"{pd}.cache_creation_tokens"),
            (prompt_details, "cache_write_tokens", f"{pd}.cache_write_tokens"),
            (usage, "cache_creation_input_tokens", f"{usage_path}.cache_creation_input_tokens"),
        ]
    )
    cd = f"{pd}.cache_creation_token_details"
    write_5m = token_value(
        creation_details.get("ephemeral_5m_input_tokens"), f"{cd}.ephemeral_5m_input_tokens"
    )
    write_1h = token_value(
        creation_details.get("ephemeral_1h_input_tokens"), f"{cd}.ephemeral_1h_input_tokens"
    )
    reasoning = _first_token(
        [
            (
                completion_details,
                "reasoning_tokens",
                f"{usage_path}.completion_tokens_details.reasoning_tokens",
            )
        ]
    )
    response = item.get("response")
    hidden = nested_object(item, "hidden_params", "")
    model = (
        (_str(response.get("model")) if isinstance(response, dict) else None)
        or _str(item.get("model"))
        or _str(hidden.get("litellm_model_name"))
        or _str(item.get("model_group"))
    )
    status = _str(item.get("status"))
    cache_hit = item.get("cache_hit") is True
    raw: dict[str, Any] = {
        "model": model,
        "provider": _str(item.get("custom_llm_provider")),
        "input_tokens": inclusive(input_tokens, cache_read + cache_write),
        "output_tokens": inclusive(output_tokens, reasoning),
        "cache_read_tokens": cache_read,
        "cache_write_tokens": cache_write,
        "cache_write_5m_tokens": write_5m,
        "cache_write_1h_tokens": write_1h,
        "reasoning_tokens": reasoning,
        "status": status,
        "service_tier": _str(nested_object(item, "cost_breakdown", "").get("service_tier")),
    }
    if cache_hit:
        # Answered from LiteLLM's own response cache: no provider billed these tokens.
        for name in list(raw):
            if name.endswith("_tokens"):
                raw[name] = 0
        raw["status"] = "cache_hit"
    values, origins = _attribution(item, metadata)
    raw.update(values)
    start, end = _seconds(item.get("startTime")), _seconds(item.get("endTime"))
    if start is not None:
        raw["timestamp"] = start
        if end is not None and end >= start:
            raw["latency_ms"] = (end - start) * 1000
    if item.get("response_cost") is not None:
        raw["cost_usd"] = item["response_cost"]
    tags: dict[str, Any] = {}
    error = item.get("error_information")
    error = error if isinstance(error, dict) else {}
    for tag, value in (
        ("call_type", item.get("call_type")),
        ("model_group", item.get("model_group")),
        ("error_code", error.get("error_code")),
        ("error_class", error.get("error_class")),
    ):
        text = _str(value)
        if text:
            tags[tag] = text[:MAX_TEXT]
    if tags:
        raw["tags"] = tags
    origins.update(
        model="model",
        provider="custom_llm_provider",
        status="status",
        cost_usd="response_cost",
        timestamp="startTime",
        latency_ms="endTime",
        input_tokens="prompt_tokens",
        output_tokens="completion_tokens",
        cache_write_tokens=f"{pd}.cache_creation_tokens",
        reasoning_tokens=f"{usage_path}.completion_tokens_details.reasoning_tokens",
    )
    try:
        event = normalize_event({k: v for k, v in raw.items() if v is not None}, now, SOURCE)
    except EventError as exc:
        raise EventError(origins.get(exc.field, exc.field), exc.problem) from None
    kept = numbers_only(usage) if usage else None
    event.raw_usage = kept or {"prompt_tokens": input_tokens, "completion_tokens": output_tokens}
    return event
