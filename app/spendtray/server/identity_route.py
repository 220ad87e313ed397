"""``GET /v1/identity?nonce=<hex>``: the server's side of ``spendtray.identity``. Event loop.

Unauthenticated (loopback Host only): it proves this is the Spendtray of the caller's data
folder without the token leaving either side. The port in the proof is the one the request
came in on, so a squatter relaying the challenge to this server on another port gets a proof
the client refuses.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from spendtray import __version__
from spendtray.identity import APP, proof, valid_nonce
from spendtray.server.guard import ApiError, Handler


def identity_handler(token: str) -> Handler:
    async def get_identity(request: Request) -> Response:
        nonce = request.query_params.get("nonce", "")
        if not valid_nonce(nonce):
            raise ApiError(400, "nonce: must be 16 to 128 lower-case hex digits")
        server = request.scope.get("server")
        if not server:
            raise ApiError(400, "no local port to prove the identity for")
        return JSONResponse(
            {"app": APP, "version": __version__, "proof": proof(token, nonce, int(server[1]))}
        )

    return get_identity
