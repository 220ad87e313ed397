"""Test helpers: genai-prices' bundled catalogue as its JSON data file, and a loopback server.

genai-prices ships its data as Python objects (``genai_prices.data``) and has no serialiser, so
``bundled_raw`` writes them back in the shape of its published ``data.json`` (the format its
``UpdatePrices`` fetches); a test checks that this parses back to exactly the bundled data.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from genai_prices.data import providers as bundled_providers
from genai_prices.types import ModelPrice


def to_raw(obj: Any) -> Any:
    """genai-prices objects -> the JSON-ready structure of its data file."""
    if isinstance(obj, ModelPrice):
        items = vars(obj).items()
        return {k: to_raw(v) for k, v in items if not k.startswith("_") and v is not None}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if f.name.startswith("_") or not f.init or value is None:
                continue
            out[f.name.rstrip("_")] = to_raw(value)  # or_/and_ are "or"/"and" in the file
        return out
    if isinstance(obj, list | tuple):
        return [to_raw(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_raw(v) for k, v in obj.items()}
    if isinstance(obj, Decimal):
        return int(obj) if obj == obj.to_integral_value() else float(obj)
    if isinstance(obj, dt.date | dt.time):
        return obj.isoformat()
    return obj


def bundled_raw() -> list[dict[str, Any]]:
    raw: list[dict[str, Any]] = to_raw(bundled_providers)
    return raw


def bundled_with_price(provider_id: str, model_id: str, key: str, value: float) -> bytes:
    """The bundled data file with one flat model price changed."""
    raw = bundled_raw()
    provider = next(p for p in raw if p["id"] == provider_id)
    model = next(m for m in provider["models"] if m["id"] == model_id)
    assert isinstance(model["prices"], dict) and key in model["prices"], model["prices"]
    assert model["prices"][key] != value
    model["prices"][key] = value
    return json.dumps(raw, separators=(",", ":")).encode()


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"
    delay: float = 0.0


@dataclass
class FakeUpstream:
    """A loopback HTTP server answering GET <path> with the configured ``Reply``."""

    replies: dict[str, Reply] = field(default_factory=dict)
    port: int = 0
    requests: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@contextmanager
def fake_upstream() -> Iterator[FakeUpstream]:
    state = FakeUpstream()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            reply = state.replies.get(self.path, Reply(404, b"not found", "text/plain"))
            if reply.delay:
                time.sleep(reply.delay)
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
            except OSError:
                pass  # the client gave up (timeout tests)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.block_on_close = False
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
