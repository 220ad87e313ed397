"""Settings: the data folder, config.toml (defaults in code), the ingest token. Any thread.

Precedence for the port: ``--port`` flag > ``SPENDTRAY_PORT`` > config.toml > 8719. Every key
of config.toml is documented in the README; an unknown key or a wrong type stops the start
with a one-line reason instead of being silently ignored.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from spendtray.datadir import CONFIG_FILE, DEFAULT_PORT, LOOPBACK_HOSTS, TOKEN_FILE, data_home

# Where `spendtray prices update` fetches genai-prices' data file (genai-prices' own update URL,
# ``genai_prices.update_prices.DEFAULT_UPDATE_URL``; a test keeps the two in step).
DEFAULT_PRICES_URL = (
    "https://raw.githubusercontent.com/pydantic/genai-prices/refs/heads/main"
    "/prices/new_data/v2/data.json"
)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class ConfigError(ValueError):
    """The configuration is wrong; the message names the key and the problem."""


UPSTREAM_APIS = ("openai", "anthropic")
_UPSTREAM_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")


@dataclass(frozen=True)
class UpstreamConfig:
    """One ``[upstreams]`` entry of config.toml: where the proxy forwards
    ``/p/<project>/<name>/...``. ``api`` is the wire format ("openai" for any
    OpenAI-compatible API, or "anthropic"); ``provider`` names the prices to use
    (default: the upstream's name)."""

    name: str
    url: str
    api: str = "openai"
    provider: str | None = None


@dataclass(frozen=True)
class OtlpExportConfig:
    """``otlp_export`` in config.toml: where every event stored here is sent as an OTLP log
    record (``spendtray.otlp_export``)."""

    endpoint: str  # the collector's OTLP/HTTP base URL, or its full .../v1/logs URL
    headers: tuple[tuple[str, str], ...] = ()
    protocol: str = "http/protobuf"
    timeout: float = 10.0

    @property
    def logs_url(self) -> str:
        base = self.endpoint.rstrip("/")
        return base if base.endswith("/v1/logs") else base + "/v1/logs"


@dataclass(frozen=True)
class Settings:
    """Everything configurable. Field names are the config.toml keys."""

    home: Path
    port: int = DEFAULT_PORT
    host: str = "127.0.0.1"
    require_token: bool = True
    allowed_origins: tuple[str, ...] = ()
    max_body_bytes: int = 10 * 1024 * 1024
    timezone: str = "local"
    week_start: str = "monday"
    currency_precision: int = 2
    notifications: bool = True
    webhook_url: str = ""
    durability: str = "normal"
    runaway_factor: float = 5.0
    runaway_window_minutes: int = 10
    runaway_min_usd: float = 1.0
    follow_agent_logs: bool = True
    prices_url: str = DEFAULT_PRICES_URL
    upstreams: tuple[UpstreamConfig, ...] = ()
    proxy_include_usage: bool = False
    limit_thresholds: tuple[float, ...] = (70.0, 90.0)
    machine: str = ""
    sync_folder: str = ""
    otlp_export: OtlpExportConfig | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def db_path(self) -> Path:
        return self.home / "spendtray.db"

    @property
    def config_path(self) -> Path:
        return self.home / CONFIG_FILE

    @property
    def token_path(self) -> Path:
        return self.home / TOKEN_FILE

    @property
    def user_prices_path(self) -> Path:
        return self.home / "prices.toml"

    @property
    def prices_data_dir(self) -> Path:
        """Where `spendtray prices update` keeps the downloaded genai-prices data."""
        return self.home / "prices"

    @property
    def price_table_path(self) -> Path:
        """The price table cache (``prices.table_cache``): derived, safe to delete."""
        return self.home / "cache" / "price-table.json"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    @property
    def week_start_index(self) -> int:
        return WEEKDAYS.index(self.week_start)

    def zone(self) -> ZoneInfo:
        return resolve_zone(self.timezone)

    @property
    def machine_name(self) -> str:
        """The name this machine's events carry: ``machine`` in config.toml, else the host's."""
        if self.machine:
            return self.machine
        from spendtray.machine import default_machine_name

        return default_machine_name()


# Keys a user may set in config.toml, with their expected Python types.
CONFIG_KEYS: dict[str, type | tuple[type, ...]] = {
    "port": int,
    "host": str,
    "require_token": bool,
    "allowed_origins": list,
    "max_body_bytes": int,
    "timezone": str,
    "week_start": str,
    "currency_precision": int,
    "notifications": bool,
    "webhook_url": str,
    "durability": str,
    "runaway_factor": (int, float),
    "runaway_window_minutes": int,
    "runaway_min_usd": (int, float),
    "follow_agent_logs": bool,
    "prices_url": str,
    "upstreams": dict,
    "proxy_include_usage": bool,
    "limit_thresholds": list,
    "machine": str,
    "sync_folder": str,
    "otlp_export": dict,
}


def resolve_zone(name: str) -> ZoneInfo:
    """An IANA zone, or the machine's own for ``local``."""
    if name == "local":
        try:
            import tzlocal

            return ZoneInfo(tzlocal.get_localzone_name() or "UTC")
        except (ZoneInfoNotFoundError, ValueError, OSError):
            return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"timezone: {name!r} is not a known IANA time zone") from exc


