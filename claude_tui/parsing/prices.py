"""What a session's API messages cost, priced by genai-prices (PyPI: pydantic's kept LLM price data).

No price is written here: genai-prices matches the model id and holds the prices, their history (a price
that changed on a date applies from that date, by the message's timestamp) and their tiers (Sonnet 4.5 above
200k input tokens). The provider comes from the shape of the id: Bedrock ids (`anthropic.claude-…`,
`us.anthropic.claude-…-v1:0`) are priced as AWS Bedrock, Vertex ids (`claude-opus-4-5@20251101`) as Google
Vertex, every other id as Anthropic's own API (what Claude Code talks to by default). A model that
genai-prices does not know for that provider gets no price, never a guess: `Costing.unpriced_models` names it
and the session's `cost_usd` is None.

A price is per unit, so within one tier region of a request's total input the cost is linear in the counts:
each model price becomes a `PriceSheet` of per-unit prices per region, each what genai-prices' own
`calc_price` charges for one more unit there (exact in Decimal), and a session is priced as sums times those.

genai-prices takes 0.15-0.3 s and ~28 MiB to import (pydantic, httpx), which must never delay Claude's first
frame, and which would be half of `claude-tui stats`' time on a large folder. So the sheets of each model id
are kept in a small cache file in the data dir (`cache/genai-prices.json`), keyed by the installed
genai-prices data file: genai-prices is imported only for a model id the cache does not hold yet, and again
after genai-prices is upgraded.
"""

from __future__ import annotations

import os
import sys
import threading
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:
    from claude_tui.parsing.events import TokenUsage

ANTHROPIC = "anthropic"
BEDROCK = "aws"
VERTEX = "google"
CACHE_FORMAT = 1
"""Bumped when the cache file's layout changes (an old file is then ignored)."""


@dataclass(frozen=True)
class Costing:
    """The price of a set of API messages."""

    cost_usd: float | None
    """USD for every message with tokens, or None when any of them used a model without a price."""
    priced_usd: float
    """USD for the messages that could be priced (the whole cost when `unpriced_models` is empty)."""
    unpriced_models: tuple[str, ...] = ()
    """Models that had tokens but no price, sorted."""


def provider_for(model: str) -> str:
    """The genai-prices provider a model id is billed by (see the module docstring)."""
    name = model.strip().lower()
    if name.startswith("anthropic.") or ".anthropic." in name:
        return BEDROCK
    if "@" in name:
        return VERTEX
    return ANTHROPIC


# -- per-unit prices ----------------------------------------------------------------------------------------

Counts = tuple[int, int, int, int, int, int]
"""Input, output, cache read, cache write, 1-hour cache write (part of the writes), web searches."""

_UNIT_STEPS: tuple[Counts, ...] = (
    (1, 0, 0, 0, 0, 0),
    (0, 1, 0, 0, 0, 0),
    (0, 0, 1, 0, 0, 0),
    (0, 0, 0, 1, 0, 0),
    (0, 0, 0, 1, 1, 0),
    (0, 0, 0, 0, 0, 1),
)


def _usage(counts: Counts) -> Any:
    """A genai-prices `Usage` for our counts.

    The transcript's `input_tokens` exclude cached ones; genai-prices' `input_tokens` is the whole input
    (it subtracts the cache reads and writes itself), and its 1-hour writes are part of the cache writes.
    """
    from genai_prices import Usage

    inp, out, read, write, write_1h, searches = counts
    return Usage(
        input_tokens=inp + read + write,
        output_tokens=out,
        cache_read_tokens=read,
        cache_write_tokens=write,
        cache_write_1h_tokens=write_1h,
        web_searches=searches,
    )


