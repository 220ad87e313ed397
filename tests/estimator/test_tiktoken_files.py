"""The shipped tiktoken files: integrity, offline loading, and agreement with tiktoken itself."""

from __future__ import annotations

import hashlib
import socket
import threading
from typing import Any

import pytest
import tiktoken
import tiktoken.model
import tiktoken_ext.openai_public as openai_public  # type: ignore[import-untyped]

from spendtray.estimator import tokenizers
from spendtray.estimator.tokenizers import (
    CL100K_BASE,
    O200K_BASE,
    SPECS,
    encoding_for_model,
    get_encoding,
    tiktoken_dir,
    warm_up,
)


def _sha256sums() -> dict[str, str]:
    sums: dict[str, str] = {}
    for line in (tiktoken_dir() / "SHA256SUMS").read_text().splitlines():
        if line.strip():
            digest, name = line.split()
            sums[name] = digest
    return sums


def test_shipped_files_match_sha256sums() -> None:
    sums = _sha256sums()
    assert set(sums) == {spec.file_name for spec in SPECS.values()}
    for name, digest in sums.items():
        assert hashlib.sha256((tiktoken_dir() / name).read_bytes()).hexdigest() == digest


def _tiktoken_definition(name: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """tiktoken's own constructor for ``name``, with its download replaced by a recorder."""
    seen: dict[str, Any] = {}

    def record(url: str, expected_hash: str | None = None) -> dict[bytes, int]:
        seen["expected_hash"] = expected_hash
        return {}

    monkeypatch.setattr(openai_public, "load_tiktoken_bpe", record)
    definition: dict[str, Any] = getattr(openai_public, name)()
    definition["expected_hash"] = seen["expected_hash"]
    return definition


@pytest.mark.parametrize("name", [O200K_BASE, CL100K_BASE])
def test_specs_equal_tiktokens_own(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    reference = _tiktoken_definition(name, monkeypatch)
    spec = SPECS[name]
    assert spec.pat_str == reference["pat_str"]
    assert spec.special_tokens == reference["special_tokens"]
    assert spec.sha256 == reference["expected_hash"] == _sha256sums()[spec.file_name]


@pytest.mark.parametrize(
    ("name", "expected"),
    [(O200K_BASE, [24912, 2375]), (CL100K_BASE, [15339, 1917])],
)
def test_loads_without_network(
    name: str, expected: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("tried to open a network connection")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    encoding = tokenizers._load(SPECS[name])
    assert encoding.encode_ordinary("hello world") == expected
    assert encoding.encode("<|endoftext|>", allowed_special="all") == [
        SPECS[name].special_tokens["<|endoftext|>"]
    ]


def test_concurrent_first_use_loads_once() -> None:
    got: list[tiktoken.Encoding] = []
    threads = [
        threading.Thread(target=lambda: got.append(get_encoding(O200K_BASE))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(got) == 8
    assert all(encoding is got[0] for encoding in got)


def test_warm_up_loads_in_background() -> None:
    thread = warm_up()
    assert thread.daemon
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert all(tokenizers.is_loaded(name) for name in SPECS)


def test_warm_up_rejects_unknown_encoding_in_caller() -> None:
    with pytest.raises(KeyError):
        warm_up(["p50k_base"])


def test_model_mapping_agrees_with_tiktoken() -> None:
    """Every model tiktoken maps to one of our two encodings maps the same way here."""
    ours = {O200K_BASE, CL100K_BASE}
    names = [m for m, e in tiktoken.model.MODEL_TO_ENCODING.items() if e in ours]
    names += [
        prefix + "2024-01-01"
        for prefix, e in tiktoken.model.MODEL_PREFIX_TO_ENCODING.items()
        if e in ours and not prefix.startswith("ft:")
    ]
    assert len(names) > 15
    for name in names:
        assert encoding_for_model(name) == tiktoken.model.encoding_name_for_model(name), name


@pytest.mark.parametrize(
    ("model", "encoding"),
    [
        ("gpt-4o", O200K_BASE),
        ("openai/gpt-4o-2024-08-06", O200K_BASE),
        ("azure/gpt-4o", O200K_BASE),
        ("openrouter/openai/gpt-4o-mini:free", O200K_BASE),
        ("GPT-4.1-nano", O200K_BASE),
        ("gpt-4.5-preview", O200K_BASE),
        ("gpt-5", O200K_BASE),
        ("gpt-5-mini-2025-08-07", O200K_BASE),
        ("gpt-5.1", O200K_BASE),
        ("o1", O200K_BASE),
        ("o1-pro", O200K_BASE),
        ("o3", O200K_BASE),
        ("o3-mini-2025-01-31", O200K_BASE),
        ("o4-mini", O200K_BASE),
        ("chatgpt-4o-latest", O200K_BASE),
        ("ft:gpt-4o-mini-2024-07-18:acme::abc123", O200K_BASE),
        ("gpt-4", CL100K_BASE),
        ("gpt-4-0613", CL100K_BASE),
        ("gpt-4-turbo-2024-04-09", CL100K_BASE),
        ("azure/gpt-35-turbo", CL100K_BASE),
        ("gpt-3.5-turbo-0125", CL100K_BASE),
        ("text-embedding-3-large", CL100K_BASE),
        ("text-embedding-ada-002", CL100K_BASE),
        ("claude-sonnet-4-5", None),
        ("gemini-2.5-pro", None),
        ("o1lite-not-openai", None),
        ("gpt-oss-120b", None),
    ],
)
def test_encoding_for_model(model: str, encoding: str | None) -> None:
    assert encoding_for_model(model) == encoding
