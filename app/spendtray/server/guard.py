"""Request guards shared by every route: Host, Origin, token, content type, body size.

Runs on the server's event loop thread. These are the DNS-rebinding and CSRF defences of a
loopback service: a web page the user visits can reach 127.0.0.1, so we refuse any request
whose Host is not a loopback name, any browser Origin not explicitly allowed, any JSON route
called with a form content type, and anything without the token.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

Handler = Callable[[Request], Awaitable[Response]]

LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
JSON_TYPES = frozenset(
    {
        "application/json",
        "application/x-ndjson",
        "application/ndjson",
        "application/jsonl",
        "application/jsonlines",
        "application/x-jsonlines",
    }
)


class ApiError(Exception):
    def __init__(
        self, status: int, message: str, details: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details or []


def error_response(
    status: int, message: str, details: list[dict[str, Any]] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"error": {"message": message}}
    if details:
        body["error"]["details"] = details
    return JSONResponse(body, status_code=status)


def host_is_loopback(host_header: str | None) -> bool:
    if not host_header:
        return False
    host = host_header.strip().lower()
    if host.startswith("["):
        name = host.split("]", 1)[0] + "]"
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return name in LOOPBACK_NAMES or name.startswith("127.")


class Guard:
    def __init__(self, token: str, require_token: bool, allowed_origins: tuple[str, ...]) -> None:
        self.token = token.encode()
        self.require_token = require_token
        self.allowed_origins = frozenset(o.rstrip("/").lower() for o in allowed_origins)

    def check(self, request: Request, authenticate: bool = True) -> None:
        headers = request.headers
        if not host_is_loopback(headers.get("host")):
            raise ApiError(403, "refused: the Host header is not a loopback address")
        origin = headers.get("origin")
        if origin is not None and origin.rstrip("/").lower() not in self.allowed_origins:
            raise ApiError(403, f"refused: browser origin {origin!r} is not in allowed_origins")
        if authenticate and self.require_token:
            supplied = headers.get("x-spendtray-token")
            auth = headers.get("authorization")
            if supplied is None and auth and auth[:7].lower() == "bearer ":
                supplied = auth[7:].strip()
            if not supplied:
                raise ApiError(
                    401, "missing token: send 'Authorization: Bearer <token>' (spendtray token)"
                )
            if not hmac.compare_digest(supplied.encode(), self.token):
                raise ApiError(401, "wrong token (see `spendtray token`)")

    def protect(self, handler: Handler, authenticate: bool = True) -> Handler:
        """``handler`` behind the checks; an ``ApiError`` anywhere becomes its JSON error."""

        async def run(request: Request) -> Response:
            try:
                self.check(request, authenticate)
                return await handler(request)
            except ApiError as exc:
                return error_response(exc.status, exc.message, exc.details)

        return run

    @staticmethod
    def json_content_type(request: Request) -> str:
        raw = request.headers.get("content-type", "")
        media = raw.split(";", 1)[0].strip().lower()
        if media in JSON_TYPES or (media.startswith("application/") and media.endswith("+json")):
            return media
        shown = media or "none"
        raise ApiError(
            415,
            f"unsupported content type {shown!r}: send Content-Type: application/json "
            "(or application/x-ndjson)",
        )


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refusing with 413 as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise ApiError(400, "Content-Length is not a number") from None
        if size > limit:
            raise ApiError(413, f"body of {size} bytes is over the limit of {limit} bytes")
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise ApiError(413, f"body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