class PriceSheet:
    """One genai-prices `ModelPrice` as per-unit prices, one set per tier region.

    Args:
        starts: total input sizes above which a tier applies (genai-prices: `total > start`), ascending.
        coefficients: USD per unit of each count (`Counts` order), for each region (`len(starts) + 1`).
    """

    __slots__ = ("coefficients", "starts")

    def __init__(self, starts: tuple[int, ...], coefficients: tuple[tuple[float, ...], ...]) -> None:
        self.starts = starts
        self.coefficients = coefficients

    def region(self, total_input: int) -> int:
        """How many tier starts a request of this total input is above."""
        return bisect_left(self.starts, total_input) if self.starts else 0

    @classmethod
    def of(cls, model_price: Any) -> PriceSheet:
        """The sheet of a genai-prices `ModelPrice`: two `calc_price` calls per unit and region."""
        from genai_prices.types import TieredPrices

        starts = sorted(
            {
                tier.start
                for value in vars(model_price).values()
                if isinstance(value, TieredPrices)
                for tier in value.tiers
            }
        )
        calc = model_price.calc_price
        regions = []
        for region in range(len(starts) + 1):
            base: Counts = (0 if region == 0 else starts[region - 1] + 1, 0, 0, 0, 0, 0)
            base_price = calc(_usage(base))["total_price"]
            steps = []
            for step in _UNIT_STEPS:
                probe: Any = tuple(b + d for b, d in zip(base, step, strict=True))
                steps.append(calc(_usage(probe))["total_price"] - base_price)
            steps[4] -= steps[3]  # a 1-hour write is a write that costs more: only the difference
            regions.append(tuple(float(value) for value in steps))
        return cls(starts=tuple(starts), coefficients=tuple(regions))

    def to_json(self) -> dict[str, Any]:
        return {"starts": list(self.starts), "coefficients": [list(c) for c in self.coefficients]}

    @classmethod
    def from_json(cls, data: Any) -> PriceSheet:
        """Raises ValueError/TypeError/KeyError for anything not written by `to_json`."""
        starts = tuple(int(s) for s in data["starts"])
        coefficients = tuple(tuple(float(x) for x in c) for c in data["coefficients"])
        if len(coefficients) != len(starts) + 1 or any(len(c) != len(_UNIT_STEPS) for c in coefficients):
            raise ValueError("a price sheet of the wrong shape")
        return cls(starts=starts, coefficients=coefficients)


def _utc_day(ts: float | None) -> date:
    return (datetime.now(tz=UTC) if ts is None else datetime.fromtimestamp(ts, tz=UTC)).date()


class ModelPrices:
    """A model's prices over time, in genai-prices' order: (first UTC day it applies, or None, sheet)."""

    __slots__ = ("periods",)

    def __init__(self, periods: tuple[tuple[date | None, PriceSheet], ...]) -> None:
        self.periods = periods

    def at(self, ts: float | None) -> PriceSheet:
        """The sheet for a message at `ts` (genai-prices' rule: the last period that has started, else the
        first)."""
        if len(self.periods) == 1:
            return self.periods[0][1]
        day = _utc_day(ts)
        for start, sheet in reversed(self.periods):
            if start is None or day >= start:
                return sheet
        return self.periods[0][1]

    def to_json(self) -> list[Any]:
        return [
            [None if start is None else start.isoformat(), sheet.to_json()] for start, sheet in self.periods
        ]

    @classmethod
    def from_json(cls, data: Any) -> ModelPrices:
        periods = tuple(
            (None if start is None else date.fromisoformat(start), PriceSheet.from_json(sheet))
            for start, sheet in data
        )
        if not periods:
            raise ValueError("no prices")
        return cls(periods=periods)


class _TimeOfDayPrices:
    """A model priced by the time of day (not a Claude model): genai-prices is asked per message."""

    def __init__(self, info: Any) -> None:
        self.info = info
        self._sheets: dict[int, tuple[Any, PriceSheet]] = {}

    def at(self, ts: float | None) -> PriceSheet:
        when = datetime.now(tz=UTC) if ts is None else datetime.fromtimestamp(ts, tz=UTC)
        model_price = self.info.get_prices(when)
        known = self._sheets.get(id(model_price))
        if known is None or known[0] is not model_price:
            known = self._sheets[id(model_price)] = (model_price, PriceSheet.of(model_price))
        return known[1]


def _from_library(model: str) -> ModelPrices | _TimeOfDayPrices | None:
    """A model's prices from genai-prices itself (imports it), or None when it has none."""
    from genai_prices import data_snapshot
    from genai_prices.types import StartDateConstraint

    try:
        _, info = data_snapshot.get_snapshot().find_provider_model(model, None, provider_for(model), None)
    except LookupError:
        return None
    if not isinstance(info.prices, list):
        return ModelPrices(periods=((None, PriceSheet.of(info.prices)),))
    periods = []
    for conditional in info.prices:
        constraint = conditional.constraint
        if constraint is not None and not isinstance(constraint, StartDateConstraint):
            return _TimeOfDayPrices(info)
        start = constraint.start_date if constraint is not None else None
        periods.append((start, PriceSheet.of(conditional.prices)))
    return ModelPrices(periods=tuple(periods))


