"""Human-readable numbers for the sidebar, the history table and the CLI. Pure."""

from __future__ import annotations


def format_duration(seconds: float | None) -> str:
    """`75` -> `1m 15s`, `3725` -> `1h 02m`; unknown -> `–`."""
    if seconds is None:
        return "–"
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def format_count(value: float | None) -> str:
    """Compact counts: `950`, `12.3k`, `4.1M`; unknown -> `–`."""
    if value is None:
        return "–"
    value = float(value)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.1f}{suffix}"
    return f"{int(value)}" if value.is_integer() else f"{value:.1f}"


def format_cost(usd: float | None) -> str:
    """`0.0123` -> `$0.012`, `12.5` -> `$12.50`; unknown -> `unknown`."""
    if usd is None:
        return "unknown"
    return f"${usd:.3f}" if usd < 1 else f"${usd:.2f}"
