"""Request guards shared by every route: Host, Origin, token, content type, body size.

Runs on the server's event loop thread. These are the DNS-rebinding and CSRF defences of a
loopback service: a web page the user visits can reach 127.0.0.1, so we refuse any request
whose Host is not a loopback name, any browser Origin not explicitly allowed, any JSON route
called with a form content type, and anything without the token.
"""

from __future__ import annotations

import hmac
import logging
import re
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive

from spendtray.ingest.bounds import TotalsFull
from spendtray.store.writer import StoreBusy

log = logging.getLogger("spendtray.server")

Handler = Callable[[Request], Awaitable[Response]]


class HeaderLookup(Protocol):
    """Starlette's ``Headers`` or the raw-scope ``scope_headers`` dict: ``get`` by lower-case
    name."""

    def get(self, key: str, /) -> str | None: ...


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


# Seconds a client should wait before sending again after a 503 (the store was busy).
RETRY_AFTER_SECONDS = 1


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details or []
        self.headers = headers or {}


def error_body(message: str, details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """SPEC §4's error shape."""
    body: dict[str, Any] = {"error": {"message": message}}
    if details:
        body["error"]["details"] = details
    return body


def error_response(
    status: int,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(message, details), status_code=status, headers=headers)


def refusal(exc: BaseException) -> ApiError | None:
    """The error to answer for an exception that names what the request or the machine got
    wrong (rather than a bug): None for anything else, which is a logged 500."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, TotalsFull):
        return ApiError(400, f"nothing stored: {exc}")
    if isinstance(exc, StoreBusy):
        return ApiError(
            503,
            "nothing stored: the database is locked by another process; retry after a moment",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, RecursionError):
        return ApiError(400, "the JSON body is nested too deeply")
    if isinstance(exc, sqlite3.OperationalError) and "full" in str(exc):
        return ApiError(507, "disk full: nothing stored; free some space and send again")
    return None


def answer_error(exc: Exception, what: str) -> ApiError:
    """``refusal(exc)``, or a 500 that is logged with its traceback to spendtray.log."""
    known = refusal(exc)
    if known is not None:
        return known
    log.error("%s failed", what, exc_info=exc)
    return ApiError(500, "internal error; see the spendtray log")


# Exactly a loopback name the server can be reached by, with an optional port: a DNS name an
# attacker controls ("127.0.0.1.evil.com"), or a spelling only some resolvers read as loopback
# ("127.1", "0x7f.1", "localhost.", "[::ffff:127.0.0.1]"), is refused. Case does not matter:
# a host name is case-insensitive and no DNS name becomes loopback by its case.
_LOOPBACK_HOST = re.compile(r"(?:127\.0\.0\.1|localhost|\[::1\])(?::[0-9]{1,5})?")


# The same, on a header's bytes (``Guard.passes``): only ASCII matches, and bytes.lower lowers
# ASCII letters as str.lower does.
_LOOPBACK_HOST_BYTES = re.compile(_LOOPBACK_HOST.pattern.encode())


def host_is_loopback(host_header: str | None) -> bool:
    if not host_header:
        return False
    return _LOOPBACK_HOST.fullmatch(host_header.lower()) is not None


class Guard:
    def __init__(self, token: str, require_token: bool, allowed_origins: tuple[str, ...]) -> None:
        self.token = token.encode()
        self.require_token = require_token
        self.allowed_origins = frozenset(o.rstrip("/").lower() for o in allowed_origins)

        # ``passes`` may answer for this token: ASCII (so a header's bytes equal it exactly
        # when its text does) with nothing ``str.strip`` takes off its ends.
        self._bytes_token = token.isascii() and token.strip() == token

    def passes(self, found: dict[bytes, bytes]) -> bool:
        """True when ``check_headers`` accepts a request with these header values (its raw
        ones: lower-case names, each name once), found without decoding them; False means
        nothing: ``check_headers`` decides (and names the problem). Single-event POSTs ask
        this on every request: decoding every header and the checks on text cost about as
        much as the HTTP parsing of the request."""
        host = found.get(b"host")
        if host is None or _LOOPBACK_HOST_BYTES.fullmatch(host.lower()) is None:
            return False
        if b"origin" in found:  # a browser's request: the origin list decides, on text
            return False
        if not self.require_token:
            return True
        if not self._bytes_token:
            return False
        supplied = found.get(b"x-spendtray-token")
        if supplied is None:
            auth = found.get(b"authorization")
            if auth is None or auth[:7].lower() != b"bearer ":
                return False
            supplied = auth[7:].strip()
        return hmac.compare_digest(supplied, self.token)

    def check(self, request: Request, authenticate: bool = True) -> None:
        self.check_headers(request.headers, authenticate)

    def check_headers(self, headers: HeaderLookup, authenticate: bool = True) -> None:
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
            except ClientDisconnect:
                raise
            except Exception as exc:
                error = answer_error(exc, f"{request.method} {request.url.path}")
                return error_response(error.status, error.message, error.details, error.headers)

        return run

    @staticmethod
    def json_content_type(request: Request) -> str:
        return json_media_type(request.headers)


def json_media_type(headers: HeaderLookup) -> str:
    """The request's JSON media type, or 415 for anything else."""
    media = (headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if media in JSON_TYPES or (media.startswith("application/") and media.endswith("+json")):
        return media
    shown = media or "none"
    raise ApiError(
        415,
        f"unsupported content type {shown!r}: send Content-Type: application/json "
        "(or application/x-ndjson)",
    )


def check_declared_length(headers: HeaderLookup, limit: int) -> None:
    """413 before reading a body whose Content-Length is already over ``limit``."""
    declared = headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise ApiError(400, "Content-Length is not a number") from None
        if size > limit:
            raise ApiError(413, f"body of {size} bytes is over the limit of {limit} bytes")


def scope_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """An ASGI scope's header list as a dict (names are lower-case per ASGI; a repeated
    header keeps its first value, as Starlette's ``Headers.get`` does)."""
    out: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1")
        if key not in out:
            out[key] = value.decode("latin-1")
    return out


async def receive_body(receive: Receive, limit: int) -> bytes:
    """The body from an ASGI ``receive``, refusing with 413 as soon as it passes ``limit``
    bytes; ``ClientDisconnect`` when the client goes away first."""
    chunks: list[bytes] = []
    total = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunk = message.get("body", b"")
        if chunk:
            total += len(chunk)
            if total > limit:
                raise ApiError(413, f"body is over the limit of {limit} bytes")
            chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refusing with 413 as soon as it passes ``limit`` bytes."""
    check_declared_length(request.headers, limit)
    return await receive_body(request.receive, limit)
