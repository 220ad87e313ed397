"""Is the server on the port the Spendtray of *this* data folder? Checked before sending it a
token, events or a provider key. Standard library only and cheap to import (no httpx): every
client-side command calls it — the Python client, ``spendtray run``, ``import``,
``statusline``, the hooks, ``check``, ``mcp``. Any thread.

Why: anything can listen on 127.0.0.1:8719 while the app is not running (another user's
process, a stale tool). Sent there, the ingest token and events leak or vanish, and through
``spendtray run`` a provider key. So the client proves who answers first, without revealing
the token:

1. the client picks a random ``nonce`` and asks ``GET /v1/identity?nonce=<hex>`` (no token);
2. the server answers ``{"app": "spendtray", "proof": proof(token, nonce, port)}``, where
   ``port`` is the port the request came in on;
3. the client computes the same proof from the token it would send and compares.

The proof is HMAC-SHA256 under a key derived from the token (``identity_key``), so it shows
knowledge of the token and reveals nothing about it; the fresh nonce stops replays, and the
port in the message stops a squatter from relaying the challenge to the real app on another
port. A server that answers nothing or something else is not Spendtray.

API (what callers use):

- ``verify(url, token | None, timeout=2.0) -> None`` raises ``NotSpendtray`` (its ``str`` is
  one line to show the user: say it and spool or stop, never send) or ``Unreachable`` (nothing
  answers: the app is down). A success is remembered per (url, token) for ``REMEMBER_SECONDS``, so
  calling it before every request costs a round trip only now and then.
- ``forget(url)`` drops what was remembered (call it after a connection error: whatever
  answers next must prove itself again).
- ``proof(token, nonce, port)`` and ``identity_key(token)``: the server's side
  (``spendtray.server`` route ``GET /v1/identity``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import time
import urllib.parse

from spendtray import loopback_http

IDENTITY_PATH = "/v1/identity"
APP = "spendtray"
REMEMBER_SECONDS = 30.0
MAX_REPLY_BYTES = 4096
_KEY_LABEL = b"spendtray identity v1"


class NotSpendtray(Exception):
    """Something answers on the port, but it is not the Spendtray of this data folder."""


class Unreachable(Exception):
    """Nothing answers on the port (the app is not running)."""


def identity_key(token: str) -> bytes:
    """The key the proof is made with: derived from the token, never the token itself."""
    return hmac.new(token.encode(), _KEY_LABEL, hashlib.sha256).digest()


def proof(token: str, nonce: str, port: int) -> str:
    """HMAC-SHA256 of "nonce:port" under ``identity_key(token)``, as hex."""
    message = f"{nonce}:{port}".encode()
    return hmac.new(identity_key(token), message, hashlib.sha256).hexdigest()


def valid_nonce(nonce: str) -> bool:
    """16 to 128 hex digits."""
    return 16 <= len(nonce) <= 128 and all(c in "0123456789abcdef" for c in nonce)


_verified: dict[tuple[str, str], float] = {}
_lock = threading.Lock()


def forget(url: str) -> None:
    """Forget that ``url`` proved itself (for any token)."""
    base = url.rstrip("/")
    with _lock:
        for key in [k for k in _verified if k[0] == base]:
            del _verified[key]


def verify(url: str, token: str | None, timeout: float = 2.0) -> None:
    """Return when the server at ``url`` proves it holds ``token``; else ``NotSpendtray`` or
    ``Unreachable``, each with a one-line message. ``token`` None (the data folder has none:
    its Spendtray never ran) passes nothing: whatever answers is someone else."""
    base = url.rstrip("/")
    now = time.monotonic()
    with _lock:
        until = _verified.get((base, token)) if token is not None else None
    if until is not None and now < until:
        return
    parts = urllib.parse.urlsplit(base)
    if parts.scheme != "http" or not parts.hostname:
        raise NotSpendtray(f"{base} is not a local http:// address of Spendtray")
    host, port = parts.hostname, parts.port or 80
    nonce = os.urandom(16).hex()
    status, body = _get(host, port, f"{IDENTITY_PATH}?nonce={nonce}", timeout)
    where = f"{host}:{port}" if ":" not in host else f"[{host}]:{port}"
    try:
        reply = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        reply = None
    if token is None:
        raise NotSpendtray(
            f"the server on {where} is not the Spendtray of this data folder (the folder has "
            "no token: its Spendtray never ran); nothing was sent to it"
        )
    if status != 200 or not isinstance(reply, dict) or reply.get("app") != APP:
        raise NotSpendtray(
            f"the server on {where} is not Spendtray (no identity answer); nothing was sent to it"
        )
    given = reply.get("proof")
    if not isinstance(given, str) or not hmac.compare_digest(given, proof(token, nonce, port)):
        raise NotSpendtray(
            f"the server on {where} is not the Spendtray of this data folder (its identity "
            "proof does not match this folder's token); nothing was sent to it"
        )
    with _lock:
        _verified[(base, token)] = time.monotonic() + REMEMBER_SECONDS


def _get(host: str, port: int, target: str, timeout: float) -> tuple[int, bytes]:
    """(status, body of at most MAX_REPLY_BYTES). Over ``loopback_http``, not ``http.client``:
    the commands run before every tool call cannot afford importing ``ssl`` and ``email``."""
    try:
        return loopback_http.request(
            host, port, "GET", target, timeout=timeout, max_bytes=MAX_REPLY_BYTES
        )
    except ConnectionRefusedError as exc:
        raise Unreachable(f"nothing answers on {host}:{port}") from exc
    except (OSError, loopback_http.BadReply) as exc:
        raise NotSpendtray(
            f"the server on {host}:{port} did not answer Spendtray's identity check ({exc}); "
            "nothing was sent to it"
        ) from exc
