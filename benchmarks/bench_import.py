"""Benchmark: `claude-tui import` of 100, 300 and 1,000 sessions into a fresh local sqlite store.

The sessions are built once (cached in the git-ignored `.bench/import/`) from the REAL transcripts in
`tests/data/transcripts/` (records as the CLI wrote them): each generated session is 1 to 3 copies of a real
session, one after the other in time, with fresh session, record, message, request, tool-use and agent ids
(sub-agent files included), spread over 20 project folders: 0.17 to 0.6 MB and 20 to 90 trace spans each,
the size of ordinary short Claude Code sessions.

Each size runs in its own process against a new sqlite store (created before the clock starts, so MLflow's
one-time migrations are not counted): the first N sessions are imported (parsing in the process pool,
logging sequentially), then imported again (everything is skipped: the cost of a cron re-run). Reported:
wall time, sessions per second, the median and 90th percentile of the time between two sessions finishing
(also over the first and the last 100 sessions, to see whether a fuller store slows logging), the re-run
time, the CPU seconds of the import (its parsing workers included) and per session, the CPU per session of
the writing process alone, the sessions per second those CPU seconds give on an idle 2-core machine
(`idle_rate`: the load-independent figure on a shared machine), and the 1-minute load average. Sessions in
one transaction are reported together, so the gaps between two finishing are mostly zero since then.

The anchor: the same import with the code of `--anchor REV` (default `ANCHOR`, main before issue 19's import
speed-ups; its `claude_tui` is exported with `git archive` into `.bench/import/`), measured in the same run
on the first `--anchor-size` sessions, so the before and after of a change share the machine's load.
`--anchor none` skips it. The last line prints target 5 of issue 19 (>= 20 sessions/s) against both.

Run: `.venv/bin/python benchmarks/bench_import.py [--sizes 100 300] [--anchor REV] [--anchor-size 100]`.
`--parts N` prints instead the writer's CPU per session part by part (`writer_parts`: N sessions prepared in
this process, then written as the import writes them, each part timed).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script too (each size is measured in a fresh process)
from benchmarks.bench_parse import Renamer  # noqa: E402 - after the path is set
from tests.support.claude_cli import read_jsonl  # noqa: E402

if "--tree" in sys.argv:  # measuring another version: its claude_tui, not this tree's
    sys.path.insert(0, sys.argv[sys.argv.index("--tree") + 1])
    for _name in [m for m in sys.modules if m == "claude_tui" or m.startswith("claude_tui.")]:
        del sys.modules[_name]

SOURCE = ROOT / "tests" / "data" / "transcripts"
BENCH = ROOT / ".bench" / "import"
SESSIONS = BENCH / "sessions"
PROJECTS = 20
SEED = 7
ANCHOR = "922173f30587339e4d9646e3863c46aaed94520c"
"""main before issue 19's import speed-ups (about 1 session/s at load 9 on the 2-core machine)."""
TARGET = 20.0
"""Issue 19, target 5: sessions per second into the embedded store."""


def _sources() -> list[tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]]:
    """Every real session transcript with its sub-agent files."""
    found = []
    for path in sorted(SOURCE.rglob("*.jsonl")):
        if path.parent.name == "subagents":
            continue
        subagents = {p.name: read_jsonl(p) for p in sorted(path.with_suffix("").glob("subagents/*.jsonl"))}
        found.append((read_jsonl(path), subagents))
    return found


def _dump(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records)


