"""Run every ``benchmarks/bench_*.py`` and print one combined markdown table.

``python -m benchmarks [WORD...]`` runs every benchmark (or those whose names contain a WORD): it imports
each module and calls its ``main()`` (with an empty argument list when it takes one, so each runs with its
defaults); a benchmark that fails is reported in the table and the others still run. Each ``main()``
prints its own table and returns its rows (a list of dicts); the combined table has a ``benchmark`` column
and the union of the rows' columns. Exit status 1 when any benchmark failed, 2 when none matched.
"""

from __future__ import annotations

import importlib
import inspect
import sys
import time
import traceback
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def discover() -> list[str]:
    """Module names of the benchmarks, sorted (``bench_parse``, ``bench_terminal``, ...)."""
    return sorted(path.stem for path in HERE.glob("bench_*.py"))


def run_one(name: str) -> tuple[list[dict[str, Any]], str | None, float]:
    """Import and run one benchmark; return (rows, error message or None, seconds)."""
    start = time.perf_counter()
    try:
        module = importlib.import_module(f"benchmarks.{name}")
        main = module.main
        takes_argv = bool(inspect.signature(main).parameters)
        result = main([]) if takes_argv else main()
    except (
        BaseException
    ) as exc:  # a benchmark's failure (even SystemExit from argparse) must not stop the rest
        if isinstance(exc, KeyboardInterrupt):
            raise
        traceback.print_exc()
        return [], f"{type(exc).__name__}: {exc}".splitlines()[0], time.perf_counter() - start
    rows = [dict(row) for row in result] if isinstance(result, list) else []
    return rows, None, time.perf_counter() - start


def combined_table(results: dict[str, tuple[list[dict[str, Any]], str | None, float]]) -> str:
    """One markdown table: a ``benchmark`` column, then every column any row has, in first-seen order."""
    columns: list[str] = []
    for rows, _error, _seconds in results.values():
        for row in rows:
            columns += [key for key in row if key not in columns]
    columns = columns or ["result"]
    header = ["benchmark", *columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    for name, (rows, error, seconds) in results.items():
        if error is not None:
            cells = [name, f"FAILED after {seconds:.0f} s: {error}", *([""] * (len(columns) - 1))]
            lines.append("| " + " | ".join(cells[: len(header)]) + " |")
            continue
        for row in rows:
            cells = [name, *(str(row.get(key, "")).replace("|", "\\|") for key in columns)]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run all benchmarks (or those whose names contain an argument), print the table; 1 if any failed."""
    wanted = sys.argv[1:] if argv is None else argv
    sys.path.insert(0, str(HERE.parent))
    names = [name for name in discover() if not wanted or any(word in name for word in wanted)]
    if not names:
        print(f"no benchmark matches {' '.join(wanted)} (known: {', '.join(discover())})", file=sys.stderr)
        return 2
    results: dict[str, tuple[list[dict[str, Any]], str | None, float]] = {}
    for name in names:
        print(f"\n## {name}\n", flush=True)
        results[name] = run_one(name)
    print("\n## All benchmarks\n")
    print(combined_table(results))
    return 1 if any(error is not None for _rows, error, _s in results.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
