"""Every logged session as flat rows of params, metrics and tags, written as CSV or JSON for other tools.

A row is `{"run_id", "run_name", "experiment_id", "status", "start_time", "end_time", "params.<k>",
"metrics.<k>", "tags.<k>"}`; times are ISO 8601 in UTC. CSV columns are the union over all rows: the fixed
ones first, then params, metrics and tags, each sorted by name.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from claude_tui.history.query import RunQuery

FIXED_COLUMNS = ("run_id", "run_name", "experiment_id", "status", "start_time", "end_time")
"""The columns every exported row has, in this order."""

FORMATS = ("csv", "json")
"""The formats `write_rows` accepts."""


def iso_utc(ms: int | None) -> str | None:
    """Epoch milliseconds -> `2026-01-02T03:04:05.678Z` (UTC), or None."""
    if ms is None:
        return None
    stamp = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def flatten_run(run: Any) -> dict[str, Any]:
    """One `mlflow.entities.Run` as a flat dict with `params.`/`metrics.`/`tags.` prefixed keys."""
    info, data = run.info, run.data
    row: dict[str, Any] = {
        "run_id": info.run_id,
        "run_name": info.run_name,
        "experiment_id": str(info.experiment_id),
        "status": info.status,
        "start_time": iso_utc(info.start_time),
        "end_time": iso_utc(info.end_time),
    }
    for prefix, values in (("params", data.params), ("metrics", data.metrics), ("tags", data.tags)):
        for key in sorted(values):
            row[f"{prefix}.{key}"] = values[key]
    return row


def collect_rows(query: RunQuery, filter_string: str = "") -> list[dict[str, Any]]:
    """Flat rows for every session matching `filter_string`, newest first."""
    return [flatten_run(run) for run in query.iter_runs(filter_string)]


def columns_for(rows: Iterable[dict[str, Any]]) -> list[str]:
    """The CSV header: fixed columns, then every params/metrics/tags key seen, grouped and sorted."""
    seen: set[str] = set()
    for row in rows:
        seen.update(row)
    groups = [sorted(k for k in seen if k.startswith(prefix)) for prefix in ("params.", "metrics.", "tags.")]
    extra = sorted(seen - set(FIXED_COLUMNS) - {k for group in groups for k in group})
    return [*FIXED_COLUMNS, *extra, *(k for group in groups for k in group)]


def write_csv(rows: Sequence[dict[str, Any]], out: TextIO) -> None:
    """Write rows as CSV with a header; missing values are empty cells."""
    write_rows(rows, out, "csv")


def _csv_value(value: Any) -> Any:
    # Whole-number metrics print as `3`, not `3.0`, so spreadsheets and diffs stay tidy.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return "" if value is None else value


def write_json(rows: Sequence[dict[str, Any]], out: TextIO) -> None:
    """Write rows as one JSON array (pretty-printed, keys in the CSV column order)."""
    write_rows(rows, out, "json")


def _json_value(value: Any) -> Any:
    # NaN and infinities are not JSON; other tools would choke on Python's `NaN` spelling.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_rows(
    rows: Sequence[dict[str, Any]], out: TextIO, fmt: str, columns: Sequence[str] | None = None
) -> None:
    """Write rows in `fmt` (`csv` or `json`), in `columns`' order (default: `columns_for(rows)`)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    names = list(columns) if columns is not None else columns_for(rows)
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=names, restval="", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _csv_value(v) for k, v in row.items()})
        return
    order = {name: i for i, name in enumerate(names)}
    ordered = [
        {k: _json_value(v) for k, v in sorted(row.items(), key=lambda item: order[item[0]])} for row in rows
    ]
    json.dump(ordered, out, indent=2, ensure_ascii=False, allow_nan=False, default=str)
    out.write("\n")