def build_sessions(count: int) -> list[Path]:
    """`count` generated session transcripts (cached: rebuilt only when fewer exist)."""
    marker = SESSIONS / "count.txt"
    if marker.is_file() and int(marker.read_text()) >= count:
        return sorted(SESSIONS.glob("projects/*/*.jsonl"))[:count] if count else []
    shutil.rmtree(SESSIONS, ignore_errors=True)
    rng = random.Random(SEED)
    sources = _sources()
    paths = []
    for index in range(count):
        session_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        folder = SESSIONS / "projects" / f"-home-dev-project-{index % PROJECTS:02d}"
        main: list[dict[str, Any]] = []
        subagents: dict[str, list[dict[str, Any]]] = {}
        shift = timedelta(days=-rng.randint(0, 90))
        for _ in range(rng.choice((1, 1, 2, 3))):
            records, agents = rng.choice(sources)
            renamer = Renamer(rng, session_id, shift)
            main.extend(renamer.record(r) for r in records)
            for name, agent_records in agents.items():
                renamed = [renamer.record(r) for r in agent_records]
                agent_id = next((r["agentId"] for r in renamed if isinstance(r.get("agentId"), str)), name)
                subagents[f"agent-{agent_id}.jsonl"] = renamed
            shift += timedelta(minutes=10)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{session_id}.jsonl"
        path.write_text(_dump(main), encoding="utf-8")
        for name, records in subagents.items():
            target = folder / session_id / "subagents" / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(_dump(records), encoding="utf-8")
        paths.append(path)
    marker.write_text(str(count))
    return sorted(paths)


def measure(count: int) -> dict[str, Any]:
    """Import the first `count` sessions into a new store, then again; runs in its own process."""
    import logging
    import os
    import resource

    import mlflow  # noqa: F401 - loaded before the clock starts, and before its loggers are quieted

    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    from mlflow import MlflowClient

    from claude_tui.tracking import importer
    from claude_tui.tracking.importer import import_sessions

    if "--tree" in sys.argv:
        assert Path(importer.__file__).is_relative_to(sys.argv[sys.argv.index("--tree") + 1]), (
            importer.__file__
        )

    store = BENCH / f"store-{count}"
    shutil.rmtree(store, ignore_errors=True)
    store.mkdir(parents=True)
    os.environ["CLAUDE_TUI_HOME"] = str(store / "home")
    uri = f"sqlite:///{store / 'mlflow.db'}"
    MlflowClient(uri).search_experiments()  # creates the store (migrations) outside the timing
    files = build_sessions(count)
    sizes = [
        p.stat().st_size + sum(f.stat().st_size for f in p.with_suffix("").rglob("*.jsonl")) for p in files
    ]
    finished: list[float] = []
    cpu_start = _cpu_seconds(resource)
    own_start = _cpu_seconds(resource, children=False)
    start = time.perf_counter()
    summary = import_sessions(
        files, tracking_uri=uri, progress=lambda o, d, t: finished.append(time.perf_counter())
    )
    seconds = time.perf_counter() - start
    cpu = _cpu_seconds(resource) - cpu_start
    own = _cpu_seconds(resource, children=False) - own_start
    load = os.getloadavg()[0]
    gaps = [b - a for a, b in zip([start, *finished], finished, strict=False)]
    again_start = time.perf_counter()
    again = import_sessions(files, tracking_uri=uri)
    again_seconds = time.perf_counter() - again_start
    quantiles = statistics.quantiles(gaps, n=10) if len(gaps) > 1 else gaps * 9
    return {
        "sessions": count,
        "MB": round(sum(sizes) / 1e6, 1),
        "imported": len(summary.imported),
        "failed": len(summary.failed),
        "seconds": round(seconds, 1),
        "sessions_per_s": round(count / seconds, 2),
        "cpu_s": round(cpu, 1),
        "cpu_ms_per_session": round(1000 * cpu / count),
        "writer_cpu_ms_per_session": round(1000 * own / count),
        "idle_2core_per_s": round(idle_rate(cpu, own, count), 1),
        "median_ms": round(statistics.median(gaps) * 1000),
        "p90_ms": round(quantiles[8] * 1000),
        # The same median over the first and the last 100 sessions: does a fuller store slow logging down?
        "first100_median_ms": round(statistics.median(gaps[:100]) * 1000),
        "last100_median_ms": round(statistics.median(gaps[-100:]) * 1000),
        "rerun_s": round(again_seconds, 1),
        "rerun_skipped": len(again.skipped),
        "load": round(load, 1),
    }


