"""A stand-in provider API for the screenshots: answers with REAL recorded responses.

The VCR cassettes in ../shared/corpora/provider_responses were recorded against the live
OpenAI API by their projects (SOURCES.md). This loopback server replays them, one per request
in the order given, so calls made through Spendtray's real proxy end as they really ended:
priced, refused with a 404, streamed without usage, or cut off by a client that hangs up.
Run by packaging/screenshots.py on its own thread; stdlib only.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

_BODY = re.compile(r"^  response:\n    body:\n      string: \|([+-])\n", re.M)
_STATUS = re.compile(r"^    status:\n      code: (\d+)", re.M)
_TYPE = re.compile(r"^      Content-Type:\n      - (.+)$", re.M | re.I)


@dataclass(frozen=True)
class Recorded:
    status: int
    content_type: str
    body: bytes
    pause_after_first_chunk: float = 0.0  # seconds: lets a client hang up mid-stream


def read_cassette(path: Path, pause_after_first_chunk: float = 0.0) -> Recorded:
    """The first interaction's response of a cassette (block-scalar body, as VCR writes it)."""
    text = path.read_text()
    found = _BODY.search(text)
    if found is None:
        raise ValueError(f"{path}: no literal response body")
    lines: list[str] = []
    for line in text[found.end() :].splitlines():
        if line.strip() and not line.startswith("        "):
            break
        lines.append(line[8:])
    body = "\n".join(lines)
    body = body + "\n" if found.group(1) == "+" else body.rstrip("\n")
    response = text[found.start() :]
    status = _STATUS.search(response)
    kind = _TYPE.search(response)
    return Recorded(
        int(status.group(1)) if status else 200,
        kind.group(1).strip() if kind else "application/json",
        body.encode(),
        pause_after_first_chunk,
    )


class ReplayUpstream:
    """Serves ``responses`` in order on 127.0.0.1 (``url``); ``close`` stops it."""

    def __init__(self, responses: list[Recorded]) -> None:
        queue = deque(responses)

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                answer = queue.popleft()
                self.send_response(answer.status)
                self.send_header("content-type", answer.content_type)
                if answer.pause_after_first_chunk:
                    self.send_header("connection", "close")
                    self.end_headers()
                    first, _, rest = answer.body.partition(b"\n\n")
                    self.wfile.write(first + b"\n\n")
                    self.wfile.flush()
                    time.sleep(answer.pause_after_first_chunk)
                    # OSError: the proxy closed its side because the client hung up
                    with contextlib.suppress(OSError):
                        self.wfile.write(rest)
                    return
                self.send_header("content-length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, name="replay-upstream", daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
