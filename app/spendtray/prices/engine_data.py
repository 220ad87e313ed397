"""Which genai-prices catalogue is in force: the package's bundled data or a newer download.

Any thread; the update runs on the CLI's main thread. ``spendtray prices update`` fetches the
same file genai-prices' own ``UpdatePrices`` polls (its JSON ``data.json``, a list of
providers), validates it with genai-prices' pydantic models and unit registry, and only then
replaces ``<data>/prices/genai-prices-data.json`` atomically, beside a small metadata file. Any
failure leaves the files as they were. ``load_engine_data`` prefers a download that is present,
matches its metadata, was validated by the genai-prices version now installed and still
validates; otherwise it logs why and uses the bundled data, so the offline default never breaks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal

import httpx
import pydantic
from genai_prices.data_snapshot import DataSnapshot, get_snapshot
from genai_prices.types import ModelInfo, ModelPrice, Provider, _providers_from_raw
from genai_prices.units import _get_registry
from genai_prices.validation import validate_model_price

from spendtray.clock import utc_now
from spendtray.prices.files import DATA_FILE, META_FILE

__all__ = [
    "DATA_FILE",
    "MAX_BYTES",
    "META_FILE",
    "EngineData",
    "PriceDataError",
    "UpdateResult",
    "load_engine_data",
    "update_engine_data",
]

log = logging.getLogger(__name__)

MAX_BYTES = 20 * 1024 * 1024  # the upstream file is well under 1 MB
TIMEOUT = httpx.Timeout(30.0, connect=10.0)
GENAI_PRICES_VERSION = version("genai-prices")


class PriceDataError(Exception):
    """Price data could not be fetched or is not valid; the message is one line."""


@dataclass(frozen=True)
class EngineData:
    """One genai-prices catalogue and where it came from."""

    snapshot: DataSnapshot
    kind: Literal["bundled", "downloaded"]
    source_url: str | None = None
    fetched_at: str | None = None  # ISO timestamp (UTC) of the download
    ignored: str | None = None  # why a downloaded file is present but not used

    @property
    def providers(self) -> list[Provider]:
        return self.snapshot.providers

    @property
    def model_count(self) -> int:
        return sum(len(p.models) for p in self.providers)

    @property
    def source_label(self) -> str:
        """Short label for a price's ``source``: which catalogue it came from."""
        if self.kind == "bundled":
            return f"genai-prices {GENAI_PRICES_VERSION}"
        return f"genai-prices data downloaded {(self.fetched_at or '')[:10]}"

    def describe(self) -> str:
        """One line for `spendtray prices list/show`."""
        counts = f"{self.model_count:,} models from {len(self.providers)} providers"
        if self.kind == "downloaded":
            when = _pretty_time(self.fetched_at)
            return f"downloaded {when} from {self.source_url} ({counts})"
        text = f"bundled with genai-prices {GENAI_PRICES_VERSION} ({counts})"
        if self.ignored:
            text += f"; downloaded data ignored: {self.ignored}"
        return text

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "genai_prices_version": GENAI_PRICES_VERSION,
            "source_url": self.source_url,
            "fetched_at": self.fetched_at,
            "providers": len(self.providers),
            "models": self.model_count,
            "ignored": self.ignored,
        }


def _pretty_time(iso: str | None) -> str:
    try:
        return dt.datetime.fromisoformat(iso or "").strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return iso or "at an unknown time"


def bundled() -> EngineData:
    return EngineData(get_snapshot(), "bundled")


# -- validation ------------------------------------------------------------------------------


def _model_prices(model: ModelInfo) -> Iterator[ModelPrice]:
    if isinstance(model.prices, ModelPrice):
        yield model.prices
    else:
        for conditional in model.prices:
            yield conditional.prices
    for variant in model.price_variants or ():
        yield variant.prices


def _price_keys(price: ModelPrice) -> set[str]:
    return {k for k, v in vars(price).items() if not k.startswith("_") and v is not None}


