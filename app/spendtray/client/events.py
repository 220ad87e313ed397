"""Building the usage events the client sends: canonical fields only, never text.

``make_event`` runs on the caller's thread (``record``) and on the sender thread (events built
from captured SDK responses). It keeps the SPEC §5 field names, stamps a client-generated
``request_id`` (the server stores a repeated id once, which makes redelivery from the spool
safe) and the time of the call, and passes a raw provider ``usage`` object through
``clean_usage`` so that only counts and short labels can leave the process.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import time
import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from spendtray.fields import EVENT_FIELDS as SERVER_EVENT_FIELDS

# The event fields the server accepts, without "response": a whole response body carries the
# completion text, which the client never sends.
EVENT_FIELDS = SERVER_EVENT_FIELDS - {"response"}
SOURCE = "python-client"
_MAX_LABEL = 128
_MAX_DEPTH = 4
_SURROGATE = re.compile("[\ud800-\udfff]")


def new_request_id() -> str:
    return f"stc-{uuid.uuid4().hex}"


def iso_time(seconds: float) -> str:
    """A ``time.time()`` value as an event's ISO-8601 UTC ``timestamp``."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="microseconds")


def clean_text(text: str) -> str:
    """``text`` as valid Unicode: a lone surrogate (half of a UTF-16 pair, e.g. from a broken
    decode) cannot be encoded as UTF-8, so the app could not read it; it becomes U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


def clean_usage(value: Any, depth: int = 0) -> Any:
    """Numbers, booleans, nulls and short labels (``service_tier``) of a usage object; no text.

    Provider usage objects hold counts and a few enum-like strings. Anything longer, or nested
    deeper than a usage object ever is, is dropped rather than risk sending content; so is a
    NaN or infinite number, which JSON cannot carry.
    """
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str):
        return clean_text(value) if len(value) <= _MAX_LABEL else None
    if depth >= _MAX_DEPTH:
        return None
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(key, str) and len(key) <= _MAX_LABEL:
                cleaned = clean_usage(item, depth + 1)
                if cleaned is not None:
                    out[key] = cleaned
        return out
    if isinstance(value, list | tuple):
        return [clean_usage(item, depth + 1) for item in value[:64]]
    return None


def usage_mapping(usage: Any) -> dict[str, Any] | None:
    """A usage object as a plain dict: a mapping, or an SDK model (pydantic ``model_dump``)."""
    if usage is None:
        return None
    if isinstance(usage, Mapping):
        raw: Any = usage
    elif hasattr(usage, "model_dump"):
        raw = usage.model_dump(mode="json", exclude_none=True)
    elif hasattr(usage, "to_dict"):
        raw = usage.to_dict()
    else:
        raise TypeError(
            f"usage must be a mapping or an SDK usage object, not {type(usage).__name__}"
        )
    cleaned = clean_usage(raw)
    return cleaned if isinstance(cleaned, dict) else None


def make_event(
    model: str,
    usage: Any = None,
    *,
    project: str | None = None,
    provider: str | None = None,
    agent: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One event as the server wants it; unknown field names are a ``TypeError`` right here."""
    extra = dict(extra or {})
    unknown = sorted(set(extra) - EVENT_FIELDS)
    if unknown:
        raise TypeError(
            f"record() got unknown usage event field(s) {', '.join(unknown)}; "
            "put extra data in tags={...}"
        )
    event: dict[str, Any] = {"model": model}
    raw_usage = usage_mapping(usage)
    if raw_usage is not None:
        event["usage"] = raw_usage
    for name, value in (("project", project), ("provider", provider), ("agent", agent)):
        if value is not None:
            event[name] = value
    event.update({k: _plain(v) for k, v in extra.items() if v is not None})
    event.setdefault("request_id", new_request_id())
    event.setdefault("timestamp", iso_time(time.time()))
    event.setdefault("source", SOURCE)
    for name, value in event.items():
        event[name] = _sendable(value, name)
    return event


def _sendable(value: Any, name: str) -> Any:
    """``value`` as JSON the app can read: text cleaned (``clean_text``); a TypeError for what
    is not JSON data, a ValueError for NaN or infinity (refused here, in ``record()``, rather
    than by the app, which would refuse the whole batch it arrives in)."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"record(): {name} is {value!r}; JSON has no NaN or infinity")
        return value
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"record(): {name} has a key that is not text: {key!r}")
            out[clean_text(key)] = _sendable(item, f"{name}.{key}")
        return out
    if isinstance(value, list | tuple):
        return [_sendable(item, f"{name}[{i}]") for i, item in enumerate(value)]
    raise TypeError(f"record(): {name} is not JSON data ({type(value).__name__})")


def _plain(value: Any) -> Any:
    """Datetimes as ISO-8601 (naive = UTC, as the server reads them), Decimals as text."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value
