"""One event as a line of a sync file, and back. Pure; the sync thread.

A line is ``<crc32 of the JSON, 8 hex digits> <compact JSON>\\n``. The check makes every record
self-checking: a line a sync tool has only half delivered (cut short, or padded with zeros)
fails it and is read again later, never half-read. The JSON holds one stored event as this
machine stored it — its computed cost and the price it was costed with included, so every
machine shows the same money and no machine prices another's events again — under short keys,
leaving out empty values (about half the bytes of the full names).

Decoding applies the same bounds as every other way in (``ingest.bounds``): a record that names
an impossible count or cost is refused like an impossible log line.
"""

from __future__ import annotations

import zlib
from typing import Any

import orjson

from spendtray.ingest.bounds import MAX_EVENT_COST_NANOS
from spendtray.ingest.event import MAX_TEXT, MAX_TOKENS
from spendtray.store.rows import COLUMN_INDEX, EVENT_COLUMNS, PRICE_FIELDS, EventRow

# Stored column -> record key. ``id``, ``price_id`` and ``origin`` are not columns of the
# record: the origin's id and machine id are ``i`` and ``o``, the price is ``pf``.
KEYS = {
    "ts": "t",
    "received_at": "r",
    "project": "p",
    "model": "m",
    "provider": "v",
    "agent": "a",
    "user": "u",
    "session": "s",
    "trace_id": "tr",
    "request_id": "q",
    "source": "src",
    "service_tier": "st",
    "batch": "b",
    "input_tokens": "in",
    "output_tokens": "out",
    "cache_read_tokens": "cr",
    "cache_write_tokens": "cw",
    "cache_write_5m_tokens": "c5",
    "cache_write_1h_tokens": "c1",
    "reasoning_tokens": "rs",
    "cost_nanos": "c",
    "priced": "pr",
    "unpriced_reason": "ur",
    "reported_cost_nanos": "rc",
    "latency_ms": "l",
    "status": "x",
    "tags": "g",
    "raw_usage": "ru",
    "call_key": "ck",
    "machine": "mc",
}
TOKEN_COLUMNS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_5m_tokens",
    "cache_write_1h_tokens",
    "reasoning_tokens",
)
# Columns that are NOT NULL in the events table: an absent key reads as 0 / "".
_ZERO = frozenset({*TOKEN_COLUMNS, "batch", "priced"})
_EMPTY = frozenset({"agent", "machine"})
_REQUIRED = ("ts", "received_at", "project", "model", "provider", "source")
_TEXT = frozenset(
    {
        "project",
        "model",
        "provider",
        "agent",
        "user",
        "session",
        "trace_id",
        "request_id",
        "source",
        "service_tier",
        "unpriced_reason",
        "status",
        "call_key",
        "machine",
    }
)
_JSON_TEXT = frozenset({"tags", "raw_usage"})  # stored as JSON text; bounded, never parsed
_MAX_JSON_TEXT = 64 * 1024


class BadRecord(ValueError):
    """A line that passed its check but is not an event we can store."""


def checksum(data: bytes) -> str:
    return f"{zlib.crc32(data):08x}"


def encode(row: dict[str, Any], machine_id: str) -> bytes:
    """The line for one stored event (a row of ``store.sync_state.local_events_after``)."""
    record: dict[str, Any] = {"o": machine_id, "i": row["id"]}
    for column, key in KEYS.items():
        value = row.get(column)
        if value is None or value == "" or (value == 0 and column in _ZERO):
            continue
        record[key] = value
    if row.get("price_model") is not None:
        record["pf"] = [row[f] for f in PRICE_FIELDS]
    data = orjson.dumps(record)
    return checksum(data).encode() + b" " + data + b"\n"


def split_line(line: bytes) -> bytes | None:
    """The JSON of a complete line (without its newline) whose check holds, else None."""
    if len(line) < 10 or line[8:9] != b" ":
        return None
    data = line[9:]
    return data if checksum(data).encode() == line[:8] else None


def _text(record: dict[str, Any], column: str) -> Any:
    value = record.get(KEYS[column])
    if value is None:
        return "" if column in _EMPTY else None
    if not isinstance(value, str) or len(value) > MAX_TEXT * 4:
        raise BadRecord(f"{KEYS[column]}: not a text of at most {MAX_TEXT * 4} characters")
    return value


def _whole(record: dict[str, Any], column: str, limit: int) -> int | None:
    value = record.get(KEYS[column])
    if value is None:
        return 0 if column in _ZERO else None
    if type(value) is not int or not 0 <= value <= limit:
        raise BadRecord(f"{KEYS[column]}: {value!r} is not a whole number in 0..{limit}")
    return value


def decode(data: bytes) -> tuple[str, int, EventRow]:
    """Origin machine id, origin event id and the row to store for one record's JSON."""
    try:
        record = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadRecord(f"not JSON: {exc}") from None
    if not isinstance(record, dict):
        raise BadRecord("not a JSON object")
    origin, origin_id = record.get("o"), record.get("i")
    if not isinstance(origin, str) or not origin or type(origin_id) is not int:
        raise BadRecord("no origin machine id (o) or event id (i)")
    for column in _REQUIRED:
        if record.get(KEYS[column]) is None:
            raise BadRecord(f"{KEYS[column]} ({column}) is missing")
    values: list[object] = [None] * len(EVENT_COLUMNS)
    for column in EVENT_COLUMNS:
        if column in ("id", "price_id", "origin"):
            continue
        if column in _TEXT:
            values[COLUMN_INDEX[column]] = _text(record, column)
        elif column in TOKEN_COLUMNS:
            values[COLUMN_INDEX[column]] = _whole(record, column, MAX_TOKENS)
        elif column in ("cost_nanos", "reported_cost_nanos"):
            values[COLUMN_INDEX[column]] = _whole(record, column, MAX_EVENT_COST_NANOS)
        elif column in ("ts", "received_at"):
            values[COLUMN_INDEX[column]] = _whole(record, column, 2**53)
        elif column in ("batch", "priced"):
            values[COLUMN_INDEX[column]] = _whole(record, column, 1)
        elif column == "latency_ms":
            latency = record.get("l")
            if latency is not None and (
                isinstance(latency, bool) or not isinstance(latency, int | float)
            ):
                raise BadRecord(f"l: {latency!r} is not a number")
            values[COLUMN_INDEX[column]] = latency
        elif column in _JSON_TEXT:
            text = record.get(KEYS[column])
            if text is not None and (not isinstance(text, str) or len(text) > _MAX_JSON_TEXT):
                raise BadRecord(f"{KEYS[column]}: not a JSON text of at most 64 KiB")
            values[COLUMN_INDEX[column]] = text
    price = record.get("pf")
    if price is not None:
        if (
            not isinstance(price, list)
            or len(price) != len(PRICE_FIELDS)
            or not all(isinstance(v, str) for v in price[:4])
            or not (price[4] is None or isinstance(price[4], str))
        ):
            raise BadRecord("pf: not the five fields of a price")
        values[COLUMN_INDEX["price_id"]] = tuple(price)
    # The origin's request id keeps a call seen on two machines one event; without one the
    # origin's own id is the key, so reading a file twice stores nothing twice.
    if values[COLUMN_INDEX["request_id"]] is None:
        values[COLUMN_INDEX["request_id"]] = f"sync:{origin}:{origin_id}"[:MAX_TEXT]
    values[COLUMN_INDEX["origin"]] = origin[:MAX_TEXT]
    return origin, origin_id, EventRow(values)