def _check_value(key: str, raw: Any) -> Any:
    expected = CONFIG_KEYS[key]
    value: Any = raw
    if isinstance(value, bool) and expected is not bool:
        raise ConfigError(f"config key {key!r}: expected a whole number, got {value!r}")
    if not isinstance(raw, expected):
        names = (
            expected.__name__
            if isinstance(expected, type)
            else "/".join(t.__name__ for t in expected)
        )
        raise ConfigError(f"config key {key!r}: expected {names}, got {value!r}")
    if key == "port" and not 0 <= value <= 65535:
        raise ConfigError(f"config key 'port': {value} is not a TCP port (0–65535)")
    if key == "host" and value not in LOOPBACK_HOSTS:
        raise ConfigError(
            f"config key 'host': {value!r} is not a loopback address; "
            "Spendtray only listens on loopback"
        )
    if key == "max_body_bytes" and value < 1024:
        raise ConfigError("config key 'max_body_bytes': must be at least 1024")
    if key == "week_start" and value.lower() not in WEEKDAYS:
        raise ConfigError(f"config key 'week_start': {value!r} is not a weekday name")
    if key == "currency_precision" and not 0 <= value <= 6:
        raise ConfigError("config key 'currency_precision': must be between 0 and 6")
    if key == "durability" and value not in ("normal", "full"):
        raise ConfigError('config key \'durability\': must be "normal" or "full"')
    if key == "runaway_factor" and not (isinstance(value, int | float) and 1 < value < 1e6):
        raise ConfigError("config key 'runaway_factor': must be a number greater than 1")
    if key == "runaway_window_minutes" and not 1 <= value <= 24 * 60:
        raise ConfigError("config key 'runaway_window_minutes': must be 1–1440 minutes")
    if key == "runaway_min_usd" and not 0 <= value < 1e9:
        raise ConfigError("config key 'runaway_min_usd': must be a dollar amount ≥ 0")
    if key == "prices_url" and not value.startswith(("https://", "http://")):
        raise ConfigError(f"config key 'prices_url': {value!r} is not an http(s) URL")
    if key == "otlp_export":
        return parse_otlp_export(value)
    if key == "sync_folder":
        folder = Path(value).expanduser()
        if value.strip() and not folder.is_absolute():
            raise ConfigError(f"config key 'sync_folder': {value!r} is not an absolute path")
        return str(folder) if value.strip() else ""
    if key == "machine":
        from spendtray.machine import MAX_NAME, clean_machine_name

        if not value.strip() or clean_machine_name(value) != value.strip():
            raise ConfigError(
                f"config key 'machine': {value!r} must be a name of letters, digits, '.', '_' "
                f"and '-' (at most {MAX_NAME})"
            )
        return value.strip()
    if key == "webhook_url" and value.strip():
        return _check_webhook_url(value)
    if key == "timezone":
        resolve_zone(value)
    if key == "upstreams":
        return parse_upstreams(value)
    if key == "allowed_origins":
        if not all(isinstance(o, str) for o in value):
            raise ConfigError("config key 'allowed_origins': expected a list of strings")
        return tuple(value)
    if key == "limit_thresholds":
        if not all(
            isinstance(t, int | float) and not isinstance(t, bool) and 0 < t <= 100 for t in value
        ):
            raise ConfigError(
                "config key 'limit_thresholds': expected a list of percentages between 0 and 100"
            )
        return tuple(sorted({float(t) for t in value}))
    if key == "week_start":
        return value.lower()
    return value


