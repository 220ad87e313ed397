"""The statusline command's one request to the running app. Stdlib only; main thread.

The statusline runs on every Claude Code update, so this avoids ``http.client`` (and the email
package it pulls in) and speaks the few lines of HTTP/1.0 it needs over a plain socket: one
``POST /v1/statusline`` with the JSON Claude Code sent, ``Connection: close``, the answer read to
the end. Any failure — app not running, timeout, an answer that is not ours — is ``None``; the
caller then prints the line from the JSON alone.

Before the token leaves, the server's identity is checked with ``spendtray.identity`` when that
module exists (issue #21: another program squatting on the port must not receive the token);
``verify`` below is the seam.
"""

from __future__ import annotations

import json
import socket

TYPE_CHECKING = False  # see limits.model: typing is not imported on the statusline's path
if TYPE_CHECKING:
    from typing import Any

MAX_REPLY = 256 * 1024


def _split(url: str) -> tuple[str, int] | None:
    """(host, port) of ``http://host[:port][/...]``; None for anything else (urllib.parse is
    left out: it costs more to import than this whole request takes)."""
    if not url.startswith("http://"):
        return None
    authority = url[len("http://") :].split("/", 1)[0]
    if authority.startswith("["):  # [::1]:8719
        host, _, rest = authority[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port_text = authority.partition(":")
    if not host:
        return None
    try:
        port = int(port_text) if port_text else 80
    except ValueError:
        return None
    return (host, port) if 0 < port < 65536 else None


def verify(url: str, token: str, timeout: float) -> bool:
    """True when the server at ``url`` proves it is this user's Spendtray (issue #21's
    identity check), or when this installation has no identity helper yet."""
    try:
        from spendtray import identity  # type: ignore[attr-defined]
    except ImportError:
        return True
    check = getattr(identity, "verify_server", None)
    if check is None:
        return True
    try:
        return bool(check(url, token, timeout=timeout))
    except Exception:
        return False


def post_json(url: str, path: str, body: bytes, token: str | None, timeout: float) -> Any:
    """POST ``body`` (JSON) and return the decoded 2xx answer, or None on any failure."""
    where = _split(url)
    if where is None:
        return None
    host, port = where
    head = [
        f"POST {path} HTTP/1.0",
        f"Host: {host}:{port}" if ":" not in host else f"Host: [{host}]:{port}",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        "Connection: close",
    ]
    if token:
        head.append(f"Authorization: Bearer {token}")
    request = ("\r\n".join(head) + "\r\n\r\n").encode("ascii") + body
    try:
        # A bytes host: getaddrinfo then skips the IDNA codec (and its unicodedata import).
        family, kind, proto, _, address = socket.getaddrinfo(
            host.encode("ascii"), port, type=socket.SOCK_STREAM
        )[0]
        with socket.socket(family, kind, proto) as sock:
            sock.settimeout(timeout)
            sock.connect(address)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.sendall(request)
            chunks: list[bytes] = []
            size = 0
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_REPLY:
                    return None
    except (OSError, UnicodeError):
        return None
    raw = b"".join(chunks)
    header, _, payload = raw.partition(b"\r\n\r\n")
    status = header.split(b"\r\n", 1)[0].split()
    if len(status) < 2 or not status[1].startswith(b"2"):
        return None
    try:
        return json.loads(payload)
    except ValueError:
        return None
