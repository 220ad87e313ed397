"""OpenAI's tiktoken encodings, loaded offline from resources/tiktoken/, and fast token counts.

Any thread. Encodings load lazily on first use (~0.5 s for o200k_base, ~0.25 s for
cl100k_base), once per process, under a per-encoding lock so two request threads never parse
the same 3 MB file twice; ``warm_up()`` does it on a daemon thread at start-up so the first
estimate does not pay for it. tiktoken is never asked to resolve an encoding by name, because its
registry would download the file: we build ``tiktoken.Encoding`` from the shipped file with the
same regex and special tokens as ``tiktoken_ext/openai_public.py``.

Large texts are cut into chunks at points where both encodings' pre-tokenizer regexes must start a
new piece anyway (a space between two lower-case ASCII letters), so the chunked count equals the
whole-text count, and the chunks are encoded on several threads (tiktoken's Rust core releases
the GIL).
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import tiktoken

from spendtray.estimator.naming import bare_model_name
from spendtray.paths import resources_dir

O200K_BASE = "o200k_base"
CL100K_BASE = "cl100k_base"

_ENDOFTEXT = "<|endoftext|>"
_FIM_PREFIX = "<|fim_prefix|>"
_FIM_MIDDLE = "<|fim_middle|>"
_FIM_SUFFIX = "<|fim_suffix|>"
_ENDOFPROMPT = "<|endofprompt|>"


@dataclass(frozen=True)
class EncodingSpec:
    """What tiktoken needs to build one encoding, copied from tiktoken_ext/openai_public.py."""

    name: str
    file_name: str
    sha256: str
    pat_str: str
    special_tokens: dict[str, int]


SPECS: dict[str, EncodingSpec] = {
    CL100K_BASE: EncodingSpec(
        name=CL100K_BASE,
        file_name="cl100k_base.tiktoken",
        sha256="223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        pat_str=(
            r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+|"""
            r""" ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
        ),
        special_tokens={
            _ENDOFTEXT: 100257,
            _FIM_PREFIX: 100258,
            _FIM_MIDDLE: 100259,
            _FIM_SUFFIX: 100260,
            _ENDOFPROMPT: 100276,
        },
    ),
    O200K_BASE: EncodingSpec(
        name=O200K_BASE,
        file_name="o200k_base.tiktoken",
        sha256="446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        pat_str="|".join(
            [
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+"""
                r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*"""
                r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
                r"""\p{N}{1,3}""",
                r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
                r"""\s*[\r\n]+""",
                r"""\s+(?!\S)""",
                r"""\s+""",
            ]
        ),
        special_tokens={_ENDOFTEXT: 199999, _ENDOFPROMPT: 200018},
    ),
}

ENCODING_NAMES: tuple[str, ...] = tuple(SPECS)

# Checked in order, first match wins: the o200k families must come before the "gpt-4" catch-all.
_O200K_EXACT = frozenset({"gpt-4o", "gpt-4.1", "gpt-4.5", "gpt-5", "o1", "o3", "o4-mini"})
_O200K_PREFIXES = (
    "gpt-4o",
    "gpt-4.1",
    "gpt-4.5",
    "gpt-5",
    "chatgpt-4o",
    "o1-",
    "o3-",
    "o4-",
    # codex-mini is a fine-tune of o4-mini
    "codex-mini",
)
_CL100K_EXACT = frozenset(
    {
        "gpt-4",
        "gpt-3.5",
        "gpt-3.5-turbo",
        "gpt-35-turbo",
        "text-embedding-ada-002",
        "davinci-002",
        "babbage-002",
    }
)
_CL100K_PREFIXES = ("gpt-4-", "gpt-3.5-turbo", "gpt-35-turbo", "text-embedding-3")

# Below this size threads cost more than they save.
_PARALLEL_MIN_CHARS = 256 * 1024
_CHUNK_CHARS = 128 * 1024
# A space between two lower-case ASCII letters: the letter run before it ends there in both
# regexes and the piece after it (" word") starts there, and no pattern looks behind, so
# encoding the two halves separately yields exactly the tokens of the whole.
_SAFE_SPLIT = re.compile(r"(?<=[a-z]) (?=[a-z])")

_loaded: dict[str, tiktoken.Encoding] = {}
_locks: dict[str, threading.Lock] = {name: threading.Lock() for name in SPECS}


def tiktoken_dir() -> Path:
    """The folder holding the shipped ``*.tiktoken`` files and their SHA256SUMS."""
    return resources_dir() / "tiktoken"


def encoding_for_model(model: str) -> str | None:
    """The tiktoken encoding an OpenAI model uses, or None when the model is not OpenAI's."""
    name = bare_model_name(model)
    if name in _O200K_EXACT or name.startswith(_O200K_PREFIXES):
        return O200K_BASE
    if name in _CL100K_EXACT or name.startswith(_CL100K_PREFIXES):
        return CL100K_BASE
    return None


