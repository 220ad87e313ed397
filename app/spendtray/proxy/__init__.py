"""The forwarding proxy (SPEC §4, §10): point an OpenAI- or Anthropic-compatible SDK at
Spendtray and every call is forwarded to the real API, answered unchanged, and recorded
(source "proxy") with its project, model, usage, ids, status and latency — never its text,
never the API key. A spent hard budget answers 429 in the provider's own error shape.

Modules (threads: everything runs on the server's event loop unless said otherwise):
- ``upstreams``: named upstream base URLs (defaults, config.toml ``[upstreams]``, env).
- ``routes``: the handlers and the shared ``httpx.AsyncClient``; budget reservation; one call.
  ``Core`` creates the one ``Proxy``; ``server/routes.py`` lists its two routes.
- ``worst_case``: the most a call can cost, from its request (what a reservation holds).
- ``forward``: request headers and body, model/stream sniffing, include_usage injection.
- ``relay``: the streaming ASGI response and the usage tap on the body.
- ``stream_usage``: usage from SSE streams (OpenAI Chat/Responses, Anthropic).
- ``exchange``: what one call leaves behind, and the usage event it becomes.
- ``recorder``: prices the event and hands it to the store's writer thread.
- ``errors``: errors in the provider's shape (budget refusal, unreachable upstream).

``include_usage`` injection (config ``proxy_include_usage = true``, OFF by default): an
OpenAI Chat Completions stream carries no usage unless the request asked for
``stream_options.include_usage``; without it the proxy records the call with no tokens (tagged
``usage: missing``) and logs a warning. With injection on, the proxy adds the option to
streamed requests that did not set it, so usage is always recorded — but the client then
receives one chunk it did not ask for: a final chunk with ``choices: []`` and the usage (and
``"usage": null`` on the others). Code that reads ``chunk.choices[0]`` on every chunk breaks
on it, which is why it is opt-in. A client that set ``include_usage`` itself (true or false)
is left alone.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from spendtray.proxy.upstreams import Upstream, resolve_upstreams

if TYPE_CHECKING:
    from spendtray.proxy.routes import Proxy

__all__ = ["Proxy", "Upstream", "resolve_upstreams"]


def __getattr__(name: str) -> Any:
    # Proxy (with httpx and Starlette) loads when asked for: a command that only reads the
    # [upstreams] settings (``Core`` checks them at start) does not need it.
    if name == "Proxy":
        from spendtray.proxy.routes import Proxy

        return Proxy
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
