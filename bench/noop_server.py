"""Baseline for bench/ingest.py: a no-op uvicorn + Starlette endpoint that only parses the JSON.

Same loop, HTTP parser and socket setup as Spendtray's server, so the ratio isolates our work.
"""

from __future__ import annotations

import json
import sys

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[1] / "app"))

from spendtray.server.runner import ServerRunner


async def usage(request: Request) -> JSONResponse:
    data = json.loads(await request.body())
    return JSONResponse({"accepted": 1 if isinstance(data, dict) else len(data)}, status_code=202)


def main() -> None:
    app = Starlette(routes=[Route("/v1/usage", usage, methods=["POST"])])
    runner = ServerRunner(app, "127.0.0.1", int(sys.argv[1]))
    runner.run()


if __name__ == "__main__":
    main()