def _first_problem(raw: list[Any], exc: pydantic.ValidationError) -> str:
    """Name the first provider (and model) that fails: genai-prices validates model prices
    before the providers, so the error's own location can lack that path."""
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    problem = f"{where}: {first['msg']}" if where else first["msg"]
    for index, provider in enumerate(raw):
        try:
            _providers_from_raw([provider])
        except (pydantic.ValidationError, ValueError, TypeError):
            pass
        else:
            continue
        name = provider.get("id", f"#{index}") if isinstance(provider, dict) else f"#{index}"
        models = provider.get("models") if isinstance(provider, dict) else None
        for model in models if isinstance(models, list) else []:
            try:
                _providers_from_raw([{**provider, "models": [model]}])
            except (pydantic.ValidationError, ValueError, TypeError):
                model_id = model.get("id", "?") if isinstance(model, dict) else "?"
                return f"provider {name!r}, model {model_id!r}: {problem}"
        return f"provider {name!r}: {problem}"
    return problem


def parse_providers(data: bytes, origin: str) -> list[Provider]:
    """genai-prices' data file -> its ``Provider`` models, or ``PriceDataError`` saying why."""
    try:
        raw = json.loads(data)
    except UnicodeDecodeError:
        raise PriceDataError(f"{origin} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise PriceDataError(f"{origin} is not valid JSON ({exc})") from None
    if not isinstance(raw, list):
        raise PriceDataError(
            f"{origin} is not genai-prices data: expected a list of providers, "
            f"got a JSON {type(raw).__name__}"
        )
    what = f"{origin} does not match genai-prices {GENAI_PRICES_VERSION}'s data format"
    try:
        providers = _providers_from_raw(raw)
    except pydantic.ValidationError as exc:
        raise PriceDataError(f"{what}: {_first_problem(raw, exc)}") from None
    except (ValueError, TypeError) as exc:
        raise PriceDataError(f"{what}: {exc}") from None
    registry = _get_registry()
    for provider in providers:
        for model in provider.models:
            for price in _model_prices(model):
                try:
                    validate_model_price(_price_keys(price), registry)
                except ValueError as exc:
                    raise PriceDataError(f"{what}: {provider.id}/{model.id}: {exc}") from None
    if not any(p.models for p in providers):
        raise PriceDataError(f"{origin} lists no models")
    return providers


# -- loading ---------------------------------------------------------------------------------


def _read_downloaded(data_dir: Path) -> EngineData:
    data_path, meta_path = data_dir / DATA_FILE, data_dir / META_FILE
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        data = data_path.read_bytes()
    except FileNotFoundError as exc:
        raise PriceDataError(f"{Path(exc.filename).name} is missing") from None
    except (OSError, ValueError) as exc:
        raise PriceDataError(f"cannot read {meta_path.name}: {exc}") from None
    if not isinstance(meta, dict):
        raise PriceDataError(f"{meta_path.name} is not a JSON object")
    if meta.get("sha256") != hashlib.sha256(data).hexdigest():
        raise PriceDataError(f"{DATA_FILE} does not match {META_FILE} (interrupted update?)")
    fetched_with = meta.get("genai_prices_version")
    if fetched_with != GENAI_PRICES_VERSION:
        raise PriceDataError(
            f"it was fetched with genai-prices {fetched_with}, {GENAI_PRICES_VERSION} is "
            "installed now (run `spendtray prices update` again)"
        )
    providers = parse_providers(data, str(data_path))
    return EngineData(
        DataSnapshot(providers, from_auto_update=True),
        "downloaded",
        source_url=str(meta.get("source") or "an unknown source"),
        fetched_at=str(meta.get("fetched_at") or ""),
    )


def load_engine_data(data_dir: Path | None) -> EngineData:
    """The downloaded catalogue in ``data_dir`` if usable, else the bundled one (logged)."""
    if data_dir is None or not (data_dir / DATA_FILE).exists():
        return bundled()
    try:
        return _read_downloaded(data_dir)
    except PriceDataError as exc:
        log.warning(
            "downloaded price data in %s not used (%s); using genai-prices %s's bundled data",
            data_dir,
            exc,
            GENAI_PRICES_VERSION,
        )
        data = bundled()
        return EngineData(data.snapshot, "bundled", ignored=str(exc))


# -- updating --------------------------------------------------------------------------------


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def _size(limit: int) -> str:
    return f"{limit // 2**20} MiB" if limit % 2**20 == 0 else f"{limit:,} bytes"


def fetch(source: str, timeout: httpx.Timeout = TIMEOUT, max_bytes: int = MAX_BYTES) -> bytes:
    """The bytes of ``source``: an http(s) URL (size-limited) or a local file."""
    if not is_url(source):
        if "://" in source:
            raise PriceDataError(f"{source}: only http(s) URLs or local files are supported")
        path = Path(source).expanduser()
        try:
            if path.stat().st_size > max_bytes:
                raise PriceDataError(f"{path} is larger than {_size(max_bytes)}")
            return path.read_bytes()
        except FileNotFoundError:
            raise PriceDataError(f"{path}: no such file") from None
        except OSError as exc:
            raise PriceDataError(f"cannot read {path}: {exc.strerror or exc}") from None
    too_big = PriceDataError(f"{source} sent more than {_size(max_bytes)}; refused")
    try:
        with (
            httpx.Client(timeout=timeout, follow_redirects=True) as client,
            client.stream("GET", source, headers={"Accept": "application/json"}) as response,
        ):
            if response.status_code != 200:
                raise PriceDataError(
                    f"{source} answered HTTP {response.status_code} {response.reason_phrase}"
                )
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise too_big
            chunks: list[bytes] = []
            received = 0
            for chunk in response.iter_bytes():
                received += len(chunk)
                if received > max_bytes:
                    raise too_big
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.TimeoutException:
        raise PriceDataError(f"{source}: timed out") from None
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise PriceDataError(f"cannot fetch {source}: {str(exc) or type(exc).__name__}") from None


def _install(files: dict[Path, bytes]) -> None:
    """Write each file to a temporary sibling, then move them all into place (os.replace)."""
    temps: dict[Path, Path] = {}
    try:
        for path, data in files.items():
            fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            temps[path] = Path(name)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        for path, tmp in temps.items():
            os.replace(tmp, path)
    finally:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)


