"""Raw provider usage objects -> canonical token counts (SPEC §5 rules). Pure; any thread.

- Anthropic ``input_tokens`` EXCLUDES cache tokens: total = input + cache_creation + cache_read.
- OpenAI Chat ``prompt_tokens`` and Responses ``input_tokens`` INCLUDE cached tokens; reasoning
  is inside the output count.
- Gemini ``promptTokenCount`` includes ``cachedContentTokenCount``; ``thoughtsTokenCount`` is
  separate from ``candidatesTokenCount`` and billed as output, so output = candidates + thoughts.
Stream chunks are never summed: senders post the final (cumulative) usage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from spendtray.ingest.event import EventError

_ANTHROPIC_PROVIDERS = {"anthropic", "bedrock", "vertex", "aws", "google-vertex"}


def _num(usage: dict[str, Any], key: str, where: str) -> int:
    value = usage.get(key)
    if type(value) is int and value >= 0:  # what providers send, in one test
        return value
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer() and value >= 0:
            return int(value)
        raise EventError(f"{where}.{key}", f"must be a whole number ≥ 0, got {value!r}")
    if value < 0:
        raise EventError(f"{where}.{key}", f"must be ≥ 0, got {value}")
    return value


def nested_object(parent: dict[str, Any], key: str, prefix: str) -> dict[str, Any]:
    """``parent[key]`` as an object ({} when absent); errors name ``prefix + key``."""
    value = parent.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise EventError(f"{prefix}{key}", "must be an object")
    return value


def _looks_anthropic(usage: dict[str, Any], provider: str | None) -> bool:
    if "cache_creation_input_tokens" in usage or "cache_creation" in usage:
        return True
    if "prompt_tokens" in usage or "input_tokens_details" in usage:
        return False
    return provider in _ANTHROPIC_PROVIDERS and "input_tokens" in usage


def anthropic_tokens(usage: dict[str, Any], where: str = "usage") -> dict[str, int]:
    uncached = _num(usage, "input_tokens", where)
    cache_write = _num(usage, "cache_creation_input_tokens", where)
    cache_read = _num(usage, "cache_read_input_tokens", where)
    creation = nested_object(usage, "cache_creation", f"{where}.")
    write_5m = write_1h = 0
    if creation:
        inside = f"{where}.cache_creation"
        write_5m = _num(creation, "ephemeral_5m_input_tokens", inside)
        write_1h = _num(creation, "ephemeral_1h_input_tokens", inside)
    if creation and not cache_write:
        cache_write = write_5m + write_1h
    tokens = {
        "input_tokens": uncached + cache_write + cache_read,
        "output_tokens": _num(usage, "output_tokens", where),
        "cache_read_tokens": cache_read,
        "cache_write_tokens": cache_write,
    }
    if creation:
        tokens["cache_write_5m_tokens"] = write_5m
        tokens["cache_write_1h_tokens"] = write_1h
    return tokens


def openai_chat_tokens(usage: dict[str, Any], where: str = "usage") -> dict[str, int]:
    prompt_details = nested_object(usage, "prompt_tokens_details", f"{where}.")
    completion_details = nested_object(usage, "completion_tokens_details", f"{where}.")
    cache_read = _num(prompt_details, "cached_tokens", f"{where}.prompt_tokens_details")
    # DeepSeek reports cache hits at the top level.
    cache_read = cache_read or _num(usage, "prompt_cache_hit_tokens", where)
    return {
        "input_tokens": _num(usage, "prompt_tokens", where),
        "output_tokens": _num(usage, "completion_tokens", where),
        "cache_read_tokens": cache_read,
        "reasoning_tokens": _num(
            completion_details, "reasoning_tokens", f"{where}.completion_tokens_details"
        ),
    }


def openai_responses_tokens(usage: dict[str, Any], where: str = "usage") -> dict[str, int]:
    input_details = nested_object(usage, "input_tokens_details", f"{where}.")
    output_details = nested_object(usage, "output_tokens_details", f"{where}.")
    return {
        "input_tokens": _num(usage, "input_tokens", where),
        "output_tokens": _num(usage, "output_tokens", where),
        "cache_read_tokens": _num(input_details, "cached_tokens", f"{where}.input_tokens_details"),
        "reasoning_tokens": _num(
            output_details, "reasoning_tokens", f"{where}.output_tokens_details"
        ),
    }


def gemini_tokens(usage: dict[str, Any], where: str = "usageMetadata") -> dict[str, int]:
    def pick(camel: str, snake: str) -> int:
        return _num(usage, camel if camel in usage else snake, where)

    prompt = pick("promptTokenCount", "prompt_token_count")
    tool_prompt = pick("toolUsePromptTokenCount", "tool_use_prompt_token_count")
    candidates = pick("candidatesTokenCount", "candidates_token_count")
    thoughts = pick("thoughtsTokenCount", "thoughts_token_count")
    return {
        "input_tokens": prompt + tool_prompt,
        "output_tokens": candidates + thoughts,
        "cache_read_tokens": pick("cachedContentTokenCount", "cached_content_token_count"),
        "reasoning_tokens": thoughts,
    }


def _is_gemini(usage: dict[str, Any]) -> bool:
    return "promptTokenCount" in usage or "prompt_token_count" in usage


def from_provider_usage(usage: dict[str, Any], provider: str | None) -> dict[str, int]:
    """Detect the shape of a provider usage object and convert it."""
    if _is_gemini(usage):
        return gemini_tokens(usage, "usage")
    if _looks_anthropic(usage, provider):
        return anthropic_tokens(usage)
    if "prompt_tokens" in usage or "completion_tokens" in usage:
        return openai_chat_tokens(usage)
    if "input_tokens" in usage or "output_tokens" in usage:
        return openai_responses_tokens(usage)
    raise EventError(
        "usage",
        "not a recognised usage object (expected OpenAI prompt_tokens/completion_tokens, "
        "OpenAI Responses or Anthropic input_tokens/output_tokens, or Gemini promptTokenCount)",
    )


@dataclass(frozen=True)
class ExtractedResponse:
    model: str | None
    tokens: dict[str, int]
    raw_usage: dict[str, Any]
    response_id: str | None


def from_response(response: dict[str, Any], provider: str | None) -> ExtractedResponse:
    """A whole provider response body: take its model, id and usage, nothing else."""
    if "usageMetadata" in response:
        usage = response["usageMetadata"]
        if not isinstance(usage, dict):
            raise EventError("response.usageMetadata", "must be an object")
        tokens = gemini_tokens(usage, "response.usageMetadata")
        model = response.get("modelVersion")
        response_id = response.get("responseId")
    else:
        usage = response.get("usage")
        if not isinstance(usage, dict):
            raise EventError("response.usage", "the response carries no usage object")
        tokens = from_provider_usage(usage, provider)
        model = response.get("model")
        response_id = response.get("id")
    return ExtractedResponse(
        model=model if isinstance(model, str) and model else None,
        tokens=tokens,
        raw_usage=usage,
        response_id=response_id if isinstance(response_id, str) and response_id else None,
    )
