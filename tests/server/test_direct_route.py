"""``POST /v1/usage`` answered in the connection's protocol (``http_protocol.Exchange``) keeps
every behaviour of the ASGI path, on the real server: a request with a query string still
goes through ASGI, so the same request sent both ways must get the same bytes back. Pipelined
requests on either path are answered in order, ``Expect: 100-continue`` is answered only
after the checks pass, chunked and gzip bodies are read, and a client that goes away before
its body is complete gets nothing stored."""

from __future__ import annotations

import gzip
import json
import re
import socket
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from spendtray.config import Settings
from spendtray.core import Core

EVENT = {"model": "gpt-4o-mini", "project": "direct", "input_tokens": 10, "output_tokens": 1}
DIRECT, ASGI = "/v1/usage", "/v1/usage?via=asgi"


def _port(core: Core) -> int:
    return int(core.url.rsplit(":", 1)[1])


def _request(
    path: str,
    body: bytes,
    headers: dict[str, str],
    version: str = "1.1",
) -> bytes:
    lines = [f"POST {path} HTTP/{version}", "Host: 127.0.0.1"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if "Transfer-Encoding" not in headers and "Content-Length" not in headers:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def _chunked(body: bytes, size: int = 7) -> bytes:
    parts = [
        b"%x\r\n%s\r\n" % (len(body[i : i + size]), body[i : i + size])
        for i in range(0, len(body), size)
    ]
    return b"".join(parts) + b"0\r\n\r\n"


def _read(sock: socket.socket, buffer: bytearray) -> tuple[bytes, bytes]:
    """One response (head, body by its content-length) from ``sock``; what follows stays in
    ``buffer``."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        assert chunk, f"closed after {bytes(buffer)!r}"
        buffer += chunk
    end = buffer.index(b"\r\n\r\n")
    head = bytes(buffer[:end])
    length = int(re.search(rb"content-length: (\d+)", head).group(1))  # type: ignore[union-attr]
    while len(buffer) < end + 4 + length:
        buffer += sock.recv(65536)
    body = bytes(buffer[end + 4 : end + 4 + length])
    del buffer[: end + 4 + length]
    return head, body


def _exchange(core: Core, raw: bytes) -> bytes:
    """Everything the server sends for ``raw`` before it closes (each request here closes)."""
    with socket.create_connection(("127.0.0.1", _port(core)), timeout=10) as s:
        s.sendall(raw)
        got = b""
        while chunk := s.recv(65536):
            got += chunk
        return got


def _stored(core: Core) -> int:
    conn = sqlite3.connect(core.settings.db_path)
    try:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
    finally:
        conn.close()


@pytest.fixture
def small_core(settings: Settings) -> Iterator[Core]:
    """The app with a 4 KB body limit."""
    core = Core(replace(settings, max_body_bytes=4096), warm_tokenizers=False)
    core.start_background()
    try:
        yield core
    finally:
        core.stop()


def _refusals(token: str) -> dict[str, tuple[bytes, dict[str, str]]]:
    auth = {"Authorization": f"Bearer {token}", "Connection": "close"}
    json_type = {**auth, "Content-Type": "application/json"}
    event = json.dumps(EVENT).encode()
    return {
        "no token": (event, {"Content-Type": "application/json", "Connection": "close"}),
        "wrong token": (event, {**json_type, "Authorization": "Bearer nope"}),
        "foreign origin": (event, {**json_type, "Origin": "https://evil.example"}),
        "form type": (event, {**auth, "Content-Type": "application/x-www-form-urlencoded"}),
        "declared too long": (b"", {**json_type, "Content-Length": "999999"}),
        "chunked too long": (
            _chunked(b" " * 5000, 1000),
            {**json_type, "Transfer-Encoding": "chunked"},
        ),
        "bad json": (b'{"model": ', json_type),
        "bad event": (json.dumps({**EVENT, "input_tokens": -1}).encode(), json_type),
        "unknown encoding": (event, {**json_type, "Content-Encoding": "br"}),
        "gzip bomb": (gzip.compress(b" " * 100_000), {**json_type, "Content-Encoding": "gzip"}),
        "refused 100-continue": (
            b"",
            {
                **json_type,
                "Authorization": "Bearer no",
                "Expect": "100-continue",
                "Content-Length": "20",
            },
        ),
    }


def test_refusals_are_the_same_bytes_on_both_paths(small_core: Core) -> None:
    for what, (body, headers) in _refusals(small_core.token).items():
        raw = {p: _request(p, body, headers) for p in (DIRECT, ASGI)}
        direct, asgi = _exchange(small_core, raw[DIRECT]), _exchange(small_core, raw[ASGI])
        assert direct == asgi, what
        status = int(direct.split(b" ", 2)[1])
        assert 400 <= status < 500, (what, direct)
        assert b"100 Continue" not in direct, what
    assert _stored(small_core) == 0


def test_accepted_answers_have_the_same_head_on_both_paths(core: Core) -> None:
    auth = {"Authorization": f"Bearer {core.token}", "Content-Type": "application/json"}
    for version, headers in (("1.1", {**auth, "Connection": "close"}), ("1.0", auth)):
        heads = []
        for path in (DIRECT, ASGI):
            got = _exchange(core, _request(path, json.dumps(EVENT).encode(), headers, version))
            head, _, body = got.partition(b"\r\n\r\n")
            assert json.loads(body)["accepted"] == 1
            heads.append(re.sub(rb"content-length: \d+", b"", head))
        assert heads[0] == heads[1]
        assert (
            heads[0].startswith(b"HTTP/1.1 202 Accepted\r\n") and b"connection: close" in heads[0]
        )


def test_pipelined_requests_on_both_paths_are_answered_in_order(core: Core) -> None:
    auth = {"Authorization": f"Bearer {core.token}", "Content-Type": "application/json"}

    def events(n: int, tag: str) -> bytes:
        return json.dumps([{**EVENT, "request_id": f"{tag}-{i}"} for i in range(n)]).encode()

    requests = [
        (_request(DIRECT, events(1, "a"), auth), 202, 1),
        (b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 200, None),
        (_request(ASGI, events(2, "b"), auth), 202, 2),
        (_request(DIRECT, b'{"model": ', auth), 400, None),
        # Prepared off the loop (more than INLINE_EVENTS), then the small ones after it.
        (_request(DIRECT, events(300, "c"), auth), 202, 300),
        (
            _request(DIRECT, _chunked(events(3, "d")), {**auth, "Transfer-Encoding": "chunked"}),
            202,
            3,
        ),
        (
            _request(DIRECT, gzip.compress(events(4, "e")), {**auth, "Content-Encoding": "gzip"}),
            202,
            4,
        ),
        (_request(DIRECT, events(5, "f"), {**auth, "Authorization": "Bearer no"}), 401, None),
        (_request(DIRECT, events(6, "g"), auth), 202, 6),
    ]
    with socket.create_connection(("127.0.0.1", _port(core)), timeout=20) as s:
        s.sendall(b"".join(raw for raw, _, _ in requests))  # all before the first answer
        buffer = bytearray()
        last_id = 0
        for index, (_, status, accepted) in enumerate(requests):
            head, body = _read(s, buffer)
            assert head.startswith(b"HTTP/1.1 %d " % status), (index, head, body)
            if accepted is not None:
                answer = json.loads(body)
                assert answer["accepted"] == accepted, index
                ids = [e["id"] for e in answer["events"]]
                assert min(ids) > last_id, index  # committed in the order sent
                last_id = max(ids)
    assert _stored(core) == 1 + 2 + 300 + 3 + 4 + 6


def test_100_continue_is_sent_once_the_head_passed_and_the_body_is_read_after(core: Core) -> None:
    body = json.dumps(EVENT).encode()
    head = _request(
        DIRECT,
        b"",
        {
            "Authorization": f"Bearer {core.token}",
            "Content-Type": "application/json",
            "Expect": "100-continue",
            "Content-Length": str(len(body)),
        },
    )
    with socket.create_connection(("127.0.0.1", _port(core)), timeout=10) as s:
        s.sendall(head)
        assert s.recv(65536) == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(body)
        answer_head, answer = _read(s, bytearray())
        assert answer_head.startswith(b"HTTP/1.1 202"), answer_head
        assert json.loads(answer)["accepted"] == 1


def test_a_client_gone_before_its_body_ends_stores_nothing(core: Core) -> None:
    body = json.dumps([{**EVENT, "request_id": f"gone-{i}"} for i in range(3)]).encode()
    auth = {"Authorization": f"Bearer {core.token}", "Content-Type": "application/json"}
    for cut in (len(body) // 2, len(body) - 1):
        with socket.create_connection(("127.0.0.1", _port(core)), timeout=10) as s:
            s.sendall(_request(DIRECT, body, auth)[: -len(body) + cut])
            time.sleep(0.1)
    chunked = _chunked(body)
    with socket.create_connection(("127.0.0.1", _port(core)), timeout=10) as s:
        s.sendall(_request(DIRECT, chunked, {**auth, "Transfer-Encoding": "chunked"})[:-5])
        time.sleep(0.1)
    time.sleep(0.2)
    assert _stored(core) == 0
    # The server goes on answering.
    got = _exchange(core, _request(DIRECT, body, {**auth, "Connection": "close"}))
    assert got.startswith(b"HTTP/1.1 202") and _stored(core) == 3


def _head_spellings(token: str) -> dict[str, list[tuple[str, str]]]:
    """Request heads (after the request line) that the direct route reads from the raw header
    bytes first (``Guard.passes``): each must get the answer the full checks give."""
    good = [("Host", "127.0.0.1"), ("Content-Type", "application/json")]
    bearer = ("Authorization", f"Bearer {token}")
    return {
        "plain": [*good, bearer],
        "token header": [*good, ("X-Spendtray-Token", token)],
        "token header wins": [*good, ("X-Spendtray-Token", "nope"), bearer],
        "scheme in capitals": [*good, ("Authorization", f"BEARER {token}")],
        "spaces around the token": [*good, ("Authorization", f"Bearer   {token}  ")],
        "empty token header": [*good, ("X-Spendtray-Token", ""), bearer],
        "host in capitals, with a port": [
            ("Host", "LOCALHOST:8080"),
            ("Content-Type", "application/json"),
            bearer,
        ],
        "foreign host": [("Host", "127.0.0.1.evil.example"), *good[1:], bearer],
        "second host is foreign": [*good, bearer, ("Host", "evil.example")],
        "first host is foreign": [("Host", "evil.example"), *good, bearer],
        "second token is wrong": [*good, bearer, ("Authorization", "Bearer nope")],
        "first token is wrong": [*good, ("Authorization", "Bearer nope"), bearer],
        "charset": [
            ("Host", "127.0.0.1"),
            ("Content-Type", "application/json; charset=utf-8"),
            bearer,
        ],
        "type in capitals": [("Host", "127.0.0.1"), ("Content-Type", "Application/JSON"), bearer],
        "two types": [*good, bearer, ("Content-Type", "text/plain")],
        "ndjson": [("Host", "127.0.0.1"), ("Content-Type", "application/x-ndjson"), bearer],
        "no type": [("Host", "127.0.0.1"), bearer],
        "browser origin": [*good, bearer, ("Origin", "https://evil.example")],
    }


def test_header_spellings_get_the_same_answer_on_both_paths(core: Core) -> None:
    body = json.dumps(EVENT).encode()
    for what, head in _head_spellings(core.token).items():
        answers = []
        for path in (DIRECT, ASGI):
            lines = [f"POST {path} HTTP/1.1", *(f"{k}: {v}" for k, v in head)]
            lines += [f"Content-Length: {len(body)}", "Connection: close"]
            got = _exchange(core, ("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            answer_head, _, answer = got.partition(b"\r\n\r\n")
            reply = json.loads(answer)
            for event in reply.get("events", []):
                event.pop("id")  # a new event each time
            answers.append((re.sub(rb"content-length: \d+", b"", answer_head), reply))
        assert answers[0] == answers[1], what
    accepted = {"plain", "token header", "scheme in capitals", "spaces around the token"}
    accepted |= {"host in capitals, with a port", "second host is foreign", "charset"}
    accepted |= {"second token is wrong", "type in capitals", "two types", "ndjson"}
    for what, head in _head_spellings(core.token).items():
        lines = [f"POST {DIRECT} HTTP/1.1", *(f"{k}: {v}" for k, v in head)]
        lines += [f"Content-Length: {len(body)}", "Connection: close"]
        got = _exchange(core, ("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        assert got.startswith(b"HTTP/1.1 202") == (what in accepted), (what, got)


def test_the_reply_to_one_event_is_the_batch_reply_of_that_event(core: Core) -> None:
    """A single event's reply is built without the batch's ``IngestResult``: it must be what
    ``IngestService.result`` and the budget status give, priced or not, new or a duplicate."""
    from spendtray.budgets.model import make_budget
    from spendtray.server.app import build_app
    from spendtray.server.usage_endpoint import UsageEndpoint, committed_budget
    from spendtray.store.writer import WriteOutcome

    core.budgets.put(make_budget("direct", "day", 10))
    endpoint = build_app(core)
    assert isinstance(endpoint, UsageEndpoint)
    priced, unpriced = core.ingest.prepare([EVENT, {**EVENT, "model": "nobody-prices-this"}])
    for row in (priced, unpriced):
        for outcome in (WriteOutcome(7, False), WriteOutcome(7, True)):
            result = core.ingest.result([row], [outcome])
            expected = {
                "accepted": result.accepted,
                "duplicates": result.duplicates,
                "events": result.events,
                "budget": committed_budget(core.budgets.ingest_status, result.projects, 7),
            }
            assert endpoint._accepted([row], [outcome]) == expected, (row.model, outcome)
    assert unpriced.unpriced_reason and not priced.unpriced_reason
