"""otlp_export: every stored event reaches an OTLP/HTTP receiver as one log record, sent by the
official SDK exporter and decoded here with opentelemetry-proto — with the right attributes,
once, across a restart of Spendtray and a receiver that goes away and comes back."""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)

from sharedkit import UNIT_PRICES
from spendtray.config import ConfigError, OtlpExportConfig, load_settings, parse_otlp_export
from spendtray.core import Core


class Receiver:
    """A Collector's OTLP/HTTP logs receiver, on 127.0.0.1, that can go away and come back."""

    def __init__(self) -> None:
        self.records: list[dict[str, Any]] = []
        self.resources: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self.up()

    def up(self) -> None:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                request = ExportLogsServiceRequest()
                request.ParseFromString(body)
                outer.headers.append(dict(self.headers))
                for rl in request.resource_logs:
                    res = {kv.key: kv.value for kv in rl.resource.attributes}
                    for sl in rl.scope_logs:
                        for rec in sl.log_records:
                            attrs: dict[str, Any] = {}
                            for kv in rec.attributes:
                                kind = kv.value.WhichOneof("value")
                                attrs[kv.key] = getattr(kv.value, kind)
                            attrs["@time"] = rec.time_unix_nano
                            attrs["@event_name"] = rec.event_name
                            outer.records.append(attrs)
                            outer.resources.append(res)
                reply = ExportLogsServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()
        self._server = None

    def ids(self) -> list[str]:
        return [str(r["spendtray.event.id"]) for r in self.records]

    def wait_for(self, n: int, seconds: float = 30) -> None:
        deadline = time.time() + seconds
        while len(self.records) < n and time.time() < deadline:
            time.sleep(0.05)
        assert len(self.records) >= n, f"{len(self.records)} of {n} records arrived"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    if r._server is not None:
        r.down()


def _core(home: Path, receiver: Receiver) -> Core:
    home.mkdir(parents=True, exist_ok=True)
    (home / "prices.toml").write_text(UNIT_PRICES, encoding="utf-8")
    settings = replace(
        load_settings(home=home, port=0),
        machine="exporter-box",
        otlp_export=OtlpExportConfig(
            f"http://127.0.0.1:{receiver.port}", (("x-team", "blue"),), timeout=1.0
        ),
    )
    core = Core(settings)
    core.start()
    return core


def _spend(core: Core, n: int, start: int) -> None:
    core.ingest.ingest(
        [
            {
                "model": "unit-model",
                "provider": "testco",
                "project": "acme",
                "agent": "coder",
                "session": f"s-{i // 10}",
                "input_tokens": 1_000 + i,
                "cache_read_tokens": 100,
                "output_tokens": 50,
                "request_id": f"req-{i}",
            }
            for i in range(start, start + n)
        ]
    )


def test_records_arrive_once_with_their_attributes_across_restarts(
    home: Path, receiver: Receiver
) -> None:
    core = _core(home, receiver)
    try:
        _spend(core, 30, 0)
        receiver.wait_for(30)
    finally:
        core.stop()
    first = next(r for r in receiver.records if r["spendtray.request_id"] == "req-7")
    assert first["@event_name"] == "spendtray.usage"
    assert first["gen_ai.request.model"] == "unit-model"
    assert first["gen_ai.provider.name"] == "testco"
    assert first["gen_ai.usage.input_tokens"] == 1_007
    assert first["gen_ai.usage.cache_read.input_tokens"] == 100
    assert first["gen_ai.usage.output_tokens"] == 50
    assert first["gen_ai.agent.name"] == "coder"
    assert first["gen_ai.conversation.id"] == "s-0"
    assert first["spendtray.project"] == "acme"
    assert first["spendtray.machine"] == "exporter-box"
    # unit-model: $1 per million tokens of every kind (no cache-read price: read at input)
    assert first["spendtray.cost_usd"] == pytest.approx((1_007 + 50) / 1e6)
    assert first["@time"] > 0
    assert receiver.resources[0]["service.name"].string_value == "spendtray"
    assert receiver.headers[0]["x-team"] == "blue"

    # Spendtray restarts: only what is new is sent.
    core = _core(home, receiver)
    try:
        _spend(core, 20, 30)
        receiver.wait_for(50)
        time.sleep(1.5)  # an idle pass or two: nothing more may arrive
        assert len(receiver.records) == 50
        # The receiver goes away; events stored meanwhile arrive once it is back.
        receiver.down()
        _spend(core, 15, 50)
        time.sleep(2.0)
        assert len(receiver.records) == 50
        receiver.up()
        receiver.wait_for(65, seconds=90)
        time.sleep(1.5)
    finally:
        core.stop()
    ids = receiver.ids()
    assert len(ids) == len(set(ids)) == 65
    assert {r["spendtray.request_id"] for r in receiver.records} == {f"req-{i}" for i in range(65)}


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ({"endpoint": "collector:4318"}, "'endpoint'"),
        ({"endpoint": "http://c:4318", "protocol": "grpc"}, "not supported"),
        ({"endpoint": "http://c:4318", "headers": {"a": 1}}, "'headers'"),
        ({"endpoint": "http://c:4318", "tls": True}, "unknown key 'tls'"),
    ],
)
def test_bad_otlp_export_settings_are_named(table: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        parse_otlp_export(table)


def test_the_logs_url(home: Path) -> None:
    assert OtlpExportConfig("http://c:4318").logs_url == "http://c:4318/v1/logs"
    assert OtlpExportConfig("http://c:4318/v1/logs").logs_url == "http://c:4318/v1/logs"
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(
        'otlp_export = { endpoint = "http://127.0.0.1:4318", headers = { a = "b" } }\n'
    )
    settings = load_settings(home=home)
    assert settings.otlp_export == OtlpExportConfig("http://127.0.0.1:4318", (("a", "b"),))
