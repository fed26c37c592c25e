"""Per-model API prices, used to estimate a session's cost.

Prices are USD per million tokens, from Anthropic's public price list as known when this was written (2025;
not re-checked here, there is no network). Cache writes
are priced for the 5-minute cache (1.25x input); writes to the 1-hour cache cost 2x input. Sonnet 4 and 4.5
requests with more than 200k input tokens (input + cache read + cache write) are billed at the long-context
rates. A model id is matched by family: provider prefixes (`anthropic.`, `us.anthropic.`), a date or
version suffix (`-20251101`, `@20251101`, `-v1:0`, `-latest`) and a `[1m]` marker are dropped, and what is
left must be a family below, or start with one followed by `-` and something other than a minor version
(`claude-opus-4-7` is not `claude-opus-4`). Anything else is unknown: its cost is None, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class ModelPrice:
    """USD per million tokens."""

    input: float
    output: float
    cache_read: float
    cache_write: float
    """5-minute cache write."""

    @property
    def cache_write_1h(self) -> float:
        """1-hour cache write: twice the input price."""
        return self.input * 2


def _price(inp: float, out: float) -> ModelPrice:
    return ModelPrice(input=inp, output=out, cache_read=inp / 10, cache_write=inp * 1.25)


PRICES: dict[str, ModelPrice] = {
    "claude-opus-4-6": _price(5, 25),
    "claude-opus-4-5": _price(5, 25),
    "claude-opus-4-1": _price(15, 75),
    "claude-opus-4": _price(15, 75),
    "claude-sonnet-4-6": _price(3, 15),
    "claude-sonnet-4-5": _price(3, 15),
    "claude-sonnet-4": _price(3, 15),
    "claude-haiku-4-5": _price(1, 5),
    "claude-3-7-sonnet": _price(3, 15),
    "claude-3-5-sonnet": _price(3, 15),
    "claude-3-5-haiku": _price(0.8, 4),
    "claude-3-opus": _price(15, 75),
    "claude-3-haiku": ModelPrice(input=0.25, output=1.25, cache_read=0.03, cache_write=0.30),
}
"""Model family → price."""

LONG_CONTEXT_PRICES: dict[str, ModelPrice] = {
    "claude-sonnet-4-5": _price(6, 22.5),
    "claude-sonnet-4": _price(6, 22.5),
}
"""Families billed differently when a request has more than `LONG_CONTEXT_THRESHOLD` input tokens."""

LONG_CONTEXT_THRESHOLD = 200_000

_FAMILIES_LONGEST_FIRST = sorted(PRICES, key=len, reverse=True)
_MINOR_VERSION = re.compile(r"-\d{1,2}(?:-|$)")
_SUFFIX = re.compile(r"(\[1m\]|-latest|-v\d+(:\d+)?|[-@]\d{8})$")
_PREFIX = re.compile(r"^([a-z]{2,4}\.)?anthropic\.")


@lru_cache(maxsize=256)
def model_family(model: str) -> str | None:
    """The price-table family of a model id, or None when it is not in the table."""
    name = _PREFIX.sub("", model.strip().lower())
    while True:
        stripped = _SUFFIX.sub("", name)
        if stripped == name:
            break
        name = stripped
    if name in PRICES:
        return name
    # A longer id of a known family (`claude-haiku-4-5-fast`) is that family, but a new minor version
    # (`claude-opus-4-7` is not `claude-opus-4`) is unknown rather than guessed.
    for family in _FAMILIES_LONGEST_FIRST:
        if name.startswith(family + "-") and not _MINOR_VERSION.match(name, len(family)):
            return family
    return None


def price_for(model: str | None) -> ModelPrice | None:
    """The price of a model id, or None when unknown."""
    family = model_family(model) if model else None
    return PRICES[family] if family else None


def message_cost(
    model: str | None,
    input_tokens: int,
    output_tokens: int,
    cache_read_tokens: int,
    cache_creation_tokens: int,
    cache_creation_1h_tokens: int = 0,
) -> float | None:
    """USD cost of one API message, or None when the model is unknown."""
    family = model_family(model) if model else None
    if family is None:
        return None
    price = PRICES[family]
    if input_tokens + cache_read_tokens + cache_creation_tokens > LONG_CONTEXT_THRESHOLD:
        price = LONG_CONTEXT_PRICES.get(family, price)
    cache_5m = max(cache_creation_tokens - cache_creation_1h_tokens, 0)
    return (
        input_tokens * price.input
        + output_tokens * price.output
        + cache_read_tokens * price.cache_read
        + cache_5m * price.cache_write
        + cache_creation_1h_tokens * price.cache_write_1h
    ) / 1_000_000
