"""Re-record ``litellm_generic_api_body.json``: the exact body LiteLLM's ``generic_api`` logger
POSTs (``litellm/integrations/generic_api/generic_api_callback.py``, ``log_format`` json_array),
one ``StandardLoggingPayload`` (``litellm/types/utils.py``) per call.

Not part of the test run (litellm and its ~35 dependencies stay out of the test environment).
Run it in a throwaway venv: ``python -m venv /tmp/ll && /tmp/ll/bin/pip install litellm &&
/tmp/ll/bin/python tests/receivers/data/record_litellm_payload.py``. Calls use LiteLLM's
``mock_response``: nothing leaves the machine and no API key is needed.
"""

import asyncio
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from importlib import metadata
from pathlib import Path

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # no price-map download at import

import contextlib

import litellm
from litellm.caching.caching import Cache
from litellm.integrations.generic_api.generic_api_callback import GenericAPILogger
from litellm.types.utils import (
    CompletionTokensDetailsWrapper,
    ModelResponse,
    PromptTokensDetailsWrapper,
    Usage,
)

OUT = Path(__file__).with_name("litellm_generic_api_body.json")
bodies: list[bytes] = []


class Recorder(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        bodies.append(self.rfile.read(int(self.headers["content-length"])))
        print("content-type:", self.headers["content-type"], file=sys.stderr)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


async def main(port: int) -> None:
    logger = GenericAPILogger(
        endpoint=f"http://127.0.0.1:{port}/v1/integrations/litellm",
        headers={"Authorization": "Bearer not-a-real-token"},
        batch_size=100,
        flush_interval=3600,
    )
    litellm.callbacks = [logger]
    # 1. OpenAI call, attributed with request tags; `user` is the OpenAI user parameter.
    await litellm.acompletion(
        model="gpt-4o-mini",
        messages=[{"role": "user", "content": "PROMPT-MARKER-1 hello"}],
        mock_response="COMPLETION-MARKER-1 hi",
        metadata={"tags": ["project:acme", "agent:planner"]},
        user="dev1",
    )
    # 2. Anthropic call with prompt caching and thinking, attributed via spend_logs_metadata.
    usage = Usage(
        prompt_tokens=10000,
        completion_tokens=500,
        total_tokens=10500,
        prompt_tokens_details=PromptTokensDetailsWrapper(
            cached_tokens=6000, cache_creation_tokens=2000
        ),
        completion_tokens_details=CompletionTokensDetailsWrapper(reasoning_tokens=120),
        cache_creation_input_tokens=2000,
        cache_read_input_tokens=6000,
    )
    answer = ModelResponse(
        model="claude-sonnet-4-5-20250929",
        usage=usage,
        choices=[
            {
                "message": {"role": "assistant", "content": "COMPLETION-MARKER-2"},
                "finish_reason": "stop",
                "index": 0,
            }
        ],
    )
    await litellm.acompletion(
        model="anthropic/claude-sonnet-4-5",
        messages=[{"role": "user", "content": "PROMPT-MARKER-2"}],
        mock_response=answer,
        metadata={"spend_logs_metadata": {"spendtray_project": "research"}},
    )
    # 3. A failed call (rate limited).
    with contextlib.suppress(litellm.RateLimitError):
        await litellm.acompletion(
            model="gpt-4o",
            messages=[{"role": "user", "content": "PROMPT-MARKER-3"}],
            mock_response="litellm.RateLimitError",
            metadata={"tags": ["project:acme"]},
        )
    # 4. + 5. The same request twice with LiteLLM's response cache on: the second is a cache hit.
    litellm.cache = Cache(type="local")
    for _ in range(2):
        await litellm.acompletion(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "PROMPT-MARKER-4"}],
            mock_response="COMPLETION-MARKER-4",
            caching=True,
            metadata={"tags": ["project:cached"]},
        )
        await asyncio.sleep(0.5)  # let the success callback queue the payload
    await asyncio.sleep(0.5)
    await logger.async_send_batch()


def record() -> None:
    server = HTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    asyncio.run(main(server.server_port))
    server.shutdown()
    assert len(bodies) == 1, f"expected one json_array POST, got {len(bodies)}"
    OUT.write_bytes(bodies[0])
    version = metadata.version("litellm")
    print(f"wrote {OUT} ({len(bodies[0])} bytes, litellm {version})", file=sys.stderr)


if __name__ == "__main__":
    record()
