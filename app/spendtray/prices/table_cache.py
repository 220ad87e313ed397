"""The price table cache: ``PriceBook.price_at``'s answers for the models imports priced,
saved in ``<data>/cache/price-table.json`` so that later runs price them without loading
genai-prices (with pydantic and httpx, about 0.15 s of every command that prices). Any thread
reads (``PriceTable.lookup``); the import command's main thread writes (``refresh_table``,
once its pass is stored: what its book, and its forked workers' through the misses file,
priced without the table).

The file is keyed by everything a price depends on (``table_key``): this format, Spendtray's
version and the files of its pricing code, the installed genai-prices package's files, the
project's and the user's price TOML files, and the genai-prices data ``spendtray prices update``
downloaded. Nothing is read but those small TOML files and a few ``stat`` calls. A table keyed
otherwise, or a file that is damaged (its payload carries a SHA-256), is not used: the book loads
genai-prices as it would without it, says why in the log, and the next import writes it again.

Per model key (model, provider, service tier, batch) the table holds what ``PriceBook.timeline``
gives: the reason no price is known, or the price in force from each date on (prices change on
dates only; a model whose price changes with the time of day is not kept). A model the table
does not hold is priced as without it, from genai-prices loaded at that moment.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import json
import logging
import os
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from spendtray import __version__
from spendtray.prices.book import ResolvedPrice
from spendtray.prices.calc import CompiledPrice, plain_int
from spendtray.prices.files import DATA_FILE, META_FILE

if TYPE_CHECKING:
    from spendtray.prices.book import PriceBook

__all__ = [
    "PriceKey",
    "PriceTable",
    "Timeline",
    "misses_file",
    "note_miss",
    "read_table",
    "refresh_table",
    "save_table",
    "table_key",
]

log = logging.getLogger("spendtray.prices")

TABLE_FORMAT = 1
# PriceBook.timeline's answer: no price (the reason), or (first date, price) pairs.
Timeline = str | list[tuple[dt.date | None, ResolvedPrice]]
PriceKey = tuple[str, str | None, str | None, bool]  # model, provider, service tier, batch
# A key's entry: the reason it has no price; day numbers where its price changes and the price
# from each on; or None: priced without the table (its price changes with the time of day).
_Entry = str | tuple[list[int], list[ResolvedPrice]] | None
_EPOCH = dt.date(1970, 1, 1)
_BEFORE_ALL = -(10**9)  # the first interval's first day number: every day before the next


class PriceTable:
    """Saved ``price_at`` answers: per key, the reason, or day numbers (since 1970-01-01, UTC)
    where the price changes and the price from each on."""

    def __init__(self, entries: dict[PriceKey, _Entry]):
        self.entries = entries

    def lookup(
        self, model: str, provider: str | None, service_tier: str | None, batch: bool, day: int
    ) -> ResolvedPrice | str | None:
        """The answer for this call on UTC day number ``day``; None when the table has none."""
        entry = self.entries.get((model, provider, service_tier, batch))
        if entry is None or isinstance(entry, str):
            return entry
        starts, prices = entry
        return prices[bisect.bisect_right(starts, day) - 1]

    def keys(self) -> set[PriceKey]:
        return set(self.entries)

    @classmethod
    def build(cls, book: PriceBook, keys: Iterable[PriceKey]) -> PriceTable:
        """The table of these keys, from the book's prices (genai-prices loaded if need be)."""
        entries: dict[PriceKey, _Entry] = {}
        for key in keys:
            found = book.timeline(*key)
            if isinstance(found, str):
                entries[key] = found
            elif found is None:
                entries[key] = None
            else:
                starts = [_BEFORE_ALL if d is None else (d - _EPOCH).days for d, _ in found]
                entries[key] = (starts, [price for _, price in found])
        return cls(entries)

    def merged(self, other: PriceTable) -> PriceTable:
        return PriceTable({**self.entries, **other.entries})

    # -- the file --------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        prices: list[dict[str, Any]] = []
        index: dict[int, int] = {}  # id(ResolvedPrice) -> its place in prices
        entries: list[list[Any]] = []
        for (model, provider, tier, batch), entry in sorted(
            self.entries.items(), key=lambda item: json.dumps(item[0])
        ):
            if entry is None or isinstance(entry, str):
                entries.append([model, provider, tier, batch, entry, None])
                continue
            starts, resolved = entry
            for price in resolved:
                if id(price) not in index:
                    index[id(price)] = len(prices)
                    prices.append(_price_json(price))
            timeline = [
                [start, index[id(price)]] for start, price in zip(starts, resolved, strict=True)
            ]
            entries.append([model, provider, tier, batch, None, timeline])
        return {"prices": prices, "entries": entries}

    @classmethod
    def from_json(cls, data: Any) -> PriceTable:
        """The table ``to_json`` wrote; ``ValueError`` (or ``TypeError``, ``KeyError``,
        ``IndexError``) when it is not that shape."""
        prices = [_price_from_json(p) for p in data["prices"]]
        entries: dict[PriceKey, _Entry] = {}
        for model, provider, tier, batch, reason, timeline in data["entries"]:
            if not (isinstance(model, str) and isinstance(batch, bool)):
                raise ValueError("an entry's model or batch is not a string or a boolean")
            if not all(v is None or isinstance(v, str) for v in (provider, tier)):
                raise ValueError("an entry's provider or service tier is not a string")
            key = (model, provider, tier, batch)
            if isinstance(reason, str) or (reason is None and timeline is None):
                entries[key] = reason
                continue
            starts = [plain_int(start) for start, _ in timeline]
            if not starts or starts[0] != _BEFORE_ALL or starts != sorted(set(starts)):
                raise ValueError("a timeline's days are not in order from the first")
            entries[key] = (starts, [prices[plain_int(i)] for _, i in timeline])
        return cls(entries)


