"""Where Spendtray keeps its data and where its server listens. Pure stdlib; any thread.

Shared by the app (``spendtray.config``) and the lightweight Python client
(``spendtray.client``), which must find the same folder, port and token without importing the
app's server, store or pricing modules. ``platformdirs`` is used when installed (it always is
with the app); a process that only has the client's own dependencies falls back to the same
folders ``platformdirs`` would pick.

Lookups here are lenient: the app validates config.toml strictly in ``spendtray.config``; the
client only wants the port and host out of it and takes the defaults when the file is unreadable.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

APP_NAME = "spendtray"
DEFAULT_PORT = 8719
DEFAULT_HOST = "127.0.0.1"
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")
CONFIG_FILE = "config.toml"
TOKEN_FILE = "token"


def platform_data_dir() -> Path:
    """The platform's user data folder for Spendtray (``platformdirs.user_data_dir``)."""
    if sys.platform != "win32":
        # On macOS and the other Unixes platformdirs' folder is a fixed rule (XDG_DATA_HOME or
        # ~/.local/share; ~/Library/Application Support) that the fallback follows — and
        # importing platformdirs costs ~20 ms CPU, a third of what the commands run before
        # every agent tool call may take. tests/client checks the two agree.
        return _fallback_data_dir()
    try:
        import platformdirs
    except ImportError:
        return _fallback_data_dir()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def _fallback_data_dir() -> Path:
    # platformdirs' defaults for user_data_dir(appname, appauthor=False, roaming=False).
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / APP_NAME
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / APP_NAME
    xdg = os.environ.get("XDG_DATA_HOME", "").strip()
    return (Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share") / APP_NAME


def data_home() -> Path:
    """``$SPENDTRAY_HOME`` if set, else the platform's user data folder."""
    override = os.environ.get("SPENDTRAY_HOME")
    if override:
        return Path(override).expanduser()
    return platform_data_dir()


def read_config(home: Path) -> dict[str, Any]:
    """``<home>/config.toml`` as a dict; ``{}`` when it is missing or not valid TOML."""
    try:
        text = (home / CONFIG_FILE).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    import tomllib  # only when there is a file: quick commands (statusline) start without it

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return {}


def _valid_port(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            return None
    if isinstance(value, int) and 0 < value <= 65535:
        return value
    return None


def server_url(home: Path | None = None) -> str:
    """The base URL of the local server, as the app would bind it.

    ``SPENDTRAY_URL`` wins; otherwise the port is ``SPENDTRAY_PORT`` > config.toml ``port`` >
    8719 and the host is config.toml ``host`` (a loopback name) > 127.0.0.1. A configured port
    of 0 (pick a free one) cannot be found from outside; the default port is used then.
    """
    url = os.environ.get("SPENDTRAY_URL", "").strip()
    if url:
        return url.rstrip("/")
    config = read_config(home or data_home())
    port = (
        _valid_port(os.environ.get("SPENDTRAY_PORT", ""))
        or _valid_port(config.get("port"))
        or DEFAULT_PORT
    )
    host = config.get("host")
    if host not in LOOPBACK_HOSTS:
        host = DEFAULT_HOST
    return loopback_url(host, port)


def loopback_url(host: str, port: int) -> str:
    """``http://host:port``, with an IPv6 address in brackets."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def read_token(home: Path | None = None) -> str | None:
    """The ingest token from ``<home>/token``, or None when there is none yet — or when the
    file is not trustworthy (another user's, or writable by others: a planted token would let
    its planter pass the identity check and receive events)."""
    from spendtray.private_files import foreign_reason

    path = (home or data_home()) / TOKEN_FILE
    if foreign_reason(path) is not None:
        return None
    try:
        token = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return token or None
