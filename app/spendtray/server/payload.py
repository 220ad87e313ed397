"""Decoding a usage POST body into a list of event objects. Pure; event loop thread.

Accepted shapes (SPEC §4): one event object, a JSON array of events, ``{"events": [...]}``,
or NDJSON (one event per line).
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

from spendtray.server.guard import ApiError

MAX_EVENTS = 100_000
_NDJSON = {
    "application/x-ndjson",
    "application/ndjson",
    "application/jsonl",
    "application/jsonlines",
    "application/x-jsonlines",
}


def _ndjson(body: bytes) -> list[Any]:
    events: list[Any] = []
    for number, line in enumerate(body.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            events.append(orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            raise ApiError(
                400,
                f"line {number} is not valid JSON: {exc}",
                [{"index": len(events), "field": "(body)", "problem": f"line {number}: {exc}"}],
            ) from None
    return events


def _ndjson_sent_as_json(body: bytes) -> list[Any] | None:
    """NDJSON posted as application/json, or None when not even its first line is a JSON
    document (then the error about the body as one document is the one to show)."""
    if b"\n" not in body.strip():
        return None
    try:
        return _ndjson(body)
    except ApiError as exc:
        if exc.details and exc.details[0]["index"] == 0:
            return None
        raise


_EVENTS_ARRAY = re.compile(rb'\s*(?:\[|\{\s*"events"\s*:\s*\[)')


def _invalid_json(body: bytes, exc: orjson.JSONDecodeError) -> ApiError:
    """400 for a body that is not JSON, naming the position and, for an array of events, the
    index of the first event that is not (a NaN, a lone surrogate...): a client can then drop
    that one and send the others again."""
    detail: dict[str, Any] = {"field": "(body)", "problem": f"{exc.msg} at position {exc.pos}"}
    index = _first_bad_event(body)
    message = f"body is not valid JSON: {exc}"
    if index is not None:
        detail["index"] = index
        message = f"event {index} is not valid JSON: {exc.msg}"
    return ApiError(400, message, [detail])


def _first_bad_event(body: bytes) -> int | None:
    """The index of the first element of the body's event array that is not valid JSON, or
    None when the body is not such an array. The error path only: it walks the array with the
    standard library's lenient decoder and checks each element with orjson."""
    start = _EVENTS_ARRAY.match(body)
    if start is None:
        return None
    text = body.decode("utf-8", "surrogateescape")
    position = len(body[: start.end()].decode("utf-8", "surrogateescape"))
    decode = json.JSONDecoder().raw_decode
    index = 0
    while True:
        while position < len(text) and text[position] in " \t\r\n":
            position += 1
        try:
            _, end = decode(text, position)
        except ValueError:
            return index
        try:
            orjson.loads(text[position:end].encode("utf-8", "surrogateescape"))
        except orjson.JSONDecodeError:
            return index
        position = end
        while position < len(text) and text[position] in " \t\r\n":
            position += 1
        if position >= len(text) or text[position] != ",":
            return None
        position += 1
        index += 1


def decode_events(body: bytes, media_type: str) -> list[Any]:
    if not body.strip():
        raise ApiError(400, "empty body: send one event, an array of events, or NDJSON")
    if media_type in _NDJSON:
        events = _ndjson(body)
    else:
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            if "UTF-8" in exc.msg:
                raise ApiError(400, "body is not UTF-8 text") from None
            lines = _ndjson_sent_as_json(body)
            if lines is None:
                raise _invalid_json(body, exc) from None
            events = lines
        else:
            if isinstance(data, list):
                events = data
            elif isinstance(data, dict) and "events" in data and "model" not in data:
                events = data["events"]
                if not isinstance(events, list):
                    raise ApiError(400, "'events' must be an array of event objects")
            elif isinstance(data, dict):
                events = [data]
            else:
                raise ApiError(400, 'body must be an event object, an array, or {"events": [...]}')
    if not events:
        raise ApiError(400, "no events in the body")
    if len(events) > MAX_EVENTS:
        raise ApiError(413, f"{len(events)} events in one request; the limit is {MAX_EVENTS}")
    return events
