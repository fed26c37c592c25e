"""What a session's API messages cost, priced by genai-prices (PyPI: pydantic's kept LLM price data).

No price is written here: genai-prices matches the model id and holds the prices, their history (a price
that changed on a date applies from that date, by the message's timestamp) and their tiers (Sonnet 4.5 above
200k input tokens). The provider comes from the shape of the id: Bedrock ids (`anthropic.claude-…`,
`us.anthropic.claude-…-v1:0`) are priced as AWS Bedrock, Vertex ids (`claude-opus-4-5@20251101`) as Google
Vertex, every other id as Anthropic's own API (what Claude Code talks to by default). A model that
genai-prices does not know for that provider gets no price, never a guess: `Costing.unpriced_models` names it
and the session's `cost_usd` is None.

genai-prices is imported only when a cost is asked for: its import takes 0.15-0.3 s (pydantic, httpx), which
must never delay Claude's first frame (tests/unit/test_cli.py and tests/unit/parsing guard that).
"""

from __future__ import annotations

import sys
import threading
from bisect import bisect_left
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from claude_tui.parsing.events import TokenUsage

ANTHROPIC = "anthropic"
BEDROCK = "aws"
VERTEX = "google"


@dataclass(frozen=True)
class Costing:
    """The price of a set of API messages."""

    cost_usd: float | None
    """USD for every message with tokens, or None when any of them used a model without a price."""
    priced_usd: float
    """USD for the messages that could be priced (the whole cost when `unpriced_models` is empty)."""
    unpriced_models: tuple[str, ...] = ()
    """Models that had tokens but no price, sorted."""


_preload_lock = threading.Lock()
_preload: threading.Thread | None = None


def load() -> None:
    """Import genai-prices and its price data now (what the first cost would otherwise do)."""
    from genai_prices import data_snapshot

    data_snapshot.get_snapshot()


def _load() -> None:
    try:
        load()
    except Exception:  # a broken install raises again, where the price is asked for
        pass


def preload_in_background() -> None:
    """Import genai-prices in a daemon thread (once), so that the first cost does not stall the caller.

    For the live session: its first poll starts this, well before Claude's first answer has tokens to price;
    the event loop keeps running while the thread imports.
    """
    global _preload
    with _preload_lock:
        if _preload is not None or "genai_prices.data" in sys.modules:
            return
        _preload = threading.Thread(target=_load, name="genai-prices-preload", daemon=True)
        _preload.start()


def provider_for(model: str) -> str:
    """The genai-prices provider a model id is billed by (see the module docstring)."""
    name = model.strip().lower()
    if name.startswith("anthropic.") or ".anthropic." in name:
        return BEDROCK
    if "@" in name:
        return VERTEX
    return ANTHROPIC


@lru_cache(maxsize=256)
def _model_info(model: str) -> Any:
    """genai-prices' `ModelInfo` for a model id, or None when it has no price for it."""
    from genai_prices import data_snapshot

    try:
        _, info = data_snapshot.get_snapshot().find_provider_model(model, None, provider_for(model), None)
    except LookupError:
        return None
    return info


def is_priced(model: str) -> bool:
    """Whether genai-prices has a price for this model id."""
    return bool(model) and _model_info(model) is not None


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


