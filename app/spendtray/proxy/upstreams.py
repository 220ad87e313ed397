"""Where the proxy forwards to: the named upstream APIs. Pure; built once on the caller's
thread (``Core`` creating the proxy), read on the server's event loop.

Two upstreams always exist, ``openai`` (https://api.openai.com) and ``anthropic``
(https://api.anthropic.com). config.toml's ``[upstreams]`` table adds more (OpenRouter, Azure,
a local model server, any OpenAI-compatible host) or moves the two defaults; the environment
variable ``SPENDTRAY_UPSTREAM_<NAME>`` (``SPENDTRAY_UPSTREAM_OPENAI``,
``SPENDTRAY_UPSTREAM_ANTHROPIC``, ...) overrides a URL last.

The path after ``/p/<project>/<name>`` is appended to the upstream URL unchanged, so the
proxy's base URL for an SDK is the upstream's base URL with the host swapped:
``https://api.openai.com/v1`` -> ``http://127.0.0.1:8719/p/<project>/openai/v1``. An upstream
URL may be given with or without a trailing ``/v1`` (people paste what they would give the
SDK): ``.../v1`` + ``/v1/chat/completions`` is forwarded as ``.../v1/chat/completions``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from spendtray.config import Settings, UpstreamConfig, check_upstream_url

DEFAULTS = (
    UpstreamConfig("openai", "https://api.openai.com", "openai", "openai"),
    UpstreamConfig("anthropic", "https://api.anthropic.com", "anthropic", "anthropic"),
)
_VERSION = re.compile(r"^/v\d+(?=/|$)")


@dataclass(frozen=True)
class Upstream:
    """A resolved upstream: ``base_path`` never ends with ``/``."""

    name: str
    origin: str  # scheme://host[:port]
    base_path: str  # e.g. "", "/api", "/openai/v1"
    api: str  # "openai" | "anthropic": wire format of usage and errors
    provider: str  # price provider of its events

    @property
    def url(self) -> str:
        return self.origin + self.base_path

    def target(self, raw_rest: str, raw_query: str) -> str:
        """The upstream URL for the (still percent-encoded) path after the proxy prefix."""
        rest = raw_rest if raw_rest.startswith("/") or not raw_rest else "/" + raw_rest
        version = _VERSION.match(rest)
        if version and self.base_path.endswith(version.group(0)):
            rest = rest[version.end() :]
        url = self.origin + self.base_path + rest
        return f"{url}?{raw_query}" if raw_query else url


def env_name(name: str) -> str:
    return "SPENDTRAY_UPSTREAM_" + re.sub(r"[^A-Z0-9]", "_", name.upper())


def _split(url: str) -> tuple[str, str]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/")


def resolve_upstreams(
    settings: Settings, environ: Mapping[str, str] | None = None
) -> dict[str, Upstream]:
    """Defaults, then config.toml, then the environment. Raises ``ConfigError`` (one line)."""
    env = os.environ if environ is None else environ
    configs: dict[str, UpstreamConfig] = {u.name: u for u in DEFAULTS}
    for entry in settings.upstreams:
        configs[entry.name] = entry
    out: dict[str, Upstream] = {}
    for name, entry in configs.items():
        url = entry.url
        override = env.get(env_name(name))
        if override:
            url = check_upstream_url(override, env_name(name))
        origin, base_path = _split(url)
        out[name] = Upstream(name, origin, base_path, entry.api, entry.provider or name)
    return out