def _text(value: Any, optional: bool = False) -> Any:
    if (value is None and optional) or isinstance(value, str):
        return value
    raise ValueError(f"not a string: {value!r}")


def _price_json(price: ResolvedPrice) -> dict[str, Any]:
    return {
        "model_id": price.model_id,
        "provider_id": price.provider_id,
        "context_window": price.context_window,
        "source": price.source,
        "price_date": price.price_date,
        "price_context": price.price_context,
        "steps": price.compiled.to_plain(),
    }


def _price_from_json(data: dict[str, Any]) -> ResolvedPrice:
    window = data["context_window"]
    return ResolvedPrice(
        model_id=_text(data["model_id"]),
        provider_id=_text(data["provider_id"]),
        context_window=None if window is None else plain_int(window),
        source=_text(data["source"]),
        price_date=_text(data["price_date"], optional=True),
        compiled=CompiledPrice.from_plain(data["steps"]),
        price_context=_text(data["price_context"], optional=True),
    )


def misses_file(table_file: Path) -> Path:
    """Where forked import workers append what their book priced without the table."""
    return table_file.with_name(table_file.name + ".misses")


def note_miss(table_file: Path, key: PriceKey) -> None:
    """Append ``key`` to the misses file (a worker's: its process ends without a word about
    its book). One short ``O_APPEND`` write per line, so workers do not interleave; a line
    that cannot be written only leaves the key for a later import to add."""
    line = json.dumps(list(key)).encode() + b"\n"
    try:
        table_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(misses_file(table_file), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
    except OSError as exc:
        log.info("price table miss not noted: %s", exc)


def _read_misses(path: Path) -> set[PriceKey]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return set()
    except OSError as exc:
        log.info("price table misses %s not read: %s", path, exc)
        return set()
    keys: set[PriceKey] = set()
    for line in raw.splitlines():
        try:
            model, provider, tier, batch = json.loads(line)
        except (ValueError, TypeError):
            continue  # a torn line (a worker killed mid-write): that key comes back later
        if (
            isinstance(model, str)
            and all(v is None or isinstance(v, str) for v in (provider, tier))
            and isinstance(batch, bool)
        ):
            keys.add((model, provider, tier, batch))
    return keys


def refresh_table(book: PriceBook) -> bool:
    """Save the book's table (``PriceBook.load``'s ``table_file``) with what it lacked added:
    the keys this process's book and its forked workers' priced without it (the catalogue
    loaded here if need be; from the table shipped with Spendtray, the keys priced with it,
    copied from it, with the others); True when it was written. Called by an import once its
    pass is stored, so the next import finds them; costs a ``stat`` when nothing was missed."""
    if book.table_file is None or book.table_key is None:
        return False
    noted = misses_file(book.table_file)
    missing = book.missed | _read_misses(noted)
    table = book.table
    # The shipped table's answers are copied (no catalogue loaded for them); the data
    # folder's table keeps what it holds.
    seed = table if book.table_is_seed else None
    if table is not None and seed is None:
        missing -= table.keys()
    if not missing:
        noted.unlink(missing_ok=True)
        return False
    copied = {key: seed.entries[key] for key in missing if key in seed.entries} if seed else {}
    fresh = PriceTable(copied).merged(PriceTable.build(book, missing - copied.keys()))
    try:
        save_table(
            book.table_file,
            book.table_key,
            table.merged(fresh) if table is not None and seed is None else fresh,
        )
    except OSError as exc:
        log.warning("price table %s not saved: %s", book.table_file, exc)
        return False
    noted.unlink(missing_ok=True)
    return True


# -- the key ---------------------------------------------------------------------------------


def _package_dir(name: str) -> Path | None:
    """An installed package's folder, found without importing it."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    locations = list(spec.submodule_search_locations or ()) if spec else []
    return Path(locations[0]) if locations else None


def _stat_files(digest: Any, folder: Path, suffix: str) -> bool:
    """Name, size and mtime of ``folder``'s files ending in ``suffix`` into ``digest``."""
    try:
        found = sorted(
            (e.name, e.stat().st_size, e.stat().st_mtime_ns)
            for e in os.scandir(folder)
            if e.name.endswith(suffix)
        )
    except OSError:
        return False
    digest.update(repr(found).encode())
    return bool(found)


def _content(digest: Any, path: Path) -> None:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        digest.update(f"{path.name}: absent\0".encode())
        return
    digest.update(f"{path.name}: {len(data)}\0".encode())
    digest.update(data)


def table_key(
    shipped_dir: Path | None, user_file: Path | None, data_dir: Path | None
) -> str | None:
    """What a table saved from these price files (and this code) is keyed by; None when the
    code's files cannot be found (the table is then not used)."""
    digest = hashlib.sha256(f"{TABLE_FORMAT} {__version__}\0".encode())
    if getattr(sys, "frozen", False):
        # A frozen app (the PyInstaller bundle) carries our code and genai-prices' inside its
        # executable, so each build is a new file there.
        try:
            st = os.stat(sys.executable)
        except OSError:
            return None
        digest.update(f"frozen: {st.st_size} {st.st_mtime_ns}\0".encode())
    else:
        engine = _package_dir("genai_prices")
        if engine is None or not _stat_files(digest, engine, ".py"):
            return None
        # The installed version, from the distribution's metadata folder name (pip keeps
        # files' dates from the wheel, so a new version need not change a file's size or date).
        _stat_files(digest, engine.parent, ".dist-info")
        if not _stat_files(digest, Path(__file__).parent, ".py"):
            return None
    if user_file is not None:
        _content(digest, user_file)
    if shipped_dir is not None:
        for path in sorted(shipped_dir.glob("*.toml")):
            _content(digest, path)
    if data_dir is not None:
        _content(digest, data_dir / META_FILE)  # holds the data file's SHA-256
        try:
            st = os.stat(data_dir / DATA_FILE)
            digest.update(f"data: {st.st_size} {st.st_mtime_ns}\0".encode())
        except OSError:
            digest.update(b"data: absent\0")
    return digest.hexdigest()


# -- reading and writing ---------------------------------------------------------------------


def read_table(path: Path, key: str) -> PriceTable | None:
    """The table saved in ``path`` for ``key``; None (the reason logged) when there is none,
    it was saved for other prices or code, or the file is damaged."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.info("price table %s not used: %s", path, exc)
        return None
    head, _, payload = raw.partition(b"\n")
    try:
        header = json.loads(head)
        if header.get("key") != key:
            log.info("price table %s not used: saved for other prices or code", path)
            return None
        if header.get("sha256") != hashlib.sha256(payload).hexdigest():
            raise ValueError("its payload does not match its checksum")
        return PriceTable.from_json(json.loads(payload))
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
        log.warning(
            "price table %s is damaged and not used (%s); it will be written again", path, exc
        )
        return None


def save_table(path: Path, key: str, table: PriceTable) -> None:
    """Write ``table`` for ``key`` atomically (a reader sees the old file or the new one)."""
    payload = json.dumps(table.to_json(), separators=(",", ":")).encode()
    header = json.dumps({"key": key, "sha256": hashlib.sha256(payload).hexdigest()}).encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(header + b"\n" + payload)
        os.replace(name, path)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
