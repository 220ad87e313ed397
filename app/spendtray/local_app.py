"""Asking the running app over its loopback HTTP API: the client side of ``spendtray check``,
the Claude Code hook and ``spendtray mcp``. Standard library only and cheap to import (these
run before every prompt or tool call). Caller's thread.

Finds the app the way the Python client does (``datadir.server_url``, the data folder's token),
proves the server is this data folder's Spendtray (``spendtray.identity``) before the token is
sent, and answers parsed JSON. Anything that means "no answer to be had" — nothing listening,
a timeout, a server that is not Spendtray, a token it refuses — is ``AppDown`` with a one-line
reason; an answered error (a bad argument) is ``AppError``.
"""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path
from typing import Any

from spendtray import identity, loopback_http
from spendtray.datadir import data_home, loopback_url, read_token, server_url

MAX_REPLY_BYTES = 8 * 1024 * 1024


class AppDown(Exception):
    """No answer from this data folder's Spendtray; ``str`` is one line for the user."""


class AppError(Exception):
    """The app answered with an error (4xx) about the request."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class LocalApp:
    def __init__(self, url: str, token: str | None, timeout: float = 2.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout
        parts = urllib.parse.urlsplit(self.url)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        self._verified = False

    @classmethod
    def find(
        cls, home: Path | None = None, port: int | None = None, timeout: float = 2.0
    ) -> LocalApp:
        """The app of ``home`` (default: ``$SPENDTRAY_HOME`` or the platform's folder);
        ``port`` overrides the configured one (the CLI's ``--port``)."""
        folder = home or data_home()
        url = loopback_url("127.0.0.1", port) if port else server_url(folder)
        return cls(url, read_token(folder), timeout)

    def _verify(self) -> None:
        """Prove the server's identity before the token leaves this process (port squatting)."""
        if self._verified:
            return
        if self.token is None:
            raise AppDown(
                "Spendtray is not running: it has never run with this data folder (no token)"
            )
        try:
            identity.verify(self.url, self.token, self.timeout)
        except identity.Unreachable as exc:
            raise AppDown(f"Spendtray is not running ({exc})") from None
        except identity.NotSpendtray as exc:
            raise AppDown(str(exc)) from None
        self._verified = True

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET ``path`` with ``params`` (None values left out) -> the JSON answer."""
        query = {k: str(v) for k, v in (params or {}).items() if v is not None}
        target = path + ("?" + urllib.parse.urlencode(query) if query else "")
        return self._request("GET", target, None)

    def post(self, path: str, body: Any) -> Any:
        """POST ``body`` as JSON to ``path`` -> the JSON answer."""
        return self._request("POST", path, json.dumps(body).encode())

    def _request(self, method: str, target: str, body: bytes | None) -> Any:
        self._verify()
        headers = {"Authorization": f"Bearer {self.token}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        try:
            status, raw = loopback_http.request(
                self._host, self._port, method, target, headers, body, self.timeout, MAX_REPLY_BYTES
            )
        except ConnectionRefusedError:
            raise AppDown(
                f"Spendtray is not running (nothing answers on {self._host}:{self._port})"
            ) from None
        except TimeoutError:
            raise AppDown(f"Spendtray at {self.url} did not answer in {self.timeout:g} s") from None
        except (OSError, loopback_http.BadReply) as exc:
            raise AppDown(f"Spendtray at {self.url} could not be asked: {exc}") from None
        try:
            answer = json.loads(raw) if raw else None
        except (ValueError, UnicodeDecodeError):
            raise AppDown(f"Spendtray at {self.url} answered something that is not JSON") from None
        if status in (401, 403):
            raise AppDown(f"Spendtray at {self.url} refused this data folder's token")
        if status >= 400:
            raise AppError(status, _error_message(answer) or f"HTTP {status}")
        return answer


def _error_message(answer: Any) -> str | None:
    if isinstance(answer, dict):
        error = answer.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])
    return None
