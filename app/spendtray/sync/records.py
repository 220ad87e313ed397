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
_MAX_JSON_TEXT = 64 * 1024


class BadRecord(ValueError):
    """A line that passed its check but is not an event we can store."""


class UnknownPrice(BadRecord):
    """The event names a price whose line has not arrived yet: read it again later."""


def price_key(fields: tuple[object, ...] | list[object]) -> str:
    import hashlib

    return hashlib.blake2b(orjson.dumps(list(fields)), digest_size=8).hexdigest()


def encode_price(fields: tuple[object, ...] | list[object]) -> tuple[str, bytes]:
    """A price line of ``prices.jsonl`` and its key."""
    key = price_key(fields)
    data = orjson.dumps({"k": key, "pf": list(fields)})
    return key, checksum(data).encode() + b" " + data + b"\n"


def decode_price(data: bytes) -> tuple[str, tuple[object, ...]]:
    try:
        record = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadRecord(f"not JSON: {exc}") from None
    price = record.get("pf") if isinstance(record, dict) else None
    if (
        not isinstance(price, list)
        or len(price) != len(PRICE_FIELDS)
        or not all(isinstance(v, str) for v in price[:4])
        or not (price[4] is None or isinstance(price[4], str))
        or record.get("k") != price_key(price)
    ):
        raise BadRecord("not a price line")
    return str(record["k"]), tuple(price)


def checksum(data: bytes) -> str:
    return f"{zlib.crc32(data):08x}"


def price_fields(row: dict[str, Any]) -> tuple[object, ...] | None:
    """The price a stored event was costed with (None when unpriced)."""
    if row.get("price_model") is None:
        return None
    return tuple(row[f] for f in PRICE_FIELDS)


def encode(row: dict[str, Any], price: str | None) -> bytes:
    """The line for one stored event (a row of ``store.sync_state.local_events_after``) whose
    price has the key ``price``."""
    record: dict[str, Any] = {"i": row["id"]}
    for column, key in KEYS.items():
        value = row.get(column)
        if value is None or value == "" or (value == 0 and column in _ZERO):
            continue
        record[key] = value
    if price is not None:
        record["pk"] = price
    data = orjson.dumps(record)
    return checksum(data).encode() + b" " + data + b"\n"


def split_line(line: bytes) -> bytes | None:
    """The JSON of a complete line (without its newline) whose check holds, else None."""
    if len(line) < 10 or line[8:9] != b" ":
        return None
    data = line[9:]
    return data if checksum(data).encode() == line[:8] else None


_TEXT_KIND, _WHOLE_KIND, _NUMBER_KIND, _JSON_KIND = range(4)


def _kind(column: str) -> tuple[int, int]:
    """How a column's value is checked: its kind and, for whole numbers, the largest value."""
    if column in _TEXT:
        return _TEXT_KIND, MAX_TEXT * 4
    if column in TOKEN_COLUMNS:
        return _WHOLE_KIND, MAX_TOKENS
    if column in ("cost_nanos", "reported_cost_nanos"):
        return _WHOLE_KIND, MAX_EVENT_COST_NANOS
    if column in ("ts", "received_at"):
        return _WHOLE_KIND, 2**53
    if column in ("batch", "priced"):
        return _WHOLE_KIND, 1
    if column == "latency_ms":
        return _NUMBER_KIND, 0
    return _JSON_KIND, _MAX_JSON_TEXT


# One table for decode: (record key, column index, kind, limit, the value when absent).
_PLAN = tuple(
    (
        key,
        COLUMN_INDEX[column],
        *_kind(column),
        0 if column in _ZERO else ("" if column in _EMPTY else None),
    )
    for column, key in KEYS.items()
)
_REQUIRED_KEYS = tuple(KEYS[c] for c in _REQUIRED)
_REQUEST_AT, _ORIGIN_AT, _PRICE_AT = (
    COLUMN_INDEX["request_id"],
    COLUMN_INDEX["origin"],
    COLUMN_INDEX["price_id"],
)
_WIDTH = len(EVENT_COLUMNS)


def decode(data: bytes, origin: str, prices: dict[str, tuple[object, ...]]) -> tuple[int, EventRow]:
    """The origin's event id and the row to store for one record's JSON, written by the
    machine ``origin`` whose prices (by key) are ``prices``."""
    try:
        record = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise BadRecord(f"not JSON: {exc}") from None
    if type(record) is not dict:
        raise BadRecord("not a JSON object")
    origin_id = record.get("i")
    if type(origin_id) is not int:
        raise BadRecord("no event id (i)")
    for required in _REQUIRED_KEYS:
        if required not in record:
            raise BadRecord(f"{required} is missing")
    values: list[object] = [None] * _WIDTH
    get = record.get
    for key, at, kind, limit, absent in _PLAN:
        value = get(key)
        if value is None:
            values[at] = absent
        elif kind == _WHOLE_KIND:
            if type(value) is not int or not 0 <= value <= limit:
                raise BadRecord(f"{key}: {value!r} is not a whole number in 0..{limit}")
            values[at] = value
        elif kind == _NUMBER_KIND:
            if type(value) is not float and type(value) is not int:
                raise BadRecord(f"{key}: {value!r} is not a number")
            values[at] = value
        else:  # text, or JSON kept as text
            if type(value) is not str or len(value) > limit:
                raise BadRecord(f"{key}: not a text of at most {limit} characters")
            values[at] = value
    price_ref = get("pk")
    if price_ref is not None:
        price = prices.get(price_ref) if isinstance(price_ref, str) else None
        if price is None:
            raise UnknownPrice(f"price {price_ref!r} is not in prices.jsonl (yet)")
        values[_PRICE_AT] = price
    # The origin's request id keeps a call seen on two machines one event; without one the
    # origin's own id is the key, so reading a file twice stores nothing twice.
    if values[_REQUEST_AT] is None:
        values[_REQUEST_AT] = f"sync:{origin}:{origin_id}"[:MAX_TEXT]
    values[_ORIGIN_AT] = origin[:MAX_TEXT]
    return origin_id, EventRow(*values)  # type: ignore[arg-type]  # checked by _PLAN above
