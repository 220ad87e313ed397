"""Undoing ``Content-Encoding`` on the bytes a wrapped transport sees. Any thread.

A transport sees the body as it came off the wire, so a gzip'd JSON answer has to be
decompressed before its usage can be read (the SDK gets its own, separately decoded copy from
httpx). gzip and deflate are done with zlib; ``br`` and ``zstd`` are only ever asked for by
httpx/httpx2 when their decoder packages are installed, so the HTTP library's own decoders are
used for those.
"""

from __future__ import annotations

import importlib
import zlib
from typing import Any, Protocol


class Decoder(Protocol):
    def decode(self, data: bytes) -> bytes: ...

    def flush(self) -> bytes: ...


class _Zlib:
    def __init__(self, wbits: int, raw_fallback: bool) -> None:
        self._obj = zlib.decompressobj(wbits)
        self._raw_fallback = raw_fallback
        self._first = True

    def decode(self, data: bytes) -> bytes:
        first, self._first = self._first, False
        try:
            return self._obj.decompress(data)
        except zlib.error:
            if first and self._raw_fallback:  # "deflate" sent without the zlib header
                self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
                return self._obj.decompress(data)
            raise

    def flush(self) -> bytes:
        return self._obj.flush()


class _Chain:
    def __init__(self, decoders: list[Decoder]) -> None:
        self._decoders = decoders

    def decode(self, data: bytes) -> bytes:
        for decoder in self._decoders:
            data = decoder.decode(data)
        return data

    def flush(self) -> bytes:
        data = b""
        for decoder in self._decoders:
            data = decoder.decode(data) + decoder.flush()
        return data


def _one(name: str, library: str) -> Decoder | None:
    if name == "gzip" or name == "x-gzip":
        return _Zlib(zlib.MAX_WBITS | 16, raw_fallback=False)
    if name == "deflate":
        return _Zlib(zlib.MAX_WBITS, raw_fallback=True)
    try:
        module: Any = importlib.import_module(f"{library}._decoders")
        cls = module.SUPPORTED_DECODERS.get(name)
    except Exception:
        return None
    return cls() if cls is not None else None


def make_decoder(content_encoding: str, library: str) -> Decoder | None:
    """A decoder for a ``Content-Encoding`` value, ``None`` when no decoding is needed.

    Raises ``LookupError`` for an encoding we cannot undo (the call is then not recorded).
    """
    names = [n.strip().lower() for n in content_encoding.split(",")]
    names = [n for n in names if n and n != "identity"]
    if not names:
        return None
    decoders: list[Decoder] = []
    for name in reversed(names):  # applied in order, so undone last-first
        decoder = _one(name, library)
        if decoder is None:
            raise LookupError(f"cannot decode Content-Encoding {name!r}")
        decoders.append(decoder)
    return decoders[0] if len(decoders) == 1 else _Chain(decoders)
