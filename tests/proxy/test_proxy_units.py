"""The proxy's pure parts: SSE usage reading under any chunking, upstream configuration and
URL joining, header filtering, include_usage injection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fake_llm_upstream import (
    ANTHROPIC_FINAL_OUTPUT,
    ANTHROPIC_START_USAGE,
    CHAT_USAGE,
    anthropic_events,
    chat_chunks,
    responses_events,
    sse,
)

from spendtray.config import ConfigError, load_settings
from spendtray.proxy.forward import client_headers, upstream_headers, with_include_usage
from spendtray.proxy.stream_usage import StreamUsage
from spendtray.proxy.upstreams import resolve_upstreams


def read(frames: list[bytes], sizes: int | None) -> StreamUsage:
    data = b"".join(frames)
    reader = StreamUsage()
    if sizes is None:
        for frame in frames:
            reader.feed(frame)
    else:
        for i in range(0, len(data), sizes):
            reader.feed(data[i : i + sizes])
    reader.finish()
    return reader


@pytest.mark.parametrize("size", [None, 1, 7, 64])
def test_openai_chunks_any_split(size: int | None) -> None:
    frames = sse([(None, c) for c in chat_chunks(5, True)] + [(None, "[DONE]")])
    reader = read(frames, size)
    assert reader.usage == CHAT_USAGE
    assert (reader.model, reader.response_id, reader.service_tier) == (
        "gpt-4o-mini-2024-07-18",
        "chatcmpl-fake5",
        "default",
    )
    assert reader.error is None


@pytest.mark.parametrize("size", [None, 1, 13])
def test_anthropic_deltas_are_cumulative_not_summed(size: int | None) -> None:
    frames = [f.replace(b"\n", b"\r\n") for f in sse(list(anthropic_events(3)))]  # CRLF too
    reader = read(frames, size)
    assert reader.usage == {**ANTHROPIC_START_USAGE, "output_tokens": ANTHROPIC_FINAL_OUTPUT}
    assert reader.response_id == "msg_fake3"


def test_responses_and_last_event_without_blank_line() -> None:
    frames = sse(list(responses_events(8)))
    frames[-1] = frames[-1].rstrip(b"\n")
    reader = read(frames, None)
    assert reader.usage is not None and reader.usage["output_tokens"] == 300
    assert reader.response_id == "resp_fake8"


def test_stream_without_usage_and_openai_error_chunk() -> None:
    reader = read(sse([(None, c) for c in chat_chunks(2, False)]), 5)
    assert reader.usage is None and reader.model == "gpt-4o-mini-2024-07-18"
    failed = read(sse([(None, {"error": {"message": "boom", "type": "server_error"}})]), None)
    assert failed.error == "server_error"


def write(home: Path, text: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(text, encoding="utf-8")
    return home


def test_upstreams_from_config_and_env(tmp_path: Path) -> None:
    home = write(
        tmp_path / "h",
        '[upstreams]\nopenrouter = "https://openrouter.ai/api/v1/"\n'
        '[upstreams.azure]\nurl = "https://r.openai.azure.com/openai"\nprovider = "Azure"\n'
        '[upstreams.claude-gw]\nurl = "http://127.0.0.1:9000"\napi = "anthropic"\n',
    )
    upstreams = resolve_upstreams(
        load_settings(home=home), {"SPENDTRAY_UPSTREAM_ANTHROPIC": "http://127.0.0.1:5/x"}
    )
    assert sorted(upstreams) == ["anthropic", "azure", "claude-gw", "openai", "openrouter"]
    router = upstreams["openrouter"]
    assert (router.api, router.provider) == ("openai", "openrouter")
    # a trailing /v1 on the upstream is not doubled
    assert (
        router.target("/v1/chat/completions", "") == "https://openrouter.ai/api/v1/chat/completions"
    )
    assert upstreams["azure"].provider == "azure"
    assert upstreams["azure"].target("/v1/models", "api-version=1") == (
        "https://r.openai.azure.com/openai/v1/models?api-version=1"
    )
    assert upstreams["claude-gw"].api == "anthropic"
    assert upstreams["anthropic"].target("/v1/messages", "") == "http://127.0.0.1:5/x/v1/messages"
    assert upstreams["openai"].target("/v1/a%2Fb", "") == "https://api.openai.com/v1/a%2Fb"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('upstreams = "x"', "config key 'upstreams': expected dict"),
        ('[upstreams]\nfoo = "ftp://x"', "upstreams.foo': 'ftp://x' is not an http(s) URL"),
        ('[upstreams]\nfoo = "https://x/?key=1"', "no query, fragment or credentials"),
        ('[upstreams]\nfoo = "https://u:p@x"', "no query, fragment or credentials"),
        ('[upstreams]\nFoo = "https://x"', "an upstream name is lower-case"),
        ('[upstreams.foo]\napi = "gemini"\nurl = "https://x"', "'api' must be \"openai\""),
        ('[upstreams.foo]\nurl = "https://x"\nkey = "sk"', "unknown key 'key'"),
        ('[upstreams.foo]\napi = "openai"', "'url' is required"),
        ("[upstreams]\nfoo = 3", "expected a URL string or a table"),
        ("proxy_include_usage = 1", "config key 'proxy_include_usage': expected bool"),
    ],
)
def test_bad_upstream_config_is_one_line(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(home=write(tmp_path / "h", text))
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_bad_env_upstream(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path)
    with pytest.raises(ConfigError, match=r"SPENDTRAY_UPSTREAM_OPENAI: 'api\.openai\.com'"):
        resolve_upstreams(settings, {"SPENDTRAY_UPSTREAM_OPENAI": "api.openai.com"})


def test_headers() -> None:
    raw = [
        (b"Host", b"127.0.0.1:8719"),
        (b"Authorization", b"Bearer sk-x"),
        (b"api-key", b"azure-key"),
        (b"Connection", b"keep-alive, X-Hop"),
        (b"X-Hop", b"1"),
        (b"Transfer-Encoding", b"chunked"),
        (b"Accept-Encoding", b"br;q=1.0, gzip;q=0.8, zstd, deflate"),
        (b"X-Spendtray-Project", b"p"),
        (b"Content-Length", b"99"),
    ]
    assert upstream_headers(raw, 12) == [
        (b"Authorization", b"Bearer sk-x"),
        (b"api-key", b"azure-key"),
        (b"accept-encoding", b"gzip;q=0.8, deflate"),
        (b"content-length", b"12"),
    ]
    back = [
        (b"content-length", b"5"),
        (b"connection", b"close"),
        (b"keep-alive", b"t=5"),
        (b"content-encoding", b"gzip"),
        (b"x-request-id", b"r"),
    ]
    assert client_headers(back) == [
        (b"content-length", b"5"),
        (b"content-encoding", b"gzip"),
        (b"x-request-id", b"r"),
    ]


def test_include_usage_injection_keeps_the_body() -> None:
    body = b' {"model":"gpt-4o","stream":true,"messages":[]}'
    out = with_include_usage(body, json.loads(body))
    assert json.loads(out) == {**json.loads(body), "stream_options": {"include_usage": True}}
    assert out.endswith(body[2:])  # a splice: the client's bytes follow unchanged
    body = b'{"model":"m","stream":true,"stream_options":{"x":1}}'
    assert json.loads(with_include_usage(body, json.loads(body)))["stream_options"] == {
        "x": 1,
        "include_usage": True,
    }
    body = b'{"model":"m","stream":true,"stream_options":{"include_usage":false}}'
    assert with_include_usage(body, json.loads(body)) == body


def test_saving_settings_keeps_keys_out_of_the_upstreams_table(tmp_path: Path) -> None:
    from spendtray.config_write import save_settings

    home = write(
        tmp_path / "h", 'port = 9000\n\n[upstreams]\nrouter = "https://openrouter.ai/api"\n'
    )
    saved = save_settings(load_settings(home=home), {"notifications": False, "port": 9001})
    assert (saved.notifications, saved.port) == (False, 9001)
    assert [u.name for u in saved.upstreams] == ["router"]