WRITER_PARTS = (
    ("claude_tui.tracking.logger", "write_plan", "write_plan (all)"),
    ("mlflow.store.tracking.sqlalchemy_store:SqlAlchemyStore", "log_spans", "log_spans"),
    ("mlflow.store.tracking.sqlalchemy_store:SqlAlchemyStore", "start_trace", "start_trace"),
    ("claude_tui.tracking.logger", "_built_traces", "building the traces"),
    ("claude_tui.tracking.logger", "insert_new_run_data", "insert_new_run_data"),
    ("claude_tui.tracking.logger", "_create_run", "create_run"),
    ("mlflow.store.tracking.sqlalchemy_store:SqlAlchemyStore", "update_run_info", "set_terminated"),
    ("mlflow.store.artifact.local_artifact_repo:LocalArtifactRepository", "log_artifacts", "log_artifacts"),
    ("claude_tui.tracking.transaction", "has_session_run", "has_session_run"),
    ("claude_tui.tracking.transaction:StoreTransaction", "commit", "commit"),
)
"""What `--parts` times in the writer: (module[:class], function, label)."""


def writer_parts(count: int) -> list[dict[str, Any]]:
    """The writer's CPU per session, part by part: the first `count` sessions prepared in this process (as
    a parsing process does), then written in transactions of `importer.BATCH_SESSIONS` by `write_plan`, with
    `time.process_time` around each part (`WRITER_PARTS`; nested parts count in both). No pool, so the
    figures are the writer's own, without the parsing processes competing for the cores."""
    import importlib
    import logging
    import tempfile

    import mlflow  # noqa: F401 - loaded before the clock starts

    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    from mlflow import MlflowClient

    from claude_tui.tracking import importer, logger, transaction
    from claude_tui.tracking.store import get_or_create_experiment

    work = Path(tempfile.mkdtemp(prefix="parts-", dir=BENCH))
    os.environ["CLAUDE_TUI_HOME"] = str(work / "home")
    uri = f"sqlite:///{work / 'mlflow.db'}"
    MlflowClient(uri).search_experiments()
    experiment_id = get_or_create_experiment("claude-sessions", uri)
    (work / "spools").mkdir()
    options = importer.PrepareOptions(
        spool_root=work / "spools",
        experiment_id=experiment_id,
        tracking_uri=uri,
        experiment="claude-sessions",
        now=time.time(),
    )
    start = time.process_time()
    plans = [importer.prepare_session(path, options).plan for path in build_sessions(count)]
    prepare = time.process_time() - start
    spent: dict[str, float] = dict.fromkeys([label for _, _, label in WRITER_PARTS], 0.0)
    originals = []
    for where, name, label in WRITER_PARTS:
        module, _, cls = where.partition(":")
        owner = importlib.import_module(module)
        owner = getattr(owner, cls) if cls else owner
        real = getattr(owner, name)
        originals.append((owner, name, real))

        def timed(*args: Any, _real: Any = real, _label: str = label, **kwargs: Any) -> Any:
            began = time.process_time()
            try:
                return _real(*args, **kwargs)
            finally:
                spent[_label] += time.process_time() - began

        setattr(owner, name, timed)
    try:
        with logger.trace_writes(), importer._environment(importer.SYNC_TRACE_ENV):
            for first in range(0, count, importer.BATCH_SESSIONS):
                batch = transaction.open_transaction(uri)
                assert batch is not None
                for plan in plans[first : first + importer.BATCH_SESSIONS]:
                    assert plan is not None
                    with batch.session():
                        assert logger.write_plan(plan, tracking_uri=uri, experiment_id=experiment_id)
                batch.commit()
    finally:
        for owner, name, real in originals:
            setattr(owner, name, real)
        shutil.rmtree(work, ignore_errors=True)
    rows = [
        {
            "part": "preparing (a parsing process's work)",
            "cpu_ms_per_session": round(1000 * prepare / count, 1),
        }
    ]
    rows += [
        {"part": label, "cpu_ms_per_session": round(1000 * value / count, 1)}
        for label, value in spent.items()
    ]
    return rows


