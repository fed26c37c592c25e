"""Side-by-side comparison of several runs' params and metrics, with differing rows flagged. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from claude_tui.history.query import RunDetails

HIDDEN_TAGS = ("mlflow.log-model.history",)
"""Tags too long or too internal to be worth a comparison row."""


@dataclass(frozen=True)
class CompareRow:
    """One key across the compared runs: `values[i]` belongs to run i (None = not logged there)."""

    section: str
    """`params`, `metrics` or `tags`."""
    key: str
    values: tuple[str | None, ...]

    @property
    def differs(self) -> bool:
        """True when the runs do not all have the same value (a missing value counts as different)."""
        return len(set(self.values)) > 1


def format_metric(value: float) -> str:
    """Metrics print as integers when whole (`3`, not `3.0`), else with up to 4 significant decimals."""
    if value != value:  # NaN
        return "nan"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.4g}" if abs(value) < 1e6 else f"{value:.6g}"


def _section(name: str, maps: Sequence[Mapping[str, object]], hide: Sequence[str] = ()) -> list[CompareRow]:
    keys = sorted({key for values in maps for key in values} - set(hide))
    rows = []
    for key in keys:
        cells: list[str | None] = []
        for values in maps:
            value = values.get(key)
            if value is None:
                cells.append(None)
            elif isinstance(value, float | int) and not isinstance(value, bool):
                cells.append(format_metric(float(value)))
            else:
                cells.append(str(value))
        rows.append(CompareRow(name, key, tuple(cells)))
    return rows


def compare_runs(runs: Sequence[RunDetails], *, include_tags: bool = False) -> list[CompareRow]:
    """Rows for every param and metric (and optionally tag) key logged by any of `runs`."""
    rows = _section("params", [run.params for run in runs])
    rows += _section("metrics", [run.metrics for run in runs])
    if include_tags:
        rows += _section("tags", [run.tags for run in runs], HIDDEN_TAGS)
    return rows
