"""How fast the History pane opens and filters a store of 10,000 logged sessions.

The store (sqlite, 10,000 runs with the logger's params/metrics/tags, no artifacts) is built once with
batched inserts (`tests.support.synthetic.bulk_insert_sessions`, after MLflow created the schema) and
cached in the git-ignored `.bench/` folder. Timed, median of 3, side by side in one process:

- first rows of the History pane in a headless `run_test` App, from `run_test` entry until the first page
  is in the table: with a fresh MLflow client (engine + schema check, as on the first open in a process) and
  with the client already made (later opens, `refresh_runs`);
- applying a filter (Enter in the filter box) until its rows are shown, for two seed examples;
- loading the next page on scroll;
- the bare `RunQuery.search` of the first page, for reference.

`import mlflow` is reported separately: the App pays it once, in a worker, off the UI thread. The "new
process" case measures everything from a bare interpreter (textual + mlflow imports, store, first page).
Target: first rows < 1 s.

Run: `.venv/bin/python benchmarks/bench_history.py [--runs 3] [--sessions 10000]`.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EXPERIMENT = "claude-sessions"
FILTERS = ("metrics.errors_encountered > 0", 'params.procedure_name = "close-issue" AND metrics.success = 0')


def build_store(sessions: int) -> str:
    """The cached store's URI, building it first when missing or of another size."""
    from tests.support.synthetic import SyntheticSession, bulk_insert_sessions

    folder = ROOT / ".bench" / f"history-{sessions}"
    db = folder / "mlflow.db"
    marker = folder / "complete"
    uri = f"sqlite:///{db}"
    if marker.exists():
        return uri
    folder.mkdir(parents=True, exist_ok=True)
    db.unlink(missing_ok=True)
    rng = random.Random(6)
    start = int(dt.datetime(2025, 1, 1, tzinfo=dt.UTC).timestamp() * 1000)
    procedures = ["", "", "close-issue", "extract-best-frame", "review-pr"]
    batch = []
    for i in range(sessions):
        errors = rng.choice([0, 0, 0, 1, 2, 5])
        batch.append(
            SyntheticSession(
                prompt=f"session {i}: {rng.choice(['fix', 'refactor', 'document', 'test'])} module {i % 97}",
                start_ms=start + i * 600_000,
                duration_seconds=rng.uniform(5, 3600),
                commands=rng.randint(0, 60),
                tools={"Bash": rng.randint(0, 40), "Read": rng.randint(0, 30), "Edit": rng.randint(0, 10)},
                errors=errors,
                success=0 if errors > 2 else 1,
                procedure=rng.choice(procedures),
                issue=str(rng.randint(1, 900)) if rng.random() < 0.4 else "",
                input_tokens=rng.randint(500, 200_000),
                output_tokens=rng.randint(100, 40_000),
                cost_usd=round(rng.uniform(0.001, 4.0), 4),
            )
        )
    t0 = time.perf_counter()
    bulk_insert_sessions(uri, EXPERIMENT, batch, artifact_root=folder / "artifacts")
    print(f"built {sessions} runs in {time.perf_counter() - t0:.1f} s: {db}", file=sys.stderr)
    marker.write_text(str(sessions))
    return uri


def _fresh_clients() -> None:
    from claude_tui.history import query

    query._CLIENTS.clear()


