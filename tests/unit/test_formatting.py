"""Number formatting shared by the sidebar, history and CLI."""

from __future__ import annotations

import pytest

from claude_tui.formatting import format_cost, format_count, format_duration


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "–"), (0, "0s"), (59.9, "59s"), (75, "1m 15s"), (3725, "1h 02m"), (-5, "0s")],
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "–"), (0, "0"), (950, "950"), (12_345, "12.3k"), (4_100_000, "4.1M"), (2.5, "2.5")],
)
def test_format_count(value: float | None, text: str) -> None:
    assert format_count(value) == text


@pytest.mark.parametrize(("usd", "text"), [(None, "unknown"), (0.01234, "$0.012"), (12.5, "$12.50")])
def test_format_cost(usd: float | None, text: str) -> None:
    assert format_cost(usd) == text