def _check_webhook_url(text: str) -> str:
    """Checked at start, not when the first alert fires: an http(s) URL with a host."""
    from urllib.parse import urlsplit

    where = "config key 'webhook_url'"
    try:
        parts = urlsplit(text.strip())
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise ConfigError(f"{where}: {text!r} is not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in text.strip():
        raise ConfigError(
            f"{where}: {text!r} is not an http(s) URL such as https://hooks.example.com/spendtray"
        )
    return text.strip()


def check_upstream_url(text: str, where: str) -> str:
    """An upstream API base URL: http(s), a host, no query or fragment; trailing / dropped."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(text.strip())
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise ConfigError(f"{where}: {text!r} is not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{where}: {text!r} is not an http(s) URL such as https://api.openai.com")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(
            f"{where}: {text!r} must be a plain base URL (no query, fragment or credentials; "
            "API keys stay in the client)"
        )
    return text.strip().rstrip("/")


def parse_otlp_export(table: dict[str, Any]) -> OtlpExportConfig:
    """``otlp_export = {endpoint = "http://collector:4318", headers = {...}, protocol = ...}``."""
    where = "config key 'otlp_export'"
    unknown = sorted(set(table) - {"endpoint", "headers", "protocol", "timeout"})
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r} (known: endpoint, headers, protocol, timeout)"
        )
    endpoint = table.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
        raise ConfigError(f"{where}: 'endpoint' must be the collector's http(s) URL")
    headers = table.get("headers", {})
    if not isinstance(headers, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
    ):
        raise ConfigError(f"{where}: 'headers' must be a table of strings")
    protocol = table.get("protocol", "http/protobuf")
    if protocol != "http/protobuf":
        raise ConfigError(
            f"{where}: 'protocol' {protocol!r} is not supported; use \"http/protobuf\" "
            "(OTLP/HTTP, what every Collector's otlp receiver takes on port 4318)"
        )
    timeout = table.get("timeout", 10.0)
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout <= 300:
        raise ConfigError(f"{where}: 'timeout' must be seconds between 0 and 300")
    return OtlpExportConfig(endpoint, tuple(sorted(headers.items())), protocol, float(timeout))


def parse_upstreams(table: dict[str, Any]) -> tuple[UpstreamConfig, ...]:
    """``[upstreams]``: ``name = "https://host/base"`` or
    ``[upstreams.name]`` with ``url``, optional ``api`` ("openai"|"anthropic") and ``provider``."""
    out: list[UpstreamConfig] = []
    for name, entry in table.items():
        where = f"config key 'upstreams.{name}'"
        if not _UPSTREAM_NAME.match(name):
            raise ConfigError(
                f"{where}: an upstream name is lower-case letters, digits, '.', '_' or '-'"
            )
        default_api = "anthropic" if name == "anthropic" else "openai"
        if isinstance(entry, str):
            out.append(UpstreamConfig(name, check_upstream_url(entry, where), default_api))
            continue
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected a URL string or a table with 'url'")
        unknown = sorted(set(entry) - {"url", "api", "provider"})
        if unknown:
            raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: url, api, provider)")
        url = entry.get("url")
        if not isinstance(url, str):
            raise ConfigError(f"{where}: 'url' is required and must be a string")
        api = entry.get("api", default_api)
        if api not in UPSTREAM_APIS:
            raise ConfigError(f'{where}: \'api\' must be "openai" or "anthropic", got {api!r}')
        provider = entry.get("provider")
        if provider is not None and (not isinstance(provider, str) or not provider.strip()):
            raise ConfigError(f"{where}: 'provider' must be a provider name such as \"openai\"")
        out.append(
            UpstreamConfig(
                name,
                check_upstream_url(url, f"{where}.url"),
                api,
                provider.strip().lower() if provider else None,
            )
        )
    return tuple(out)


def parse_port(text: str, where: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise ConfigError(f"{where}: {text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise ConfigError(f"{where}: {port} is not a TCP port (0–65535)")
    return port


def load_settings(home: Path | None = None, port: int | None = None) -> Settings:
    """Read ``<home>/config.toml`` over the defaults, then apply env and flag overrides."""
    home = home or data_home()
    values: dict[str, Any] = {}
    config_path = home / CONFIG_FILE
    if config_path.is_file():
        import tomllib  # only with a file: most start-ups (and quick commands) have none

        try:
            raw = tomllib.loads(config_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{config_path}: not valid TOML ({exc})") from exc
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{config_path}: cannot be read ({exc})") from exc
        for key, value in raw.items():
            if key not in CONFIG_KEYS:
                known = ", ".join(sorted(CONFIG_KEYS))
                raise ConfigError(f"{config_path}: unknown key {key!r} (known keys: {known})")
            try:
                values[key] = _check_value(key, value)
            except ConfigError as exc:
                raise ConfigError(f"{config_path}: {exc}") from None
    env_port = os.environ.get("SPENDTRAY_PORT")
    if env_port:
        values["port"] = parse_port(env_port, "SPENDTRAY_PORT")
    if port is not None:
        values["port"] = port
    return Settings(home=home, **values)


def with_overrides(settings: Settings, **changes: Any) -> Settings:
    return replace(settings, **changes)


def ensure_home(settings: Settings) -> None:
    from spendtray.private_files import private_dir

    private_dir(settings.home)


def ensure_token(settings: Settings) -> str:
    """The ingest token, created (mode 0600) on first use."""
    ensure_home(settings)
    path = settings.token_path
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        from spendtray.private_files import foreign_reason

        problem = foreign_reason(path)
        if problem is not None:
            raise ConfigError(
                f"token file: {problem}; it may have been planted — delete it and start "
                "Spendtray again for a new token"
            ) from None
        os.chmod(path, 0o600)
        token = path.read_text(encoding="utf-8").strip()
        if token:
            return token
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC, 0o600)
    import secrets  # here: hashlib/hmac cost quick commands ~6 ms at start-up

    token = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    os.chmod(path, 0o600)
    return token
