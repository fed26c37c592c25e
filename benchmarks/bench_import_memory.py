"""Benchmark: RSS of the importing process after 0, 50, 100 and 200 sessions, with and without the fix.

`claude-tui import` grew by about 1 to 2 MB RSS per session. The cause: each session's `Redactor` compiled
one regex of the secret values it found (with the terminal sequences a screen may hold between any two
characters), and `re.compile` keeps up to 512 patterns for the life of the process, so every distinct
pattern stayed (one session of the generated set left a 5.9-million-character pattern, 28 MiB compiled,
~40 MB in all). Two fixes: the redactor now looks for the values themselves in the text without its
terminal sequences (a pattern as long as the values), and the importer empties the `re` cache after each
session (`tracking.importer.PURGE_REGEX_CACHE`); `purge off` turns the second off.

The sessions are those of `bench_import.py` (real transcripts from `tests/data/transcripts` with fresh ids,
cached in `.bench/import/`). Each setting runs in its own process against a new sqlite store: MLflow is
loaded and the store created, 5 other sessions are imported as a warm-up (lazy imports, first-use caches),
then the sessions are imported in one `import_sessions` call (parsing in the process pool, as the CLI
does) and VmRSS (`/proc/self/status`) is read as the 50th, 100th and 200th finishes. Row `0` is the RSS
after the warm-up; `MB/session` is the growth since then divided by the sessions imported.

Run: `.venv/bin/python benchmarks/bench_import_memory.py [--sizes 50 100 200] [--settings on off]`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script too (each setting is measured in a fresh process)
from benchmarks.bench_import import BENCH, build_sessions  # noqa: E402 - after the path is set

WARMUP = 5


def rss_mb() -> float:
    """This process's resident set size in MB (VmRSS)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def measure(purge: bool, sizes: list[int]) -> list[dict[str, Any]]:
    """Import max(sizes) sessions into a new store, reading RSS after each size; runs in its own process."""
    import gc
    import logging
    import os

    import mlflow  # noqa: F401 - loaded before the first reading, and before its loggers are quieted

    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    from mlflow import MlflowClient

    from claude_tui.tracking import importer

    importer.PURGE_REGEX_CACHE = purge
    count = max(sizes)
    store = BENCH / f"memory-{'on' if purge else 'off'}"
    shutil.rmtree(store, ignore_errors=True)
    store.mkdir(parents=True)
    os.environ["CLAUDE_TUI_HOME"] = str(store / "home")
    uri = f"sqlite:///{store / 'mlflow.db'}"
    MlflowClient(uri).search_experiments()  # creates the store (migrations)
    files = build_sessions(count + WARMUP)
    importer.import_sessions(files[count:], tracking_uri=uri)
    gc.collect()
    base = rss_mb()
    readings: dict[int, tuple[float, float]] = {}
    start = time.perf_counter()

    def progress(outcome: Any, done: int, total: int) -> None:
        if done in sizes:
            readings[done] = (rss_mb(), time.perf_counter() - start)

    summary = importer.import_sessions(files[:count], tracking_uri=uri, progress=progress)
    shutil.rmtree(store, ignore_errors=True)
    setting = "on" if purge else "off"
    rows = [{"purge": setting, "sessions": 0, "rss_mb": round(base), "growth_mb": 0, "MB_per_session": ""}]
    for size in sorted(readings):
        rss, seconds = readings[size]
        rows.append(
            {
                "purge": setting,
                "sessions": size,
                "rss_mb": round(rss),
                "growth_mb": round(rss - base),
                "MB_per_session": round((rss - base) / size, 2),
                "seconds": round(seconds),
            }
        )
    rows[-1]["imported"] = len(summary.imported)
    rows[-1]["failed"] = len(summary.failed)
    return rows


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Measure each setting in a fresh process, print a markdown table, return the rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 100, 200])
    parser.add_argument("--settings", nargs="+", choices=["on", "off"], default=["off", "on"])
    parser.add_argument("--measure", choices=["on", "off"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure == "on", args.sizes)))
        return []
    build_sessions(max(args.sizes) + WARMUP)
    rows: list[dict[str, Any]] = []
    for setting in args.settings:
        proc = subprocess.run(
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--measure",
                setting,
                "--sizes",
                *map(str, args.sizes),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"measuring with purge {setting} failed: {proc.stderr[-2000:]}")
        rows += json.loads(proc.stdout.strip().splitlines()[-1])
    columns = ["purge", "sessions", "rss_mb", "growth_mb", "MB_per_session", "seconds", "imported", "failed"]
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(str(row.get(c, "")) for c in columns) + " |")
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
