"""The client's settings and where it finds the app: base URL, token, spool folder.

Built on the caller's thread by ``configure()`` or on first use; read by the sender thread,
which asks for the URL and token again after every failed delivery (the app may have been
restarted on another port or have created its token since). Discovery is the app's own
(``spendtray.datadir``): ``SPENDTRAY_URL`` > ``SPENDTRAY_PORT`` > config.toml ``port`` > 8719,
the token from ``<data>/token``, the data folder from ``SPENDTRAY_HOME`` or the platform's
user data folder.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from spendtray.datadir import data_home, read_token, server_url

DEFAULT_SPOOL_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_EXIT_TIMEOUT = 2.0


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


@dataclass(frozen=True)
class ClientSettings:
    """What ``configure()`` can change; ``None`` means "discover it like the app does"."""

    home: Path | None = None
    url: str | None = None
    token: str | None = None
    project: str | None = None
    agent: str | None = None
    spool_max_bytes: int = DEFAULT_SPOOL_MAX_BYTES
    exit_timeout: float = DEFAULT_EXIT_TIMEOUT
    connect_timeout: float = 1.0
    read_timeout: float = 5.0

    def data_folder(self) -> Path:
        return self.home if self.home is not None else data_home()

    def spool_folder(self) -> Path:
        return self.data_folder() / "spool"

    def endpoint(self) -> tuple[str, str | None]:
        """The app's base URL and ingest token, looked up now."""
        home = self.data_folder()
        url = (self.url or server_url(home)).rstrip("/")
        token = self.token or _env("SPENDTRAY_TOKEN") or read_token(home)
        return url, token

    def default_project(self) -> str | None:
        return self.project or _env("SPENDTRAY_PROJECT")

    def default_agent(self) -> str | None:
        return self.agent or _env("SPENDTRAY_AGENT")