# -- the cache --------------------------------------------------------------------------------------------


def _library_key() -> str | None:
    """What identifies the installed genai-prices data: its data file's path, mtime and size (found without
    importing genai-prices), or None when it is not installed."""
    import importlib.util

    try:
        spec = importlib.util.find_spec("genai_prices")
    except (ImportError, ValueError):
        return None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        return None
    data = Path(locations[0]) / "data.py"
    try:
        st = data.stat()
    except OSError:
        return None
    return f"{data}:{st.st_mtime_ns}:{st.st_size}:{CACHE_FORMAT}"


def cache_path() -> Path | None:
    """The cache file (in the data dir), or None when there is no usable data dir."""
    try:
        from claude_tui.paths import data_dir

        return data_dir() / "cache" / "genai-prices.json"
    except OSError:
        return None


class _Missing:
    """Not in the price cache (and genai-prices was not to be asked)."""


MISSING = _Missing()


class _PriceBook:
    """Model id -> its prices, from the cache file, else from genai-prices (then written to the cache)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._entries: dict[str, ModelPrices | _TimeOfDayPrices | None] | None = None
        self._key: str | None = None
        self._dirty = False
        self.from_cache = 0
        """Model ids this process found in the cache file (for tests and the docs' claims)."""

    def _load(self) -> dict[str, ModelPrices | _TimeOfDayPrices | None]:
        if self._entries is not None:
            return self._entries
        import json

        entries: dict[str, ModelPrices | _TimeOfDayPrices | None] = {}
        self._key = _library_key()
        path = cache_path()
        if self._key is not None and path is not None:
            try:
                data = json.loads(path.read_bytes())
                if isinstance(data, dict) and data.get("key") == self._key:
                    for model, prices in data["models"].items():
                        entries[model] = None if prices is None else ModelPrices.from_json(prices)
            except (OSError, ValueError, TypeError, KeyError, AttributeError):
                entries = {}  # missing, unreadable, from another genai-prices or corrupt: priced afresh
        self._entries = entries
        return entries

    @property
    def warm(self) -> bool:
        """Whether the cache file held prices for this genai-prices (so it may not need importing)."""
        with self._lock:
            return bool(self._load())

    def get(self, model: str, library: bool = True) -> ModelPrices | _TimeOfDayPrices | _Missing | None:
        """A model's prices; without `library`, `MISSING` when the cache does not hold the model."""
        with self._lock:
            entries = self._load()
            if model in entries:
                return entries[model]
            if not library:
                return MISSING
            prices = _from_library(model)
            entries[model] = prices
            if not isinstance(prices, _TimeOfDayPrices):
                self._dirty = True
            return prices

    def save(self) -> None:
        """Write the cache file when something was added (atomically; a failure only costs speed)."""
        if not self._dirty:
            return
        with self._lock:
            path = cache_path()
            if not self._dirty or self._entries is None or self._key is None or path is None:
                return
            import json

            models = {
                model: None if prices is None else prices.to_json()
                for model, prices in self._entries.items()
                if not isinstance(prices, _TimeOfDayPrices)
            }
            data = json.dumps({"key": self._key, "models": models}, separators=(",", ":"))
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            try:
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                tmp.write_text(data)
                os.replace(tmp, path)
                self._dirty = False
            except OSError:
                tmp.unlink(missing_ok=True)

    def forget(self) -> None:
        """Drop what this process holds (tests: read the cache file again)."""
        with self._lock:
            self._entries = None
            self._dirty = False


_book = _PriceBook()


def is_priced(model: str) -> bool:
    """Whether genai-prices has a price for this model id."""
    return bool(model) and _book.get(model) is not None


def read_cache() -> bool:
    """Read the price cache file now (a process that forks workers then shares it with them); whether it
    held prices for the installed genai-prices."""
    return _book.warm


def load() -> None:
    """Import genai-prices and its price data now (what a model missing from the cache would do)."""
    from genai_prices import data_snapshot

    data_snapshot.get_snapshot()


_preload_lock = threading.Lock()
_preload: threading.Thread | None = None


def warm_up() -> None:
    """Read the price cache now, and import genai-prices when the cache is cold (never raises: a broken
    install raises again where a price is asked for)."""
    try:
        if not _book.warm:
            load()
    except Exception:
        pass


def preload_in_background() -> None:
    """Read the price cache in a daemon thread (once), and import genai-prices there when the cache is cold,
    so that the first cost does not stall the caller (a live session's event loop)."""
    global _preload
    with _preload_lock:
        if _preload is not None or "genai_prices.data" in sys.modules:
            return
        _preload = threading.Thread(target=warm_up, name="genai-prices-preload", daemon=True)
        _preload.start()


# -- pricing ------------------------------------------------------------------------------------------------

UsageRow = tuple[str | None, float | None, int, int, int, int, int, int]
"""One API message for pricing: model, timestamp, then the `Counts` (the 1-hour writes at most the writes).
Plain tuples, so that a worker process can send many cheaply (pickling 4,000 `TokenUsage` objects takes
~180 ms; the same as tuples ~20 ms)."""


def usage_row(usage: TokenUsage) -> UsageRow:
    """The pricing row of one message."""
    write = usage.cache_creation_tokens
    return (
        usage.model,
        usage.ts,
        usage.input_tokens,
        usage.output_tokens,
        usage.cache_read_tokens,
        write,
        min(usage.cache_creation_1h_tokens, write),
        usage.web_search_requests,
    )


def price_messages(usages: Iterable[TokenUsage]) -> Costing:
    """The cost of API messages (each once: pass one `TokenUsage` per message); see `price_rows`."""
    return price_rows(map(usage_row, usages))


@overload
def price_rows(rows: Iterable[UsageRow]) -> Costing: ...


@overload
def price_rows(rows: Iterable[UsageRow], *, library: bool) -> Costing | None: ...


def price_rows(rows: Iterable[UsageRow], *, library: bool = True) -> Costing | None:
    """The cost of API messages given as `usage_row`s.

    Each message is priced at its model's price on its date, in the tier its own input size falls in. The
    messages of a model with one price and no tiers (most) are summed first, field by field. With
    `library=False` only the price cache is used: None when it does not hold one of the models.
    """
    by_model: dict[str | None, list[UsageRow]] = {}
    for row in rows:
        group = by_model.get(row[0])
        if group is None:
            by_model[row[0]] = [row]
        else:
            group.append(row)
    sums: dict[tuple[int, int], tuple[PriceSheet, list[int]]] = {}
    unpriced: set[str] = set()

    def add(sheet: PriceSheet, region: int, counts: tuple[int, ...] | list[int]) -> None:
        entry = sums.get((id(sheet), region))
        if entry is None:
            sums[(id(sheet), region)] = (sheet, list(counts))
        else:
            totals = entry[1]
            for index, value in enumerate(counts):
                totals[index] += value

    for model, group in by_model.items():
        prices = _book.get(model, library) if model else None
        if isinstance(prices, _Missing):
            return None
        if isinstance(prices, ModelPrices) and len(prices.periods) == 1 and not prices.periods[0][1].starts:
            add(prices.periods[0][1], 0, [sum(column) for column in list(zip(*group, strict=True))[2:]])
            continue
        for row in group:
            counts = row[2:]
            if not any(counts):
                continue
            if prices is None:
                unpriced.add(model or "(no model)")
                break
            sheet = prices.at(row[1])
            add(sheet, sheet.region(counts[0] + counts[2] + counts[3]), counts)
    _book.save()
    total = 0.0
    for (_, region), (sheet, totals) in sums.items():
        total += sum(c * n for c, n in zip(sheet.coefficients[region], totals, strict=True))
    priced = round(total, 6)
    return Costing(
        cost_usd=None if unpriced else priced, priced_usd=priced, unpriced_models=tuple(sorted(unpriced))
    )


def message_cost(
    model: str | None,
    input_tokens: int,
    output_tokens: int,
    cache_read_tokens: int,
    cache_creation_tokens: int,
    cache_creation_1h_tokens: int = 0,
    *,
    ts: float | None = None,
    web_search_requests: int = 0,
) -> float | None:
    """USD cost of one API message, or None when the model has no price."""
    write_1h = min(cache_creation_1h_tokens, cache_creation_tokens)
    row = (model, ts, input_tokens, output_tokens, cache_read_tokens, cache_creation_tokens, write_1h)
    return price_rows([(*row, web_search_requests)]).cost_usd
