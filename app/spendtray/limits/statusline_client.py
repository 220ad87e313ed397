"""The statusline command's one request to the running app. Stdlib only; main thread.

The statusline runs on every Claude Code update, so it goes through ``spendtray.loopback_http``
(a plain socket, no ``http.client``/``ssl``/``email`` imports). Before the token leaves, the
server proves it is this data folder's Spendtray (``spendtray.identity``, issue #21): a program
squatting on the port receives neither the token nor the JSON.
"""

from __future__ import annotations

import json

from spendtray import identity, loopback_http

TYPE_CHECKING = False  # see limits.model: typing is not imported on the statusline's path
if TYPE_CHECKING:
    from typing import Any

MAX_REPLY = 256 * 1024
NOT_RUNNING = "spendtray not running"
SQUATTER = "spendtray: port taken by another program"
NO_ANSWER = "spendtray not answering"


def _split(url: str) -> tuple[str, int] | None:
    """(host, port) of ``http://host[:port][/...]``; None for anything else."""
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


def ask(url: str, token: str | None, body: bytes, timeout: float) -> dict[str, Any] | str:
    """The app's answer to ``POST /v1/statusline``, or why there is none (one short phrase
    the line ends with)."""
    where = _split(url)
    if where is None or not token:
        return NOT_RUNNING  # no token: this folder's app never ran, nothing to prove or send
    try:
        identity.verify(url, token, timeout=timeout)
    except identity.Unreachable:
        return NOT_RUNNING
    except identity.NotSpendtray:
        return SQUATTER
    try:
        status, payload = loopback_http.request(
            where[0],
            where[1],
            "POST",
            "/v1/statusline",
            {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            body,
            timeout=timeout,
            max_bytes=MAX_REPLY,
        )
        reply = json.loads(payload) if 200 <= status < 300 else None
    except (OSError, loopback_http.BadReply, ValueError):
        return NO_ANSWER
    return reply if isinstance(reply, dict) else NO_ANSWER
