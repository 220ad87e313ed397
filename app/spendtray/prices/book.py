"""The price book: resolves a model + provider + date + tier to the price in force. Any thread.

Look-up order: the user's overrides, the project's ``pricing/*.toml``, then genai-prices (with
the spellings from ``names.candidates``; its bundled catalogue, or the newer one
``spendtray prices update`` downloaded — see ``engine_data``). A model none of them knows
raises ``UnknownModel`` with the reason; callers store such usage unpriced — never at $0 and
never at a guessed price.
An event's provider ``unknown`` (none given, none inferable from the model name) counts as not
given: the overrides can still name the provider (``provider = "openai"`` on a fine-tune).
``adopt`` swaps in newly loaded prices while the app runs (``prices.reloader``); answers cached
from the old prices are dropped, and a look-up that started before the swap never caches its
answer after it.
Resolutions are cached, so the hot path (batch ingest, through ``price_at``) pays for one
dictionary look-up and the arithmetic in ``calc``, not for genai-prices' catalogue search.
A book loaded with a price table (``prices.table_cache``: ``price_at``'s answers saved by an
earlier import, or the one shipped with Spendtray: ``prices.seed_table``) answers from it and
loads genai-prices and the TOML files only when asked for something the table does not hold.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from spendtray.clock import utc_now
from spendtray.prices import names
from spendtray.prices.calc import CompiledPrice, TokenCounts

if TYPE_CHECKING:  # genai-prices (pydantic, httpx) loads with the catalogue, not with this module
    from genai_prices.data_snapshot import DataSnapshot
    from genai_prices.types import ModelInfo, ModelPrice, Provider

    from spendtray.prices.engine_data import EngineData
    from spendtray.prices.overrides import OverrideEntry
    from spendtray.prices.table_cache import PriceTable, Timeline

__all__ = ["PriceBook", "ResolvedPrice", "TokenCounts", "UnknownModel", "import_catalogue_code"]

UNKNOWN_PROVIDER = "unknown"  # what an event stores when no provider is given or inferable


def __getattr__(name: str) -> Any:
    if name == "ENGINE_SOURCE":  # the bundled catalogue's label
        from spendtray.prices.engine_data import GENAI_PRICES_VERSION

        return f"genai-prices {GENAI_PRICES_VERSION}"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def import_catalogue_code() -> None:
    """Import, on the calling thread, every module a catalogue load runs: genai-prices (with
    pydantic) and our loaders. The load itself then imports only genai-prices' two data
    modules, whose own imports are all loaded. Two threads importing genai-prices at once can
    each hold one of its modules' import locks; Python breaks such a cycle by handing one of
    them a half-initialised module (in CI: ``cannot import name 'data_snapshot' from
    partially initialized module 'genai_prices'`` as ``serve``'s first stderr line)."""
    import importlib

    for name in ("spendtray.paths", "spendtray.prices.engine_data", "spendtray.prices.overrides"):
        importlib.import_module(name)


class UnknownModel(LookupError):
    """No price is known for this model; ``reason`` says what was tried."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, eq=False)
class ResolvedPrice:
    """The price of one model at one moment, ready to cost calls."""

    model_id: str
    provider_id: str
    context_window: int | None
    source: str
    price_date: str | None  # the date this price took effect or was checked, ISO
    compiled: CompiledPrice
    price_context: str | None  # "batch", "flex", "priority"… when a variant was applied

    def cost_nanos(self, counts: TokenCounts) -> int:
        return self.compiled.cost_nanos(counts)

    @property
    def unit_prices(self) -> dict[str, Any]:
        return self.compiled.unit_prices()

    @property
    def tier_thresholds(self) -> list[int]:
        return self.compiled.tier_thresholds()

    def unit_prices_json(self) -> dict[str, Any]:
        return self.compiled.unit_prices_json()

    @cached_property
    def unit_prices_text(self) -> str:
        """The unit prices as compact JSON, as stored beside each event (computed once)."""
        return json.dumps(self.unit_prices_json(), separators=(",", ":"))

    @cached_property
    def stored_fields(self) -> tuple[str, str, str, str, str | None]:
        """What each event priced with this stores beside its cost (computed once): price
        model, price provider, unit prices, price source (with the variant applied), date."""
        source = self.source
        if self.price_context:
            source = f"{source} ({self.price_context})"
        return self.model_id, self.provider_id, self.unit_prices_text, source, self.price_date


@dataclass(frozen=True)
class _EngineMatch:
    provider: Provider
    model: ModelInfo


@dataclass(frozen=True)
class _OverrideMatch:
    entries: tuple[OverrideEntry, ...]  # every matching entry, first wins where it applies
    base: _EngineMatch | None  # the engine's price (discount entries apply to it)


_Match = _EngineMatch | _OverrideMatch | str


class _Timed(Enum):
    """In price_at's day cache: this model's price changes within a day (off-peak hours)."""

    BY_MINUTE = "by minute"


_TIMED = _Timed.BY_MINUTE
# A price_at cache entry: the price, UnknownModel's reason, or _TIMED.
_Priced = ResolvedPrice | str | _Timed
# model, provider, service tier, batch, UTC day or minute number
_PriceKey = tuple[str, str | None, str | None, bool, int]
_V = TypeVar("_V")
_DAY_MS = 86_400_000
_MINUTE_MS = 60_000


def _price_context(service_tier: str | None, batch: bool) -> dict[str, str] | None:
    context: dict[str, str] = {}
    tier = (service_tier or "").strip().lower()
    if batch or tier == "batch":
        context["processing"] = "batch"
    elif tier and tier not in {"standard", "auto", "on_demand", "default"}:
        context["service_tier"] = tier
    return context or None


def _effective_date(model: ModelInfo, when: dt.datetime) -> str | None:
    from genai_prices.types import StartDateConstraint

    if not isinstance(model.prices, list):  # one ModelPrice
        return None
    for conditional in reversed(model.prices):
        constraint = conditional.constraint
        if constraint is None or constraint.active(when):
            if isinstance(constraint, StartDateConstraint):
                return constraint.start_date.isoformat()
            return None
    return None


def _start_dates(model: ModelInfo) -> set[dt.date] | None:
    """The dates this model's prices (variants included) change on; None when one changes by
    the time of day."""
    from genai_prices.types import StartDateConstraint

    constraints = [c.constraint for c in model.prices] if isinstance(model.prices, list) else []
    constraints += [v.constraint for v in model.price_variants or ()]
    starts: set[dt.date] = set()
    for constraint in constraints:
        if isinstance(constraint, StartDateConstraint):
            starts.add(constraint.start_date)
        elif constraint is not None:
            return None
    return starts


@dataclass(frozen=True)
class _Catalogue:
    """What a book prices from: the TOML entries and genai-prices' catalogue."""

    overrides: list[OverrideEntry]
    engine: EngineData
    source: str  # the engine's label in a price's source
    snapshot: DataSnapshot

    @classmethod
    def of(cls, overrides: list[OverrideEntry], engine: EngineData) -> _Catalogue:
        return cls(overrides, engine, engine.source_label, engine.snapshot)


class PriceBook:
    """Resolves prices; thread-safe (the caches are guarded by one lock)."""

    def __init__(
        self,
        overrides: list[OverrideEntry],
        engine: EngineData | None = None,
        table: PriceTable | None = None,
    ) -> None:
        if engine is None:
            from spendtray.prices.engine_data import bundled

            engine = bundled()
        self._setup(_Catalogue.of(overrides, engine), None, table)

    @classmethod
    def deferred(cls, load: Callable[[], PriceBook], table: PriceTable) -> PriceBook:
        """A book that answers ``price_at`` from ``table`` and calls ``load`` (once, on the
        first thread that needs it) for anything else: the book whose catalogue it uses."""
        book = cls.__new__(cls)
        book._setup(None, load, table)
        return book

    def _setup(
        self,
        catalogue: _Catalogue | None,
        load: Callable[[], PriceBook] | None,
        table: PriceTable | None,
    ) -> None:
        self._cat = catalogue
        self._load = load
        self._load_lock = threading.Lock()
        self._table = table
        self.table_file: Path | None = None  # where load() read the table or should write it
        self.table_key: str | None = None  # what the table must be keyed by to be used
        # The table is the one shipped with Spendtray (``seed_table``), not the data folder's.
        self.table_is_seed = False
        # price_at's questions the data folder's table could not answer (``missed``; with the
        # seed, every question, for the data folder's table to hold them next time); a forked
        # import worker also appends each to ``table_cache.misses_file`` for the importer's
        # process to read.
        self._missed: set[tuple[str, str | None, str | None, bool]] = set()
        self._in_child = False
        self._lock = threading.Lock()
        self._generation = 0  # bumped by adopt(): caches filled before it are dropped
        self._matches: dict[tuple[str, str | None], _Match] = {}
        self._resolved: dict[tuple[Any, ...], ResolvedPrice] = {}
        # price_at's answers by (model, provider, service tier, batch, UTC day) — or minute,
        # in _by_minute, for the models _TIMED marks.
        self._by_day: dict[_PriceKey, _Priced] = {}
        self._by_minute: dict[_PriceKey, ResolvedPrice | str] = {}
        # ``_build``'s answers by the id of the genai-prices ``ModelPrice`` they compile (kept
        # in the value, so the id stays that object's) and what else a ResolvedPrice holds:
        # the days a price did not change share one ResolvedPrice, compiled once. A first
        # import spans hundreds of days; compiling the same price again for each cost about
        # as much as pricing every call of the day.
        self._built: dict[tuple[Any, ...], tuple[object, ResolvedPrice]] = {}
        self._known_names: list[str] | None = None  # for suggest(), built on first use

    @classmethod
    def load(
        cls,
        user_file: Path | None = None,
        shipped_dir: Path | None = None,
        data_dir: Path | None = None,
        table_file: Path | None = None,
        *,
        seed: bool = True,
    ) -> PriceBook:
        """The overrides plus genai-prices: the data downloaded into ``data_dir`` when it is
        there and valid, else the bundled data (``Settings.prices_data_dir`` is the user's).

        With ``table_file`` (``Settings.price_table_path``): when that price table was saved
        from these same files, a ``deferred`` book that loads them only if asked for a price
        the table does not hold; else the loaded book, which ``table_file`` and ``table_key``
        tell where to save a new table (``table_cache.save_table``). Without a table saved
        for these files, the one shipped with Spendtray (``seed_table``) where it applies;
        ``seed=False`` ignores it."""
        if shipped_dir is None:
            from spendtray.paths import pricing_dir

            shipped_dir = pricing_dir()
        found = shipped_dir

        def load_now() -> PriceBook:
            from spendtray.prices.engine_data import load_engine_data
            from spendtray.prices.overrides import load_layers

            return cls(load_layers(found, user_file), load_engine_data(data_dir))

        if table_file is None:
            return load_now()
        from spendtray.prices.table_cache import read_table, table_key

        key = table_key(shipped_dir, user_file, data_dir)
        table = read_table(table_file, key) if key is not None else None
        from_seed = False
        if table is None and key is not None and seed:
            # A fresh data folder (or new code or prices): the table shipped with Spendtray,
            # when it was made from the very files this book would load.
            from spendtray.prices.seed_table import read_seed

            table = read_seed(shipped_dir, user_file, data_dir)
            from_seed = table is not None
        book = load_now() if table is None else cls.deferred(load_now, table)
        book.table_file, book.table_key = table_file, key
        book.table_is_seed = from_seed
        return book

    def _catalogue(self) -> _Catalogue:
        catalogue = self._cat
        if catalogue is None:
            with self._load_lock:
                catalogue = self._cat
                if catalogue is None:
                    assert self._load is not None  # only deferred() books start without one
                    catalogue = self._cat = self._load()._catalogue()
        return catalogue

    def load_catalogue(self) -> None:
        """Load genai-prices and the TOML files now, if a price table deferred them (a running
        app does this on a thread of its own at start, so that no request waits for it)."""
        self._catalogue()

    @property
    def loaded(self) -> bool:
        """True once genai-prices and the TOML files are loaded (a deferred book's aren't)."""
        return self._cat is not None

    @property
    def table(self) -> PriceTable | None:
        return self._table

    @property
    def engine(self) -> EngineData:
        return self._catalogue().engine

    @property
    def engine_source(self) -> str:
        return self._catalogue().source

    def forked(self) -> None:
        """In a child forked from a process with threads (an import worker): new locks, since
        another thread may have held one at the fork and would never release it here."""
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()
        self._in_child = True

    def adopt(self, other: PriceBook) -> None:
        """Use ``other``'s prices from now on (a reload): its overrides and genai-prices data,
        with empty caches. Thread-safe; events priced before keep the prices they got."""
        catalogue = other._catalogue()
        with self._lock:
            self._generation += 1
            self._cat = catalogue
            self._table = other._table
            self.table_is_seed = other.table_is_seed
            self._matches = {}
            self._resolved = {}
            self._by_day = {}
            self._by_minute = {}
            self._built = {}
            self._known_names = None

    @property
    def overrides(self) -> list[OverrideEntry]:
        return list(self._catalogue().overrides)

    # -- look-up -------------------------------------------------------------------------

    def _find_overrides(
        self, provider: str | None, spellings: list[str], engine_hit: _EngineMatch | None
    ) -> tuple[OverrideEntry, ...]:
        """The override entries for this model, in look-up order; which one is in force
        depends on the call's date and tier (``_build``). A discount entry needs the engine's
        price to discount."""
        if engine_hit is None:
            return tuple(
                e
                for e in self._catalogue().overrides
                if e.model_price is not None and e.matches(provider, spellings)
            )
        engine_names = (provider or engine_hit.provider.id, [engine_hit.model.id])
        return tuple(
            e
            for e in self._catalogue().overrides
            if e.matches(provider, spellings)
            or (e.discount_percent is not None and e.matches(*engine_names))
        )

    def _find_engine(self, provider: str | None, spellings: list[str]) -> _EngineMatch | None:
        engine_provider = names.engine_provider(provider)
        attempts: list[tuple[str, str | None]] = []
        for spelling in spellings:
            attempts.append((spelling, engine_provider))
        if engine_provider is not None:
            # Gateways (OpenRouter & co.) list models as vendor/model.
            for spelling in spellings:
                vendor = names.infer_provider(spelling)
                if vendor and "/" not in spelling:
                    attempts.append(
                        (f"{names.engine_provider(vendor)}/{spelling}", engine_provider)
                    )
        else:
            for spelling in spellings:
                prefix, bare = names.split_prefix(spelling)
                hint = names.engine_provider(prefix) if prefix else None
                if hint:
                    attempts.append((bare, hint))
        snapshot = self._catalogue().snapshot
        for ref, prov in attempts:
            try:
                found_provider, model = snapshot.find_provider_model(ref, None, prov, None)
            except LookupError:
                continue
            return _EngineMatch(found_provider, model)
        return None

    def _match(self, model: str, provider: str | None) -> _Match:
        key = (model, provider)
        cached = self._matches.get(key)
        if cached is not None:
            return cached
        generation = self._generation
        spellings = names.candidates(model)
        given = None if provider == UNKNOWN_PROVIDER else provider
        prov = names.canonical_provider(given) or names.infer_provider(model)
        engine_hit = self._find_engine(prov, spellings)
        result: _Match
        overrides = self._find_overrides(prov, spellings, engine_hit)
        if overrides:
            result = _OverrideMatch(overrides, engine_hit)
        elif engine_hit is not None:
            result = engine_hit
        else:
            shown = f"{provider}/{model}" if provider else model
            result = (
                f"no price known for {shown!r} (tried {', '.join(spellings)} in "
                f"{self.engine_source} and the pricing overrides)"
            )
        with self._lock:
            if generation == self._generation:
                self._matches[key] = result
        return result

    def resolve(
        self,
        model: str,
        provider: str | None = None,
        when: dt.datetime | None = None,
        service_tier: str | None = None,
        batch: bool = False,
    ) -> ResolvedPrice:
        """The price in force for ``model`` at ``when`` (UTC now by default)."""
        when = when or utc_now()
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        context = _price_context(service_tier, batch)
        ctx_key = tuple(sorted(context.items())) if context else None
        # Prices change by date; a few (off-peak discounts) by time of day, to the minute.
        slot = (when.year, when.month, when.day, when.hour, when.minute)
        cache_key = (model, provider, slot if self._timed(model, provider) else slot[:3], ctx_key)
        hit = self._resolved.get(cache_key)
        if hit is not None:
            return hit
        generation = self._generation
        match = self._match(model, provider)
        if isinstance(match, str):
            raise UnknownModel(match)
        resolved = self._build(match, when, context)
        with self._lock:
            if generation != self._generation:
                return resolved
            if len(self._resolved) > 50_000:
                self._resolved.clear()
            self._resolved[cache_key] = resolved
        return resolved

    def price_at(
        self,
        model: str,
        provider: str | None,
        when: dt.datetime,
        when_ms: int,
        service_tier: str | None = None,
        batch: bool = False,
    ) -> ResolvedPrice | str:
        """``resolve`` for the ingest hot path: ``when_ms`` is ``when`` in epoch milliseconds,
        and an unknown model gives ``UnknownModel``'s reason instead of raising it.

        One look-up by a key built from what the event already has: ``resolve`` derives its
        key from the datetime and the tier on every call, and an exception per unpriced event
        costs more than pricing a priced one."""
        if when.tzinfo is not dt.UTC:
            # The day of a non-UTC datetime is its local day (resolve's key); keep to that.
            return self._resolve_or_reason(model, provider, when, service_tier, batch)
        day = when_ms // _DAY_MS
        key = (model, provider, service_tier, batch, day)
        hit = self._by_day.get(key)
        if hit is None:
            generation = self._generation
            table = self._table
            saved = table.lookup(model, provider, service_tier, batch, day) if table else None
            if saved is None or self.table_is_seed:
                self._note_miss(model, provider, service_tier, batch)
            if saved is not None:
                hit = saved
            elif self._timed(model, provider):
                hit = _TIMED
            else:
                hit = self._resolve_or_reason(model, provider, when, service_tier, batch)
            self._remember(self._by_day, key, hit, generation)
        if hit is not _TIMED:
            return hit
        key = (model, provider, service_tier, batch, when_ms // _MINUTE_MS)
        priced = self._by_minute.get(key)
        if priced is None:
            generation = self._generation
            priced = self._resolve_or_reason(model, provider, when, service_tier, batch)
            self._remember(self._by_minute, key, priced, generation)
        return priced

    @property
    def missed(self) -> set[tuple[str, str | None, str | None, bool]]:
        """The (model, provider, service tier, batch) ``price_at`` priced without the data
        folder's table (with the shipped one, every one it priced)."""
        with self._lock:
            return set(self._missed)

    def _note_miss(
        self, model: str, provider: str | None, service_tier: str | None, batch: bool
    ) -> None:
        key = (model, provider, service_tier, batch)
        table = self._table
        if self.table_file is None or key in self._missed:
            return
        if table is not None and key in table.entries and not self.table_is_seed:
            return  # known, priced without the table on purpose (by the time of day)
        with self._lock:
            self._missed.add(key)
        if self._in_child:
            from spendtray.prices.table_cache import note_miss

            note_miss(self.table_file, key)

    def _resolve_or_reason(
        self,
        model: str,
        provider: str | None,
        when: dt.datetime,
        service_tier: str | None,
        batch: bool,
    ) -> ResolvedPrice | str:
        try:
            return self.resolve(model, provider, when, service_tier, batch)
        except UnknownModel as exc:
            return exc.reason

    def _remember(
        self, cache: dict[_PriceKey, _V], key: _PriceKey, value: _V, generation: int
    ) -> None:
        with self._lock:
            if generation != self._generation:
                return  # computed from the prices before a reload
            if len(cache) > 50_000:
                cache.clear()
            cache[key] = value

    def _timed(self, model: str, provider: str | None) -> bool:
        from genai_prices.types import TimeOfDateConstraint

        match = self._match(model, provider)
        if not isinstance(match, _EngineMatch) or not isinstance(match.model.prices, list):
            return False
        return any(isinstance(c.constraint, TimeOfDateConstraint) for c in match.model.prices)

    def timeline(
        self, model: str, provider: str | None, service_tier: str | None, batch: bool
    ) -> Timeline | None:
        """What ``price_at`` answers for this model on every day, for the price table: the
        reason it has no price, or (first day, price) pairs in date order, the first for every
        day before the second (``None``). None when that cannot be said by day: a price that
        changes with the time of day, or a day with no price in force (its reason names the
        day)."""

        match = self._match(model, provider)
        if isinstance(match, str):
            return match
        engine = match if isinstance(match, _EngineMatch) else match.base
        starts = _start_dates(engine.model) if engine is not None else set()
        if starts is None:
            return None
        if isinstance(match, _OverrideMatch):
            entries: tuple[OverrideEntry, ...] = match.entries
            starts.update(e.valid_from for e in entries if e.valid_from is not None)
        dates = sorted(starts)
        firsts: list[dt.date | None] = [None, *dates]
        out: list[tuple[dt.date | None, ResolvedPrice]] = []
        for first in firsts:
            if first is not None:
                day = first
            elif dates:
                day = dates[0] - dt.timedelta(days=1)
            else:
                day = dt.date(2000, 1, 1)  # any day: the price never changes
            when = dt.datetime.combine(day, dt.time(), dt.UTC)
            found = self._resolve_or_reason(model, provider, when, service_tier, batch)
            if isinstance(found, str):
                return None
            out.append((first, found))
        return out

    def _build(
        self,
        match: _EngineMatch | _OverrideMatch,
        when: dt.datetime,
        context: dict[str, str] | None,
    ) -> ResolvedPrice:
        ctx_label = next(iter(context.values())) if context else None
        if isinstance(match, _EngineMatch):
            return self._compiled(
                match.model.get_prices(when, context),
                match.model.id,
                match.provider.id,
                match.model.context_window,
                self.engine_source,
                _effective_date(match.model, when),
                ctx_label,
            )
        base = match.base
        entry = next((e for e in match.entries if e.applies(when, ctx_label)), None)
        if entry is None:
            if base is not None:
                return self._build(base, when, context)
            first = match.entries[0]
            tier = f" at tier {ctx_label!r}" if ctx_label else ""
            raise UnknownModel(
                f"no price in force for {first.entry_id or first.models[0]!r} on "
                f"{when.date().isoformat()}{tier} (its price entries start later or are for "
                "another tier)"
            )
        if entry.model_price is None:
            from spendtray.prices.overrides import discounted

            # A discount on the engine's price (a negotiated rate).
            assert base is not None  # _match only returns discount entries with an engine hit
            list_price = base.model.get_prices(when, context)
            model_price = discounted(list_price, entry.discount_percent or Decimal(0))
            model_id = base.model.id
            window = entry.context_window or base.model.context_window
        else:
            model_price = entry.model_price
            model_id = entry.entry_id or entry.models[0]
            window = entry.context_window
        return self._compiled(
            model_price,
            model_id,
            entry.provider,
            window,
            f"{entry.origin}: {entry.source}",
            entry.checked.isoformat(),
            ctx_label,
        )

    def _compiled(
        self,
        model_price: ModelPrice,
        model_id: str,
        provider_id: str,
        window: int | None,
        source: str,
        price_date: str | None,
        ctx_label: str | None,
    ) -> ResolvedPrice:
        """The ResolvedPrice of these fields, the one already built when there is one."""
        key = (id(model_price), model_id, provider_id, window, source, price_date, ctx_label)
        with self._lock:
            found = self._built.get(key)
        if found is not None and found[0] is model_price:
            return found[1]
        resolved = ResolvedPrice(
            model_id=model_id,
            provider_id=provider_id,
            context_window=window,
            source=source,
            price_date=price_date,
            compiled=CompiledPrice(model_price),
            price_context=ctx_label,
        )
        with self._lock:
            if len(self._built) > 10_000:
                self._built.clear()
            self._built[key] = (model_price, resolved)
        return resolved

    # -- listing -------------------------------------------------------------------------

    def suggest(self, model: str, limit: int = 3) -> list[str]:
        """Known model names close to a mistyped ``model`` ("did you mean"), best first."""
        import difflib

        with self._lock:
            known = self._known_names
            if known is None:
                names_found = {m.id for _, _, m in self.engine_models()}
                for entry in self._catalogue().overrides:
                    names_found.update(p for p in entry.models if not any(c in p for c in "*?["))
                known = self._known_names = sorted(names_found)
        wanted = model.strip().lower()
        return difflib.get_close_matches(wanted, known, n=limit, cutoff=0.75)

    def engine_models(self) -> list[tuple[str, str, ModelInfo]]:
        """(provider id, model id, model) for every model genai-prices knows."""
        return [(p.id, m.id, m) for p in self._catalogue().snapshot.providers for m in p.models]