def _cpu_seconds(resource: Any, children: bool = True) -> float:
    """User + system CPU of this process and (unless not wanted) its finished children (the parsing pool's
    workers)."""
    used = [resource.getrusage(resource.RUSAGE_SELF)]
    if children:
        used.append(resource.getrusage(resource.RUSAGE_CHILDREN))
    return sum(u.ru_utime + u.ru_stime for u in used)


def idle_rate(cpu: float, writer_cpu: float, count: int, cores: int = 2) -> float:
    """Sessions per second the same CPU seconds give on an idle machine with `cores` cores: the import's
    CPU spread over the cores, but no faster than the one writing process alone (sqlite takes one
    writer). The load-independent figure on a shared machine."""
    if count == 0 or cpu <= 0:
        return 0.0
    return count / max(cpu / cores, writer_cpu)


def anchor_tree(rev: str) -> Path:
    """`claude_tui` as it was at `rev`, exported once into `.bench/import/anchor-<rev>`."""
    commit = subprocess.run(
        ["git", "rev-parse", "--verify", f"{rev}^{{commit}}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    tree = BENCH / f"anchor-{commit[:12]}"
    if not (tree / "claude_tui" / "__init__.py").is_file():
        shutil.rmtree(tree, ignore_errors=True)
        tree.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "archive", commit, "claude_tui"], cwd=ROOT, capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
    return tree


def _measure_in_process(size: int, tree: Path | None = None) -> dict[str, Any]:
    argv = [sys.executable, str(Path(__file__).resolve()), "--measure", str(size)]
    if tree is not None:
        argv += ["--tree", str(tree)]
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"measuring {size} sessions failed: {proc.stderr[-2000:]}")
    row: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return row


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    """Build the sessions, measure each size in a fresh process, print a markdown table, return the rows."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 300])
    parser.add_argument(
        "--anchor", default=ANCHOR, help="the version to compare with (a git revision), or none"
    )
    parser.add_argument("--anchor-size", type=int, default=100)
    parser.add_argument(
        "--parts",
        type=int,
        metavar="N",
        help="instead: the writer's CPU per session part by part, N sessions",
    )
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--tree", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure is not None:
        print(json.dumps(measure(args.measure)))
        return []
    if args.parts is not None:
        rows = writer_parts(args.parts)
        print("| part | CPU ms per session |\n|---|---|")
        print("\n".join(f"| {row['part']} | {row['cpu_ms_per_session']} |" for row in rows))
        print(f"\n{args.parts} sessions; load {os.getloadavg()[0]:.1f}")
        return rows
    build_sessions(max([*args.sizes, args.anchor_size]))
    rows = []
    anchor = None if args.anchor == "none" else args.anchor
    if anchor is not None:
        # The anchor first, then this tree at the same size: the pair shares the machine's load.
        tree = anchor_tree(anchor)
        rows.append({"version": f"anchor {anchor[:12]}", **_measure_in_process(args.anchor_size, tree)})
    for size in args.sizes:
        rows.append({"version": "this tree", **_measure_in_process(size)})
    columns = list(rows[0])
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in rows:
        print("| " + " | ".join(str(row[c]) for c in columns) + " |")
    best = max(row["sessions_per_s"] for row in rows if row["version"] == "this tree")
    idle = max(row["idle_2core_per_s"] for row in rows if row["version"] == "this tree")
    line = (
        f"target 5 (issue 19): >= {TARGET:g} sessions/s; this tree {best}/s ({idle}/s on an idle 2-core box)"
    )
    if anchor is not None:
        before, before_idle = rows[0]["sessions_per_s"], rows[0]["idle_2core_per_s"]
        line += f", anchor {before}/s ({best / before:.1f}x)" if before else ""
        line += f" ({before_idle}/s idle)"
    print(f"\n{line}; load {os.getloadavg()[0]:.1f}: {'met' if best >= TARGET else 'NOT met'}")
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