async def _pane_timings(uri: str) -> dict[str, float]:
    """One headless App: time to first rows, each filter, and the next page."""
    from textual.app import App, ComposeResult
    from textual.widgets import Input

    from claude_tui.widgets.history import HistoryPane

    class Bench(App[None]):
        def compose(self) -> ComposeResult:
            yield HistoryPane(uri, EXPERIMENT, tz=dt.UTC)

    out: dict[str, float] = {}
    app = Bench()
    t0 = time.perf_counter()
    async with app.run_test(size=(150, 40)) as pilot:
        pane = app.query_one(HistoryPane)
        while not pane.loaded:
            await asyncio.sleep(0.005)
        out["first rows"] = time.perf_counter() - t0
        assert len(pane.rows) > 0
        await pilot.pause(0.3)  # let the details of the first row load
        for expression in FILTERS:
            before = pane._generation
            box = pane.query_one("#history-filter", Input)
            box.value = expression
            t1 = time.perf_counter()
            await box.action_submit()
            while pane._generation == before or not pane.idle:
                await asyncio.sleep(0.005)
            out[f"filter: {expression}"] = time.perf_counter() - t1
            assert pane.error is None, pane.error
        pane.apply_filter("")
        while not pane.idle:
            await asyncio.sleep(0.005)
        rows = len(pane.rows)
        t2 = time.perf_counter()
        pane._load_more()
        while not pane.idle:
            await asyncio.sleep(0.005)
        out["next page on scroll"] = time.perf_counter() - t2
        assert len(pane.rows) > rows
    return out


def _cold_child(uri: str) -> None:
    """In a new process: seconds from before `import textual`/`mlflow` to the pane's first rows."""
    t0 = time.perf_counter()
    from textual.app import App, ComposeResult

    from claude_tui.widgets.history import HistoryPane

    class Bench(App[None]):
        def compose(self) -> ComposeResult:
            yield HistoryPane(uri, EXPERIMENT, tz=dt.UTC)

    async def run() -> float:
        app = Bench()
        async with app.run_test(size=(150, 40)):
            pane = app.query_one(HistoryPane)
            while not pane.loaded:
                await asyncio.sleep(0.005)
            return time.perf_counter() - t0

    print(asyncio.run(run()))


def _cold_process(uri: str) -> float:
    import subprocess

    out = subprocess.run(
        [sys.executable, __file__, "--cold-child", uri],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return float(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Build/reuse the store, time everything `--runs` times, print a markdown table, return its rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--cold-child", metavar="URI", help=argparse.SUPPRESS)
    args = parser.parse_args(argv if argv is not None else sys.argv[1:])
    if args.cold_child:
        _cold_child(args.cold_child)
        return []

    t0 = time.perf_counter()
    import mlflow  # noqa: F401

    import_seconds = time.perf_counter() - t0
    import logging

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    uri = build_store(args.sessions)

    from claude_tui.history.query import RunQuery

    samples: dict[str, list[float]] = {}
    for _ in range(args.runs):
        _fresh_clients()
        cold = asyncio.run(_pane_timings(uri))
        samples.setdefault("pane first rows (fresh MLflow client)", []).append(cold.pop("first rows"))
        warm = asyncio.run(_pane_timings(uri))  # the client made by the run above is reused
        samples.setdefault("pane first rows (client cached)", []).append(warm.pop("first rows"))
        for key, value in warm.items():
            samples.setdefault(f"pane {key}", []).append(value)
        samples.setdefault("pane first rows in a new process (imports included)", []).append(
            _cold_process(uri)
        )
        t1 = time.perf_counter()
        page = RunQuery(uri, EXPERIMENT).search("")
        samples.setdefault("RunQuery.search first page (100 rows)", []).append(time.perf_counter() - t1)
        assert len(page.rows) == 100

    rows: list[dict[str, Any]] = [
        {
            "case": "import mlflow (once per process)",
            "sessions": args.sessions,
            "median_s": round(import_seconds, 3),
        }
    ]
    for case, values in samples.items():
        rows.append(
            {
                "case": case,
                "sessions": args.sessions,
                "median_s": round(statistics.median(values), 3),
                "runs": ", ".join(f"{v:.3f}" for v in values),
            }
        )
    print("| case | sessions | median (s) | runs (s) |")
    print("| --- | ---: | ---: | --- |")
    for row in rows:
        print(f"| {row['case']} | {row['sessions']} | {row['median_s']:.3f} | {row.get('runs', '')} |")
    return rows


if __name__ == "__main__":
    main()