def _model_key(provider: Provider, model: ModelInfo) -> tuple[str, str]:
    return provider.id, model.id


def _price_shape(model: ModelInfo) -> tuple[Any, ...]:
    return (model.prices, model.price_variants)


@dataclass(frozen=True)
class UpdateResult:
    source: str
    providers: int
    models: int
    previous_models: int
    previous_kind: str
    changed: int  # models in both catalogues whose prices differ
    added: int
    removed: int

    def summary(self) -> str:
        head = "updated" if self.changed or self.added or self.removed else "up to date"
        was = f"{self.previous_models:,}, {self.previous_kind}"
        changes = f"{self.changed:,} price{'' if self.changed == 1 else 's'} changed"
        if self.added or self.removed:
            changes += f", {self.added:,} added, {self.removed:,} removed"
        return (
            f"{head}: {self.models:,} models from {self.providers} providers "
            f"(was {was}) · {changes}"
        )


def update_engine_data(data_dir: Path, source: str, now: dt.datetime | None = None) -> UpdateResult:
    """Fetch, validate and install the data from ``source``; nothing changes on failure."""
    data = fetch(source)
    providers = parse_providers(data, source)
    current = load_engine_data(data_dir)
    old = {_model_key(p, m): _price_shape(m) for p in current.providers for m in p.models}
    new = {_model_key(p, m): _price_shape(m) for p in providers for m in p.models}
    changed = sum(1 for key, shape in new.items() if key in old and old[key] != shape)
    model_count = sum(len(p.models) for p in providers)
    origin = source if is_url(source) else str(Path(source).expanduser().resolve())
    meta = {
        "source": origin,
        "fetched_at": (now or utc_now()).isoformat(timespec="seconds"),
        "providers": len(providers),
        "models": model_count,
        "sha256": hashlib.sha256(data).hexdigest(),
        "genai_prices_version": GENAI_PRICES_VERSION,
    }
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        # Data first, then its metadata: a crash between the two replaces leaves a checksum
        # mismatch, which load_engine_data reports and answers with the bundled data.
        _install(
            {
                data_dir / DATA_FILE: data,
                data_dir / META_FILE: (json.dumps(meta, indent=2) + "\n").encode(),
            }
        )
    except OSError as exc:
        raise PriceDataError(f"cannot write to {data_dir}: {exc.strerror or exc}") from None
    return UpdateResult(
        source=origin,
        providers=len(providers),
        models=model_count,
        previous_models=current.model_count,
        previous_kind=current.kind,
        changed=changed,
        added=len(new.keys() - old.keys()),
        removed=len(old.keys() - new.keys()),
    )