class _PriceSheet:
    """One genai-prices `ModelPrice` as per-unit prices, one set per tier region.

    A price is per unit, so within a region of a request's total input (tiers switch at a total input
    size, e.g. 200k) the cost is linear in the counts: each coefficient is what genai-prices charges for one
    more unit there (its own `calc_price` on two usages, exact in Decimal). Pricing a session is then one sum
    per region instead of one `calc_price` per message (~0.2 ms each: 500 sessions would take 0.25 s).
    """

    def __init__(self, model_price: Any) -> None:
        from genai_prices.types import TieredPrices

        self.model_price = model_price
        starts = {
            tier.start
            for value in vars(model_price).values()
            if isinstance(value, TieredPrices)
            for tier in value.tiers
        }
        self.starts = sorted(starts)
        """Total input sizes above which a tier applies (genai-prices: `total > start`)."""
        self._coefficients: dict[int, tuple[float, ...]] = {}

    def region(self, total_input: int) -> int:
        """How many tier starts a request of this total input is above."""
        return bisect_left(self.starts, total_input)

    def coefficients(self, region: int) -> tuple[float, ...]:
        """USD per unit of each count (`Counts` order) for requests in `region`."""
        known = self._coefficients.get(region)
        if known is not None:
            return known
        base_input = 0 if region == 0 else self.starts[region - 1] + 1
        base: Counts = (base_input, 0, 0, 0, 0, 0)
        calc = self.model_price.calc_price
        base_price = calc(_usage(base))["total_price"]
        steps = []
        for step in _UNIT_STEPS:
            probe = tuple(b + d for b, d in zip(base, step, strict=True))
            steps.append(calc(_usage(probe))["total_price"] - base_price)  # type: ignore[arg-type]
        steps[4] -= steps[3]  # a 1-hour write is a write that costs more: only the difference
        result = tuple(float(value) for value in steps)
        self._coefficients[region] = result
        return result


_sheets: dict[int, _PriceSheet] = {}


def _sheet(model_price: Any) -> _PriceSheet:
    sheet = _sheets.get(id(model_price))
    if sheet is None or sheet.model_price is not model_price:
        sheet = _sheets[id(model_price)] = _PriceSheet(model_price)
    return sheet


def _timestamp(ts: float | None) -> datetime:
    return datetime.now(tz=UTC) if ts is None else datetime.fromtimestamp(ts, tz=UTC)


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


def price_rows(rows: Iterable[UsageRow]) -> Costing:
    """The cost of API messages given as `usage_row`s.

    Each message is priced at its model's price on its date, in the tier its own input size falls in. The
    messages of a model with one price and no tiers (most) are summed first, field by field.
    """
    by_model: dict[str | None, list[UsageRow]] = {}
    for row in rows:
        group = by_model.get(row[0])
        if group is None:
            by_model[row[0]] = [row]
        else:
            group.append(row)
    sums: dict[tuple[int, int], tuple[_PriceSheet, list[int]]] = {}
    unpriced: set[str] = set()

    def add(sheet: _PriceSheet, region: int, counts: tuple[int, ...] | list[int]) -> None:
        entry = sums.get((id(sheet), region))
        if entry is None:
            sums[(id(sheet), region)] = (sheet, list(counts))
        else:
            totals = entry[1]
            for index, value in enumerate(counts):
                totals[index] += value

    for model, group in by_model.items():
        info = _model_info(model) if model else None
        prices = info.prices if info is not None else None
        if info is not None and not isinstance(prices, list) and not _sheet(prices).starts:
            add(_sheet(prices), 0, [sum(column) for column in list(zip(*group, strict=True))[2:]])
            continue
        for row in group:
            counts = row[2:]
            if not any(counts):
                continue
            if info is None:
                unpriced.add(model or "(no model)")
                break
            # Prices that changed on a date: the message's date decides.
            sheet = _sheet(info.get_prices(_timestamp(row[1])) if isinstance(prices, list) else prices)
            add(sheet, sheet.region(counts[0] + counts[2] + counts[3]), counts)
    total = 0.0
    for (_, region), (sheet, totals) in sums.items():
        total += sum(c * n for c, n in zip(sheet.coefficients(region), totals, strict=True))
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
    from claude_tui.parsing.events import TokenUsage

    usage = TokenUsage(
        ts=ts,
        message_id="",
        model=model,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_read_tokens=cache_read_tokens,
        cache_creation_tokens=cache_creation_tokens,
        cache_creation_1h_tokens=cache_creation_1h_tokens,
        web_search_requests=web_search_requests,
    )
    return price_messages([usage]).cost_usd