def _load(spec: EncodingSpec) -> tiktoken.Encoding:
    path = tiktoken_dir() / spec.file_name
    data = path.read_bytes()
    # Checked here rather than through load_tiktoken_bpe(expected_hash=...), which would also
    # copy the file into a temp-dir cache keyed by its path on every new install location.
    digest = hashlib.sha256(data).hexdigest()
    if digest != spec.sha256:
        raise ValueError(f"{path} is damaged: sha256 {digest}, expected {spec.sha256}")
    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return tiktoken.Encoding(
        name=spec.name,
        pat_str=spec.pat_str,
        mergeable_ranks=ranks,
        special_tokens=spec.special_tokens,
    )


def get_encoding(name: str) -> tiktoken.Encoding:
    """The named encoding, loaded from the shipped file on first use; KeyError if not shipped."""
    encoding = _loaded.get(name)
    if encoding is not None:
        return encoding
    spec = SPECS[name]
    with _locks[name]:
        encoding = _loaded.get(name)
        if encoding is None:
            encoding = _load(spec)
            _loaded[name] = encoding
    return encoding


def is_loaded(name: str) -> bool:
    """Whether ``get_encoding(name)`` would return at once."""
    return name in _loaded


def warm_up(names: Iterable[str] = ENCODING_NAMES) -> threading.Thread:
    """Load ``names`` on a daemon thread and return it (join it to wait)."""
    wanted = tuple(names)
    for name in wanted:
        SPECS[name]  # fail fast in the caller's thread on a typo

    def run() -> None:
        for name in wanted:
            get_encoding(name)

    thread = threading.Thread(target=run, name="spendtray-tiktoken-warmup", daemon=True)
    thread.start()
    return thread


def _worker_count() -> int:
    return max(1, min(8, os.cpu_count() or 1))


def split_for_counting(text: str, chunk_chars: int = _CHUNK_CHARS) -> list[str]:
    """Cut ``text`` into pieces of about ``chunk_chars`` whose token counts add up exactly.

    A piece may run longer than ``chunk_chars`` when no safe cut point is near (e.g. CJK text or
    minified code); correctness never depends on finding one.
    """
    pieces: list[str] = []
    start = 0
    length = len(text)
    while length - start > chunk_chars:
        match = _SAFE_SPLIT.search(text, start + chunk_chars)
        if match is None:
            break
        cut = match.start()
        pieces.append(text[start:cut])
        start = cut
    pieces.append(text[start:])
    return pieces


def count_text(text: str, encoding_name: str) -> int:
    """Exact number of tokens in ``text`` (special-token strings counted as ordinary text)."""
    encoding = get_encoding(encoding_name)
    if len(text) < _PARALLEL_MIN_CHARS:
        return len(encoding.encode_ordinary(text))
    pieces = split_for_counting(text)
    if len(pieces) == 1:
        return len(encoding.encode_ordinary(text))
    batches = encoding.encode_ordinary_batch(pieces, num_threads=_worker_count())
    return sum(len(tokens) for tokens in batches)


def count_texts(texts: Sequence[str], encoding_name: str) -> list[int]:
    """Token counts of several texts, the big ones chunked and the small ones batched."""
    encoding = get_encoding(encoding_name)
    counts = [0] * len(texts)
    small: list[int] = []
    for index, text in enumerate(texts):
        if len(text) >= _PARALLEL_MIN_CHARS:
            counts[index] = count_text(text, encoding_name)
        else:
            small.append(index)
    if small:
        batches = encoding.encode_ordinary_batch(
            [texts[i] for i in small], num_threads=_worker_count()
        )
        for index, tokens in zip(small, batches, strict=True):
            counts[index] = len(tokens)
    return counts
