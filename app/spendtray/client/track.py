"""``track()``: make an OpenAI / Anthropic SDK client (or an httpx / httpx2 client) report usage.

Runs on the caller's thread, once per client. It swaps the HTTP client's transport (and any
proxy-mounted transports) for a ``wire`` wrapper around the original one, so every request
still goes out through the SDK's own connection pool, timeouts, retries and proxies. SDK copies
made with ``with_options()`` share the HTTP client and so are tracked too. Tracking a client
twice only updates its attribution.
"""

from __future__ import annotations

import sys
from types import ModuleType
from typing import Any, TypeVar

from spendtray.client.capture import Attribution, Captured
from spendtray.client.recorder import default_recorder
from spendtray.client.wire import AsyncTransportMixin, Hooks, SyncTransportMixin, transport_classes

T = TypeVar("T")


def _library(http: Any) -> tuple[ModuleType, bool] | None:
    """The library module (``httpx2`` or ``httpx``) of an HTTP client, and whether it is async."""
    for name in ("httpx2", "httpx"):
        lib = sys.modules.get(name)
        if lib is not None and isinstance(http, lib.Client | lib.AsyncClient):
            return lib, isinstance(http, lib.AsyncClient)
    return None


def _http_client(target: Any) -> tuple[Any, ModuleType, bool]:
    for candidate in (target, getattr(target, "_client", None)):
        if candidate is None:
            continue
        found = _library(candidate)
        if found is not None:
            return candidate, found[0], found[1]
    raise TypeError(
        "spendtray.client.track() takes an OpenAI or Anthropic SDK client (sync or async) or an "
        f"httpx/httpx2 Client, not {type(target).__module__}.{type(target).__qualname__}"
    )


def _submit(item: Captured) -> None:
    default_recorder().submit(item)


def _defaults() -> tuple[str | None, str | None]:
    settings = default_recorder().settings
    return settings.default_project(), settings.default_agent()


def track(
    client: T,
    *,
    project: str | None = None,
    agent: str | None = None,
    provider: str | None = None,
) -> T:
    """Record the usage of every call ``client`` makes; returns ``client`` itself.

    ``project`` and ``agent`` default to ``$SPENDTRAY_PROJECT`` / ``$SPENDTRAY_AGENT`` (then the
    app's ``default`` project); ``provider`` defaults to the API host's provider (or, for an
    unknown host, the one the model name implies). A single call can be attributed elsewhere
    with the request headers ``X-Spendtray-Project`` / ``X-Spendtray-Agent`` (for example the
    SDKs' ``extra_headers=``); they are removed before the request leaves.
    """
    http, lib, is_async = _http_client(client)
    default_recorder().start()  # delivers anything spooled by earlier runs right away
    wrapper_types = (SyncTransportMixin, AsyncTransportMixin)
    current = http._transport
    if isinstance(current, wrapper_types):
        current.hooks.attribution = Attribution(project, agent, provider)
        return client
    hooks = Hooks(Attribution(project, agent, provider), _defaults, _submit, lib.__name__)
    sync_wrap, async_wrap = transport_classes(lib)
    wrap = async_wrap if is_async else sync_wrap
    http._transport = wrap(current, hooks)
    mounts = getattr(http, "_mounts", None)
    if isinstance(mounts, dict):
        for pattern, transport in list(mounts.items()):
            if transport is not None and not isinstance(transport, wrapper_types):
                mounts[pattern] = wrap(transport, hooks)
    return client
